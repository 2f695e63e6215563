package dev.bandlimit.nn;

import dev.bandlimit.Box;
import dev.bandlimit.Compression;
import dev.bandlimit.ConvPlan;
import dev.bandlimit.Flops;
import dev.bandlimit.Padding;
import dev.bandlimit.Pass;
import java.util.Objects;

/**
 * 2D convolution through the native band-limited operator (docs/ALGORITHM.md): input
 * {@code [N,C,H,W]}, weight {@code [F,C,KH,KW]}, optional bias {@code [F]}, output
 * {@code [N,F,Ho,Wo]}. Training tapes use {@link #trainCompression()} and save the compact
 * spectra for the backward; evaluation tapes use {@link #evalCompression()} and save nothing.
 * Plans are built lazily for each input size, compression and batch bound (see
 * {@link #close()} for their release).
 */
public final class Conv2d extends Module {
    private final long inChannels, outChannels, kernelH, kernelW, stride;
    private final Padding padding;
    private final Parameter weight;
    private final Parameter bias;
    private final Compression trainCompression;
    private Compression evalCompression;
    private final ConvCore core;

    /**
     * @param trainCompression compression of training forwards and backwards
     * @param evalCompression compression of evaluation forwards (may differ; see {@link #setEvalCompression})
     * @param seed seeds the Kaiming-uniform initialisation (PyTorch's default)
     */
    public Conv2d(long inChannels, long outChannels, long kernelH, long kernelW, Padding padding, long stride,
            boolean bias, Compression trainCompression, Compression evalCompression, long seed) {
        this.core = new ConvCore(false, inChannels, outChannels, kernelH, kernelW, padding, stride);
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernelH = kernelH;
        this.kernelW = kernelW;
        this.padding = padding;
        this.stride = stride;
        this.trainCompression = Objects.requireNonNull(trainCompression, "trainCompression must not be null");
        this.evalCompression = Objects.requireNonNull(evalCompression, "evalCompression must not be null");
        this.weight = addParameter("weight", outChannels, inChannels, kernelH, kernelW);
        this.bias = bias ? addParameter("bias", outChannels) : null;
        Init.kaimingUniform(weight.data(), this.bias == null ? null : this.bias.data(),
                inChannels * kernelH * kernelW, seed);
    }

    /** Named settings instead of positional ones: {@code Conv2d.builder(in, out).kernel(...).build()}. */
    public static ConvBuilder<Conv2d> builder(long inChannels, long outChannels) {
        return new ConvBuilder<>(false, inChannels, outChannels);
    }

    @Override
    public Var forward(Tape tape, Var x) {
        checkOpen();
        return core.forward(tape, x, tape.param(weight), bias == null ? null : tape.param(bias),
                tape.training() ? trainCompression : evalCompression);
    }

    public Parameter weight() {
        return weight;
    }

    /** The bias, or null when built without one. */
    public Parameter bias() {
        return bias;
    }

    public long inChannels() {
        return inChannels;
    }

    public long outChannels() {
        return outChannels;
    }

    public long kernelH() {
        return kernelH;
    }

    public long kernelW() {
        return kernelW;
    }

    public Padding padding() {
        return padding;
    }

    public long stride() {
        return stride;
    }

    public Compression trainCompression() {
        return trainCompression;
    }

    public Compression evalCompression() {
        return evalCompression;
    }

    /** Compression for later evaluation forwards (a plan for it is built on first use). */
    public void setEvalCompression(Compression c) {
        this.evalCompression = Objects.requireNonNull(c, "compression must not be null");
    }

    /** The box the last forward kept (in energy mode the one chosen for that batch); null before any. */
    public Box lastBox() {
        return core.lastBox();
    }

    /** Achieved compression rate of {@link #lastBox()}: discarded / total half-spectrum coefficients. */
    public double lastAchievedRate() {
        return core.lastAchievedRate();
    }

    /**
     * Bytes of the saved-spectra buffer the last forward filled for its backward (0 when it was an
     * evaluation forward). This is the allocation the plan asks for: sized for the plan's batch
     * bound, and in energy mode for the full box, since the box is chosen during the forward.
     */
    public long lastSavedSpectraBytes() {
        return core.lastSavedSpectraBytes();
    }

    /** Counted FLOPs of {@code pass} for the last forward's batch and box. */
    public Flops lastFlops(Pass pass) {
        return core.lastFlops(pass);
    }

    /** The plan the last forward used (null before the first); closed with this layer. */
    public ConvPlan lastPlan() {
        return core.lastPlan();
    }

    @Override
    protected void releaseResources() {
        core.close();
    }

    @Override
    public String toString() {
        return "Conv2d(" + inChannels + " -> " + outChannels + ", " + kernelH + "x" + kernelW + ", " + padding
                + ", stride " + stride + ", train " + trainCompression + ", eval " + evalCompression + ")";
    }
}
