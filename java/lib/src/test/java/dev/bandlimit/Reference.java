package dev.bandlimit;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Slow float64 references of the operator of docs/ALGORITHM.md, written from that document
 * alone (never calling the library):
 *
 * <ul>
 *   <li>section 1: the dense operator as direct sums (forward with bias, per-side padding,
 *       stride per axis; dx, dw, db, the strided backward scattering dy onto the stride-1 grid);
 *   <li>sections 2-3: FFT lengths (smallest 7-smooth), the box chain in exact integer arithmetic,
 *       the fixed box and its achieved rate, the energy box (Parseval weights);
 *   <li>the band-limited operator through a naive O(L^2)-per-axis complex DFT of the whole
 *       {@code LH x LW} plane. The mask is applied on the full plane: {@code (r, s)} is kept iff
 *       {@code min(r, LH-r) <= kh} and {@code min(s, LW-s) <= kw} (the half-spectrum box extended
 *       by conjugate symmetry), so the inverse is real up to rounding, which is measured;
 *   <li>section 5: relative L2 error and the float32 error bound.
 * </ul>
 *
 * <p>The one float64 reference of the JVM side: public because the JMH module checks its
 * benchmarks against it through this module's test-jar (jmh/pom.xml). The jar's own
 * {@code SelfCheck} runs a bundled golden case instead, as it must run with the jar alone.
 */
public final class Reference {
    private Reference() {}

    // ----------------------------------------------------------------------------------------
    // Geometry
    // ----------------------------------------------------------------------------------------

    /** A layer's geometry; {@code n} (the batch of a call) is passed separately. */
    public record Geom(boolean is1d, int maxBatch, int C, int H, int W, int F, int KH, int KW, int pt, int pb, int pl,
            int pr, int sh, int sw) {
        public Geom {
            if (is1d && (H != 1 || KH != 1 || pt != 0 || pb != 0 || sh != 1)) {
                throw new IllegalArgumentException("a 1D geometry has H = KH = 1, no vertical padding or stride");
            }
        }

        public static Geom conv2d(int maxBatch, int C, int H, int W, int F, int KH, int KW, int pt, int pb, int pl, int pr,
                int sh, int sw) {
            return new Geom(false, maxBatch, C, H, W, F, KH, KW, pt, pb, pl, pr, sh, sw);
        }

        public static Geom conv1d(int maxBatch, int C, int L, int F, int K, int pl, int pr, int s) {
            return new Geom(true, maxBatch, C, 1, L, F, 1, K, 0, 0, pl, pr, 1, s);
        }

        public int Hp() {
            return pt + H + pb;
        }

        public int Wp() {
            return pl + W + pr;
        }

        public int Ho() {
            return (Hp() - KH) / sh + 1;
        }

        public int Wo() {
            return (Wp() - KW) / sw + 1;
        }

        public int LH() {
            return (int) fftLength(Hp());
        }

        public int LW() {
            return (int) fftLength(Wp());
        }

        public int xSize(int n) {
            return n * C * H * W;
        }

        public int wSize() {
            return F * C * KH * KW;
        }

        public int ySize(int n) {
            return n * F * Ho() * Wo();
        }

        /** Builds the plan of this geometry through the public API. */
        public ConvPlan.Builder builder() {
            if (is1d) {
                return ConvPlan.conv1d().maxBatch(maxBatch).channels(C).length(W).filters(F).kernel(KW)
                        .padding(Padding.of1d(pl, pr)).stride(sw);
            }
            return ConvPlan.conv2d().maxBatch(maxBatch).channels(C).input(H, W).filters(F).kernel(KH, KW)
                    .padding(Padding.of(pt, pb, pl, pr)).stride(sh, sw);
        }

        @Override
        public String toString() {
            if (is1d) {
                return String.format(Locale.ROOT, "conv1d N<=%d C=%d L=%d F=%d K=%d pad=(%d,%d) s=%d", maxBatch, C, W,
                        F, KW, pl, pr, sw);
            }
            return String.format(Locale.ROOT, "conv2d N<=%d C=%d %dx%d F=%d %dx%d pad=(%d,%d,%d,%d) s=(%d,%d)",
                    maxBatch, C, H, W, F, KH, KW, pt, pb, pl, pr, sh, sw);
        }
    }

    /** Gradients of a backward: dx like x, dw like w, db like b. */
    public record Grads(double[] dx, double[] dw, double[] db) {}

