package dev.bandlimit.nn;

import dev.bandlimit.Tensor;
import java.util.Arrays;

/**
 * Batch normalisation of {@code [N,C,H,W]} over every axis but the channels, as PyTorch's
 * {@code BatchNorm2d} (affine, momentum 0.1, eps 1e-5 by default): a training tape normalises
 * with the batch statistics and updates the running mean and (unbiased) variance; an
 * evaluation tape uses the running statistics. See {@link Functional#batchNorm}.
 */
public final class BatchNorm2d extends Module {
    private final long channels;
    private final double momentum, eps;
    private final Parameter weight, bias;
    private final Tensor runningMean, runningVar;

    /** Momentum 0.1, eps 1e-5. */
    public BatchNorm2d(long channels) {
        this(channels, 0.1, 1e-5);
    }

    public BatchNorm2d(long channels, double momentum, double eps) {
        if (channels < 1) throw new IllegalArgumentException("channels must be >= 1, got " + channels);
        this.channels = channels;
        this.momentum = momentum;
        this.eps = eps;
        this.weight = addParameter("weight", channels);
        this.bias = addParameter("bias", channels);
        this.runningMean = addBuffer("running_mean", channels);
        this.runningVar = addBuffer("running_var", channels);
        Init.fill(weight.data(), 1f);
        Init.fill(runningVar, 1f);
    }

    @Override
    public Var forward(Tape tape, Var x) {
        checkOpen();
        long[] s = x.shape();
        if (s.length != 4 || s[1] != channels) {
            throw new IllegalArgumentException("BatchNorm2d(" + channels + ") expects [N, C, H, W] with C = " + channels
                    + ", got " + Arrays.toString(s));
        }
        return Functional.batchNorm(tape, x, tape.param(weight), tape.param(bias), runningMean, runningVar, momentum, eps);
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
        return runningMean;
    }

    public Tensor runningVar() {
        return runningVar;
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
        return "BatchNorm2d(" + channels + ")";
    }
}
