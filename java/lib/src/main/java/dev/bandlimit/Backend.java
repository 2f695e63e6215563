package dev.bandlimit;

import dev.bandlimit.internal.Native;
import dev.bandlimit.internal.ffm.BandlimitH;
import dev.bandlimit.internal.ffm.bl_backend_info;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Where a plan executes ({@code bl_backend}; values from the generated bindings). The native
 * backend registry says which backends this build and machine can run: the CPU backend is
 * compiled in and always available; the CUDA backend is a separate library
 * ({@code libbandlimit_cuda.so}) built only where nvcc and cuFFT are installed, and usable only
 * with a CUDA device. {@link #unavailableReason()} says why a backend cannot run.
 */
public enum Backend {
    CPU(BandlimitH.BL_BACKEND_CPU()),
    CUDA(BandlimitH.BL_BACKEND_CUDA());

    final int code;

    Backend(int code) {
        this.code = code;
    }

    /** The numeric value of the C enum. */
    public int code() {
        return code;
    }

    /** Whether this backend is built and usable on this machine. */
    public boolean isAvailable() {
        return query().available;
    }

    /** Why this backend is not available ("" when it is), as the native registry reports it. */
    public String unavailableReason() {
        return query().reason;
    }

    /** Where the data buffers of this backend's execute calls must live. */
    public BufferMemory bufferMemory() {
        return query().memory;
    }

    /** The registry's short name ("cpu", "cuda"). */
    public String registryName() {
        return query().name;
    }

    private record Info(boolean available, BufferMemory memory, String name, String reason) {}

    private Info query() {
        Native.ensureLoaded();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment info = bl_backend_info.allocate(call);
            Native.check(BandlimitH.bl_backend_query(code, info), "Backend.query");
            return new Info(bl_backend_info.available(info) != 0,
                    BufferMemory.of(bl_backend_info.buffer_memory(info)),
                    Native.string(bl_backend_info.name(info)), Native.string(bl_backend_info.reason(info)));
        }
    }
}
