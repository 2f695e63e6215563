package dev.bandlimit.nn;

import dev.bandlimit.Tensor;
import java.util.Arrays;

/**
 * What {@link BatchNorm1d} and {@link BatchNorm2d} share: per-channel affine parameters, the
 * running statistics, and the op ({@link Functional#batchNorm}). A training tape normalises with
 * the batch statistics and updates the running mean and (unbiased) variance; an evaluation tape
 * uses the running statistics. The subclasses only say which input ranks they accept.
 */
public abstract sealed class BatchNorm extends Module permits BatchNorm1d, BatchNorm2d {
    private final long channels;
    private final double momentum, eps;
    private final Parameter weight, bias;

    BatchNorm(long channels, double momentum, double eps) {
        if (channels < 1) throw new IllegalArgumentException("channels must be >= 1, got " + channels);
        this.channels = channels;
        this.momentum = momentum;
        this.eps = eps;
        this.weight = addParameter("weight", channels);
        this.bias = addParameter("bias", channels);
        addBuffer("running_mean", channels);
        Init.fill(weight.data(), 1f);
        Init.fill(addBuffer("running_var", channels), 1f);
    }

    /** Whether an input of this rank is accepted (channels are dimension 1). */
    abstract boolean acceptsRank(int rank);

    /** The accepted shapes, for messages, e.g. "[N, C, H, W]". */
    abstract String expectedShape();

    @Override
    public Var forward(Tape tape, Var x) {
        return forward(tape, x, false);
    }

    /**
     * This layer then, when {@code relu}, a ReLU, fused into one op ({@link Functional#batchNormRelu}:
     * the values and gradients of the two ops bit for bit, one pass fewer each way). What
     * {@link Sequential} runs for a BatchNorm followed by a ReLU, for models that write their own
     * forward.
     */
    public Var forward(Tape tape, Var x, boolean relu) {
        checkOpen();
        long[] s = x.shape();
        if (!acceptsRank(s.length) || s[1] != channels) {
            throw new IllegalArgumentException(getClass().getSimpleName() + "(" + channels + ") expects "
                    + expectedShape() + " with C = " + channels + ", got " + Arrays.toString(s));
        }
        return relu
                ? Functional.batchNormRelu(tape, x, tape.param(weight), tape.param(bias), runningMean(), runningVar(),
                        momentum, eps)
                : Functional.batchNorm(tape, x, tape.param(weight), tape.param(bias), runningMean(), runningVar(), momentum,
                        eps);
    }

    /** gamma. */
    public Parameter weight() {
        return weight;
    }

    /** beta. */
    public Parameter bias() {
        return bias;
    }

    public Tensor runningMean() {
        return buffer("running_mean");
    }

    public Tensor runningVar() {
        return buffer("running_var");
    }

    public long channels() {
        return channels;
    }

    public double momentum() {
        return momentum;
    }

    public double eps() {
        return eps;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(" + channels + ")";
    }
}
