package dev.bandlimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * rho = 0 must be the dense operator: forward (with bias), dx, dw, db against float64 direct sums,
 * with each spectra mode and each product (the spatial one where the geometry allows it).
 */
class DenseAgreementTest {

    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        List<Geometries.Case> all = Geometries.dense();
        assertTrue(all.size() >= 20);
        for (int i = 0; i < all.size(); i++) {
            Reference.Geom g = all.get(i).geom();
            boolean spatialAllowed = g.sh() == 1 && g.sw() == 1 && g.KH() * g.KW() <= 49;
            for (SpectraMode m : SpectraMode.values()) {
                for (Product p : Product.values()) {
                    if (p == Product.SPATIAL && !spatialAllowed) continue; // rejected at build: see spatialNeedsStrideOne
                    out.add(Arguments.of(all.get(i), m, p, 1000L + i));
                }
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0} {1} {2} seed={3}")
    @MethodSource("cases")
    void rhoZeroIsDense(Geometries.Case gc, SpectraMode mode, Product product, long seed) {
        Reference.Geom g = gc.geom();
        int n = gc.n();
        String ctx = gc + " " + mode + " " + product + " seed=" + seed;
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = Reference.randomFloats(random, g.xSize(n)), w = Reference.randomFloats(random, g.wSize()),
                b = Reference.randomFloats(random, g.F()), dy = Reference.randomFloats(random, g.ySize(n));
        try (Arena arena = Arena.ofConfined();
                ConvPlan plan = g.builder().compression(Compression.none()).spectraMode(mode).product(product)
                        .build(arena)) {
            long LH = g.LH(), LW = g.LW();
            assertEquals(new FftLengths(LH, LW), plan.fftLengths(), ctx);
            assertEquals(Reference.fullBox(LH, LW), plan.box(), ctx);
            assertEquals(0.0, plan.achievedRate(), ctx);
            assertEquals(g.is1d() ? 1 : g.Ho(), plan.outputHeight(), ctx);
            assertEquals(g.Wo(), plan.outputWidth(), ctx);
            TestSupport.Result r = TestSupport.forwardBackward(plan, n, x, w, b, dy);
            assertEquals(Reference.fullBox(LH, LW), r.box(), ctx);
            double[] xd = Reference.toDouble(x), wd = Reference.toDouble(w);
            double[] y = Reference.denseForward(g, n, xd, wd, Reference.toDouble(b));
            Reference.Grads gr = Reference.denseBackward(g, n, xd, wd, Reference.toDouble(dy));
            TestSupport.assertWithinBound("y", r.y(), y, Reference.bound(LH, LW, Reference.reductionY(g)), ctx);
            TestSupport.assertWithinBound("dx", r.dx(), gr.dx(), Reference.bound(LH, LW, Reference.reductionDx(g)), ctx);
            double bw = Reference.bound(LH, LW, Reference.reductionDw(g, n));
            TestSupport.assertWithinBound("dw", r.dw(), gr.dw(), bw, ctx);
            TestSupport.assertWithinBound("db", r.db(), gr.db(), bw, ctx);
        }
    }

    @Test
    void spatialNeedsStrideOne() {
        try (Arena arena = Arena.ofConfined()) {
            UnsupportedFeatureException e = assertThrows(UnsupportedFeatureException.class,
                    () -> ConvPlan.conv2d().maxBatch(2).channels(3).input(8, 8).filters(4).kernel(3, 3).stride(2, 2)
                            .product(Product.SPATIAL).build(arena));
            assertTrue(e.getMessage().contains("stride"), e.getMessage());
        }
    }

    @AfterAll
    static void report() {
        System.out.println("DenseAgreementTest: " + TestSupport.worst());
    }
}
