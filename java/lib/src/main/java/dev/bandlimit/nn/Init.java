package dev.bandlimit.nn;

import dev.bandlimit.Tensor;
import org.jspecify.annotations.Nullable;

/** Deterministic initialisation. */
final class Init {
    private Init() {}

    /**
     * PyTorch's default for {@code Conv*d} and {@code Linear}: {@code kaiming_uniform_(a = sqrt(5))}
     * on the weight, which works out to U(-1/sqrt(fanIn), 1/sqrt(fanIn)), and the same bound for
     * the bias. Weight first, then bias, from one SplitMix64 stream seeded with {@code seed}.
     */
    static void kaimingUniform(Tensor weight, @Nullable Tensor bias, long fanIn, long seed) {
        Rng rng = new Rng(seed);
        double bound = 1.0 / Math.sqrt(fanIn);
        for (long i = 0; i < weight.elementCount(); i++) weight.set(i, rng.uniform(bound));
        if (bias != null) {
            for (long i = 0; i < bias.elementCount(); i++) bias.set(i, rng.uniform(bound));
        }
    }

    static void fill(Tensor t, float value) {
        for (long i = 0; i < t.elementCount(); i++) t.set(i, value);
    }
}
