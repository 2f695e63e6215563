package dev.bandlimit.nn;

import dev.bandlimit.Box;
import dev.bandlimit.Compression;
import dev.bandlimit.ConvPlan;
import dev.bandlimit.Flops;
import dev.bandlimit.Padding;
import dev.bandlimit.Pass;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What {@link Conv2d} and {@link Conv1d} share: the convolution through the native band-limited
 * operator (docs/ALGORITHM.md), its weight and optional bias {@code [F]}, the training and
 * evaluation compressions, the plan cache and what the last forward reports. Training tapes use
 * {@link #trainCompression()} and save the compact spectra for the backward; evaluation tapes use
 * {@link #evalCompression()} and save nothing. The subclasses say the rank and the kernel.
 *
 * <p>Plans are built lazily, one per input size, compression and training or evaluation, sized
 * for the largest batch seen, and kept in a bounded least-recently-used cache
 * ({@link #planCacheCapacity()}, default {@value ConvCore#DEFAULT_CAPACITY}). An evicted plan is
 * closed once no open tape still needs it for a backward; {@link #close()} closes them all.
 *
 * <p>Evaluation forwards may run on several threads at once: the cache is synchronised, a plan is
 * kept open while any call runs it, and concurrent calls on one plan never share its workspace
 * (the package documentation states the whole contract).
 */
public abstract sealed class ConvLayer extends Module permits Conv1d, Conv2d {
    private final long inChannels, outChannels, stride;
    private final Padding padding;
    private final Parameter weight;
    private final @Nullable Parameter bias;
    private final Compression trainCompression;
    /** Volatile: evaluation forwards on other threads read it (the package's concurrency contract). */
    private volatile Compression evalCompression;
    private final ConvCore core;

    ConvLayer(boolean conv1d, long inChannels, long outChannels, long kernelH, long kernelW, Padding padding,
            long stride, boolean bias, Compression trainCompression, Compression evalCompression, long seed) {
        this.core = new ConvCore(conv1d, inChannels, outChannels, kernelH, kernelW, padding, stride);
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.padding = padding;
        this.stride = stride;
        this.trainCompression = Objects.requireNonNull(trainCompression, "trainCompression must not be null");
        this.evalCompression = Objects.requireNonNull(evalCompression, "evalCompression must not be null");
        this.weight = conv1d
                ? addParameter("weight", outChannels, inChannels, kernelW)
                : addParameter("weight", outChannels, inChannels, kernelH, kernelW);
        this.bias = bias ? addParameter("bias", outChannels) : null;
        Init.kaimingUniform(weight.data(), this.bias == null ? null : this.bias.data(),
                inChannels * kernelH * kernelW, seed);
    }

    @Override
    public final Var forward(Tape tape, Var x) {
        checkOpen();
        return core.forward(tape, x, tape.param(weight), bias == null ? null : tape.param(bias),
                tape.training() ? trainCompression : evalCompression);
    }

    public final Parameter weight() {
        return weight;
    }

    /** The bias, or null when built without one. */
    public final @Nullable Parameter bias() {
        return bias;
    }

    public final long inChannels() {
        return inChannels;
    }

    public final long outChannels() {
        return outChannels;
    }

    public final Padding padding() {
        return padding;
    }

    public final long stride() {
        return stride;
    }

    public final Compression trainCompression() {
        return trainCompression;
    }

    public final Compression evalCompression() {
        return evalCompression;
    }

    /** Compression for later evaluation forwards (a plan for it is built on first use). */
    public final void setEvalCompression(Compression c) {
        this.evalCompression = Objects.requireNonNull(c, "compression must not be null");
    }

    /** The most plans this layer keeps cached (default {@value ConvCore#DEFAULT_CAPACITY}). */
    public final int planCacheCapacity() {
        return core.capacity();
    }

    /**
     * Bounds the plan cache to {@code capacity >= 1} plans, evicting the least recently used ones
     * beyond it now. An evicted plan's memory is released at once, or, when an open training
     * tape recorded a backward that runs it, when that tape closes.
     */
    public final void setPlanCacheCapacity(int capacity) {
        checkOpen();
        core.setCapacity(capacity);
    }

    /**
     * The most bytes one of this layer's plans may take (tables + workspace + saved spectra for
     * the batch it is built for; {@link dev.bandlimit.ConvPlan.Builder#maxBytes}); 0, the default,
     * is the library's limit of 16 GiB. A forward whose plan would exceed it throws a
     * {@link dev.bandlimit.PlanTooLargeException} before anything is allocated; raise it for very
     * large batches. Applies to plans built from now on.
     */
    public final void setMaxPlanBytes(long bytes) {
        checkOpen();
        core.setMaxPlanBytes(bytes);
    }

    /** The limit of {@link #setMaxPlanBytes} (0: the library's default). */
    public final long maxPlanBytes() {
        return core.maxPlanBytes();
    }

    /** Plans in the cache now (at most {@link #planCacheCapacity()}). */
    public final int planCacheSize() {
        return core.size();
    }

    /** The box the last forward kept (in energy mode the one chosen for that batch); null before any. */
    public final @Nullable Box lastBox() {
        return core.lastBox();
    }

    /** Achieved compression rate of {@link #lastBox()}: discarded / total half-spectrum coefficients. */
    public final double lastAchievedRate() {
        return core.lastAchievedRate();
    }

    /**
     * Bytes of the saved-spectra buffer the last forward filled for its backward (0 when it was an
     * evaluation forward). This is the allocation the plan asks for: sized for the plan's batch
     * bound, and in energy mode for the full box, since the box is chosen during the forward.
     */
    public final long lastSavedSpectraBytes() {
        return core.lastSavedSpectraBytes();
    }

    /** Counted FLOPs of {@code pass} for the last forward's batch and box. */
    public final Flops lastFlops(Pass pass) {
        return core.lastFlops(pass);
    }

    /**
     * The plan the last forward used. It stays open while it is the last one, until the layer
     * closes.
     *
     * @throws IllegalStateException before the first forward (as {@link #lastFlops} does)
     */
    public final ConvPlan lastPlan() {
        return core.lastPlan();
    }

    @Override
    protected final void releaseResources() {
        core.close();
    }

    /** The kernel as {@link #toString()} writes it ({@code "5x5"}, {@code "3"}). */
    abstract String kernelText();

    @Override
    public final String toString() {
        return getClass().getSimpleName() + "(" + inChannels + " -> " + outChannels + ", " + kernelText() + ", "
                + padding + ", stride " + stride + ", train " + trainCompression + ", eval " + evalCompression + ")";
    }
}
