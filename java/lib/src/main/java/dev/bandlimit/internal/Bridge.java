package dev.bandlimit.internal;

import dev.bandlimit.DeviceBuffer;
import dev.bandlimit.ExecutionContext;
import dev.bandlimit.SavedSpectra;
import dev.bandlimit.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * What the library's own packages ({@code nn}) need of the facade classes beyond their public
 * API: the memory behind a tensor (host, or the address of a context's buffer memory, which only
 * native calls may use) and views of buffer memory. The facade package registers the one
 * implementation when its classes load; this package is not exported, so users cannot reach it.
 */
public final class Bridge {
    /** Implemented in {@code dev.bandlimit}, where the fields are. */
    public interface Access {
        MemorySegment memory(Tensor t);

        Tensor tensorOnBuffer(ExecutionContext context, MemorySegment memory, long... shape);

        SavedSpectra savedOnBuffer(ExecutionContext context, MemorySegment memory);

        MemorySegment handle(ExecutionContext context);

        /** The whole buffer as an address segment scoped to the buffer (closed with it). */
        MemorySegment memory(DeviceBuffer buffer);

        void copy(ExecutionContext context, MemorySegment dst, MemorySegment src, long bytes, int kind);

        void zero(ExecutionContext context, MemorySegment dst, long bytes);
    }

    private static volatile Access access;

    private Bridge() {}

    /** Called once by the facade package. */
    public static void register(Access a) {
        access = Objects.requireNonNull(a);
    }

    public static Access get() {
        Access a = access;
        if (a == null) {
            try {
                // Loading Tensor registers the bridge (its static initialiser).
                Class.forName("dev.bandlimit.Tensor", true, Bridge.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
            a = access;
        }
        return a;
    }
}
