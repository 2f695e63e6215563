package dev.bandlimit.nn;

/**
 * SplitMix64 (Steele, Lea and Flood 2014), written out here rather than borrowed from
 * {@code java.util} so that a seed gives the same numbers on every JDK: initialisation and
 * dropout masks are part of what a seeded run must reproduce bit for bit.
 */
final class Rng {
    private long state;

    Rng(long seed) {
        this.state = seed;
    }

    long nextLong() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in [0, 1) with 53 random bits. */
    double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Uniform in [-bound, bound). */
    float uniform(double bound) {
        return (float) ((2.0 * nextDouble() - 1.0) * bound);
    }
}
