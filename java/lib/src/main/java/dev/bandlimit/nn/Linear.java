package dev.bandlimit.nn;

import org.jspecify.annotations.Nullable;

/**
 * {@code y = x w^T + b}: {@code x [N,in]}, {@code w [out,in]} (PyTorch's layout), {@code b [out]}.
 * Kaiming-uniform initialisation as PyTorch's default, from {@code seed}.
 */
public final class Linear extends Module {
    private final long inFeatures, outFeatures;
    private final Parameter weight;
    private final @Nullable Parameter bias;

    public Linear(long inFeatures, long outFeatures, boolean bias, long seed) {
        if (inFeatures < 1 || outFeatures < 1) {
            throw new IllegalArgumentException("features must be >= 1, got " + inFeatures + ", " + outFeatures);
        }
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.weight = addParameter("weight", outFeatures, inFeatures);
        this.bias = bias ? addParameter("bias", outFeatures) : null;
        Init.kaimingUniform(weight.data(), this.bias == null ? null : this.bias.data(), inFeatures, seed);
    }

    @Override
    public Var forward(Tape tape, Var x) {
        checkOpen();
        return Functional.linear(tape, x, weight, bias);
    }

    public Parameter weight() {
        return weight;
    }

    /** The bias, or null when built without one. */
    public @Nullable Parameter bias() {
        return bias;
    }

    public long inFeatures() {
        return inFeatures;
    }

    public long outFeatures() {
        return outFeatures;
    }

    @Override
    public String toString() {
        return "Linear(" + inFeatures + " -> " + outFeatures + (bias == null ? ", no bias)" : ")");
    }
}
