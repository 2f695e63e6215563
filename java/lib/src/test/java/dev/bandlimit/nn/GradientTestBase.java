package dev.bandlimit.nn;

import dev.bandlimit.Tensor;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * What the finite-difference test classes share: an arena per test, a random stream seeded by
 * the class (so each test sees the same leaves run after run), and leaves filled as
 * {@link GradCheck} needs them.
 */
abstract class GradientTestBase {
    private final long seed;
    Arena arena;
    SplittableRandom random;

    GradientTestBase(long seed) {
        this.seed = seed;
    }

    @BeforeEach
    final void openArena() {
        arena = Arena.ofConfined();
        random = new SplittableRandom(seed);
    }

    @AfterEach
    final void closeArena() {
        arena.close();
    }

    /** Multiples of 2^-8 in [-2, 2]: see {@link GradCheck#fillQuantized}. */
    final Tensor quantized(long... shape) {
        Tensor t = Tensor.allocate(arena, shape);
        GradCheck.fillQuantized(t, 2, random);
        return t;
    }

    /** Distinct multiples of 1/8 (pooling inputs, no ties): see {@link GradCheck#fillDistinct}. */
    final Tensor distinct(long... shape) {
        Tensor t = Tensor.allocate(arena, shape);
        GradCheck.fillDistinct(t, 0.125, random);
        return t;
    }
}
