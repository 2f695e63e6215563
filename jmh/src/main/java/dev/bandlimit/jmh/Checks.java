package dev.bandlimit.jmh;

import dev.bandlimit.ConvPlan;
import dev.bandlimit.Padding;
import dev.bandlimit.Reference;
import dev.bandlimit.Tensor;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The once-per-trial checks of the benchmarks (a fast wrong kernel must not win): sample 0 of
 * the dense operator against the tests' float64 {@link Reference} (docs/ALGORITHM.md section 1,
 * from the library's test-jar) within the section-5 error bound, and the adjoint identities of
 * section 3. Every check throws {@link IllegalStateException} naming the layer and the numbers.
 */
final class Checks {
    private Checks() {}

    /** Fills {@code t} with uniform values in [-1, 1) from {@code random}. */
    static void fillUniform(Tensor t, SplittableRandom random) {
        for (long i = 0, n = t.elementCount(); i < n; i++) t.set(i, (float) (2 * random.nextDouble() - 1));
    }

    /** The plan's geometry as the Reference takes it. */
    static Reference.Geom geometry(ConvPlan plan) {
        Padding p = plan.padding();
        if (plan.isConv1d()) {
            return Reference.Geom.conv1d((int) plan.maxBatch(), (int) plan.channels(), (int) plan.width(),
                    (int) plan.filters(), (int) plan.kernelWidth(), (int) p.left(), (int) p.right(), (int) plan.strideW());
        }
        return Reference.Geom.conv2d((int) plan.maxBatch(), (int) plan.channels(), (int) plan.height(),
                (int) plan.width(), (int) plan.filters(), (int) plan.kernelHeight(), (int) plan.kernelWidth(),
                (int) p.top(), (int) p.bottom(), (int) p.left(), (int) p.right(), (int) plan.strideH(),
                (int) plan.strideW());
    }

    /**
     * Throws unless sample 0 of {@code y} (no bias) and of {@code dx} are within the section-5
     * bound of the Reference's dense sums on sample 0. A sample's y and dx depend on that
     * sample's x and dy only, so one sample is a complete check of them; dw sums over the batch
     * and is left to the adjoint identities.
     */
    static void requireDenseSample0(String what, ConvPlan plan, Tensor x, Tensor w, Tensor dy, Tensor y, Tensor dx) {
        Reference.Geom g = geometry(plan);
        double[] x0 = toDouble(x, g.xSize(1)), w0 = toDouble(w, g.wSize()), dy0 = toDouble(dy, g.ySize(1));
        long LH = plan.fftLengths().height(), LW = plan.fftLengths().width();
        requireClose(what + " y[0]", y, Reference.denseForward(g, 1, x0, w0, null),
                Reference.bound(LH, LW, Reference.reductionY(g)));
        requireClose(what + " dx[0]", dx, Reference.denseBackward(g, 1, x0, w0, dy0).dx(),
                Reference.bound(LH, LW, Reference.reductionDx(g)));
    }

    /** Throws unless the first {@code ref.length} elements of {@code out} are within {@code bound} of {@code ref} (relative L2). */
    private static void requireClose(String what, Tensor out, double[] ref, double bound) {
        double err = Reference.relErr(toDouble(out, ref.length), ref);
        if (!(err <= bound)) {
            throw new IllegalStateException(String.format(Locale.ROOT,
                    "%s: relative L2 error %.3e against the float64 direct sums exceeds the bound %.3e", what, err, bound));
        }
    }

    /**
     * Throws unless {@code |<a1, b1> - <a2, b2>| <= 1e-5 ||scale1|| ||scale2||} (dot products in
     * float64): the adjoint identities {@code <y(x), dy> = <x, dx(dy)>} and {@code <y(w), dy> = <w, dw(dy)>}.
     */
    static void requireAdjoint(String what, Tensor a1, Tensor b1, Tensor a2, Tensor b2) {
        double lhs = dot(a1, b1), rhs = dot(a2, b2);
        double tol = 1e-5 * Math.sqrt(dot(a1, a1)) * Math.sqrt(dot(b1, b1));
        if (!(Math.abs(lhs - rhs) <= tol)) {
            throw new IllegalStateException(String.format(Locale.ROOT,
                    "%s: adjoint identity fails: %.9e vs %.9e, |diff| %.3e > %.3e", what, lhs, rhs, Math.abs(lhs - rhs), tol));
        }
    }

    /**
     * Throws unless {@code t} still holds {@code expected} (the output checked in set-up) up to
     * {@code 1e-5} relative L2: what the timed loop wrote is what was verified.
     */
    static void requireUnchanged(String what, Tensor t, float[] expected) {
        if (!(Reference.relErr(t.toArray(), Reference.toDouble(expected)) <= 1e-5)) {
            throw new IllegalStateException(what + ": the benchmarked calls wrote a result that differs from the one checked in set-up");
        }
    }

    static double dot(Tensor a, Tensor b) {
        if (a.elementCount() != b.elementCount()) throw new IllegalArgumentException(a + " vs " + b);
        return Reference.dot(a.toArray(), b.toArray());
    }

    /** The first {@code count} elements of {@code t}, in float64. */
    private static double[] toDouble(Tensor t, int count) {
        double[] out = new double[count];
        for (int i = 0; i < count; i++) out[i] = t.get(i);
        return out;
    }
}
