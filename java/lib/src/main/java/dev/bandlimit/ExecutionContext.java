package dev.bandlimit;

import dev.bandlimit.internal.Native;
import dev.bandlimit.internal.ffm.BandlimitH;
import dev.bandlimit.internal.ffm.bl_context_options;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.ToIntFunction;
import org.jspecify.annotations.Nullable;

/**
 * Where plans execute: a backend, a device, the CPU thread count and code path (the native
 * {@code bl_context}). Plans are built in a context ({@link ConvPlan.Builder#context}) and
 * their execute calls run with its settings, read when each call starts.
 *
 * <p>A plan keeps its native context alive, so closing this object while plans built in it
 * are open is safe: it only releases this handle. {@link #defaultContext()} is the CPU context
 * that {@link Bandlimit#setNumThreads} and {@link Bandlimit#setCpuPath} configure.
 *
 * <pre>{@code
 * try (ExecutionContext cpu = ExecutionContext.builder(Backend.CPU).numThreads(1).build();
 *      Arena arena = Arena.ofConfined();
 *      ConvPlan plan = ConvPlan.conv2d(...).context(cpu).build(arena)) { ... }
 * }</pre>
 */
public final class ExecutionContext implements AutoCloseable {
    private static final ExecutionContext DEFAULT = new ExecutionContext(MemorySegment.NULL, false);

    private final MemorySegment handle;
    private final boolean owned;
    /** Calls in flight on the handle: close() while another thread calls releases it after that call (InFlight). */
    private final InFlight calls;
    private volatile @Nullable BufferMemory bufferMemory;

    private ExecutionContext(MemorySegment handle, boolean owned) {
        this.handle = handle;
        this.owned = owned;
        this.calls = new InFlight(() -> BandlimitH.bl_context_destroy(handle));
    }

    /** The process-wide default context (CPU; NULL on the native side); closing it does nothing. */
    public static ExecutionContext defaultContext() {
        return DEFAULT;
    }

    /** A builder of a new context on {@code backend}. */
    public static Builder builder(Backend backend) {
        return new Builder(backend);
    }

    /**
     * The native handle (NULL for the default context), for callers that make their own native
     * calls with it (the nn package's layer kernels): valid while this object is open, and not
     * counted in flight -- closing the context while such a call runs is the caller's race. The
     * library's own calls go through {@link #call}.
     */
    MemorySegment handle() {
        if (!calls.isOpen()) throw closed();
        return handle;
    }

    /**
     * Runs one native call on the handle and checks its status ({@code what} names it in the
     * exception), counted in flight so that a concurrent {@link #close} cannot free the handle
     * under it.
     */
    void call(ToIntFunction<MemorySegment> nativeCall, String what) {
        if (!calls.enter()) throw closed();
        try {
            Native.check(nativeCall.applyAsInt(handle), what);
        } finally {
            calls.exit();
        }
    }

    /**
     * Keeps the native handle alive until {@link #release}, even past {@link #close} (as a
     * {@link DeviceBuffer} does, which must still free its memory in this context); throws when
     * already closed.
     */
    void hold() {
        if (!calls.enter()) throw closed();
    }

    /** Ends a {@link #hold}; the last one after {@link #close} releases the native handle. */
    void release() {
        calls.exit();
    }

    /** {@link #call} for a caller that holds the handle ({@link #hold}): runs even after close(). */
    void callHeld(ToIntFunction<MemorySegment> nativeCall, String what) {
        Native.check(nativeCall.applyAsInt(handle), what);
    }

    private static IllegalStateException closed() {
        return new IllegalStateException("ExecutionContext is closed");
    }

    /** The backend of this context. */
    public Backend backend() {
        int code = readInt((h, out) -> BandlimitH.bl_context_backend(h, out), "ExecutionContext.backend");
        for (Backend b : Backend.values()) if (b.code == code) return b;
        throw new IllegalStateException("unknown bl_backend " + code);
    }

    /** Where the data buffers of execute calls in this context live. */
    public BufferMemory bufferMemory() {
        BufferMemory m = bufferMemory;
        if (m == null) {
            // Fixed for the context's life: read once (tensor and buffer checks ask often).
            m = BufferMemory.of(readInt((h, out) -> BandlimitH.bl_context_buffer_memory(h, out),
                    "ExecutionContext.bufferMemory"));
            bufferMemory = m;
        }
        return m;
    }

