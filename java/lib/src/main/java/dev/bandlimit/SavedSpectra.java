package dev.bandlimit;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.jspecify.annotations.Nullable;

/**
 * The compact spectra a forward saves for its backward: an opaque buffer whose layout belongs
 * to the native backend (a header naming the plan, batch and box, then the kept coefficients).
 * Allocate one with {@link ConvPlan#allocateSavedSpectra(Arena)} or wrap your own segment of at
 * least {@link ConvPlan#savedSpectraBytes()} bytes.
 */
public final class SavedSpectra {
    private final MemorySegment segment;
    /** The context whose buffer memory holds it; null for host memory. */
    private final @Nullable ExecutionContext context;

    private SavedSpectra(MemorySegment segment) {
        this(segment, null);
    }

    private SavedSpectra(MemorySegment segment, @Nullable ExecutionContext context) {
        this.segment = segment;
        this.context = context;
    }

    /** saved spectra in {@code buffer} (a context's buffer memory: device memory for CUDA), no copy. */
    public static SavedSpectra wrap(DeviceBuffer buffer) {
        if (buffer == null) throw new NullPointerException("buffer must not be null");
        return new SavedSpectra(buffer.memory(0, buffer.bytes()), buffer.context());
    }

    /** Over the address segment of context buffer memory (the nn package's device tapes). */
    static SavedSpectra onBuffer(ExecutionContext context, MemorySegment memory) {
        return new SavedSpectra(memory, context);
    }

    /** The context whose buffer memory holds it, or null for host memory. */
    public @Nullable ExecutionContext context() {
        return context;
    }

    /** The memory (host, or the address of buffer memory), for native calls. */
    MemorySegment memory() {
        return segment;
    }

    /** Uses {@code segment} (off-heap, at least the plan's saved-spectra bytes) as the buffer. */
    public static SavedSpectra wrap(MemorySegment segment) {
        if (segment == null) throw new NullPointerException("segment must not be null");
        return new SavedSpectra(segment);
    }

    static SavedSpectra allocate(Arena arena, long bytes) {
        return new SavedSpectra(arena.allocate(bytes, 64));
    }

    /** The buffer. */
    public MemorySegment segment() {
        if (context != null) {
            throw new IllegalStateException("these saved spectra live in the buffer memory of " + context
                    + ", which Java does not address");
        }
        return segment;
    }

    /** Size of the buffer in bytes. */
    public long byteSize() {
        return segment.byteSize();
    }
}
