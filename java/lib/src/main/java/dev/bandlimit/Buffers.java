package dev.bandlimit;

import dev.bandlimit.internal.Native;
import dev.bandlimit.internal.ffm.BandlimitH;
import java.lang.foreign.MemorySegment;

/** Copies and fills of a context's buffer memory (bl_buffer_copy, bl_buffer_zero), for the facade classes. */
final class Buffers {
    private Buffers() {}

    static final int FROM_HOST = BandlimitH.BL_COPY_HOST_TO_BUFFER();
    static final int TO_HOST = BandlimitH.BL_COPY_BUFFER_TO_HOST();
    static final int WITHIN = BandlimitH.BL_COPY_BUFFER_TO_BUFFER();

    /**
     * {@code bytes} from {@code src} to {@code dst}, after the work queued in {@code context};
     * both segments must be alive (a closed tape's or buffer's memory throws here, before the
     * native call).
     */
    static void copy(ExecutionContext context, MemorySegment dst, MemorySegment src, long bytes, int kind, String what) {
        checkAlive(dst, what);
        checkAlive(src, what);
        context.call(h -> BandlimitH.bl_buffer_copy(h, dst, src, bytes, kind), what);
    }

    /** Zeroes {@code bytes} of buffer memory at {@code dst}, in the order of the context's queued work. */
    static void zero(ExecutionContext context, MemorySegment dst, long bytes, String what) {
        checkAlive(dst, what);
        context.call(h -> BandlimitH.bl_buffer_zero(h, dst, bytes), what);
    }

    private static void checkAlive(MemorySegment s, String what) {
        if (!s.scope().isAlive()) throw new IllegalStateException(what + ": the memory is released (its tape or buffer is closed)");
    }
}
