package dev.bandlimit;

import dev.bandlimit.internal.ffm.BandlimitH;

/**
 * Where the data buffers of execute calls (x, w, bias, y, saved spectra, workspace, dy, dx, dw,
 * db) live for a backend ({@code bl_memory_kind}; values from the generated bindings). Host
 * memory is any native {@link java.lang.foreign.MemorySegment}; device memory is the
 * accelerator's (a CUDA allocation wrapped as a segment).
 */
public enum BufferMemory {
    HOST(BandlimitH.BL_MEMORY_HOST()),
    DEVICE(BandlimitH.BL_MEMORY_DEVICE());

    final int code;

    BufferMemory(int code) {
        this.code = code;
    }

    /** The numeric value of the C enum. */
    public int code() {
        return code;
    }

    static BufferMemory of(int code) {
        for (BufferMemory m : values()) if (m.code == code) return m;
        throw new IllegalStateException("unknown bl_memory_kind " + code);
    }
}
