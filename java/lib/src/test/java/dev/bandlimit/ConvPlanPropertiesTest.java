package dev.bandlimit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Properties of every valid plan, on random cases ({@link ConvCases}: 1D and 2D geometries with
 * random channels, filters, sizes, kernels, paddings, strides and batches; no, fixed and energy
 * compression; both spectra modes; every product the geometry allows; the default context or
 * one of 1 or 3 threads): the forward and backward agree with the float64 {@link Reference}
 * within the bound of ALGORITHM.md section 5 (the one {@link DenseAgreementTest} and
 * {@link BandLimitedAgreementTest} use), the backward is the adjoint of the forward, and the
 * thread count changes no bit. Seeds and try counts: {@link PropertyRuns}.
 */
class ConvPlanPropertiesTest {

    /** The default context, or a context of 1 or 3 threads (the caller closes it; null: default). */
    private static ExecutionContext randomContext(PropertyRuns.Try t) {
        int threads = t.oneOf(0, 0, 1, 3);
        t.note("context: " + (threads == 0 ? "default" : threads + " threads"));
        return threads == 0 ? null : ExecutionContext.builder(Backend.CPU).numThreads(threads).build();
    }

    private static ConvPlan build(ConvCases.Case c, ExecutionContext context, Arena arena) {
        ConvPlan.Builder b = c.builder();
        if (context != null) b.context(context);
        return b.build(arena);
    }

    @TestFactory
    Stream<DynamicTest> forwardAndBackwardAgreeWithTheFloat64Reference() {
        return PropertyRuns.tries("conv agrees with reference", 300, t -> {
            ConvCases.Case c = ConvCases.of(t, ConvCases.geometry(t), t.chance(0.7));
            Reference.Geom g = c.geom();
            long lh = g.LH(), lw = g.LW();
            ExecutionContext context = randomContext(t);
            try (Arena arena = Arena.ofConfined(); ConvPlan plan = build(c, context, arena)) {
                assertEquals(new FftLengths(lh, lw), plan.fftLengths(), "FFT lengths");
                assertEquals(g.is1d() ? 1 : g.Ho(), plan.outputHeight(), "output height");
                assertEquals(g.Wo(), plan.outputWidth(), "output width");
                if (c.compression() instanceof Compression.Energy) {
                    assertEquals(Reference.fullBox(lh, lw), plan.box(), "an energy plan reports the full box");
                } else {
                    assertEquals(c.box(), plan.box(), "fixed box");
                    assertEquals(Reference.rate(lh, lw, c.box()), plan.achievedRate(), 1e-15, "achieved rate");
                }
                // Garbage in every output, saved spectra and workspace; inputs checked unwritten.
                TestSupport.Result r = TestSupport.forwardBackward(plan, c.n(), c.x(), c.w(), c.bias(), c.dy());
                assertEquals(c.box(), r.box(), "box the forward used");
                double[] x = Reference.toDouble(c.x()), w = Reference.toDouble(c.w()), dy = Reference.toDouble(c.dy());
                double[] bias = c.bias() == null ? null : Reference.toDouble(c.bias());
                double[] y;
                Reference.Grads grads;
                if (c.denseBox()) {  // the dense operator: the direct sums, independent of any DFT
                    y = Reference.denseForward(g, c.n(), x, w, bias);
                    grads = Reference.denseBackward(g, c.n(), x, w, dy);
                } else {
                    y = Reference.bandLimitedForward(g, c.n(), x, w, bias, c.box(), null);
                    grads = Reference.bandLimitedBackward(g, c.n(), x, w, dy, c.box(), null);
                }
                String ctx = "property " + c;
                double xNorm = Reference.norm(c.x()), wNorm = Reference.norm(c.w()), dyNorm = Reference.norm(c.dy());
                TestSupport.assertWithinBoundOrFloor("y", r.y(), y, xNorm * wNorm, bound(lh, lw, Reference.reductionY(g)), ctx);
                TestSupport.assertWithinBoundOrFloor("dx", r.dx(), grads.dx(), dyNorm * wNorm,
                        bound(lh, lw, Reference.reductionDx(g)), ctx);
                double boundW = bound(lh, lw, Reference.reductionDw(g, c.n()));
                TestSupport.assertWithinBoundOrFloor("dw", r.dw(), grads.dw(), xNorm * dyNorm, boundW, ctx);
                TestSupport.assertWithinBoundOrFloor("db", r.db(), grads.db(), dyNorm, boundW, ctx);
            } finally {
                if (context != null) context.close();
            }
        });
    }