    // ----------------------------------------------------------------------------------------
    // Section 1: the dense operator by direct sums
    // ----------------------------------------------------------------------------------------

    /** {@code y[n][f][i][j] = b[f] + sum_{c,u,v} xp[n][c][i*sh+u][j*sw+v] w[f][c][u][v]}; b may be null. */
    public static double[] denseForward(Geom g, int n, double[] x, double[] w, double[] b) {
        int Ho = g.Ho(), Wo = g.Wo();
        double[] y = new double[g.ySize(n)];
        for (int s = 0; s < n; s++) {
            for (int f = 0; f < g.F; f++) {
                for (int i = 0; i < Ho; i++) {
                    for (int j = 0; j < Wo; j++) {
                        double acc = b == null ? 0.0 : b[f];
                        for (int c = 0; c < g.C; c++) {
                            for (int u = 0; u < g.KH; u++) {
                                int h = i * g.sh + u - g.pt;
                                if (h < 0 || h >= g.H) continue;
                                for (int v = 0; v < g.KW; v++) {
                                    int q = j * g.sw + v - g.pl;
                                    if (q < 0 || q >= g.W) continue;
                                    acc += x[((s * g.C + c) * g.H + h) * g.W + q] * w[((f * g.C + c) * g.KH + u) * g.KW + v];
                                }
                            }
                        }
                        y[((s * g.F + f) * Ho + i) * Wo + j] = acc;
                    }
                }
            }
        }
        return y;
    }

    /** Backward of the dense operator (the exact adjoint of {@link #denseForward} without bias). */
    public static Grads denseBackward(Geom g, int n, double[] x, double[] w, double[] dy) {
        int Ho = g.Ho(), Wo = g.Wo();
        double[] dx = new double[g.xSize(n)], dw = new double[g.wSize()], db = new double[g.F];
        for (int s = 0; s < n; s++) {
            for (int f = 0; f < g.F; f++) {
                for (int i = 0; i < Ho; i++) {
                    for (int j = 0; j < Wo; j++) {
                        double d = dy[((s * g.F + f) * Ho + i) * Wo + j];
                        db[f] += d;
                        for (int c = 0; c < g.C; c++) {
                            for (int u = 0; u < g.KH; u++) {
                                int h = i * g.sh + u - g.pt;
                                if (h < 0 || h >= g.H) continue;
                                for (int v = 0; v < g.KW; v++) {
                                    int q = j * g.sw + v - g.pl;
                                    if (q < 0 || q >= g.W) continue;
                                    int xi = ((s * g.C + c) * g.H + h) * g.W + q;
                                    int wi = ((f * g.C + c) * g.KH + u) * g.KW + v;
                                    dx[xi] += d * w[wi];
                                    dw[wi] += d * x[xi];
                                }
                            }
                        }
                    }
                }
            }
        }
        return new Grads(dx, dw, db);
    }

    // ----------------------------------------------------------------------------------------
    // Sections 2-3: FFT lengths, box chain, fixed and energy boxes (exact integers)
    // ----------------------------------------------------------------------------------------

    /** The smallest {@code 2^a 3^b 5^c 7^d >= n}. */
    public static long fftLength(long n) {
        if (n < 1) throw new IllegalArgumentException("n < 1: " + n);
        for (long m = n;; m++) {
            long r = m;
            for (long p : new long[] {2, 3, 5, 7}) {
                while (r % p == 0) r /= p;
            }
            if (r == 1) return m;
        }
    }

    public static long totalCoefficients(long LH, long LW) {
        return LH * (LW / 2 + 1);
    }

    public static long keptCoefficients(long LH, long LW, Box b) {
        return Math.min(2 * b.kh() + 1, LH) * (b.kw() + 1);
    }

    public static long discarded(long LH, long LW, Box b) {
        return totalCoefficients(LH, LW) - keptCoefficients(LH, LW, b);
    }

    /** Achieved rate: discarded / total half-spectrum coefficients. */
    public static double rate(long LH, long LW, Box b) {
        return (double) discarded(LH, LW, b) / (double) totalCoefficients(LH, LW);
    }

    public static Box fullBox(long LH, long LW) {
        return new Box(LH / 2, LW / 2);
    }

