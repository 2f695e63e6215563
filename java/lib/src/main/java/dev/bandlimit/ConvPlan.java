package dev.bandlimit;

import dev.bandlimit.internal.Native;
import dev.bandlimit.internal.ffm.BandlimitH;
import dev.bandlimit.internal.ffm.bl_box;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * A band-limited convolution layer's plan: its geometry, compression and FFT set-up, owned by
 * a native handle. Build one with {@link #conv2d()} or {@link #conv1d()}; then call
 * {@link #forward}, {@link #backward} (or {@link #backwardData} / {@link #backwardWeights}) on
 * tensors in off-heap memory, which the native core reads and writes in place.
 *
 * <p>Shapes ({@link ConvGeometry}): 2D {@code x[n][C][H][W]}, {@code w[F][C][KH][KW]},
 * {@code bias[F]}, {@code y[n][F][Ho][Wo]}; 1D {@code x[n][C][L]}, {@code w[F][C][K]},
 * {@code y[n][F][Lo]}, with {@code 1 <= n <= maxBatch}. The gradients have the shapes of what
 * they differentiate. Every execute call checks its arguments before the native call (the
 * exception names the argument; nothing is written).
 *
 * <p>Ownership: the plan belongs to the {@link Arena} given to {@code build}: closing the arena
 * releases it, and so does {@link #close()} (idempotent). Using a closed plan throws
 * {@link IllegalStateException}. A plan is immutable; several threads may execute it at once
 * when each passes its own outputs, {@link SavedSpectra} and {@link Workspace}. The overloads
 * without a workspace share one per plan and run one at a time.
 */
public final class ConvPlan implements AutoCloseable {
    /** The largest FFT length along an axis ({@code BL_MAX_FFT_LENGTH}): 2^24. */
    public static final long MAX_FFT_LENGTH = BandlimitH.BL_MAX_FFT_LENGTH();
    /** The default of {@link Builder#maxBytes} ({@code BL_DEFAULT_MAX_PLAN_BYTES}): 16 GiB. */
    public static final long DEFAULT_MAX_PLAN_BYTES = BandlimitH.BL_DEFAULT_MAX_PLAN_BYTES();


    /**
     * Owns the native pointer; shared with the arena's cleanup action, never the plan itself.
     * Every native call on the pointer runs between {@code calls.enter()} and {@code
     * calls.exit()}: a {@code close()} (or the arena's close) while another thread executes the
     * plan marks it closed at once and leaves its destruction to the last call out (InFlight).
     */
    private static final class Handle {
        final MemorySegment pointer;
        final InFlight calls = new InFlight(this::release);
        final ReentrantLock defaultWorkspaceLock = new ReentrantLock();
        @Nullable Arena defaultWorkspaceArena;
        @Nullable Workspace defaultWorkspace;

        Handle(MemorySegment pointer) {
            this.pointer = pointer;
        }

        boolean isOpen() {
            return calls.isOpen();
        }

        boolean enter() {
            return calls.enter();
        }

        void exit() {
            calls.exit();
        }

        /** Closes the plan: destroyed now when no call is in flight, else by the last one out. */
        void destroy() {
            calls.close();
        }

        private void release() {
            BandlimitH.bl_plan_destroy(pointer);
            defaultWorkspaceLock.lock();
            try {
                if (defaultWorkspaceArena != null) defaultWorkspaceArena.close();
                defaultWorkspaceArena = null;
                defaultWorkspace = null;
            } finally {
                defaultWorkspaceLock.unlock();
            }
        }
    }

    private final Handle handle;
    private final Compression compression;
    private final Backend backend;
    private final SpectraMode spectraMode;
    private final NativePlan.Properties properties;
    private final ConvGeometry geometry;

    private ConvPlan(Builder b, Arena arena) {
        Objects.requireNonNull(arena, "arena must not be null");
        Native.ensureLoaded();
        this.compression = b.compression;
        this.backend = b.backend;  // context() sets it to the context's
        this.spectraMode = b.spectraMode;
        MemorySegment pointer = NativePlan.create(b);
        this.handle = new Handle(pointer);
        // From here on the native plan must be released on any failure.
        try {
            Handle h = handle;
            MemorySegment.ofAddress(pointer.address()).reinterpret(arena, ignored -> h.destroy());
            this.properties = NativePlan.properties(pointer, b.conv1d);
        } catch (RuntimeException | Error e) {
            handle.destroy();
            throw e;
        }
        this.geometry = properties.geometry();
    }

    /** A builder for a 2D layer (NCHW). */
    public static Builder conv2d() {
        return new Builder(false);
    }

    /** A builder for a 1D layer (NCL). */
    public static Builder conv1d() {
        return new Builder(true);
    }

    // ------------------------------------------------------------------------------------
    // Queries: the geometry (as the native plan reports it), then what the plan chose
    // ------------------------------------------------------------------------------------

    /** The layer's shapes: input, kernel, padding, stride and output size. */
    public ConvGeometry geometry() {
        return geometry;
    }

    /** Whether this is a 1D plan. */
    public boolean isConv1d() {
        return geometry.conv1d();
    }

    /** The largest batch an execute call may pass. */
    public long maxBatch() {
        return geometry.maxBatch();
    }

    /** Input channels C. */
    public long channels() {
        return geometry.channels();
    }

    /** Output channels (filters) F. */
    public long filters() {
        return geometry.filters();
    }

    /** Input height (1 for 1D plans). */
    public long height() {
        return geometry.height();
    }

    /** Input width (the length L for 1D plans). */
    public long width() {
        return geometry.width();
    }

    /** Kernel height KH (1 for 1D plans). */
    public long kernelHeight() {
        return geometry.kernelHeight();
    }

    /** Kernel width KW (K for 1D plans). */
    public long kernelWidth() {
        return geometry.kernelWidth();
    }

    /** Zero padding per side (1D plans: left and right only). */
    public Padding padding() {
        return geometry.padding();
    }

    /** Vertical stride (1 for 1D plans). */
    public long strideH() {
        return geometry.strideH();
    }

    /** Horizontal stride (the stride of 1D plans). */
    public long strideW() {
        return geometry.strideW();
    }

    /** Output height Ho (1 for 1D plans). */
    public long outputHeight() {
        return geometry.outputHeight();
    }

    /** Output width Wo (the output length for 1D plans). */
    public long outputWidth() {
        return geometry.outputWidth();
    }

    /** Shape of the input for batch {@code n}. */
    public long[] inputShape(long n) {
        return geometry.inputShape(n);
    }

    /** Shape of the weights. */
    public long[] weightShape() {
        return geometry.weightShape();
    }

    /** Shape of the bias. */
    public long[] biasShape() {
        return geometry.biasShape();
    }

    /** Shape of the output for batch {@code n}. */
    public long[] outputShape(long n) {
        return geometry.outputShape(n);
    }

    /** The compression the plan was built with. */
    public Compression compression() {
        return compression;
    }

    /** The backend of the context the plan executes in. */
    public Backend backend() {
        return backend;
    }

    /** What a training forward saves for the backward. */
    public SpectraMode spectraMode() {
        return spectraMode;
    }

    /** FFT lengths LH, LW (docs/ALGORITHM.md section 2). */
    public FftLengths fftLengths() {
        return properties.fftLengths();
    }

    /**
     * The box of fixed compression. In energy mode it is the full box (achieved rate 0): the
     * box used is chosen per forward and returned by it.
     */
    public Box box() {
        return properties.box();
    }

    /**
     * Achieved compression rate of {@link #box()}: discarded / total half-spectrum coefficients,
     * {@code <= rho} (0 in energy mode).
     */
    public double achievedRate() {
        return properties.achievedRate();
    }

    /** Achieved compression rate of any box of this plan's spectrum (e.g. one an energy forward chose). */
    public double rateOf(Box b) {
        Objects.requireNonNull(b, "box must not be null");
        enter();
        try {
            return NativePlan.rateOf(handle.pointer, b);
        } finally {
            handle.exit();
        }
    }

    /** Counted FLOPs of {@code pass} for batch {@code n} at the plan's box. */
    public Flops flops(Pass pass, long n) {
        return flops(pass, n, null);
    }

    /** Counted FLOPs of {@code pass} for batch {@code n} at box {@code b} (null: the plan's box). */
    public Flops flops(Pass pass, long n, @Nullable Box b) {
        Objects.requireNonNull(pass, "pass must not be null");
        enter();
        try {
            return NativePlan.flops(handle.pointer, pass, n, b);
        } finally {
            handle.exit();
        }
    }

    /**
     * Bytes of the buffer a training forward saves for the backward: sized for
     * {@link #maxBatch()} (and, in energy mode, for the full box).
     */
    public long savedSpectraBytes() {
        return properties.savedSpectraBytes();
    }

    /** A buffer of {@link #savedSpectraBytes()} for the spectra a training forward saves, in {@code arena}. */
    public SavedSpectra allocateSavedSpectra(Arena arena) {
        checkOpen();
        return SavedSpectra.allocate(arena, savedSpectraBytes());
    }

    /** Bytes of workspace an execute call needs (the most any pass needs). */
    public long workspaceBytes() {
        return properties.workspaceBytes();
    }

    /** A workspace of {@link #workspaceBytes()} for execute calls, in {@code arena}. */
    public Workspace allocateWorkspace(Arena arena) {
        checkOpen();
        return Workspace.allocate(arena, workspaceBytes());
    }

    // ------------------------------------------------------------------------------------
    // Execute
    // ------------------------------------------------------------------------------------

    /**
     * Training forward: {@code y = conv(x, w) + bias} band-limited, saving the compact spectra in
     * {@code saved} for the backward. {@code bias} may be null. Returns the box used (in energy
     * mode the one chosen for this batch).
     */
    public Box forward(Tensor x, Tensor w, @Nullable Tensor bias, Tensor y, SavedSpectra saved, Workspace workspace) {
        Objects.requireNonNull(saved, "saved must not be null (use infer for inference)");
        return runForward(x, w, bias, y, saved, workspace);
    }

    /** {@link #forward(Tensor, Tensor, Tensor, Tensor, SavedSpectra, Workspace)} with the plan's shared workspace. */
    public Box forward(Tensor x, Tensor w, @Nullable Tensor bias, Tensor y, SavedSpectra saved) {
        Objects.requireNonNull(saved, "saved must not be null (use infer for inference)");
        return withDefaultWorkspace(ws -> runForward(x, w, bias, y, saved, ws));
    }

    /** Inference forward: like {@code forward}, saving nothing. {@code bias} may be null. */
    public Box infer(Tensor x, Tensor w, @Nullable Tensor bias, Tensor y, Workspace workspace) {
        return runForward(x, w, bias, y, null, workspace);
    }

    /** Inference forward with the plan's shared workspace. {@code bias} may be null. */
    public Box infer(Tensor x, Tensor w, @Nullable Tensor bias, Tensor y) {
        return withDefaultWorkspace(ws -> runForward(x, w, bias, y, null, ws));
    }

    /**
     * Inference on Java arrays: copies {@code x}, {@code w}, {@code bias} (nullable) into native
     * memory, runs the forward and copies the output back (convenient, not zero-copy). The batch
     * is {@code x.length / (C H W)}.
     */
    public float[] infer(float[] x, float[] w, float @Nullable [] bias) {
        checkOpen();
        Objects.requireNonNull(x, "x must not be null");
        Objects.requireNonNull(w, "w must not be null");
        long perSample = geometry.inputElementsPerSample();
        if (x.length == 0 || x.length % perSample != 0) {
            throw new InvalidArgumentException(Status.INVALID_SIZE, "x",
                    "x has " + x.length + " elements, not a positive multiple of C*H*W = " + perSample);
        }
        long n = x.length / perSample;
        try (Arena call = Arena.ofConfined()) {
            Tensor tx = Tensor.copyOf(call, x, inputShape(n));
            Tensor tw = Tensor.copyOf(call, w, weightShape());
            Tensor tb = bias == null ? null : Tensor.copyOf(call, bias, biasShape());
            Tensor ty = Tensor.allocate(call, outputShape(n));
            infer(tx, tw, tb, ty);
            return ty.toArray();
        }
    }

    /**
     * Backward of the forward that filled {@code saved}: transforms {@code dy} once and writes
     * {@code dx}, {@code dw} and {@code db}, each of which may be null. {@code w} is needed only in
     * {@link SpectraMode#INPUT_ONLY} when {@code dx} is wanted (it may be null otherwise).
     */
    public void backward(SavedSpectra saved, @Nullable Tensor w, Tensor dy, @Nullable Tensor dx, @Nullable Tensor dw,
            @Nullable Tensor db, Workspace workspace) {
        runBackward(saved, w, dy, dx, dw, db, workspace);
    }

    /** {@link #backward(SavedSpectra, Tensor, Tensor, Tensor, Tensor, Tensor, Workspace)} with the shared workspace. */
    public void backward(SavedSpectra saved, @Nullable Tensor w, Tensor dy, @Nullable Tensor dx, @Nullable Tensor dw,
            @Nullable Tensor db) {
        withDefaultWorkspace(ws -> {
            runBackward(saved, w, dy, dx, dw, db, ws);
            return null;
        });
    }

    /**
     * Gradient of the input only. {@code w} is needed only in {@link SpectraMode#INPUT_ONLY} (it
     * may be null otherwise).
     */
    public void backwardData(SavedSpectra saved, @Nullable Tensor w, Tensor dy, Tensor dx) {
        Objects.requireNonNull(dx, "dx must not be null");
        backward(saved, w, dy, dx, null, null);
    }

    /** Gradients of the weights and (if {@code db} is not null) the bias only. */
    public void backwardWeights(SavedSpectra saved, Tensor dy, Tensor dw, @Nullable Tensor db) {
        Objects.requireNonNull(dw, "dw must not be null");
        backward(saved, null, dy, null, dw, db);
    }

    // ------------------------------------------------------------------------------------
    // Execute on buffers of the context's memory (DeviceBuffer: device memory for CUDA)
    // ------------------------------------------------------------------------------------

    /**
     * Forward of batch {@code n} on {@link DeviceBuffer}s of the plan's context memory (device
     * memory for CUDA: no host round trip; the call returns once the work is queued). {@code
     * bias} may be null; {@code saved} null is inference. Each buffer must hold at least its
     * tensor (x: {@code n C H W} floats, w: {@code F C KH KW}, bias: {@code F}, y: {@code n F Ho
     * Wo}), {@code saved} at least {@link #savedSpectraBytes()}, {@code workspace} at least
     * {@link #workspaceBytes()}. Returns the box used.
     */
    public Box forward(long n, DeviceBuffer x, DeviceBuffer w, @Nullable DeviceBuffer bias, DeviceBuffer y,
            @Nullable DeviceBuffer saved, DeviceBuffer workspace) {
        checkOpen();
        checkBatch(n);
        checkBuffer(x, "x", 4 * product(inputShape(n)), false);
        checkBuffer(w, "w", 4 * product(weightShape()), false);
        checkBuffer(bias, "bias", 4 * geometry.filters(), true);
        checkBuffer(y, "y", 4 * product(outputShape(n)), false);
        checkBuffer(saved, "saved", savedSpectraBytes(), true);
        checkBuffer(workspace, "workspace", workspaceBytes(), false);
        enter();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment boxOut = bl_box.allocate(call);
            Native.check(BandlimitH.bl_forward(handle.pointer, n, x.address(), w.address(), addressOrNull(bias),
                    y.address(), addressOrNull(saved), saved == null ? 0 : saved.bytes(), workspace.address(),
                    workspace.bytes(), boxOut), "ConvPlan.forward");
            return new Box(bl_box.kh(boxOut), bl_box.kw(boxOut));
        } finally {
            handle.exit();
        }
    }

    /**
     * Backward of batch {@code n} on {@link DeviceBuffer}s, after the forward that filled {@code
     * saved}: {@code dx}, {@code dw}, {@code db} may each be null; {@code w} is needed only in
     * {@link SpectraMode#INPUT_ONLY} when {@code dx} is wanted. Sizes as in {@link #forward(long,
     * DeviceBuffer, DeviceBuffer, DeviceBuffer, DeviceBuffer, DeviceBuffer, DeviceBuffer)}.
     */
    public void backward(long n, DeviceBuffer saved, @Nullable DeviceBuffer w, DeviceBuffer dy, @Nullable DeviceBuffer dx,
            @Nullable DeviceBuffer dw, @Nullable DeviceBuffer db, DeviceBuffer workspace) {
        checkOpen();
        checkBatch(n);
        checkBuffer(saved, "saved", savedSpectraBytes(), false);
        checkBuffer(w, "w", 4 * product(weightShape()), !(dx != null && spectraMode == SpectraMode.INPUT_ONLY));
        checkBuffer(dy, "dy", 4 * product(outputShape(n)), false);
        checkBuffer(dx, "dx", 4 * product(inputShape(n)), true);
        checkBuffer(dw, "dw", 4 * product(weightShape()), true);
        checkBuffer(db, "db", 4 * geometry.filters(), true);
        checkBuffer(workspace, "workspace", workspaceBytes(), false);
        enter();
        try {
            Native.check(BandlimitH.bl_backward(handle.pointer, n, saved.address(), saved.bytes(), addressOrNull(w),
                    dy.address(), addressOrNull(dx), addressOrNull(dw), addressOrNull(db), workspace.address(),
                    workspace.bytes()), "ConvPlan.backward");
        } finally {
            handle.exit();
        }
    }

    private void checkBatch(long n) {
        if (n < 1 || n > geometry.maxBatch()) {
            throw new InvalidArgumentException(Status.INVALID_BATCH, "n",
                    "n must be in [1, " + geometry.maxBatch() + "], got " + n);
        }
    }

    /**
     * A buffer argument: present unless optional, in the memory this plan's backend executes on
     * (a device pointer handed to the CPU backend would be read as host memory), and large enough.
     */
    private void checkBuffer(@Nullable DeviceBuffer b, String name, long needBytes, boolean optional) {
        if (b == null) {
            if (optional) return;
            throw new NullPointerException(name + " must not be null");
        }
        BufferMemory want = executesOn();
        if (b.memory() != want) {
            throw new IllegalArgumentException(name + " is a " + b.memory() + " buffer; this plan's " + backend
                    + " backend executes on " + want + " memory");
        }
        if (b.bytes() < needBytes) {
            throw new InvalidArgumentException(Status.BUFFER_TOO_SMALL, name,
                    name + " has " + b.bytes() + " bytes, the call needs " + needBytes);
        }
    }

    /** The memory this plan's backend reads and writes. */
    private BufferMemory executesOn() {
        return backend == Backend.CPU ? BufferMemory.HOST : BufferMemory.DEVICE;
    }

    private static long product(long[] shape) {
        long p = 1;
        for (long d : shape) p *= d;
        return p;
    }

    private static MemorySegment addressOrNull(@Nullable DeviceBuffer b) {
        return b == null ? MemorySegment.NULL : b.address();
    }

    /** Releases the native plan; harmless when already closed. */
    @Override
    public void close() {
        handle.destroy();
    }

    /** Whether {@link #close()} has run (or the owning arena was closed). */
    public boolean isClosed() {
        return !handle.isOpen();
    }

    @Override
    public String toString() {
        return "ConvPlan[" + geometry + ", maxBatch=" + geometry.maxBatch() + ", " + compression + ", box=" + box()
                + (isClosed() ? ", closed" : "") + "]";
    }

    // ------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------

    private interface WorkspaceCall<T> {
        @Nullable T run(Workspace ws);
    }

    private <T> @Nullable T withDefaultWorkspace(WorkspaceCall<T> body) {
        checkOpen();
        handle.defaultWorkspaceLock.lock();
        try {
            checkOpen();
            Workspace ws = handle.defaultWorkspace;
            if (ws == null) {
                Arena arena = Arena.ofShared();
                ws = Workspace.allocate(arena, workspaceBytes());
                handle.defaultWorkspaceArena = arena;
                handle.defaultWorkspace = ws;
            }
            return body.run(ws);
        } finally {
            handle.defaultWorkspaceLock.unlock();
        }
    }

    private void checkOpen() {
        if (!handle.isOpen()) throw closed();
    }

    /** Counts a native call in flight (Handle); the caller ends it with {@code handle.exit()}. */
    private void enter() {
        if (!handle.enter()) throw closed();
    }

    private static IllegalStateException closed() {
        return new IllegalStateException("the plan is closed (close() or its arena was closed)");
    }

    private Box runForward(Tensor x, Tensor w, @Nullable Tensor bias, Tensor y, @Nullable SavedSpectra saved,
            Workspace workspace) {
        checkOpen();
        long n = ShapeChecks.forward(geometry, executesOn(), savedSpectraBytes(), workspaceBytes(), x, w, bias, y, saved, workspace);
        enter();
        try {
            return NativePlan.forward(handle.pointer, n, x, w, bias, y, saved, workspace);
        } finally {
            handle.exit();
        }
    }

    private void runBackward(SavedSpectra saved, @Nullable Tensor w, Tensor dy, @Nullable Tensor dx,
            @Nullable Tensor dw, @Nullable Tensor db, Workspace workspace) {
        checkOpen();
        long n = ShapeChecks.backward(geometry, executesOn(), savedSpectraBytes(), workspaceBytes(),
                spectraMode == SpectraMode.INPUT_ONLY, saved, w, dy, dx, dw, db, workspace);
        enter();
        try {
            NativePlan.backward(handle.pointer, n, saved, w, dy, dx, dw, db, workspace);
        } finally {
            handle.exit();
        }
    }

    /**
     * Builds a {@link ConvPlan}. The setters reject nulls and the other kind's settings (a 2D
     * setter on a {@code conv1d()} builder throws {@link IllegalStateException}); {@link #build}
     * has the native core check the geometry, which reports the field at fault (e.g.
     * {@code kernel_height}) in an {@link InvalidArgumentException}.
     *
     * <p>Defaults: batch 1, 1x1 kernel, no padding, stride 1, no compression, the default
     * context ({@link ExecutionContext#defaultContext()}, CPU) and
     * {@link SpectraMode#INPUT_AND_WEIGHT}; channels, filters, the input size and the kernel
     * width must be set.
     */
    public static final class Builder {
        // Read by NativePlan when the plan is created.
        final boolean conv1d;
        long maxBatch = 1, channels, height = 1, width, filters, kernelHeight = 1, kernelWidth;
        Padding padding = Padding.none();
        long strideH = 1, strideW = 1;
        Compression compression = Compression.none();
        Backend backend = Backend.CPU;
        @Nullable ExecutionContext context;
        SpectraMode spectraMode = SpectraMode.INPUT_AND_WEIGHT;
        Product product = Product.AUTO;
        ConvMethod method = ConvMethod.BANDLIMIT;
        long maxBytes = 0;

        private Builder(boolean conv1d) {
            this.conv1d = conv1d;
        }

        /** The largest batch an execute call may pass. */
        public Builder maxBatch(long n) {
            this.maxBatch = n;
            return this;
        }

        /** Input channels C. */
        public Builder channels(long c) {
            this.channels = c;
            return this;
        }

        /** Output channels (filters) F. */
        public Builder filters(long f) {
            this.filters = f;
            return this;
        }

        /** 2D input size H x W. */
        public Builder input(long h, long w) {
            this.width = requireKind(false, "input(h, w)", w);
            this.height = h;
            return this;
        }

        /** 1D input length L. */
        public Builder length(long l) {
            this.width = requireKind(true, "length", l);
            return this;
        }

        /** 2D kernel KH x KW. */
        public Builder kernel(long kh, long kw) {
            this.kernelWidth = requireKind(false, "kernel(kh, kw)", kw);
            this.kernelHeight = kh;
            return this;
        }

        /** 1D kernel size K. */
        public Builder kernel(long k) {
            this.kernelWidth = requireKind(true, "kernel(k)", k);
            return this;
        }

        /** Zero padding per side (1D plans use left and right; top and bottom must be 0). */
        public Builder padding(Padding p) {
            this.padding = Objects.requireNonNull(p, "padding must not be null");
            return this;
        }

        /** Stride per axis (2D). */
        public Builder stride(long sh, long sw) {
            this.strideW = requireKind(false, "stride(sh, sw)", sw);
            this.strideH = sh;
            return this;
        }

        /** Stride (1D: along the length; 2D: both axes). */
        public Builder stride(long s) {
            this.strideH = s;
            this.strideW = s;
            return this;
        }

        /** How much of the spectrum the layer discards (default {@link Compression#none()}). */
        public Builder compression(Compression c) {
            this.compression = Objects.requireNonNull(c, "compression must not be null");
            return this;
        }

        /**
         * Where the plan executes: a fresh context of this backend with the default settings
         * (for {@link Backend#CPU}: the default context). Replaces an earlier {@link #context}.
         * {@link #build} throws {@link UnsupportedFeatureException}, with the registry's reason,
         * when the backend cannot run here.
         */
        public Builder backend(Backend b) {
            this.backend = Objects.requireNonNull(b, "backend must not be null");
            this.context = null;
            return this;
        }

        /**
         * The context the plan is created and executes in (its backend, device, threads and CPU
         * path). The plan keeps the native context alive: {@code context} may be closed before
         * the plan. Replaces an earlier {@link #backend}.
         */
        public Builder context(ExecutionContext c) {
            this.context = Objects.requireNonNull(c, "context must not be null");
            this.backend = c.backend();
            return this;
        }

        /** What a training forward saves (default {@link SpectraMode#INPUT_AND_WEIGHT}). */
        public Builder spectraMode(SpectraMode m) {
            this.spectraMode = Objects.requireNonNull(m, "spectraMode must not be null");
            return this;
        }

        /**
         * How the forward and weight gradient compute (default {@link Product#AUTO}); {@link Product#SPATIAL}
         * where the backend or geometry cannot run it fails at {@link #build} with an
         * {@link UnsupportedFeatureException}.
         */
        public Builder product(Product p) {
            this.product = Objects.requireNonNull(p, "product must not be null");
            return this;
        }

        /** The method ({@link ConvMethod#BANDLIMIT} unless set; {@link ConvMethod#PAPER_BASELINE} for comparisons). */
        public Builder method(ConvMethod m) {
            this.method = Objects.requireNonNull(m, "method must not be null");
            return this;
        }

        /**
         * The most bytes the plan may take: its own tables plus one workspace plus one
         * saved-spectra buffer for {@link #maxBatch} (default {@link #DEFAULT_MAX_PLAN_BYTES},
         * 16 GiB; 0 means the default). {@link #build} refuses a larger plan, before allocating
         * anything, with a {@link PlanTooLargeException} that quotes the bytes; so does an FFT
         * length above {@link #MAX_FFT_LENGTH} along either axis, whatever this limit.
         */
        public Builder maxBytes(long bytes) {
            if (bytes < 0) {
                throw new InvalidArgumentException(Status.INVALID_ARGUMENT, "maxBytes",
                        "maxBytes must be >= 0 (0: the default limit), got " + bytes);
            }
            this.maxBytes = bytes;
            return this;
        }

        /** Creates the plan, owned by {@code arena} (closing the arena releases it). */
        public ConvPlan build(Arena arena) {
            if (conv1d && (padding.top() != 0 || padding.bottom() != 0)) {
                throw new InvalidArgumentException(Status.INVALID_SIZE, "padding",
                        "padding top and bottom must be 0 for a 1D plan, got " + padding);
            }
            return new ConvPlan(this, arena);
        }

        /** Returns {@code value} if this builder is of the kind ({@code conv1d}) that {@code setter} is for. */
        private long requireKind(boolean setterIsConv1d, String setter, long value) {
            if (conv1d != setterIsConv1d) {
                throw new IllegalStateException(setter + " is for " + (setterIsConv1d ? "1D" : "2D")
                        + " plans; this builder is " + (conv1d ? "conv1d()" : "conv2d()"));
            }
            return value;
        }
    }
}
