package dev.bandlimit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Shared helpers: running a plan on float arrays through the tensor API, and error checks. */
final class TestSupport {
    private TestSupport() {}

    /**
     * A context of every backend this machine runs: the CPU always, CUDA where a device is (else
     * the test prints why it is skipped). The caller closes them.
     */
    static List<ExecutionContext> contextsOfEveryBackend(String test) {
        List<ExecutionContext> out = new ArrayList<>();
        out.add(ExecutionContext.builder(Backend.CPU).build());
        try {
            out.add(ExecutionContext.builder(Backend.CUDA).build());
        } catch (UnsupportedFeatureException e) {
            System.out.println(test + ": skipped: cuda: " + e.getMessage());
        }
        return out;
    }

    /** What one forward + backward returned. */
    record Result(float[] y, Box box, float[] dx, float[] dw, float[] db) {}

    /**
     * Training forward and full backward through the tensor API with explicit workspace and saved
     * spectra; {@code b} may be null. Checks that the inputs were not written.
     */
    static Result forwardBackward(ConvPlan plan, int n, float[] x, float[] w, float[] b, float[] dy) {
        try (Arena arena = Arena.ofConfined()) {
            Tensor tx = Tensor.copyOf(arena, x, plan.inputShape(n));
            Tensor tw = Tensor.copyOf(arena, w, plan.weightShape());
            Tensor tb = b == null ? null : Tensor.copyOf(arena, b, plan.biasShape());
            Tensor ty = Tensor.allocate(arena, plan.outputShape(n));
            Tensor tdy = Tensor.copyOf(arena, dy, plan.outputShape(n));
            Tensor tdx = Tensor.allocate(arena, plan.inputShape(n));
            Tensor tdw = Tensor.allocate(arena, plan.weightShape());
            Tensor tdb = Tensor.allocate(arena, plan.biasShape());
            SavedSpectra saved = plan.allocateSavedSpectra(arena);
            Workspace ws = plan.allocateWorkspace(arena);
            // Garbage in every buffer the library writes: it must neither read nor accumulate into it.
            fillNaN(ty, tdx, tdw, tdb);
            fillSentinel(saved.segment());
            fillSentinel(ws.segment());
            Box box = plan.forward(tx, tw, tb, ty, saved, ws);
            plan.backward(saved, tw, tdy, tdx, tdw, tdb, ws);
            assertArrayEquals(x, tx.toArray(), "forward/backward wrote x");
            assertArrayEquals(w, tw.toArray(), "forward/backward wrote w");
            assertArrayEquals(dy, tdy.toArray(), "backward wrote dy");
            if (b != null) assertArrayEquals(b, tb.toArray(), "forward wrote bias");
            return new Result(ty.toArray(), box, tdx.toArray(), tdw.toArray(), tdb.toArray());
        }
    }

    // ----------------------------------------------------------------------------------------
    // Error bookkeeping: the worst err / bound ratio seen in this JVM, printed by the classes.
    // ----------------------------------------------------------------------------------------

    private static double worstRatio;
    private static String worstWhat = "none";

    static synchronized void record(double ratio, String what) {
        if (ratio > worstRatio || Double.isNaN(ratio)) {
            worstRatio = ratio;
            worstWhat = what;
        }
    }

    static synchronized String worst() {
        return String.format(Locale.ROOT, "worst err/bound so far %.3f (%s)", worstRatio, worstWhat);
    }

    /** Asserts {@code relErr(out, ref) <= bound} (NaN fails) and records the ratio. */
    static void assertWithinBound(String what, float[] out, double[] ref, double bound, String context) {
        double err = Reference.relErr(out, ref);
        record(err / bound, context + " " + what);
        assertTrue(err <= bound, () -> String.format(Locale.ROOT, "%s: %s rel err %.3e > bound %.3e (ratio %.2f)",
                context, what, err, bound, err / bound));
    }

    /**
     * {@link #assertWithinBound} with a floor under the reference's norm: asserts
     * {@code ||out - ref|| <= bound * max(||ref||, operandScale / 16)}. The float32 rounding of a
     * transform-based product is relative to its operands, not to its result, so where the result
     * is much smaller than its operands (where it vanishes identically: a dense layer whose every
     * window lies in the padding gives y = 0, an input pixel that no strided window reaches gets
     * dx = 0) the relative error of section 5 has no bound and {@code 0 / 0} is no test. The
     * random property cases draw such layers; {@code operandScale} is the product of the norms
     * of the two operands ({@code ||x|| ||w||} for y, {@code ||dy|| ||w||} for dx,
     * {@code ||x|| ||dy||} for dw). With the 16 below, {@code bound * scale / 16} is
     * {@code 2^-24 log2(LH LW R) scale}, the rounding of the log-depth transforms on operands of
     * that scale, which is what a vanishing result carries; on the layers where the result is
     * not small, {@code scale / 16} is below {@code ||ref||} and the check is the plain relative
     * one.
     */
    static void assertWithinBoundOrFloor(String what, float[] out, double[] ref, double operandScale, double bound,
            String context) {
        double diff = 0, refNorm = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = out[i] - ref[i];
            diff += d * d;
            refNorm += ref[i] * ref[i];
        }
        double norm = Math.sqrt(refNorm);
        double err = Math.sqrt(diff) / Math.max(norm, operandScale / 16);
        record(err / bound, context + " " + what);
        assertTrue(err <= bound, () -> String.format(Locale.ROOT,
                "%s: %s err %.3e > bound %.3e (ratio %.2f; ||ref|| %.3e, operand scale %.3e)", context, what, err,
                bound, err / bound, norm, operandScale));
    }

    // ----------------------------------------------------------------------------------------
    // Sentinel fills: detecting writes to caller buffers.
    // ----------------------------------------------------------------------------------------

    /** Fills {@code s} with a recognisable byte pattern (0xA5, 0x5A, 0xC3, i ...). */
    static void fillSentinel(MemorySegment s) {
        for (long i = 0; i < s.byteSize(); i++) {
            s.set(ValueLayout.JAVA_BYTE, i, (byte) (switch ((int) (i & 3)) {
                case 0 -> 0xA5;
                case 1 -> 0x5A;
                case 2 -> 0xC3;
                default -> (int) (i >>> 2);
            }));
        }
    }

    /** Fills tensors with NaN. */
    static void fillNaN(Tensor... tensors) {
        for (Tensor t : tensors) {
            if (t != null) t.segment().fill((byte) 0xff); // 0xffffffff: a NaN
        }
    }

    /** A heap copy of {@code s}'s bytes. */
    static byte[] snapshot(MemorySegment s) {
        return s.toArray(ValueLayout.JAVA_BYTE);
    }
}
