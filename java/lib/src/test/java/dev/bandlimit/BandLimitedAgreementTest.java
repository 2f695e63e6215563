package dev.bandlimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * rho in {0.25, 0.5, 0.9} and energy mode against the naive-DFT float64 reference: box and
 * achieved rate, y, dx, dw, db within the bound of ALGORITHM.md section 5; both spectra modes.
 */
class BandLimitedAgreementTest {

    /** NaN rho = energy mode (E chosen from the data). */
    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        List<Geometries.Case> all = Geometries.bandLimited();
        long seed = 2000;
        for (Geometries.Case gc : all) {
            for (double rho : new double[] {0.25, 0.5, 0.9, Double.NaN}) {
                for (SpectraMode m : SpectraMode.values()) out.add(Arguments.of(gc, rho, m, seed++));
            }
        }
        return out;
    }

    /**
     * An E for which the energy rule picks a box in the middle of the chain, at least 1e-3 away
     * from every chain fraction (so that no rounding can change the box).
     */
    static double chooseEnergy(double[] frac, double[]... others) {
        int size = frac.length, mid = size / 2;
        for (int d = 0; d < size; d++) {
            for (int k : new int[] {mid + d, mid - d}) {
                if (k < 1 || k >= size) continue;
                double e = 0.5 * (frac[k - 1] + frac[k]);
                boolean far = e > 0 && e <= 1;
                for (double f : frac) far &= Math.abs(f - e) >= 1e-3;
                for (double[] o : others) {
                    for (double f : o) far &= Math.abs(f - e) >= 1e-3;
                }
                if (far) return e;
            }
        }
        throw new IllegalStateException("no E at least 1e-3 away from the chain fractions");
    }

    @ParameterizedTest(name = "{0} rho={1} {2} seed={3}")
    @MethodSource("cases")
    void bandLimited(Geometries.Case gc, double rho, SpectraMode mode, long seed) {
        Reference.Geom g = gc.geom();
        int n = gc.n();
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = Reference.randomFloats(random, g.xSize(n)), w = Reference.randomFloats(random, g.wSize()),
                b = Reference.randomFloats(random, g.F()), dy = Reference.randomFloats(random, g.ySize(n));
        double[] xd = Reference.toDouble(x), wd = Reference.toDouble(w);
        long LH = g.LH(), LW = g.LW();
        boolean energy = Double.isNaN(rho);
        Box expected;
        Compression comp;
        String ctx;
        if (energy) {
            double[] frac = Reference.energyFractions(g, n, xd);
            double e = chooseEnergy(frac);
            expected = Reference.energyBox(g, n, xd, e);
            comp = Compression.energy(e);
            ctx = String.format(Locale.ROOT, "%s E=%.6f %s seed=%d", gc, e, mode, seed);
        } else {
            expected = Reference.fixedBox(LH, LW, rho);
            comp = Compression.fixed(rho);
            ctx = String.format(Locale.ROOT, "%s rho=%s %s seed=%d", gc, rho, mode, seed);
        }
        try (Arena arena = Arena.ofConfined(); ConvPlan plan = g.builder().compression(comp).spectraMode(mode).build(arena)) {
            assertEquals(new FftLengths(LH, LW), plan.fftLengths(), ctx);
            if (energy) {
                assertEquals(Reference.fullBox(LH, LW), plan.box(), ctx + ": energy plan reports the full box");
                assertEquals(0.0, plan.achievedRate(), ctx);
            } else {
                assertEquals(expected, plan.box(), ctx + ": fixed box");
                assertEquals(Reference.rate(LH, LW, expected), plan.achievedRate(), 1e-15, ctx + ": achieved rate");
                assertTrue(plan.achievedRate() <= rho, ctx);
            }
            TestSupport.Result r = TestSupport.forwardBackward(plan, n, x, w, b, dy);
            assertEquals(expected, r.box(), ctx + ": box used by the forward");
            assertEquals(Reference.rate(LH, LW, expected), plan.rateOf(r.box()), 1e-15, ctx);
            double[] y = Reference.bandLimitedForward(g, n, xd, wd, Reference.toDouble(b), expected, null);
            Reference.Grads gr = Reference.bandLimitedBackward(g, n, xd, wd, Reference.toDouble(dy), expected, null);
            TestSupport.assertWithinBound("y", r.y(), y, Reference.bound(LH, LW, Reference.reductionY(g)), ctx);
            TestSupport.assertWithinBound("dx", r.dx(), gr.dx(), Reference.bound(LH, LW, Reference.reductionDx(g)), ctx);
            double bw = Reference.bound(LH, LW, Reference.reductionDw(g, n));
            TestSupport.assertWithinBound("dw", r.dw(), gr.dw(), bw, ctx);
            TestSupport.assertWithinBound("db", r.db(), gr.db(), bw, ctx);
        }
    }

    /**
     * The fixed box rule through the library on many geometries and rates: rho = k/100, and rho
     * equal to each achievable rate (and the double just below it, which the 1e-9 slack accepts).
     * Also the achieved rate of every chain box (rateOf), and the counted dense-equivalent FLOPs.
     */
    @Test
    void fixedBoxRuleAndRatesMatchReference() {
        List<Reference.Geom> geoms = new ArrayList<>();
        for (Geometries.Case c : Geometries.dense()) geoms.add(c.geom());
        geoms.add(Reference.Geom.conv2d(1, 1, 32, 32, 1, 3, 3, 1, 1, 1, 1, 1, 1)); // L = 35
        geoms.add(Reference.Geom.conv2d(1, 1, 12, 29, 1, 5, 5, 2, 2, 2, 2, 1, 1)); // 16 x 33 -> 16 x 35
        geoms.add(Reference.Geom.conv1d(1, 1, 5000, 1, 1, 0, 0, 1)); // 5000
        geoms.add(Reference.Geom.conv1d(1, 1, 8190, 1, 3, 1, 1, 1)); // 8192
        int checked = 0;
        for (Reference.Geom g : geoms) {
            long LH = g.LH(), LW = g.LW();
            List<Double> rates = new ArrayList<>();
            for (int k = 0; k < 100; k++) rates.add(k / 100.0);
            List<Box> chain = Reference.boxChain(LH, LW);
            for (Box b : chain) {
                double r = Reference.rate(LH, LW, b);
                if (r < 1) {
                    rates.add(r);
                    if (r > 0) rates.add(Math.nextDown(r));
                }
            }
            try (Arena arena = Arena.ofConfined(); ConvPlan any = g.builder().build(arena)) {
                for (Box b : chain) {
                    assertEquals(Reference.rate(LH, LW, b), any.rateOf(b), 1e-15, g + " rateOf " + b);
                }
                for (long n = 1; n <= g.maxBatch(); n++) {
                    double dense = 2.0 * n * g.F() * g.C() * g.Ho() * g.Wo() * g.KH() * g.KW();
                    assertEquals(dense, any.flops(Pass.FORWARD, n).denseEquivalent(), 1e-9 * dense, g + " dense FLOPs");
                }
            }
            if (LW > 1000) rates = rates.subList(0, 100); // long 1D chains: the k/100 grid only
            for (double rho : rates) {
                Box expected = Reference.fixedBox(LH, LW, rho);
                try (Arena arena = Arena.ofConfined(); ConvPlan plan = g.builder().compression(Compression.fixed(rho)).build(arena)) {
                    assertEquals(expected, plan.box(), g + " rho=" + rho);
                    assertEquals(Reference.rate(LH, LW, expected), plan.achievedRate(), 1e-15, g + " rho=" + rho);
                    assertTrue(plan.achievedRate() <= rho + 1e-12, g + " rho=" + rho);
                }
                checked++;
            }
        }
        System.out.println("BandLimitedAgreementTest: fixed box rule checked on " + checked + " (geometry, rho) pairs");
    }

    static List<Arguments> longCases() {
        // L = 5003 + 8 padding -> LW = 5040 = 2^4 3^2 5 7: a long mixed-radix transform.
        Geometries.Case c = new Geometries.Case("1D L=5003 K=9", Reference.Geom.conv1d(1, 2, 5003, 2, 9, 4, 4, 1), 1);
        // (No energy case: 2521 chain boxes leave no E 1e-3 away from every fraction of white noise.)
        return List.of(Arguments.of(c, 0.5, SpectraMode.INPUT_AND_WEIGHT, 2900L),
                Arguments.of(c, 0.9, SpectraMode.INPUT_ONLY, 2901L));
    }

    @ParameterizedTest(name = "{0} rho={1} {2} seed={3}")
    @MethodSource("longCases")
    void longMixedRadix(Geometries.Case gc, double rho, SpectraMode mode, long seed) {
        assertEquals(5040, gc.geom().LW());
        bandLimited(gc, rho, mode, seed);
    }

    static List<Arguments> savedReuseCases() {
        List<Arguments> out = new ArrayList<>();
        long seed = 2500;
        List<Geometries.Case> all = Geometries.bandLimited();
        for (Geometries.Case gc : List.of(all.get(0), all.get(2), all.get(4), all.get(6), all.get(7), all.get(8))) {
            for (boolean energy : new boolean[] {false, true}) {
                for (SpectraMode m : SpectraMode.values()) out.add(Arguments.of(gc, energy, m, seed++));
            }
        }
        return out;
    }

    /**
     * Two forwards into two saved buffers, then the backward of the first: the backward reads
     * the box and spectra of its own saved buffer, not the plan's latest call. Also checks
     * backwardData and backwardWeights alone, with garbage left in dx/dw/db and the workspace.
     * Input B is smooth (a random walk along W), so in energy mode its box differs from A's.
     */
    @ParameterizedTest(name = "{0} energy={1} {2} seed={3}")
    @MethodSource("savedReuseCases")
    void backwardUsesItsOwnSavedSpectra(Geometries.Case gc, boolean energy, SpectraMode mode, long seed) {
        Reference.Geom g = gc.geom();
        int n = gc.n();
        SplittableRandom random = new SplittableRandom(seed);
        float[] xa = Reference.randomFloats(random, g.xSize(n)), xb = Reference.randomFloats(random, g.xSize(n));
        for (int i = 1; i < xb.length; i++) {
            if (i % g.W() != 0) xb[i] += xb[i - 1];
        }
        float[] w = Reference.randomFloats(random, g.wSize()), dya = Reference.randomFloats(random, g.ySize(n)),
                dyb = Reference.randomFloats(random, g.ySize(n));
        double[] xad = Reference.toDouble(xa), xbd = Reference.toDouble(xb), wd = Reference.toDouble(w);
        long LH = g.LH(), LW = g.LW();
        Compression comp;
        Box boxA, boxB;
        if (energy) {
            double e = chooseEnergy(Reference.energyFractions(g, n, xad), Reference.energyFractions(g, n, xbd));
            comp = Compression.energy(e);
            boxA = Reference.energyBox(g, n, xad, e);
            boxB = Reference.energyBox(g, n, xbd, e);
        } else {
            comp = Compression.fixed(0.5);
            boxA = boxB = Reference.fixedBox(LH, LW, 0.5);
        }
        String ctx = gc + " " + comp + " " + mode + " seed=" + seed + " boxes " + boxA + "/" + boxB;
        try (Arena arena = Arena.ofConfined(); ConvPlan plan = g.builder().compression(comp).spectraMode(mode).build(arena)) {
            Tensor txa = Tensor.copyOf(arena, xa, plan.inputShape(n)), txb = Tensor.copyOf(arena, xb, plan.inputShape(n));
            Tensor tw = Tensor.copyOf(arena, w, plan.weightShape());
            Tensor ya = Tensor.allocate(arena, plan.outputShape(n)), yb = Tensor.allocate(arena, plan.outputShape(n));
            SavedSpectra sa = plan.allocateSavedSpectra(arena), sb = plan.allocateSavedSpectra(arena);
            Workspace ws = plan.allocateWorkspace(arena);
            assertEquals(boxA, plan.forward(txa, tw, null, ya, sa, ws), ctx + ": box A");
            TestSupport.fillSentinel(ws.segment());
            assertEquals(boxB, plan.forward(txb, tw, null, yb, sb, ws), ctx + ": box B");
            Tensor tdya = Tensor.copyOf(arena, dya, plan.outputShape(n)), tdyb = Tensor.copyOf(arena, dyb, plan.outputShape(n));
            Tensor dx = Tensor.allocate(arena, plan.inputShape(n)), dw = Tensor.allocate(arena, plan.weightShape()),
                    db = Tensor.allocate(arena, plan.biasShape());
            double by = Reference.bound(LH, LW, Reference.reductionY(g)), bx = Reference.bound(LH, LW, Reference.reductionDx(g)),
                    bw = Reference.bound(LH, LW, Reference.reductionDw(g, n));
            TestSupport.assertWithinBound("y A", ya.toArray(), Reference.bandLimitedForward(g, n, xad, wd, null, boxA, null), by, ctx);
            TestSupport.assertWithinBound("y B", yb.toArray(), Reference.bandLimitedForward(g, n, xbd, wd, null, boxB, null), by, ctx);
            // Backward of A after the forward of B; dx alone, then dw/db alone.
            Reference.Grads ra = Reference.bandLimitedBackward(g, n, xad, wd, Reference.toDouble(dya), boxA, null);
            TestSupport.fillNaN(dx, dw, db);
            TestSupport.fillSentinel(ws.segment());
            plan.backward(sa, tw, tdya, dx, null, null, ws);
            TestSupport.assertWithinBound("dx A (alone)", dx.toArray(), ra.dx(), bx, ctx);
            assertTrue(Float.isNaN(dw.get(0)) && Float.isNaN(db.get(0)), ctx + ": dw/db not asked for but written");
            TestSupport.fillSentinel(ws.segment());
            plan.backward(sa, null, tdya, null, dw, db, ws);
            TestSupport.assertWithinBound("dw A (alone)", dw.toArray(), ra.dw(), bw, ctx);
            TestSupport.assertWithinBound("db A (alone)", db.toArray(), ra.db(), bw, ctx);
            // The convenience overloads on B (shared workspace).
            Reference.Grads rb = Reference.bandLimitedBackward(g, n, xbd, wd, Reference.toDouble(dyb), boxB, null);
            TestSupport.fillNaN(dx, dw, db);
            plan.backwardData(sb, tw, tdyb, dx);
            TestSupport.assertWithinBound("dx B (backwardData)", dx.toArray(), rb.dx(), bx, ctx);
            plan.backwardWeights(sb, tdyb, dw, null);
            TestSupport.assertWithinBound("dw B (backwardWeights)", dw.toArray(), rb.dw(), bw, ctx);
            assertTrue(Float.isNaN(db.get(0)), ctx + ": db not asked for but written");
            plan.backwardWeights(sb, tdyb, dw, db);
            TestSupport.assertWithinBound("db B (backwardWeights)", db.toArray(), rb.db(), bw, ctx);
        }
    }

    @AfterAll
    static void report() {
        System.out.println("BandLimitedAgreementTest: " + TestSupport.worst());
    }
}