    /**
     * The chain {@code B(t) = (floor(t nh), floor(t nw))}, {@code nh = floor(LH/2)}, {@code nw =
     * floor(LW/2)}, for t in [0, 1], in increasing t. B is piecewise constant and right-continuous
     * in t: it can only change where {@code t nh} or {@code t nw} crosses an integer, i.e. at the
     * rational points {@code t = i/nh} and {@code t = j/nw}. So the chain is B evaluated at
     * {@code t = 0} and at each of those points, sorted by t (compared by cross-multiplication),
     * with repeats dropped.
     */
    public static List<Box> boxChain(long LH, long LW) {
        long nh = LH / 2, nw = LW / 2;
        List<long[]> ts = new ArrayList<>();  // t = num / den
        ts.add(new long[] {0, 1});
        for (long i = 1; i <= nh; i++) ts.add(new long[] {i, nh});
        for (long j = 1; j <= nw; j++) ts.add(new long[] {j, nw});
        ts.sort((a, b) -> Long.compare(a[0] * b[1], b[0] * a[1]));
        List<Box> chain = new ArrayList<>();
        for (long[] t : ts) {
            Box b = new Box(Math.floorDiv(t[0] * nh, t[1]), Math.floorDiv(t[0] * nw, t[1]));
            if (chain.isEmpty() || !chain.get(chain.size() - 1).equals(b)) chain.add(b);
        }
        return chain;
    }

    /** Fixed compression: the chain box discarding the most with {@code D <= rho * total + 1e-9}. */
    public static Box fixedBox(long LH, long LW, double rho) {
        double limit = rho * (double) totalCoefficients(LH, LW) + 1e-9;
        Box best = null;
        long bestD = -1;
        for (Box b : boxChain(LH, LW)) {
            long d = discarded(LH, LW, b);
            if (d <= limit && d > bestD) {
                best = b;
                bestD = d;
            }
        }
        return best;
    }

    /**
     * Energy fraction kept by each chain box (same order as {@link #boxChain}): the energy of the
     * half spectrum of the zero-extended padded input, summed over the batch n and all channels,
     * column 0 and (even LW) column LW/2 weighted once, other columns twice. The full box counts
     * as exactly 1 (NaN when the total is NaN).
     */
    public static double[] energyFractions(Geom g, int n, double[] x) {
        int LH = g.LH(), LW = g.LW(), HC = LW / 2 + 1;
        double[] e = new double[LH * HC];
        Dft dft = new Dft(LH, LW);
        for (int s = 0; s < n; s++) {
            for (int c = 0; c < g.C; c++) {
                double[][] X = inputSpectrum(g, dft, x, s, c);
                for (int r = 0; r < LH; r++) {
                    for (int k = 0; k < HC; k++) {
                        double weight = (k == 0 || (LW % 2 == 0 && k == LW / 2)) ? 1.0 : 2.0;
                        double re = X[0][r * LW + k], im = X[1][r * LW + k];
                        e[r * HC + k] += weight * (re * re + im * im);
                    }
                }
            }
        }
        double total = 0;
        for (double v : e) total += v;
        List<Box> chain = boxChain(LH, LW);
        double[] frac = new double[chain.size()];
        for (int i = 0; i < chain.size(); i++) {
            if (i == chain.size() - 1) {
                frac[i] = Double.isNaN(total) ? Double.NaN : 1.0;
                break;
            }
            Box b = chain.get(i);
            double kept = 0;
            for (int r = 0; r < LH; r++) {
                if (Math.min(r, LH - r) > b.kh()) continue;
                for (int k = 0; k <= b.kw(); k++) kept += e[r * HC + k];
            }
            frac[i] = kept / total;
        }
        return frac;
    }

    /** Energy compression: the first chain box keeping at least E of the energy; NaN energy: the full box. */
    public static Box energyBox(Geom g, int n, double[] x, double E) {
        List<Box> chain = boxChain(g.LH(), g.LW());
        double[] frac = energyFractions(g, n, x);
        for (int i = 0; i < chain.size(); i++) {
            if (frac[i] >= E) return chain.get(i);
        }
        return chain.get(chain.size() - 1);
    }

    // ----------------------------------------------------------------------------------------
    // The band-limited operator through a naive full-plane complex DFT
    // ----------------------------------------------------------------------------------------

    /** Naive separable 2D DFT of an LH x LW complex plane (re, im row-major), unnormalised. */
    public static final class Dft {
        final int LH, LW;
        private final double[] cosH, sinH, cosW, sinW;

