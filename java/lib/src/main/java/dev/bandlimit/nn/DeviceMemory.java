package dev.bandlimit.nn;

import dev.bandlimit.DeviceBuffer;
import dev.bandlimit.ExecutionContext;
import dev.bandlimit.Tensor;
import dev.bandlimit.internal.Bridge;
import java.lang.foreign.MemorySegment;
import java.util.function.LongFunction;
import org.jspecify.annotations.Nullable;

/**
 * The nn package's access to tensor memory, host or a context's buffer memory alike: the ops
 * hand {@link #of} to the native kernels and never read it from Java, so the same op code runs
 * on host tapes and on device tapes ({@link Tape#on}).
 */
final class DeviceMemory {
    private static final Bridge.Access BRIDGE = Bridge.get();

    private DeviceMemory() {}

    /** The memory behind {@code t} (host, or the address of buffer memory): for native calls only. */
    static MemorySegment of(Tensor t) {
        return BRIDGE.memory(t);
    }

    /** The native handle of {@code context}; NULL (the default CPU context) for null. */
    static MemorySegment handle(@Nullable ExecutionContext context) {
        return context == null ? MemorySegment.NULL : BRIDGE.handle(context);
    }

    /** A tensor over {@code memory} of {@code context}'s buffer memory, or over host memory when context is null. */
    static Tensor tensor(@Nullable ExecutionContext context, MemorySegment memory, long... shape) {
        return context == null ? Tensor.wrap(memory, shape) : BRIDGE.tensorOnBuffer(context, memory, shape);
    }

    static dev.bandlimit.SavedSpectra saved(@Nullable ExecutionContext context, MemorySegment memory) {
        return context == null ? dev.bandlimit.SavedSpectra.wrap(memory) : BRIDGE.savedOnBuffer(context, memory);
    }

    /** The whole of {@code buffer} as an address segment scoped to it. */
    static MemorySegment of(DeviceBuffer buffer) {
        return BRIDGE.memory(buffer);
    }

    /** Zeroes {@code t}, wherever it lives. */
    static void zero(Tensor t) {
        zero(t.context(), of(t), t.byteSize());
    }

    /** Zeroes {@code bytes} at {@code memory} (host memory when context is null). */
    static void zero(@Nullable ExecutionContext context, MemorySegment memory, long bytes) {
        if (context == null) {
            memory.asSlice(0, bytes).fill((byte) 0);
        } else {
            BRIDGE.zero(context, memory, bytes);
        }
    }

    /** {@code bytes} from host {@code src} into {@code dst} of context buffer memory (host when context is null). */
    static void copyFromHost(@Nullable ExecutionContext context, MemorySegment dst, MemorySegment src, long bytes) {
        if (context == null) {
            MemorySegment.copy(src, 0, dst, 0, bytes);
        } else {
            BRIDGE.copy(context, dst, src, bytes, dev.bandlimit.internal.ffm.BandlimitH.BL_COPY_HOST_TO_BUFFER());
        }
    }

    /** A copy of {@code source} in a buffer of {@code device} that {@code allocate} makes. */
    static Tensor copyTo(Tensor source, ExecutionContext device, LongFunction<DeviceBuffer> allocate) {
        Tensor t = Tensor.wrap(allocate.apply(source.byteSize()), source.shape());
        t.copyFrom(source);
        return t;
    }
}