    /**
     * {@code <y(x), dy> = <x, dx(dy)>} and {@code <y(w), dy> = <w, dw(dy)>} (bias 0) within
     * {@code 1e-5 ||dy|| max(||y||, ||x|| ||w|| / 16)} ({@link AdjointTest}'s tolerance, floored as
     * in {@link TestSupport#assertWithinBoundOrFloor}): the backward is the exact adjoint of the
     * band-limited forward at the box the forward used.
     */
    @TestFactory
    Stream<DynamicTest> backwardIsTheAdjointOfTheForward() {
        return PropertyRuns.tries("conv adjoint", 200, t -> {
            ConvCases.Case c = ConvCases.of(t, ConvCases.geometry(t), false);
            try (Arena arena = Arena.ofConfined(); ConvPlan plan = c.builder().build(arena)) {
                TestSupport.Result r = TestSupport.forwardBackward(plan, c.n(), c.x(), c.w(), null, c.dy());
                double ydy = Reference.dot(r.y(), c.dy()), xdx = Reference.dot(c.x(), r.dx()),
                        wdw = Reference.dot(c.w(), r.dw());
                // AdjointTest's tolerance, with the operand floor of TestSupport.assertWithinBoundOrFloor
                // (a layer whose windows all lie in the padding has y = 0 up to rounding).
                double tolerance = 1e-5 * Reference.norm(c.dy())
                        * Math.max(Reference.norm(r.y()), Reference.norm(c.x()) * Reference.norm(c.w()) / 16);
                recordAdjoint(Math.abs(ydy - xdx) / tolerance);
                recordAdjoint(Math.abs(ydy - wdw) / tolerance);
                assertTrue(Math.abs(ydy - xdx) <= tolerance, String.format(Locale.ROOT,
                        "<y,dy> %.9e vs <x,dx> %.9e, tolerance %.3e", ydy, xdx, tolerance));
                assertTrue(Math.abs(ydy - wdw) <= tolerance, String.format(Locale.ROOT,
                        "<y,dy> %.9e vs <w,dw> %.9e, tolerance %.3e", ydy, wdw, tolerance));
            }
        });
    }

    /** The same plan in a 1-thread and a 3-thread context gives the same bits (the CPU backend's static partition). */
    @TestFactory
    Stream<DynamicTest> threadCountChangesNoBit() {
        return PropertyRuns.tries("conv thread count", 50, t -> {
            ConvCases.Case c = ConvCases.of(t, ConvCases.geometry(t), true);
            try (ExecutionContext one = ExecutionContext.builder(Backend.CPU).numThreads(1).build();
                    ExecutionContext three = ExecutionContext.builder(Backend.CPU).numThreads(3).build();
                    Arena arena = Arena.ofConfined()) {
                TestSupport.Result a = TestSupport.forwardBackward(build(c, one, arena), c.n(), c.x(), c.w(), c.bias(), c.dy());
                TestSupport.Result b = TestSupport.forwardBackward(build(c, three, arena), c.n(), c.x(), c.w(), c.bias(), c.dy());
                assertEquals(a.box(), b.box());
                assertArrayEquals(a.y(), b.y(), "y");
                assertArrayEquals(a.dx(), b.dx(), "dx");
                assertArrayEquals(a.dw(), b.dw(), "dw");
                assertArrayEquals(a.db(), b.db(), "db");
            }
        });
    }

    /**
     * The bound of section 5, {@code 16 * 2^-24 * log2(LH LW R)}, with the logarithm at least 1:
     * a 1 x 1 map with a 1 x 1 kernel and a reduction of one term ({@code LH LW R = 1}, which the
     * random cases draw) still rounds its one product to float32, and a bound of 0 would demand
     * exact results there.
     */
    static double bound(long lh, long lw, long reduction) {
        return lh * lw * reduction >= 2 ? Reference.bound(lh, lw, reduction) : Reference.bound(1, 1, 2);
    }

    private static double worstAdjoint;

    private static synchronized void recordAdjoint(double ratio) {
        worstAdjoint = Math.max(worstAdjoint, ratio);
    }

    @AfterAll
    static void report() {
        System.out.println("ConvPlanPropertiesTest: " + TestSupport.worst() + String.format(Locale.ROOT,
                "; worst adjoint |diff| / tolerance %.4f; seed %d, tries x%s", worstAdjoint, PropertyRuns.RUN_SEED,
                PropertyRuns.TRIES_FACTOR));
    }
}
