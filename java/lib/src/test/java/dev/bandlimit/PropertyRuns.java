package dev.bandlimit;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;

/**
 * Seeded random tries for the property tests (of this package and of {@code nn}): a property is
 * a body that draws its case (a geometry, a compression, data, a mistake) from the
 * {@link SplittableRandom} of its {@link Try} and asserts what must hold for every such case.
 * {@link #tries} turns it into one JUnit dynamic test per try, named by its index and seed, so a
 * report shows which try failed and how to rerun it alone.
 *
 * <p>Reproducible: a try's seed is a function of the run seed, the property's name and the try's
 * index only, and the body draws everything from it, so the same command draws the same cases.
 * System properties (passed through Maven as {@code -Dname=value}: surefire forwards the
 * command line's user properties to the forked JVM):
 *
 * <ul>
 *   <li>{@code bandlimit.properties.seed} (default {@value #DEFAULT_RUN_SEED}): the run seed;
 *       another value draws other cases;
 *   <li>{@code bandlimit.properties.tries} (default 1): a factor on every property's try count,
 *       e.g. 50 for a long run of thousands of tries;
 *   <li>{@code bandlimit.properties.try} (a try's seed as its name prints it, {@code 0x...}):
 *       runs only the try with that seed, in every property (a failure's seed reproduces it).
 * </ul>
 *
 * <p>A failing try's message carries the case the body described with {@link Try#note}, so the
 * geometry and data of a failure are in the report, not only its seed. There is no shrinking:
 * the generators draw small cases to begin with.
 */
public final class PropertyRuns {
    static final long DEFAULT_RUN_SEED = 20261204L;
    /** The run seed in force. */
    public static final long RUN_SEED = Long.getLong("bandlimit.properties.seed", DEFAULT_RUN_SEED);
    /** The factor on try counts in force. */
    public static final double TRIES_FACTOR =
            Double.parseDouble(System.getProperty("bandlimit.properties.tries", "1"));
    private static final String ONLY_TRY = System.getProperty("bandlimit.properties.try", "");

    private PropertyRuns() {}

    /** One try of a property: its random source and the notes describing its case. */
    public static final class Try {
        private final SplittableRandom random;
        private final List<String> notes = new ArrayList<>();

        Try(long seed) {
            this.random = new SplittableRandom(seed);
        }

        /** Where every random choice of the try comes from. */
        public SplittableRandom random() {
            return random;
        }

        /** Adds a line to the case's description (reported when the try fails). */
        public void note(String line) {
            notes.add(line);
        }

        /** An integer in [lo, hi]. */
        public int between(int lo, int hi) {
            return lo + random.nextInt(hi - lo + 1);
        }

        /** True with probability {@code p}. */
        public boolean chance(double p) {
            return random.nextDouble() < p;
        }

        /** One of {@code options}, uniformly. */
        @SafeVarargs
        public final <T> T oneOf(T... options) {
            return options[random.nextInt(options.length)];
        }

        String description() {
            return String.join("\n  ", notes);
        }
    }

    /**
     * {@code defaultTries} (times the factor in force, at least one) tries of {@code body}, each
     * a dynamic test; {@code property} names the property (it is part of every try's seed).
     */
    public static Stream<DynamicTest> tries(String property, int defaultTries, Consumer<Try> body) {
        int count = Math.max(1, (int) Math.round(defaultTries * TRIES_FACTOR));
        long base = mix(RUN_SEED ^ mix(property.hashCode()));
        List<DynamicTest> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long seed = mix(base + 0x9E3779B97F4A7C15L * (i + 1));
            String seedText = String.format(Locale.ROOT, "0x%016x", seed);
            if (!ONLY_TRY.isEmpty() && !ONLY_TRY.equalsIgnoreCase(seedText)) continue;
            String name = String.format(Locale.ROOT, "try %d seed=%s", i, seedText);
            out.add(DynamicTest.dynamicTest(name, () -> run(property, name, seed, body)));
        }
        if (out.isEmpty()) {
            // A -Dbandlimit.properties.try of another property: say so rather than pass on nothing.
            out.add(DynamicTest.dynamicTest("no try of " + property + " has seed " + ONLY_TRY,
                    () -> org.junit.jupiter.api.Assumptions.abort("bandlimit.properties.try selects another property's try")));
        }
        return out.stream();
    }

    private static void run(String property, String name, long seed, Consumer<Try> body) {
        Try t = new Try(seed);
        try {
            body.accept(t);
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError(property + ", " + name + " (rerun alone: -Dbandlimit.properties.try="
                    + String.format(Locale.ROOT, "0x%016x", seed) + " -Dbandlimit.properties.seed=" + RUN_SEED
                    + "), case:\n  " + t.description() + "\n" + e, e);
        }
    }

    /** SplitMix64's finaliser: neighbouring inputs give unrelated seeds. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
