package dev.bandlimit;

import dev.bandlimit.internal.Native;
import dev.bandlimit.internal.ffm.BandlimitH;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Where a plan executes. The CPU backend is always built; CUDA is built where cuFFT is found. */
public enum Backend {
    CPU(0),
    CUDA(1);

    final int code;

    Backend(int code) {
        this.code = code;
    }

    /** Whether this backend is built into the loaded library and usable on this machine. */
    public boolean isAvailable() {
        Native.ensureLoaded();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
            Native.check(BandlimitH.bl_backend_available(code, out), "Backend.isAvailable");
            return out.get(ValueLayout.JAVA_INT, 0) != 0;
        }
    }
}