        public Dft(int LH, int LW) {
            this.LH = LH;
            this.LW = LW;
            cosH = new double[LH];
            sinH = new double[LH];
            cosW = new double[LW];
            sinW = new double[LW];
            for (int m = 0; m < LH; m++) {
                cosH[m] = Math.cos(2 * Math.PI * m / LH);
                sinH[m] = Math.sin(2 * Math.PI * m / LH);
            }
            for (int m = 0; m < LW; m++) {
                cosW[m] = Math.cos(2 * Math.PI * m / LW);
                sinW[m] = Math.sin(2 * Math.PI * m / LW);
            }
        }

        /** {@code out[r][s] = sum_{p,q} in[p][q] exp(sign 2 pi i (r p / LH + s q / LW))}, in place. */
        public void transform(double[] re, double[] im, int sign) {
            double[] tr = new double[Math.max(LH, LW)], ti = new double[Math.max(LH, LW)];
            for (int p = 0; p < LH; p++) {
                int o = p * LW;
                for (int s = 0; s < LW; s++) {
                    double ar = 0, ai = 0;
                    for (int q = 0, m = 0; q < LW; q++) { // m = s * q mod LW
                        double c = cosW[m], sn = sign * sinW[m];
                        double xr = re[o + q], xi = im[o + q];
                        ar += xr * c - xi * sn;
                        ai += xr * sn + xi * c;
                        m += s;
                        if (m >= LW) m -= LW;
                    }
                    tr[s] = ar;
                    ti[s] = ai;
                }
                System.arraycopy(tr, 0, re, o, LW);
                System.arraycopy(ti, 0, im, o, LW);
            }
            for (int q = 0; q < LW; q++) {
                for (int r = 0; r < LH; r++) {
                    double ar = 0, ai = 0;
                    for (int p = 0, m = 0; p < LH; p++) { // m = r * p mod LH
                        double c = cosH[m], sn = sign * sinH[m];
                        double xr = re[p * LW + q], xi = im[p * LW + q];
                        ar += xr * c - xi * sn;
                        ai += xr * sn + xi * c;
                        m += r;
                        if (m >= LH) m -= LH;
                    }
                    tr[r] = ar;
                    ti[r] = ai;
                }
                for (int r = 0; r < LH; r++) {
                    re[r * LW + q] = tr[r];
                    im[r * LW + q] = ti[r];
                }
            }
        }
    }

    /** Full-plane mask of box b: kept iff min(r, LH-r) <= kh and min(s, LW-s) <= kw. */
    public static boolean[] fullPlaneMask(int LH, int LW, Box b) {
        boolean[] m = new boolean[LH * LW];
        for (int r = 0; r < LH; r++) {
            for (int s = 0; s < LW; s++) {
                m[r * LW + s] = Math.min(r, LH - r) <= b.kh() && Math.min(s, LW - s) <= b.kw();
            }
        }
        return m;
    }

    /** Spectrum of the zero-extended padded x[s][c] (placed at [pt, pt+H) x [pl, pl+W)). */
    public static double[][] inputSpectrum(Geom g, Dft dft, double[] x, int s, int c) {
        double[] re = new double[dft.LH * dft.LW], im = new double[dft.LH * dft.LW];
        for (int h = 0; h < g.H; h++) {
            for (int q = 0; q < g.W; q++) {
                re[(h + g.pt) * dft.LW + q + g.pl] = x[((s * g.C + c) * g.H + h) * g.W + q];
            }
        }
        dft.transform(re, im, -1);
        return new double[][] {re, im};
    }

    private static double[][] weightSpectrum(Geom g, Dft dft, double[] w, int f, int c) {
        double[] re = new double[dft.LH * dft.LW], im = new double[dft.LH * dft.LW];
        for (int u = 0; u < g.KH; u++) {
            for (int v = 0; v < g.KW; v++) re[u * dft.LW + v] = w[((f * g.C + c) * g.KH + u) * g.KW + v];
        }
        dft.transform(re, im, -1);
        return new double[][] {re, im};
    }

    /** Masked spectrum of dy[s][f] scattered onto the stride-1 grid (i*sh, j*sw), zero-extended. */
    private static double[][] gradSpectrum(Geom g, Dft dft, double[] dy, int s, int f, boolean[] mask) {
        int Ho = g.Ho(), Wo = g.Wo();
        double[] re = new double[dft.LH * dft.LW], im = new double[dft.LH * dft.LW];
        for (int i = 0; i < Ho; i++) {
            for (int j = 0; j < Wo; j++) re[i * g.sh * dft.LW + j * g.sw] = dy[((s * g.F + f) * Ho + i) * Wo + j];
        }
        dft.transform(re, im, -1);
        for (int k = 0; k < re.length; k++) {
            if (!mask[k]) {
                re[k] = 0;
                im[k] = 0;
            }
        }
        return new double[][] {re, im};
    }

