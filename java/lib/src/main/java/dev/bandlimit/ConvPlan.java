package dev.bandlimit;

import dev.bandlimit.internal.Native;
import dev.bandlimit.internal.ffm.BandlimitH;
import dev.bandlimit.internal.ffm.bl_box;
import dev.bandlimit.internal.ffm.bl_compression;
import dev.bandlimit.internal.ffm.bl_conv1d_desc;
import dev.bandlimit.internal.ffm.bl_conv2d_desc;
import dev.bandlimit.internal.ffm.bl_flops;
import dev.bandlimit.internal.ffm.bl_plan_options;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A band-limited convolution layer's plan: its geometry, compression and FFT set-up, owned by
 * a native handle. Build one with {@link #conv2d()} or {@link #conv1d()}; then call
 * {@link #forward}, {@link #backward} (or {@link #backwardData} / {@link #backwardWeights}) on
 * tensors in off-heap memory, which the native core reads and writes in place.
 *
 * <p>Shapes: 2D {@code x[n][C][H][W]}, {@code w[F][C][KH][KW]}, {@code bias[F]},
 * {@code y[n][F][Ho][Wo]}; 1D {@code x[n][C][L]}, {@code w[F][C][K]}, {@code y[n][F][Lo]}, with
 * {@code 1 <= n <= maxBatch}. The gradients have the shapes of what they differentiate.
 *
 * <p>Ownership: the plan belongs to the {@link Arena} given to {@code build}: closing the arena
 * releases it, and so does {@link #close()} (idempotent). Using a closed plan throws
 * {@link IllegalStateException}. A plan is immutable; several threads may execute it at once
 * when each passes its own outputs, {@link SavedSpectra} and {@link Workspace}. The overloads
 * without a workspace share one per plan and run one at a time.
 */
public final class ConvPlan implements AutoCloseable {

    /** Owns the native pointer; shared with the arena's cleanup action, never the plan itself. */
    private static final class Handle {
        final MemorySegment pointer;
        final AtomicBoolean open = new AtomicBoolean(true);
        final ReentrantLock defaultWorkspaceLock = new ReentrantLock();
        Arena defaultWorkspaceArena;
        Workspace defaultWorkspace;

        Handle(MemorySegment pointer) {
            this.pointer = pointer;
        }

        void destroy() {
            if (!open.compareAndSet(true, false)) return;
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
    private final boolean conv1d;
    private final long maxBatch, channels, height, width, filters, kernelHeight, kernelWidth;
    private final Padding padding;
    private final long strideH, strideW;
    private final Compression compression;
    private final Backend backend;
    private final SpectraMode spectraMode;
    private final long outHeight, outWidth;
    private final FftLengths fftLengths;
    private final Box box;
    private final double achievedRate;
    private final long savedSpectraBytes, workspaceBytes;

    private ConvPlan(Builder b, Arena arena) {
        Native.ensureLoaded();
        this.conv1d = b.conv1d;
        this.maxBatch = b.maxBatch;
        this.channels = b.channels;
        this.height = b.conv1d ? 1 : b.height;
        this.width = b.width;
        this.filters = b.filters;
        this.kernelHeight = b.conv1d ? 1 : b.kernelHeight;
        this.kernelWidth = b.kernelWidth;
        this.padding = b.conv1d ? Padding.of1d(b.padding.left(), b.padding.right()) : b.padding;
        this.strideH = b.conv1d ? 1 : b.strideH;
        this.strideW = b.strideW;
        this.compression = Objects.requireNonNull(b.compression, "compression must not be null");
        this.backend = Objects.requireNonNull(b.backend, "backend must not be null");
        this.spectraMode = Objects.requireNonNull(b.spectraMode, "spectraMode must not be null");
        Objects.requireNonNull(arena, "arena must not be null");

        MemorySegment pointer;
        try (Arena call = Arena.ofConfined()) {
            MemorySegment comp = bl_compression.allocate(call);
            switch (compression) {
                case Compression.Fixed f -> {
                    bl_compression.kind(comp, BandlimitH.BL_COMPRESSION_FIXED());
                    bl_compression.value(comp, f.rho());
                }
                case Compression.Energy e -> {
                    bl_compression.kind(comp, BandlimitH.BL_COMPRESSION_ENERGY());
                    bl_compression.value(comp, e.fraction());
                }
            }
            MemorySegment options = bl_plan_options.allocate(call);
            bl_plan_options.backend(options, backend.code);
            bl_plan_options.spectra_mode(options, spectraMode.code);
            MemorySegment out = call.allocate(ValueLayout.ADDRESS);
            if (conv1d) {
                MemorySegment d = bl_conv1d_desc.allocate(call);
                bl_conv1d_desc.max_batch(d, maxBatch);
                bl_conv1d_desc.channels(d, channels);
                bl_conv1d_desc.length(d, width);
                bl_conv1d_desc.filters(d, filters);
                bl_conv1d_desc.kernel(d, kernelWidth);
                bl_conv1d_desc.pad_left(d, padding.left());
                bl_conv1d_desc.pad_right(d, padding.right());
                bl_conv1d_desc.stride(d, strideW);
                Native.check(BandlimitH.bl_plan_create_1d(d, comp, options, out), "ConvPlan.conv1d");
            } else {
                MemorySegment d = bl_conv2d_desc.allocate(call);
                bl_conv2d_desc.max_batch(d, maxBatch);
                bl_conv2d_desc.channels(d, channels);
                bl_conv2d_desc.height(d, height);
                bl_conv2d_desc.width(d, width);
                bl_conv2d_desc.filters(d, filters);
                bl_conv2d_desc.kernel_height(d, kernelHeight);
                bl_conv2d_desc.kernel_width(d, kernelWidth);
                bl_conv2d_desc.pad_top(d, padding.top());
                bl_conv2d_desc.pad_bottom(d, padding.bottom());
                bl_conv2d_desc.pad_left(d, padding.left());
                bl_conv2d_desc.pad_right(d, padding.right());
                bl_conv2d_desc.stride_h(d, strideH);
                bl_conv2d_desc.stride_w(d, strideW);
                Native.check(BandlimitH.bl_plan_create_2d(d, comp, options, out), "ConvPlan.conv2d");
            }
            pointer = out.get(ValueLayout.ADDRESS, 0);
        }
        this.handle = new Handle(pointer);
        // From here on the native plan must be released on any failure.
        try {
            Handle h = handle;
            MemorySegment.ofAddress(pointer.address()).reinterpret(arena, ignored -> h.destroy());
            try (Arena call = Arena.ofConfined()) {
                MemorySegment a = call.allocate(ValueLayout.JAVA_LONG);
                MemorySegment c = call.allocate(ValueLayout.JAVA_LONG);
                Native.check(BandlimitH.bl_plan_output_size(pointer, a, c), "ConvPlan");
                outHeight = a.get(ValueLayout.JAVA_LONG, 0);
                outWidth = c.get(ValueLayout.JAVA_LONG, 0);
                Native.check(BandlimitH.bl_plan_fft_lengths(pointer, a, c), "ConvPlan");
                fftLengths = new FftLengths(a.get(ValueLayout.JAVA_LONG, 0), c.get(ValueLayout.JAVA_LONG, 0));
                MemorySegment boxOut = bl_box.allocate(call);
                MemorySegment rate = call.allocate(ValueLayout.JAVA_DOUBLE);
                Native.check(BandlimitH.bl_plan_box(pointer, boxOut, rate), "ConvPlan");
                box = new Box(bl_box.kh(boxOut), bl_box.kw(boxOut));
                achievedRate = rate.get(ValueLayout.JAVA_DOUBLE, 0);
                Native.check(BandlimitH.bl_plan_saved_spectra_bytes(pointer, a), "ConvPlan");
                savedSpectraBytes = a.get(ValueLayout.JAVA_LONG, 0);
                Native.check(BandlimitH.bl_plan_workspace_bytes(pointer, a), "ConvPlan");
                workspaceBytes = a.get(ValueLayout.JAVA_LONG, 0);
            }
        } catch (RuntimeException | Error e) {
            handle.destroy();
            throw e;
        }
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
    // Queries
    // ------------------------------------------------------------------------------------

    /** Whether this is a 1D plan. */
    public boolean isConv1d() {
        return conv1d;
    }

    public long maxBatch() {
        return maxBatch;
    }

    public long channels() {
        return channels;
    }

    public long filters() {
        return filters;
    }

    /** Input height (1 for 1D plans). */
    public long height() {
        return height;
    }

    /** Input width (the length L for 1D plans). */
    public long width() {
        return width;
    }

    public long kernelHeight() {
        return kernelHeight;
    }

    public long kernelWidth() {
        return kernelWidth;
    }

    public Padding padding() {
        return padding;
    }

    public long strideH() {
        return strideH;
    }

    public long strideW() {
        return strideW;
    }

    public Compression compression() {
        return compression;
    }

    public Backend backend() {
        return backend;
    }

    public SpectraMode spectraMode() {
        return spectraMode;
    }

    /** Output height Ho (1 for 1D plans). */
    public long outputHeight() {
        return outHeight;
    }

    /** Output width Wo (the output length for 1D plans). */
    public long outputWidth() {
        return outWidth;
    }

    /** FFT lengths LH, LW (docs/ALGORITHM.md section 2). */
    public FftLengths fftLengths() {
        return fftLengths;
    }

    /** The fixed box (energy mode: the full box; the box used is returned by each forward). */
    public Box box() {
        return box;
    }

    /** Achieved compression rate of {@link #box()}: discarded / total coefficients, {@code <= rho}. */
    public double achievedRate() {
        return achievedRate;
    }

    /** Achieved compression rate of any box of this plan's spectrum (e.g. one an energy forward chose). */
    public double rateOf(Box b) {
        checkOpen();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment nb = bl_box.allocate(call);
            bl_box.kh(nb, b.kh());
            bl_box.kw(nb, b.kw());
            MemorySegment rate = call.allocate(ValueLayout.JAVA_DOUBLE);
            Native.check(BandlimitH.bl_plan_box_rate(handle.pointer, nb, rate), "ConvPlan.rateOf");
            return rate.get(ValueLayout.JAVA_DOUBLE, 0);
        }
    }

    /** Bytes of the buffer a training forward saves for the backward. */
    public long savedSpectraBytes() {
        return savedSpectraBytes;
    }

    /** Bytes of workspace an execute call needs. */
    public long workspaceBytes() {
        return workspaceBytes;
    }

    /** Counted FLOPs of {@code pass} for batch {@code n} at the plan's box. */
    public Flops flops(Pass pass, long n) {
        return flops(pass, n, null);
    }

    /** Counted FLOPs of {@code pass} for batch {@code n} at box {@code b} (null: the plan's box). */
    public Flops flops(Pass pass, long n, Box b) {
        checkOpen();
        Objects.requireNonNull(pass, "pass must not be null");
        try (Arena call = Arena.ofConfined()) {
            MemorySegment nb = MemorySegment.NULL;
            if (b != null) {
                nb = bl_box.allocate(call);
                bl_box.kh(nb, b.kh());
                bl_box.kw(nb, b.kw());
            }
            MemorySegment out = bl_flops.allocate(call);
            Native.check(BandlimitH.bl_plan_flops(handle.pointer, pass.code, n, nb, out), "ConvPlan.flops");
            return new Flops(bl_flops.nominal(out), bl_flops.executed(out), bl_flops.dense_equivalent(out));
        }
    }

    /** Shape of the input for batch {@code n}. */
    public long[] inputShape(long n) {
        return conv1d ? new long[] {n, channels, width} : new long[] {n, channels, height, width};
    }

    /** Shape of the weights. */
    public long[] weightShape() {
        return conv1d ? new long[] {filters, channels, kernelWidth}
                : new long[] {filters, channels, kernelHeight, kernelWidth};
    }

    /** Shape of the bias. */
    public long[] biasShape() {
        return new long[] {filters};
    }

    /** Shape of the output for batch {@code n}. */
    public long[] outputShape(long n) {
        return conv1d ? new long[] {n, filters, outWidth} : new long[] {n, filters, outHeight, outWidth};
    }

    /** A buffer for the spectra a training forward saves, in {@code arena}. */
    public SavedSpectra allocateSavedSpectra(Arena arena) {
        checkOpen();
        return SavedSpectra.allocate(arena, savedSpectraBytes);
    }

    /** A workspace for execute calls, in {@code arena}. */
    public Workspace allocateWorkspace(Arena arena) {
        checkOpen();
        return Workspace.allocate(arena, workspaceBytes);
    }

    // ------------------------------------------------------------------------------------
    // Execute
    // ------------------------------------------------------------------------------------

    /**
     * Training forward: {@code y = conv(x, w) + bias} band-limited, saving the compact spectra in
     * {@code saved} for the backward. {@code bias} may be null. Returns the box used (in energy
     * mode the one chosen for this batch).
     */
    public Box forward(Tensor x, Tensor w, Tensor bias, Tensor y, SavedSpectra saved, Workspace workspace) {
        Objects.requireNonNull(saved, "saved must not be null (use infer for inference)");
        return runForward(x, w, bias, y, saved, workspace);
    }

    /** {@link #forward(Tensor, Tensor, Tensor, Tensor, SavedSpectra, Workspace)} with the plan's shared workspace. */
    public Box forward(Tensor x, Tensor w, Tensor bias, Tensor y, SavedSpectra saved) {
        Objects.requireNonNull(saved, "saved must not be null (use infer for inference)");
        return withDefaultWorkspace(ws -> runForward(x, w, bias, y, saved, ws));
    }

    /** Inference forward: like {@code forward}, saving nothing. */
    public Box infer(Tensor x, Tensor w, Tensor bias, Tensor y, Workspace workspace) {
        return runForward(x, w, bias, y, null, workspace);
    }

    /** Inference forward with the plan's shared workspace. */
    public Box infer(Tensor x, Tensor w, Tensor bias, Tensor y) {
        return withDefaultWorkspace(ws -> runForward(x, w, bias, y, null, ws));
    }

    /**
     * Inference on Java arrays: copies {@code x}, {@code w}, {@code bias} (nullable) into native
     * memory, runs the forward and copies the output back (convenient, not zero-copy). The batch
     * is {@code x.length / (C H W)}.
     */
    public float[] infer(float[] x, float[] w, float[] bias) {
        checkOpen();
        Objects.requireNonNull(x, "x must not be null");
        Objects.requireNonNull(w, "w must not be null");
        long perSample = channels * height * width;
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
    public void backward(SavedSpectra saved, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db,
            Workspace workspace) {
        runBackward(saved, w, dy, dx, dw, db, workspace);
    }

    /** {@link #backward(SavedSpectra, Tensor, Tensor, Tensor, Tensor, Tensor, Workspace)} with the shared workspace. */
    public void backward(SavedSpectra saved, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db) {
        withDefaultWorkspace(ws -> {
            runBackward(saved, w, dy, dx, dw, db, ws);
            return null;
        });
    }

    /** Gradient of the input only. */
    public void backwardData(SavedSpectra saved, Tensor w, Tensor dy, Tensor dx) {
        Objects.requireNonNull(dx, "dx must not be null");
        backward(saved, w, dy, dx, null, null);
    }

    /** Gradients of the weights and (if {@code db} is not null) the bias only. */
    public void backwardWeights(SavedSpectra saved, Tensor dy, Tensor dw, Tensor db) {
        Objects.requireNonNull(dw, "dw must not be null");
        backward(saved, null, dy, null, dw, db);
    }

    /** Releases the native plan; harmless when already closed. */
    @Override
    public void close() {
        handle.destroy();
    }

    /** Whether {@link #close()} has run (or the owning arena was closed). */
    public boolean isClosed() {
        return !handle.open.get();
    }

    @Override
    public String toString() {
        String geometry = conv1d
                ? "conv1d C=" + channels + " L=" + width + " F=" + filters + " K=" + kernelWidth
                : "conv2d C=" + channels + " " + height + "x" + width + " F=" + filters + " " + kernelHeight + "x"
                        + kernelWidth;
        return "ConvPlan[" + geometry + ", maxBatch=" + maxBatch + ", " + compression + ", box=" + box
                + (isClosed() ? ", closed" : "") + "]";
    }

    // ------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------

    private interface WorkspaceCall<T> {
        T run(Workspace ws);
    }

    private <T> T withDefaultWorkspace(WorkspaceCall<T> body) {
        checkOpen();
        handle.defaultWorkspaceLock.lock();
        try {
            checkOpen();
            if (handle.defaultWorkspace == null) {
                handle.defaultWorkspaceArena = Arena.ofShared();
                handle.defaultWorkspace = Workspace.allocate(handle.defaultWorkspaceArena, workspaceBytes);
            }
            return body.run(handle.defaultWorkspace);
        } finally {
            handle.defaultWorkspaceLock.unlock();
        }
    }

    private void checkOpen() {
        if (!handle.open.get()) throw new IllegalStateException("the plan is closed (close() or its arena was closed)");
    }

    private Box runForward(Tensor x, Tensor w, Tensor bias, Tensor y, SavedSpectra saved, Workspace workspace) {
        checkOpen();
        long n = batchOf(x, "x");
        checkTensor("x", x, inputShape(n), false);
        checkTensor("w", w, weightShape(), false);
        if (bias != null) checkTensor("bias", bias, biasShape(), false);
        checkTensor("y", y, outputShape(n), true);
        checkDisjoint("y", y.segment(), "x", x.segment());
        checkDisjoint("y", y.segment(), "w", w.segment());
        if (bias != null) checkDisjoint("y", y.segment(), "bias", bias.segment());
        MemorySegment savedSegment = MemorySegment.NULL;
        if (saved != null) {
            savedSegment = checkBuffer("saved", saved.segment(), savedSpectraBytes);
            checkDisjoint("saved", savedSegment, "x", x.segment());
            checkDisjoint("saved", savedSegment, "w", w.segment());
            checkDisjoint("saved", savedSegment, "y", y.segment());
        }
        MemorySegment ws = checkWorkspace(workspace);
        try (Arena call = Arena.ofConfined()) {
            MemorySegment boxOut = bl_box.allocate(call);
            Native.check(BandlimitH.bl_forward(handle.pointer, n, x.segment(), w.segment(),
                    bias == null ? MemorySegment.NULL : bias.segment(), y.segment(), savedSegment,
                    savedSegment.byteSize(), ws, ws.byteSize(), boxOut), "ConvPlan.forward");
            return new Box(bl_box.kh(boxOut), bl_box.kw(boxOut));
        }
    }

    private void runBackward(SavedSpectra saved, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db,
            Workspace workspace) {
        checkOpen();
        Objects.requireNonNull(saved, "saved must not be null");
        long n = batchOf(dy, "dy");
        checkTensor("dy", dy, outputShape(n), false);
        boolean needW = dx != null && spectraMode == SpectraMode.INPUT_ONLY;
        if (needW) Objects.requireNonNull(w, "w must not be null: SpectraMode.INPUT_ONLY recomputes its spectra");
        if (w != null) checkTensor("w", w, weightShape(), false);
        if (dx != null) checkTensor("dx", dx, inputShape(n), true);
        if (dw != null) checkTensor("dw", dw, weightShape(), true);
        if (db != null) checkTensor("db", db, biasShape(), true);
        MemorySegment savedSegment = checkBuffer("saved", saved.segment(), savedSpectraBytes);
        MemorySegment ws = checkWorkspace(workspace);
        Tensor[] outputs = {dx, dw, db};
        String[] outputNames = {"dx", "dw", "db"};
        for (int i = 0; i < outputs.length; i++) {
            if (outputs[i] == null) continue;
            MemorySegment o = outputs[i].segment();
            checkDisjoint(outputNames[i], o, "dy", dy.segment());
            checkDisjoint(outputNames[i], o, "saved", savedSegment);
            if (w != null) checkDisjoint(outputNames[i], o, "w", w.segment());
            for (int j = i + 1; j < outputs.length; j++) {
                if (outputs[j] != null) checkDisjoint(outputNames[i], o, outputNames[j], outputs[j].segment());
            }
        }
        Native.check(BandlimitH.bl_backward(handle.pointer, n, savedSegment, savedSegment.byteSize(),
                w == null ? MemorySegment.NULL : w.segment(), dy.segment(),
                dx == null ? MemorySegment.NULL : dx.segment(), dw == null ? MemorySegment.NULL : dw.segment(),
                db == null ? MemorySegment.NULL : db.segment(), ws, ws.byteSize()), "ConvPlan.backward");
    }

    private long batchOf(Tensor t, String name) {
        Objects.requireNonNull(t, name + " must not be null");
        long n = t.dim(0);
        if (n < 1 || n > maxBatch) {
            throw new InvalidArgumentException(Status.INVALID_BATCH, name,
                    name + " has batch " + n + ", the plan allows 1.." + maxBatch);
        }
        return n;
    }

    private static void checkTensor(String name, Tensor t, long[] expected, boolean output) {
        Objects.requireNonNull(t, name + " must not be null");
        MemorySegment s = t.segment();
        checkSegment(name, s, output);
        if (!Arrays.equals(t.shape(), expected)) {
            throw new InvalidArgumentException(Status.INVALID_SIZE, name,
                    name + " has shape " + Arrays.toString(t.shape()) + ", the plan expects " + Arrays.toString(expected));
        }
    }

    private static void checkSegment(String name, MemorySegment s, boolean output) {
        if (!s.scope().isAlive()) {
            throw new IllegalStateException(name + ": the arena that owns its memory is closed");
        }
        if (!s.isNative()) {
            throw new InvalidArgumentException(Status.INVALID_ARGUMENT, name, name
                    + " is a heap segment; the native core needs off-heap memory (allocate it in an Arena, or use"
                    + " the float[] overloads, which copy)");
        }
        if (s.address() % Float.BYTES != 0) {
            throw new InvalidArgumentException(Status.INVALID_ARGUMENT, name, name + " is not aligned to 4 bytes");
        }
        if (output && s.isReadOnly()) {
            throw new InvalidArgumentException(Status.INVALID_ARGUMENT, name, name + " is read-only");
        }
    }

    private static MemorySegment checkBuffer(String name, MemorySegment s, long need) {
        checkSegment(name, s, true);
        if (s.byteSize() < need) {
            throw new InvalidArgumentException(Status.BUFFER_TOO_SMALL, name,
                    name + " has " + s.byteSize() + " bytes, the plan needs " + need);
        }
        return s;
    }

    private MemorySegment checkWorkspace(Workspace workspace) {
        Objects.requireNonNull(workspace, "workspace must not be null");
        return checkBuffer("workspace", workspace.segment(), workspaceBytes);
    }

    private static void checkDisjoint(String outName, MemorySegment out, String inName, MemorySegment in) {
        if (out.asOverlappingSlice(in).isPresent()) {
            throw new InvalidArgumentException(Status.INVALID_ARGUMENT, outName,
                    outName + " overlaps " + inName + "; outputs must not share memory with other arguments");
        }
    }

    /** Builds a {@link ConvPlan}; every setter checks its argument, {@link #build} checks the whole. */
    public static final class Builder {
        private final boolean conv1d;
        private long maxBatch = 1, channels, height = 1, width, filters, kernelHeight = 1, kernelWidth;
        private Padding padding = Padding.none();
        private long strideH = 1, strideW = 1;
        private Compression compression = Compression.none();
        private Backend backend = Backend.CPU;
        private SpectraMode spectraMode = SpectraMode.INPUT_AND_WEIGHT;

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
            requireConv2d("input(h, w)");
            this.height = h;
            this.width = w;
            return this;
        }

        /** 1D input length L. */
        public Builder length(long l) {
            requireConv1d("length");
            this.width = l;
            return this;
        }

        /** 2D kernel KH x KW. */
        public Builder kernel(long kh, long kw) {
            requireConv2d("kernel(kh, kw)");
            this.kernelHeight = kh;
            this.kernelWidth = kw;
            return this;
        }

        /** 1D kernel size K. */
        public Builder kernel(long k) {
            requireConv1d("kernel(k)");
            this.kernelWidth = k;
            return this;
        }

        /** Zero padding per side (1D plans use left and right; top and bottom must be 0). */
        public Builder padding(Padding p) {
            this.padding = Objects.requireNonNull(p, "padding must not be null");
            return this;
        }

        /** Stride per axis (2D). */
        public Builder stride(long sh, long sw) {
            requireConv2d("stride(sh, sw)");
            this.strideH = sh;
            this.strideW = sw;
            return this;
        }

        /** Stride (1D: along the length; 2D: both axes). */
        public Builder stride(long s) {
            this.strideH = s;
            this.strideW = s;
            return this;
        }

        public Builder compression(Compression c) {
            this.compression = Objects.requireNonNull(c, "compression must not be null");
            return this;
        }

        public Builder backend(Backend b) {
            this.backend = Objects.requireNonNull(b, "backend must not be null");
            return this;
        }

        public Builder spectraMode(SpectraMode m) {
            this.spectraMode = Objects.requireNonNull(m, "spectraMode must not be null");
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

        private void requireConv2d(String what) {
            if (conv1d) throw new IllegalStateException(what + " is for 2D plans; this builder is conv1d()");
        }

        private void requireConv1d(String what) {
            if (!conv1d) throw new IllegalStateException(what + " is for 1D plans; this builder is conv2d()");
        }
    }
}
