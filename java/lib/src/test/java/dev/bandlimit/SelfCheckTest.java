package dev.bandlimit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The golden case bundled for {@link SelfCheck} is, number for number, its case of the golden
 * file (a stale copy fails here: rerun scripts/selfcheck_case.py), and the self check passes in
 * this JVM. JarAloneIT runs it again from the built jar alone.
 */
class SelfCheckTest {

    @Test
    void bundledCaseIsTheGoldenCase() throws Exception {
        SelfCheck.GoldenCase bundled = SelfCheck.GoldenCase.readBundled();
        Golden.Case golden = Golden.cases().stream().filter(c -> c.name().equals(bundled.name())).findFirst()
                .orElseThrow(() -> new AssertionError("no golden case " + bundled.name()));
        String stale = "stale " + SelfCheck.CASE_RESOURCE + ": rerun scripts/selfcheck_case.py " + golden.name();
        Reference.Geom g = golden.geom();
        assertArrayEquals(new double[] {golden.n()}, bundled.array("N"), stale);
        assertArrayEquals(new double[] {g.C()}, bundled.array("C"), stale);
        assertArrayEquals(new double[] {g.H()}, bundled.array("H"), stale);
        assertArrayEquals(new double[] {g.W()}, bundled.array("W"), stale);
        assertArrayEquals(new double[] {g.F()}, bundled.array("F"), stale);
        assertArrayEquals(new double[] {g.KH()}, bundled.array("KH"), stale);
        assertArrayEquals(new double[] {g.KW()}, bundled.array("KW"), stale);
        assertArrayEquals(new double[] {g.pt(), g.pb(), g.pl(), g.pr()}, bundled.array("pad"), stale);
        assertArrayEquals(new double[] {g.sh(), g.sw()}, bundled.array("stride"), stale);
        assertArrayEquals(new double[] {golden.rho()}, bundled.array("rho"), stale);
        assertArrayEquals(new double[] {golden.fftLengths()[0], golden.fftLengths()[1]}, bundled.array("fft_lengths"), stale);
        assertArrayEquals(new double[] {golden.box().kh(), golden.box().kw()}, bundled.array("box"), stale);
        assertArrayEquals(golden.x(), bundled.array("x"), stale);
        assertArrayEquals(golden.w(), bundled.array("w"), stale);
        assertArrayEquals(golden.b(), bundled.array("b"), stale);
        assertArrayEquals(golden.dy(), bundled.array("dy"), stale);
        assertArrayEquals(golden.y(), bundled.array("y"), stale);
        assertArrayEquals(golden.dx(), bundled.array("dx"), stale);
        assertArrayEquals(golden.dw(), bundled.array("dw"), stale);
        assertArrayEquals(golden.db(), bundled.array("db"), stale);
        assertEquals(20, bundled.values().size(), "no other keys: " + bundled.values().keySet());
    }

    @Test
    void selfCheckPasses() throws Exception {
        String details = SelfCheck.run();
        assertTrue(details.contains("golden case"), details);
        System.out.println("SelfCheckTest: " + details);
    }
}