    /** Largest |imaginary part| relative to the largest |real part| seen by {@link #inverseReal}. */
    public static final class ImagTracker {
        double maxImag, maxReal;

        public double ratio() {
            return maxReal > 0 ? maxImag / maxReal : maxImag;
        }
    }

    private static double[] inverseReal(Dft dft, double[] re, double[] im, ImagTracker t) {
        dft.transform(re, im, +1);
        double scale = 1.0 / ((double) dft.LH * dft.LW);
        double[] out = new double[re.length];
        for (int k = 0; k < re.length; k++) {
            out[k] = re[k] * scale;
            if (t != null) {
                t.maxImag = Math.max(t.maxImag, Math.abs(im[k] * scale));
                t.maxReal = Math.max(t.maxReal, Math.abs(out[k]));
            }
        }
        return out;
    }

    /**
     * Band-limited forward: {@code Y^[n,f] = M . sum_c X^[n,c] . conj(W^[f,c])}, inverse, keep the
     * stride-1 grid sampled every (sh, sw), plus bias (null: none).
     */
    public static double[] bandLimitedForward(Geom g, int n, double[] x, double[] w, double[] b, Box box, ImagTracker t) {
        int LH = g.LH(), LW = g.LW(), P = LH * LW, Ho = g.Ho(), Wo = g.Wo();
        Dft dft = new Dft(LH, LW);
        boolean[] mask = fullPlaneMask(LH, LW, box);
        double[][][] X = new double[n * g.C][][];
        for (int s = 0; s < n; s++) {
            for (int c = 0; c < g.C; c++) X[s * g.C + c] = inputSpectrum(g, dft, x, s, c);
        }
        double[][][] Wf = new double[g.F * g.C][][];
        for (int f = 0; f < g.F; f++) {
            for (int c = 0; c < g.C; c++) Wf[f * g.C + c] = weightSpectrum(g, dft, w, f, c);
        }
        double[] y = new double[g.ySize(n)];
        for (int s = 0; s < n; s++) {
            for (int f = 0; f < g.F; f++) {
                double[] ar = new double[P], ai = new double[P];
                for (int c = 0; c < g.C; c++) {
                    double[][] xs = X[s * g.C + c], ws = Wf[f * g.C + c];
                    for (int k = 0; k < P; k++) {
                        if (!mask[k]) continue;
                        // (a + bi)(c - di)
                        ar[k] += xs[0][k] * ws[0][k] + xs[1][k] * ws[1][k];
                        ai[k] += xs[1][k] * ws[0][k] - xs[0][k] * ws[1][k];
                    }
                }
                double[] full = inverseReal(dft, ar, ai, t);
                for (int i = 0; i < Ho; i++) {
                    for (int j = 0; j < Wo; j++) {
                        y[((s * g.F + f) * Ho + i) * Wo + j] = (b == null ? 0.0 : b[f]) + full[i * g.sh * LW + j * g.sw];
                    }
                }
            }
        }
        return y;
    }

