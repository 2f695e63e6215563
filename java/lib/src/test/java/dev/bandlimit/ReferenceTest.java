package dev.bandlimit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The float64 reference itself (no library call): against the golden file and ALGORITHM.md's examples. */
class ReferenceTest {

    static List<Golden.Case> goldenCases() {
        return Golden.cases();
    }

    @Test
    void goldenFileHasTwelveCases() {
        assertEquals(12, Golden.cases().size());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldenCases")
    void referenceReproducesGolden(Golden.Case c) {
        Reference.Geom g = c.geom();
        long LH = g.LH(), LW = g.LW();
        assertArrayEquals(new long[] {LH, LW}, c.fftLengths(), c.name() + ": fft lengths");
        assertEquals(g.Ho(), c.yShape()[2], c.name() + ": Ho");
        assertEquals(g.Wo(), c.yShape()[3], c.name() + ": Wo");
        Box box = c.isEnergy() ? Reference.energyBox(g, c.n(), c.x(), c.energy()) : Reference.fixedBox(LH, LW, c.rho());
        assertEquals(c.box(), box, c.name() + ": box");
        assertEquals(c.achievedRate(), Reference.rate(LH, LW, box), 1e-15, c.name() + ": achieved rate");
        if (c.isEnergy()) {
            // The golden E sits at least 1e-3 away from every chain fraction.
            for (double f : Reference.energyFractions(g, c.n(), c.x())) {
                assertTrue(Math.abs(f - c.energy()) >= 1e-3, c.name() + ": E too close to fraction " + f);
            }
        }
        Reference.ImagTracker imag = new Reference.ImagTracker();
        double[] y = Reference.bandLimitedForward(g, c.n(), c.x(), c.w(), c.b(), box, imag);
        Reference.Grads gr = Reference.bandLimitedBackward(g, c.n(), c.x(), c.w(), c.dy(), box, imag);
        // The full-plane masked spectra are spectra of real arrays (section 3).
        assertTrue(imag.ratio() < 1e-12, c.name() + ": imaginary part " + imag.ratio());
        double[] errs = {Reference.relErr(y, c.y()), Reference.relErr(gr.dx(), c.dx()),
                Reference.relErr(gr.dw(), c.dw()), Reference.relErr(gr.db(), c.db())};
        String[] names = {"y", "dx", "dw", "db"};
        for (int i = 0; i < 4; i++) {
            int k = i;
            assertTrue(errs[i] < 1e-9, () -> String.format(Locale.ROOT, "%s: reference %s vs golden rel err %.3e",
                    c.name(), names[k], errs[k]));
        }
        if (box.equals(Reference.fullBox(LH, LW))) {
            // At the full box the band-limited operator is the dense one.
            double[] yd = Reference.denseForward(g, c.n(), c.x(), c.w(), c.b());
            Reference.Grads gd = Reference.denseBackward(g, c.n(), c.x(), c.w(), c.dy());
            assertTrue(Reference.relErr(yd, c.y()) < 1e-9, c.name() + ": dense y");
            assertTrue(Reference.relErr(gd.dx(), c.dx()) < 1e-9, c.name() + ": dense dx");
            assertTrue(Reference.relErr(gd.dw(), c.dw()) < 1e-9, c.name() + ": dense dw");
            assertTrue(Reference.relErr(gd.db(), c.db()) < 1e-9, c.name() + ": dense db");
        }
    }

    @Test
    void fftLengthsAreSmallest7Smooth() {
        long[][] cases = {{1, 1}, {2, 2}, {10, 10}, {11, 12}, {13, 14}, {17, 18}, {34, 35}, {66, 70}, {79, 80},
                {95, 96}, {5000, 5000}, {5003, 5040}, {8191, 8192}, {8192, 8192}};
        for (long[] c : cases) assertEquals(c[1], Reference.fftLength(c[0]), "fftLength(" + c[0] + ")");
    }

    @Test
    void algorithmExample8x8() {
        // 8x8 input, 3x3, pad 1: L = 10, achievable 0, 0.25, 0.533..., rho 0.5 gives 0.25.
        assertEquals(10, Reference.fftLength(10));
        List<Box> chain = Reference.boxChain(10, 10);
        assertEquals(List.of(new Box(0, 0), new Box(1, 1), new Box(2, 2), new Box(3, 3), new Box(4, 4), new Box(5, 5)),
                chain);
        assertEquals(0.0, Reference.rate(10, 10, chain.get(5)));
        assertEquals(0.25, Reference.rate(10, 10, chain.get(4)), 1e-15);
        assertEquals(8.0 / 15.0, Reference.rate(10, 10, chain.get(3)), 1e-15);
        assertEquals(new Box(4, 4), Reference.fixedBox(10, 10, 0.5));
        assertEquals(new Box(5, 5), Reference.fixedBox(10, 10, 0.0));
        assertEquals(new Box(5, 5), Reference.fixedBox(10, 10, 0.2499));
        assertEquals(new Box(4, 4), Reference.fixedBox(10, 10, 0.25));
    }

    @Test
    void chainsStartEmptyEndFullAndDiscardStrictlyLess() {
        for (long LH : new long[] {1, 2, 3, 6, 7, 10, 12, 15, 35}) {
            for (long LW : new long[] {1, 2, 3, 5, 8, 9, 14, 48, 54}) {
                List<Box> ch = Reference.boxChain(LH, LW);
                assertEquals(new Box(0, 0), ch.get(0));
                assertEquals(Reference.fullBox(LH, LW), ch.get(ch.size() - 1));
                for (int k = 1; k < ch.size(); k++) {
                    assertTrue(ch.get(k).kh() >= ch.get(k - 1).kh() && ch.get(k).kw() >= ch.get(k - 1).kw());
                    assertTrue(Reference.discarded(LH, LW, ch.get(k)) < Reference.discarded(LH, LW, ch.get(k - 1)),
                            "LH=" + LH + " LW=" + LW + " k=" + k);
                }
                // Achieved rate <= rho and non-decreasing in rho.
                double last = -1;
                for (int i = 0; i < 100; i++) {
                    double rho = i / 100.0, r = Reference.rate(LH, LW, Reference.fixedBox(LH, LW, rho));
                    assertTrue(r <= rho + 1e-12 && r >= last, "LH=" + LH + " LW=" + LW + " rho=" + rho);
                    last = r;
                }
            }
        }
    }

    @Test
    void denseBackwardIsAdjointOfDenseForward() {
        long seed = 11;
        SplittableRandom random = new SplittableRandom(seed);
        Reference.Geom g = Reference.Geom.conv2d(2, 2, 7, 6, 3, 3, 2, 2, 0, 1, 3, 2, 3);
        int n = 2;
        double[] x = Reference.toDouble(Reference.randomFloats(random, g.xSize(n)));
        double[] w = Reference.toDouble(Reference.randomFloats(random, g.wSize()));
        double[] dy = Reference.toDouble(Reference.randomFloats(random, g.ySize(n)));
        double[] y = Reference.denseForward(g, n, x, w, null);
        Reference.Grads gr = Reference.denseBackward(g, n, x, w, dy);
        double ydy = 0, xdx = 0, wdw = 0;
        for (int i = 0; i < y.length; i++) ydy += y[i] * dy[i];
        for (int i = 0; i < x.length; i++) xdx += x[i] * gr.dx()[i];
        for (int i = 0; i < w.length; i++) wdw += w[i] * gr.dw()[i];
        assertEquals(ydy, xdx, 1e-12 * Math.abs(ydy) + 1e-12, "seed " + seed);
        assertEquals(ydy, wdw, 1e-12 * Math.abs(ydy) + 1e-12, "seed " + seed);
        // And the naive-DFT operator at the full box is the dense one, with stride.
        Box full = Reference.fullBox(g.LH(), g.LW());
        assertTrue(Reference.relErr(Reference.bandLimitedForward(g, n, x, w, null, full, null), y) < 1e-12);
        Reference.Grads gb = Reference.bandLimitedBackward(g, n, x, w, dy, full, null);
        assertTrue(Reference.relErr(gb.dx(), gr.dx()) < 1e-12);
        assertTrue(Reference.relErr(gb.dw(), gr.dw()) < 1e-12);
    }
}
