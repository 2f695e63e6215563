package dev.bandlimit;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The compact spectra a forward saves for its backward: an opaque buffer whose layout belongs
 * to the native backend (a header naming the plan, batch and box, then the kept coefficients).
 * Allocate one with {@link ConvPlan#allocateSavedSpectra(Arena)} or wrap your own segment of at
 * least {@link ConvPlan#savedSpectraBytes()} bytes.
 */
public final class SavedSpectra {
    private final MemorySegment segment;

    private SavedSpectra(MemorySegment segment) {
        this.segment = segment;
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
        return segment;
    }

    /** Size of the buffer in bytes. */
    public long byteSize() {
        return segment.byteSize();
    }
}