    /**
     * Band-limited backward with the forward's box: {@code dX^[n,c] = sum_f M.dY^[n,f] . W^[f,c]}
     * keeping [pt, pt+H) x [pl, pl+W); {@code dW^[f,c] = sum_n X^[n,c] . conj(M.dY^[n,f])} keeping
     * [0, KH) x [0, KW); {@code db = sum dy}.
     */
    public static Grads bandLimitedBackward(Geom g, int n, double[] x, double[] w, double[] dy, Box box, ImagTracker t) {
        int LH = g.LH(), LW = g.LW(), P = LH * LW;
        Dft dft = new Dft(LH, LW);
        boolean[] mask = fullPlaneMask(LH, LW, box);
        double[][][] D = new double[n * g.F][][];
        for (int s = 0; s < n; s++) {
            for (int f = 0; f < g.F; f++) D[s * g.F + f] = gradSpectrum(g, dft, dy, s, f, mask);
        }
        double[] dx = new double[g.xSize(n)];
        for (int c = 0; c < g.C; c++) {
            double[][][] Wc = new double[g.F][][];
            for (int f = 0; f < g.F; f++) Wc[f] = weightSpectrum(g, dft, w, f, c);
            for (int s = 0; s < n; s++) {
                double[] ar = new double[P], ai = new double[P];
                for (int f = 0; f < g.F; f++) {
                    double[][] ds = D[s * g.F + f], ws = Wc[f];
                    for (int k = 0; k < P; k++) {
                        // (a + bi)(c + di)
                        ar[k] += ds[0][k] * ws[0][k] - ds[1][k] * ws[1][k];
                        ai[k] += ds[0][k] * ws[1][k] + ds[1][k] * ws[0][k];
                    }
                }
                double[] full = inverseReal(dft, ar, ai, t);
                for (int h = 0; h < g.H; h++) {
                    for (int q = 0; q < g.W; q++) {
                        dx[((s * g.C + c) * g.H + h) * g.W + q] = full[(h + g.pt) * LW + q + g.pl];
                    }
                }
            }
        }
        double[] dw = new double[g.wSize()];
        double[][][] X = new double[n * g.C][][];
        for (int s = 0; s < n; s++) {
            for (int c = 0; c < g.C; c++) X[s * g.C + c] = inputSpectrum(g, dft, x, s, c);
        }
        for (int f = 0; f < g.F; f++) {
            for (int c = 0; c < g.C; c++) {
                double[] ar = new double[P], ai = new double[P];
                for (int s = 0; s < n; s++) {
                    double[][] xs = X[s * g.C + c], ds = D[s * g.F + f];
                    for (int k = 0; k < P; k++) {
                        // (a + bi)(c - di)
                        ar[k] += xs[0][k] * ds[0][k] + xs[1][k] * ds[1][k];
                        ai[k] += xs[1][k] * ds[0][k] - xs[0][k] * ds[1][k];
                    }
                }
                double[] full = inverseReal(dft, ar, ai, t);
                for (int u = 0; u < g.KH; u++) {
                    for (int v = 0; v < g.KW; v++) dw[((f * g.C + c) * g.KH + u) * g.KW + v] = full[u * LW + v];
                }
            }
        }
        double[] db = new double[g.F];
        int HoWo = g.Ho() * g.Wo();
        for (int s = 0; s < n; s++) {
            for (int f = 0; f < g.F; f++) {
                for (int k = 0; k < HoWo; k++) db[f] += dy[(s * g.F + f) * HoWo + k];
            }
        }
        return new Grads(dx, dw, db);
    }

    // ----------------------------------------------------------------------------------------
    // Section 5: errors and bounds
    // ----------------------------------------------------------------------------------------

    /** {@code ||out - ref||_2 / ||ref||_2}. */
    public static double relErr(float[] out, double[] ref) {
        return relErr(toDouble(out), ref);
    }

    public static double relErr(double[] out, double[] ref) {
        if (out.length != ref.length) throw new IllegalArgumentException(out.length + " != " + ref.length);
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = out[i] - ref[i];
            num += d * d;
            den += ref[i] * ref[i];
        }
        return Math.sqrt(num / den);
    }

    /** The float32 bound of section 5: {@code 16 * 2^-24 * log2(LH * LW * R)}. */
    public static double bound(long LH, long LW, long R) {
        return 16 * Math.scalb(1.0, -24) * (Math.log((double) LH * LW * R) / Math.log(2));
    }

    /** Reduction length of y: C*KH*KW. */
    public static long reductionY(Geom g) {
        return (long) g.C * g.KH * g.KW;
    }

    /** Reduction length of dx: F*KH*KW. */
    public static long reductionDx(Geom g) {
        return (long) g.F * g.KH * g.KW;
    }

    /** Reduction length of dw (and db): N*Ho*Wo. */
    public static long reductionDw(Geom g, int n) {
        return (long) n * g.Ho() * g.Wo();
    }

    // ----------------------------------------------------------------------------------------
    // Data
    // ----------------------------------------------------------------------------------------

    /** Standard normal float32 values (never all zero or constant). */
    public static float[] randomFloats(SplittableRandom random, int count) {
        float[] a = new float[count];
        for (int i = 0; i < count; i++) a[i] = (float) random.nextGaussian();
        return a;
    }

    public static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    public static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
        return s;
    }

    public static double norm(float[] a) {
        return Math.sqrt(dot(a, a));
    }
}
