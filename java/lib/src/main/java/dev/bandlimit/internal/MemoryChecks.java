package dev.bandlimit.internal;

import dev.bandlimit.InvalidArgumentException;
import dev.bandlimit.Status;
import java.lang.foreign.MemorySegment;

/**
 * What every native call's caller checks of the memory it passes, since the native side sees only
 * an address: the segment is alive, off-heap, 4-byte aligned, writable when the call writes it, and
 * large enough. Failures name the argument (an {@link InvalidArgumentException}, or
 * {@link IllegalStateException} for a closed arena) before anything is written.
 */
public final class MemoryChecks {
    private MemoryChecks() {}

    /** Alive, off-heap, 4-byte aligned, and writable when {@code output}. */
    public static void segment(String name, MemorySegment s, boolean output) {
        if (!s.scope().isAlive()) {
            throw new IllegalStateException(name + ": the arena that owns its memory is closed");
        }
        if (!s.isNative()) {
            throw new InvalidArgumentException(Status.INVALID_ARGUMENT, name, name
                    + " is a heap segment; the native core needs off-heap memory (allocate it in an Arena, or use"
                    + " the float[] overloads, which copy)");
        }
        if (s.address() % Float.BYTES != 0) {
            throw new InvalidArgumentException(Status.INVALID_ARGUMENT, name, name + " is not aligned to 4 bytes");
        }
        if (output && s.isReadOnly()) {
            throw new InvalidArgumentException(Status.INVALID_ARGUMENT, name, name + " is read-only");
        }
    }

    /** Alive, off-heap, writable when {@code output}, at least {@code need} bytes (byte data: no alignment). */
    public static MemorySegment bytes(String name, MemorySegment s, long need, boolean output) {
        if (!s.scope().isAlive()) {
            throw new IllegalStateException(name + ": the arena that owns its memory is closed");
        }
        if (!s.isNative()) {
            throw new InvalidArgumentException(Status.INVALID_ARGUMENT, name, name + " is a heap segment; the native core needs off-heap memory");
        }
        if (output && s.isReadOnly()) {
            throw new InvalidArgumentException(Status.INVALID_ARGUMENT, name, name + " is read-only");
        }
        if (s.byteSize() < need) {
            throw new InvalidArgumentException(Status.BUFFER_TOO_SMALL, name,
                    name + " has " + s.byteSize() + " bytes, the call needs " + need);
        }
        return s;
    }

    /** {@link #segment} and at least {@code need} bytes; returns {@code s}. */
    public static MemorySegment buffer(String name, MemorySegment s, long need, boolean output) {
        segment(name, s, output);
        if (s.byteSize() < need) {
            throw new InvalidArgumentException(Status.BUFFER_TOO_SMALL, name,
                    name + " has " + s.byteSize() + " bytes, the call needs " + need);
        }
        return s;
    }
}
