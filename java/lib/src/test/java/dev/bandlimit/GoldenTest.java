package dev.bandlimit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every golden case through the Java API (2D plans; 1D plans for H = KH = 1), both spectra modes. */
class GoldenTest {

    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Golden.Case c : Golden.cases()) {
            for (SpectraMode m : SpectraMode.values()) out.add(Arguments.of(c, m));
        }
        return out;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void goldenCase(Golden.Case c, SpectraMode mode) {
        Reference.Geom g = c.geom();
        String ctx = c.name() + " " + mode;
        try (Arena arena = Arena.ofConfined();
                ConvPlan plan = g.builder().compression(c.compression()).spectraMode(mode).build(arena)) {
            assertEquals(g.is1d(), plan.isConv1d(), ctx);
            assertEquals(new FftLengths(c.fftLengths()[0], c.fftLengths()[1]), plan.fftLengths(), ctx + ": fft lengths");
            assertEquals(c.yShape()[2], plan.outputHeight(), ctx + ": Ho");
            assertEquals(c.yShape()[3], plan.outputWidth(), ctx + ": Wo");
            if (c.isEnergy()) {
                assertEquals(new Box(c.fftLengths()[0] / 2, c.fftLengths()[1] / 2), plan.box(), ctx + ": energy plan box");
                assertEquals(0.0, plan.achievedRate(), ctx);
            } else {
                assertEquals(c.box(), plan.box(), ctx + ": box");
                assertEquals(c.achievedRate(), plan.achievedRate(), 1e-15, ctx + ": achieved rate");
            }
            TestSupport.Result r = TestSupport.forwardBackward(plan, c.n(), Golden.toFloats(c.x()),
                    Golden.toFloats(c.w()), Golden.toFloats(c.b()), Golden.toFloats(c.dy()));
            assertEquals(c.box(), r.box(), ctx + ": box used by the forward");
            assertEquals(c.achievedRate(), plan.rateOf(r.box()), 1e-15, ctx + ": achieved rate of the box used");
            long LH = c.fftLengths()[0], LW = c.fftLengths()[1];
            TestSupport.assertWithinBound("y", r.y(), c.y(), Reference.bound(LH, LW, Reference.reductionY(g)), ctx);
            TestSupport.assertWithinBound("dx", r.dx(), c.dx(), Reference.bound(LH, LW, Reference.reductionDx(g)), ctx);
            double bw = Reference.bound(LH, LW, Reference.reductionDw(g, c.n()));
            TestSupport.assertWithinBound("dw", r.dw(), c.dw(), bw, ctx);
            TestSupport.assertWithinBound("db", r.db(), c.db(), bw, ctx);
        }
    }

    @AfterAll
    static void report() {
        System.out.println("GoldenTest: " + TestSupport.worst());
    }
}
