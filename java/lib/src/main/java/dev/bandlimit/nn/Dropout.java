package dev.bandlimit.nn;

/**
 * Inverted dropout with probability {@code p}: in training each forward draws a fresh mask,
 * whose seed comes from a SplitMix64 stream seeded with {@code seed}, so a seeded run repeats
 * the same sequence of masks. Identity in evaluation.
 */
public final class Dropout extends Module {
    private final double p;
    private final Rng maskSeeds;

    public Dropout(double p, long seed) {
        if (!(p >= 0.0 && p < 1.0)) throw new IllegalArgumentException("dropout p must be in [0, 1), got " + p);
        this.p = p;
        this.maskSeeds = new Rng(seed);
    }

    @Override
    public Var forward(Tape tape, Var x) {
        if (!tape.training() || p == 0.0) return x;
        return Functional.dropout(tape, x, p, maskSeeds.nextLong());
    }

    public double p() {
        return p;
    }

    @Override
    public String toString() {
        return "Dropout(" + p + ")";
    }
}
