package dev.bandlimit;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The calls in flight on one native handle, so that closing the handle while other threads
 * still call it cannot free it under them: {@link #close} marks it closed at once (new calls
 * are refused) and the native release runs when the last call in flight ends ({@link #exit}),
 * or at once when none is. Freeing a plan under a running {@code bl_forward} was a SIGSEGV in
 * native code, the JVM gone.
 *
 * <p>Use: {@code if (!inFlight.enter()) throw closed; try { native call } finally { inFlight.exit(); }}.
 * Cost: two uncontended atomic updates per call.
 */
final class InFlight {
    private static final long CLOSED = 1L << 62;

    /** Calls in flight, plus {@link #CLOSED} once closed. */
    private final AtomicLong state = new AtomicLong();
    private final Runnable release;

    /** {@code release} frees the native handle; it runs once, on the thread that ends the last call. */
    InFlight(Runnable release) {
        this.release = release;
    }

    boolean isOpen() {
        return (state.get() & CLOSED) == 0;
    }

    /** Starts a call; false (and nothing counted) when closed. */
    boolean enter() {
        for (;;) {
            long s = state.get();
            if ((s & CLOSED) != 0) return false;
            if (state.compareAndSet(s, s + 1)) return true;
        }
    }

    /** Ends a call begun by a successful {@link #enter}; the last one out of a closed handle releases it. */
    void exit() {
        if (state.decrementAndGet() == CLOSED) release.run();
    }

    /** Closes: releases now when no call is in flight, else leaves it to the last one out. Idempotent. */
    void close() {
        for (;;) {
            long s = state.get();
            if ((s & CLOSED) != 0) return;
            if (state.compareAndSet(s, s | CLOSED)) {
                if (s == 0) release.run();
                return;
            }
        }
    }
}
