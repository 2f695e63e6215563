package dev.bandlimit.jmh;

import dev.bandlimit.ConvPlan;
import dev.bandlimit.FftLengths;
import dev.bandlimit.Padding;
import dev.bandlimit.Tensor;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The once-per-trial checks of the benchmarks (a fast wrong kernel must not win): float64
 * direct sums of docs/ALGORITHM.md section 1 on one sample, the adjoint identities of section 3,
 * and the section-5 error bound. Written from the document, never calling the library's math.
 * Every check throws {@link IllegalStateException} naming the layer and the numbers.
 */
final class Checks {
    private Checks() {}

    /** Fills {@code t} with uniform values in [-1, 1) from {@code random}. */
    static void fillUniform(Tensor t, SplittableRandom random) {
        for (long i = 0, n = t.elementCount(); i < n; i++) t.set(i, (float) (2 * random.nextDouble() - 1));
    }

    /**
     * The float32 error bound of ALGORITHM.md section 5: {@code 16 * 2^-24 * log2(LH LW R)} for
     * a relative L2 error against a float64 reference, {@code R} the reduction length.
     */
    static double bound(ConvPlan plan, long reduction) {
        FftLengths l = plan.fftLengths();
        return 16 * Math.scalb(1.0, -24) * (Math.log((double) l.height() * l.width() * reduction) / Math.log(2));
    }

    /**
     * Sample 0 of the dense forward, {@code y[0][f][i][j] = sum_{c,u,v} xp[0][c][i+u][j+v] w[f][c][u][v]}
     * (no bias, stride 1), in float64. The loops run over (f, c, u, v) outside and the output
     * rows inside so that the innermost loop is a contiguous axpy (C2 vectorizes it): the
     * conv1d layer's 1.1 G multiply-adds then take about a second.
     */
    static double[] denseForwardSample0(ConvPlan plan, Tensor x, Tensor w) {
        requireStride1(plan);
        int C = (int) plan.channels(), F = (int) plan.filters(), H = (int) plan.height(), W = (int) plan.width();
        int KH = (int) plan.kernelHeight(), KW = (int) plan.kernelWidth();
        int Ho = (int) plan.outputHeight(), Wo = (int) plan.outputWidth();
        Padding p = plan.padding();
        int pt = (int) p.top(), pl = (int) p.left();
        double[] x0 = toDouble(x, 0, C * H * W), wd = toDouble(w, 0, F * C * KH * KW);
        double[] y = new double[F * Ho * Wo];
        for (int f = 0; f < F; f++) {
            for (int c = 0; c < C; c++) {
                for (int u = 0; u < KH; u++) {
                    // output rows i whose input row h = i + u - pt lies inside [0, H)
                    int i0 = Math.max(0, pt - u), i1 = Math.min(Ho, H + pt - u);
                    for (int v = 0; v < KW; v++) {
                        double wv = wd[((f * C + c) * KH + u) * KW + v];
                        int j0 = Math.max(0, pl - v), j1 = Math.min(Wo, W + pl - v);
                        for (int i = i0; i < i1; i++) {
                            int yRow = (f * Ho + i) * Wo, xRow = (c * H + i + u - pt) * W + v - pl;
                            for (int j = j0; j < j1; j++) y[yRow + j] += wv * x0[xRow + j];
                        }
                    }
                }
            }
        }
        return y;
    }

    /**
     * Sample 0 of the dense input gradient, {@code dx[0][c][h][q] = sum_{f,u,v} dy[0][f][h+pt-u][q+pl-v] w[f][c][u][v]}
     * (stride 1), in float64: the scatter form of the adjoint of {@link #denseForwardSample0}.
     * A sample's dx depends on that sample's dy only, so one sample is a complete check of it.
     */
    static double[] denseBackwardDataSample0(ConvPlan plan, Tensor dy, Tensor w) {
        requireStride1(plan);
        int C = (int) plan.channels(), F = (int) plan.filters(), H = (int) plan.height(), W = (int) plan.width();
        int KH = (int) plan.kernelHeight(), KW = (int) plan.kernelWidth();
        int Ho = (int) plan.outputHeight(), Wo = (int) plan.outputWidth();
        Padding p = plan.padding();
        int pt = (int) p.top(), pl = (int) p.left();
        double[] dy0 = toDouble(dy, 0, F * Ho * Wo), wd = toDouble(w, 0, F * C * KH * KW);
        double[] dx = new double[C * H * W];
        for (int f = 0; f < F; f++) {
            for (int c = 0; c < C; c++) {
                for (int u = 0; u < KH; u++) {
                    int i0 = Math.max(0, pt - u), i1 = Math.min(Ho, H + pt - u);
                    for (int v = 0; v < KW; v++) {
                        double wv = wd[((f * C + c) * KH + u) * KW + v];
                        int j0 = Math.max(0, pl - v), j1 = Math.min(Wo, W + pl - v);
                        for (int i = i0; i < i1; i++) {
                            int dyRow = (f * Ho + i) * Wo, dxRow = (c * H + i + u - pt) * W + v - pl;
                            for (int j = j0; j < j1; j++) dx[dxRow + j] += wv * dy0[dyRow + j];
                        }
                    }
                }
            }
        }
        return dx;
    }

    /** Throws unless the first {@code ref.length} elements of {@code out} are within {@code bound} of {@code ref} (relative L2). */
    static void requireClose(String what, Tensor out, double[] ref, double bound) {
        double diff = 0, norm = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = out.get(i) - ref[i];
            diff += d * d;
            norm += ref[i] * ref[i];
        }
        double err = Math.sqrt(diff) / Math.sqrt(norm);
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
        double diff = 0, norm = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = (double) t.get(i) - expected[i];
            diff += d * d;
            norm += (double) expected[i] * expected[i];
        }
        if (!(Math.sqrt(diff) <= 1e-5 * Math.sqrt(norm))) {
            throw new IllegalStateException(what + ": the benchmarked calls wrote a result that differs from the one checked in set-up");
        }
    }

    static double dot(Tensor a, Tensor b) {
        if (a.elementCount() != b.elementCount()) throw new IllegalArgumentException(a + " vs " + b);
        double s = 0;
        for (long i = 0, n = a.elementCount(); i < n; i++) s += (double) a.get(i) * b.get(i);
        return s;
    }

    private static double[] toDouble(Tensor t, long from, int count) {
        double[] out = new double[count];
        for (int i = 0; i < count; i++) out[i] = t.get(from + i);
        return out;
    }

    private static void requireStride1(ConvPlan plan) {
        if (plan.strideH() != 1 || plan.strideW() != 1) {
            throw new IllegalArgumentException("the benchmark's direct sums assume stride 1: " + plan);
        }
    }
}
