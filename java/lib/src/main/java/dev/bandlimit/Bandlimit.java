package dev.bandlimit;

import dev.bandlimit.internal.Native;
import dev.bandlimit.internal.NativeLibrary;
import dev.bandlimit.internal.ffm.BandlimitH;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Library-wide settings and counters of the native core. */
public final class Bandlimit {
    private Bandlimit() {}

    /** The native library's version, "major.minor.patch". */
    public static String nativeVersion() {
        Native.ensureLoaded();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment a = call.allocate(ValueLayout.JAVA_INT);
            MemorySegment b = call.allocate(ValueLayout.JAVA_INT);
            MemorySegment c = call.allocate(ValueLayout.JAVA_INT);
            Native.check(BandlimitH.bl_version(a, b, c), "Bandlimit.nativeVersion");
            return a.get(ValueLayout.JAVA_INT, 0) + "." + b.get(ValueLayout.JAVA_INT, 0) + "."
                    + c.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /** Where the native library was loaded from (a file path, or "java.library.path"). */
    public static String nativeLibraryLocation() {
        Native.ensureLoaded();
        return NativeLibrary.loadedFrom();
    }

    /** Bytes the native library itself holds now (plans and their tables; not your buffers). */
    public static long allocatedBytes() {
        Native.ensureLoaded();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment out = call.allocate(ValueLayout.JAVA_LONG);
            Native.check(BandlimitH.bl_allocated_bytes(out), "Bandlimit.allocatedBytes");
            return out.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    /** Threads the native execute calls of the default context use. */
    public static int numThreads() {
        Native.ensureLoaded();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment out = call.allocate(ValueLayout.JAVA_INT);
            Native.check(BandlimitH.bl_get_num_threads(out), "Bandlimit.numThreads");
            return out.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /**
     * Sets the threads of native execute calls of the default context ({@code >= 1}; see
     * {@link ExecutionContext} for a context of your own). Plans size their workspace for the
     * count in force when they are built; a larger count later is capped at that.
     */
    public static void setNumThreads(int threads) {
        Native.ensureLoaded();
        Native.check(BandlimitH.bl_set_num_threads(threads), "Bandlimit.setNumThreads");
    }

    /** The CPU code path the default context uses. */
    public static CpuPath cpuPath() {
        Native.ensureLoaded();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment out = call.allocate(ValueLayout.JAVA_INT);
            Native.check(BandlimitH.bl_get_cpu_path(out), "Bandlimit.cpuPath");
            return CpuPath.of(out.get(ValueLayout.JAVA_INT, 0));
        }
    }

    /** Forces the default context's CPU code path ({@link CpuPath#AUTO}: the best available); throws if unavailable. */
    public static void setCpuPath(CpuPath path) {
        Native.ensureLoaded();
        Native.check(BandlimitH.bl_set_cpu_path(path.code), "Bandlimit.setCpuPath");
    }

    /** The CPU code paths of the native core ({@code bl_cpu_path}; values from the generated bindings). */
    public enum CpuPath {
        AUTO(BandlimitH.BL_CPU_PATH_AUTO()),
        PORTABLE(BandlimitH.BL_CPU_PATH_PORTABLE()),
        AVX2(BandlimitH.BL_CPU_PATH_AVX2()),
        AVX512(BandlimitH.BL_CPU_PATH_AVX512());

        final int code;

        CpuPath(int code) {
            this.code = code;
        }

        /** The numeric value of the C enum. */
        public int code() {
            return code;
        }

        static CpuPath of(int code) {
            for (CpuPath p : values()) if (p.code == code) return p;
            throw new IllegalStateException("unknown CPU path code " + code);
        }
    }
}