    /** Host threads of execute calls. */
    public int numThreads() {
        return readInt((h, out) -> BandlimitH.bl_context_get_num_threads(h, out), "ExecutionContext.numThreads");
    }

    /**
     * Sets the host threads of execute calls ({@code >= 1}). A plan sizes its workspace for the
     * threads in force when it is built; more threads later are capped at that.
     */
    public void setNumThreads(int threads) {
        Native.ensureLoaded();
        call(h -> BandlimitH.bl_context_set_num_threads(h, threads), "ExecutionContext.setNumThreads");
    }

    /** The CPU code path of execute calls in this context. */
    public Bandlimit.CpuPath cpuPath() {
        return Bandlimit.CpuPath.of(readInt((h, out) -> BandlimitH.bl_context_get_cpu_path(h, out),
                "ExecutionContext.cpuPath"));
    }

    /** Forces a CPU code path ({@link Bandlimit.CpuPath#AUTO}: the best); throws if unsupported here. */
    public void setCpuPath(Bandlimit.CpuPath path) {
        Native.ensureLoaded();
        call(h -> BandlimitH.bl_context_set_cpu_path(h, path.code), "ExecutionContext.setCpuPath");
    }

    /**
     * Allocates a buffer of {@code bytes} ({@code >= 1}) in this context's memory (device memory
     * for CUDA); close it to free it.
     */
    public DeviceBuffer allocate(long bytes) {
        return DeviceBuffer.allocate(this, bytes);
    }

    /** Waits until the work queued by execute calls in this context is done (at once on the CPU). */
    public void synchronize() {
        Native.ensureLoaded();
        call(BandlimitH::bl_context_synchronize, "ExecutionContext.synchronize");
    }

    /**
     * Releases this handle (after the calls other threads are making with it); plans built in
     * the context keep it alive. Idempotent.
     */
    @Override
    public void close() {
        if (owned) calls.close();
    }

    @Override
    public String toString() {
        if (!calls.isOpen()) return "ExecutionContext[closed]";
        return "ExecutionContext[" + backend() + (owned ? "" : ", default") + ", threads " + numThreads() + ", "
                + cpuPath() + "]";
    }

    private interface IntQuery {
        int call(MemorySegment handle, MemorySegment out);
    }

    private int readInt(IntQuery query, String what) {
        Native.ensureLoaded();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
            call(h -> query.call(h, out), what);
            return out.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /** Settings of a new context; unset ones take the native defaults. */
    public static final class Builder {
        private final Backend backend;
        private int device = 0;
        private int numThreads = 0;
        private Bandlimit.CpuPath cpuPath = Bandlimit.CpuPath.AUTO;

        private Builder(Backend backend) {
            if (backend == null) throw new NullPointerException("backend");
            this.backend = backend;
        }

        /** The device ordinal (CUDA); must stay 0 for the CPU. */
        public Builder device(int device) {
            this.device = device;
            return this;
        }

        /** Host threads of execute calls ({@code >= 1}; unset: the number of CPUs). */
        public Builder numThreads(int threads) {
            if (threads < 1) throw new IllegalArgumentException("numThreads must be >= 1, got " + threads);
            this.numThreads = threads;
            return this;
        }

        /** The CPU code path (unset: {@link Bandlimit.CpuPath#AUTO}, the best the machine has). */
        public Builder cpuPath(Bandlimit.CpuPath path) {
            if (path == null) throw new NullPointerException("cpuPath");
            this.cpuPath = path;
            return this;
        }

        /**
         * Creates the context. Throws {@link UnsupportedFeatureException} (with the registry's
         * reason) when the backend or CPU path cannot run here, {@link InvalidArgumentException}
         * naming the option for a bad device or thread count.
         */
        public ExecutionContext build() {
            Native.ensureLoaded();
            try (Arena call = Arena.ofConfined()) {
                MemorySegment options = bl_context_options.allocate(call);
                bl_context_options.backend(options, backend.code);
                bl_context_options.device(options, device);
                bl_context_options.num_threads(options, numThreads);
                bl_context_options.cpu_path(options, cpuPath.code);
                bl_context_options.stream(options, MemorySegment.NULL);
                MemorySegment out = call.allocate(ValueLayout.ADDRESS);
                Native.check(BandlimitH.bl_context_create(options, out), "ExecutionContext.build");
                return new ExecutionContext(out.get(ValueLayout.ADDRESS, 0), true);
            }
        }
    }
}
