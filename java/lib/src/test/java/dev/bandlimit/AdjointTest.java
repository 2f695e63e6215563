package dev.bandlimit;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The backward is the exact adjoint of the band-limited forward (ALGORITHM.md sections 3 and 5):
 * {@code <y(x), dy> = <x, dx(dy)>} and {@code <y(w), dy> = <w, dw(dy)>} within
 * {@code 1e-5 ||y|| ||dy||}, bias 0; strided and 1D geometries included.
 */
class AdjointTest {
    private static double worst;

    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        long seed = 3000;
        for (Geometries.Case gc : Geometries.bandLimited()) {
            for (double rho : new double[] {0.0, 0.5, 0.9}) {
                for (SpectraMode m : SpectraMode.values()) out.add(Arguments.of(gc, Compression.fixed(rho), m, seed++));
            }
            out.add(Arguments.of(gc, Compression.energy(0.6), SpectraMode.INPUT_ONLY, seed++));
        }
        return out;
    }

    @ParameterizedTest(name = "{0} {1} {2} seed={3}")
    @MethodSource("cases")
    void backwardIsAdjoint(Geometries.Case gc, Compression comp, SpectraMode mode, long seed) {
        Reference.Geom g = gc.geom();
        int n = gc.n();
        String ctx = gc + " " + comp + " " + mode + " seed=" + seed;
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = Reference.randomFloats(random, g.xSize(n)), w = Reference.randomFloats(random, g.wSize()),
                dy = Reference.randomFloats(random, g.ySize(n));
        try (Arena arena = Arena.ofConfined(); ConvPlan plan = g.builder().compression(comp).spectraMode(mode).build(arena)) {
            TestSupport.Result r = TestSupport.forwardBackward(plan, n, x, w, null, dy);
            double ydy = Reference.dot(r.y(), dy), xdx = Reference.dot(x, r.dx()), wdw = Reference.dot(w, r.dw());
            double tol = 1e-5 * Reference.norm(r.y()) * Reference.norm(dy);
            check(ctx + " <y,dy> vs <x,dx>", ydy, xdx, tol);
            check(ctx + " <y,dy> vs <w,dw>", ydy, wdw, tol);
        }
    }

    private static void check(String what, double a, double b, double tol) {
        double diff = Math.abs(a - b);
        synchronized (AdjointTest.class) {
            worst = Math.max(worst, diff / tol);
        }
        assertTrue(diff <= tol, () -> String.format(Locale.ROOT, "%s: %.9e vs %.9e, |diff| %.3e > %.3e", what, a, b,
                diff, tol));
    }

    @AfterAll
    static void report() {
        System.out.printf(Locale.ROOT, "AdjointTest: worst |<y,dy> - <x,dx>| / (1e-5 ||y|| ||dy||) = %.4f%n", worst);
    }
}
