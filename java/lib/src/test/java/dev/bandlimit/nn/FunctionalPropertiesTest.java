package dev.bandlimit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bandlimit.PropertyRuns;
import dev.bandlimit.Tensor;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The layer ops of {@link Functional} on random shapes against float64 references written from
 * their definitions (PyTorch's semantics, as the javadoc of each op states): batch norm in
 * training (batch statistics, running-statistics update) and evaluation, with and without the
 * fused ReLU; ReLU; max, average and global average pooling; linear; softmax cross-entropy;
 * dropout; add. Gradients come from one backward of {@code L = <y, r>} (so the op's upstream
 * gradient is a random {@code r}) and are compared with the reference's backward.
 *
 * <p>Error bounds, with {@code u = 2^-24}: elementwise ops that round once (ReLU, add, their
 * gradients, the pooling winners) are exact; a value that sums {@code k} terms {@code t_i} in
 * float32 gets the classical bound {@code |err| <= 2 (k + 2) u sum |t_i|} (Higham, 3.1, with the
 * products' and the store's rounding); the ops that reduce in float64 (batch norm, softmax) are
 * held to {@code 1e-5} relative in L2, floored at 1/16 of their operands' scale as the
 * convolution is ({@code TestSupport.assertWithinBoundOrFloor}): a batch of two values per
 * channel, which the shapes draw, has a batch-norm input gradient of nearly zero ({@code eps}
 * times the upstream gradient), whose float32 value is all rounding.
 */
class FunctionalPropertiesTest {
    private static final double U = 0x1.0p-24;
    private static double worstRatio;
    private static String worstWhat = "none";

    private static synchronized void record(double ratio, String what) {
        if (ratio > worstRatio || Double.isNaN(ratio)) {
            worstRatio = ratio;
            worstWhat = what;
        }
    }

    @AfterAll
    static void report() {
        System.out.printf(Locale.ROOT, "FunctionalPropertiesTest: worst err/bound %.3f (%s); seed %d, tries x%s%n",
                worstRatio, worstWhat, PropertyRuns.RUN_SEED, PropertyRuns.TRIES_FACTOR);
    }

    // ----------------------------------------------------------------------------------------
    // Data and checks
    // ----------------------------------------------------------------------------------------

    private static float[] normal(PropertyRuns.Try t, long count, double scale) {
        float[] a = new float[Math.toIntExact(count)];
        for (int i = 0; i < a.length; i++) a[i] = (float) (scale * t.random().nextGaussian());
        return a;
    }

    private static long count(long[] shape) {
        long c = 1;
        for (long d : shape) c *= d;
        return c;
    }

    /** A random image-like shape {@code [N, C, ...]} of rank 2, 3 or 4 with small extents. */
    private static long[] featureShape(PropertyRuns.Try t, int minRank) {
        int rank = t.between(minRank, 4);
        long[] s = new long[rank];
        s[0] = t.between(1, 5);
        s[1] = t.between(1, 4);
        for (int i = 2; i < rank; i++) s[i] = t.oneOf(1, 2, t.between(1, 9), t.between(1, 9));
        return s;
    }

    /** Element by element: {@code |out - ref| <= bound[i]}. */
    private static void assertEach(String what, float[] out, double[] ref, double[] bound) {
        assertEquals(ref.length, out.length, what + ": length");
        for (int i = 0; i < ref.length; i++) {
            double err = Math.abs(out[i] - ref[i]);
            double ratio = bound[i] > 0 ? err / bound[i] : (err == 0 ? 0 : Double.POSITIVE_INFINITY);
            record(ratio, what);
            int at = i;
            assertTrue(err <= bound[i], () -> String.format(Locale.ROOT, "%s[%d]: %s vs float64 %s, |err| %.3e > bound %.3e",
                    what, at, out[at], ref[at], err, bound[at]));
        }
    }

    /** {@code ||out - ref|| <= tol * max(||ref||, scale / 16)} (see the class comment). */
    private static void assertNormwise(String what, float[] out, double[] ref, double scale, double tol) {
        double diff = 0, norm = 0;
        for (int i = 0; i < ref.length; i++) {
            diff += (out[i] - ref[i]) * (out[i] - ref[i]);
            norm += ref[i] * ref[i];
        }
        double refNorm = Math.sqrt(norm);
        double err = Math.sqrt(diff) / Math.max(refNorm, scale / 16);
        record(err / tol, what);
        assertTrue(err <= tol, () -> String.format(Locale.ROOT, "%s: err %.3e > %.1e (||ref|| %.3e, scale %.3e)", what, err,
                tol, refNorm, scale));
    }

    private static double norm(float[] a) {
        double s = 0;
        for (float v : a) s += (double) v * v;
        return Math.sqrt(s);
    }

    /** {@code L = <y, r>} on the tape, backward; the upstream gradient of y is then exactly r. */
    private static void backwardOfDot(Tape tape, Var y, Tensor r) {
        tape.backward(Functional.dot(tape, y, r));
    }

    // ----------------------------------------------------------------------------------------
    // Batch normalisation
    // ----------------------------------------------------------------------------------------

    @TestFactory
    Stream<DynamicTest> batchNormMatchesItsDefinition() {
        return PropertyRuns.tries("batch norm", 150, t -> {
            long[] shape = featureShape(t, 2);
            long n = shape[0], channels = shape[1], spatial = count(shape) / (n * channels), perChannel = n * spatial;
            boolean training = perChannel >= 2 && t.chance(0.75);
            boolean relu = t.chance(0.4);
            double momentum = t.oneOf(0.1, t.random().nextDouble());
            double eps = t.oneOf(1e-5, 1e-3);
            double offset = t.oneOf(0.0, 0.0, 20.0);  // a mean large against the spread: the statistics must not cancel
            t.note("x " + Arrays.toString(shape) + (training ? " training" : " evaluation") + (relu ? " +relu" : "")
                    + " momentum " + momentum + " eps " + eps + " offset " + offset);
            float[] x = normal(t, count(shape), 1.5);
            for (int i = 0; i < x.length; i++) x[i] += (float) offset;
            float[] gamma = normal(t, channels, 1), beta = normal(t, channels, 1), r = normal(t, count(shape), 1);
            float[] runningMean = normal(t, channels, 1), runningVar = new float[(int) channels];
            for (int c = 0; c < channels; c++) runningVar[c] = (float) (0.2 + t.random().nextDouble());
            try (Arena arena = Arena.ofConfined(); Tape tape = new Tape(true)) {
                Parameter g = new Parameter("gamma", arena, channels), b = new Parameter("beta", arena, channels);
                g.data().copyFrom(gamma);
                b.data().copyFrom(beta);
                Tensor rm = Tensor.copyOf(arena, runningMean, channels), rv = Tensor.copyOf(arena, runningVar, channels);
                // An evaluation step runs on an evaluation tape; its output needs no gradient.
                Tape step = training ? tape : new Tape(false);
                try {
                    Var xv = step.input(Tensor.copyOf(arena, x, shape), training);
                    Var y = relu ? Functional.batchNormRelu(step, xv, step.param(g), step.param(b), rm, rv, momentum, eps)
                            : Functional.batchNorm(step, xv, step.param(g), step.param(b), rm, rv, momentum, eps);
                    // The float64 reference.
                    double[] mean = new double[(int) channels], invStd = new double[(int) channels];
                    for (int c = 0; c < channels; c++) {
                        double sum = 0, sq = 0;
                        for (long s = 0; s < n; s++) for (long i = 0; i < spatial; i++) sum += x[(int) ((s * channels + c) * spatial + i)];
                        double m = sum / perChannel;
                        for (long s = 0; s < n; s++) {
                            for (long i = 0; i < spatial; i++) sq += Math.pow(x[(int) ((s * channels + c) * spatial + i)] - m, 2);
                        }
                        double var = sq / perChannel;
                        if (training) {
                            mean[c] = m;
                            invStd[c] = 1 / Math.sqrt(var + eps);
                            double expectMean = (1 - momentum) * runningMean[c] + momentum * m;
                            double expectVar = (1 - momentum) * runningVar[c] + momentum * sq / (perChannel - 1);
                            // Updated in float32: one rounding of each term and of the sum.
                            assertEach("running_mean[" + c + "]", new float[] {rm.get(c)}, new double[] {expectMean},
                                    new double[] {4 * U * ((1 - momentum) * Math.abs(runningMean[c]) + momentum * Math.abs(m))});
                            assertEach("running_var[" + c + "]", new float[] {rv.get(c)}, new double[] {expectVar},
                                    new double[] {4 * U * Math.abs(expectVar) + 16 * U * momentum * sq / (perChannel - 1)});
                        } else {
                            mean[c] = runningMean[c];
                            invStd[c] = 1 / Math.sqrt(runningVar[c] + eps);
                        }
                    }
                    if (!training) {
                        assertArrayEquals(runningMean, rm.toArray(), "evaluation leaves running_mean");
                        assertArrayEquals(runningVar, rv.toArray(), "evaluation leaves running_var");
                    }
                    double[] yRef = new double[x.length], bound = new double[x.length];
                    for (int i = 0; i < x.length; i++) {
                        int c = (int) ((i / spatial) % channels);
                        double v = gamma[c] * (x[i] - mean[c]) * invStd[c] + beta[c];
                        // x - mean rounds relative to |x| + |mean| (a large offset), then a few more operations.
                        bound[i] = 16 * U * (Math.abs(gamma[c]) * (Math.abs(x[i]) + Math.abs(mean[c])) * invStd[c] + Math.abs(beta[c]));
                        yRef[i] = relu ? Math.max(v, 0) : v;
                    }
                    float[] yOut = y.data().toArray();
                    assertEach("y", yOut, yRef, bound);
                    if (!training) {
                        assertEquals(0, step.recordedOps(), "an evaluation tape records nothing");
                        return;
                    }
                    backwardOfDot(tape, y, Tensor.copyOf(arena, r, shape));
                    // dy = r, masked by the ReLU (y > 0 as the fused kernel reads it); then the batch-norm backward.
                    double[] dx = new double[x.length], dGamma = new double[(int) channels], dBeta = new double[(int) channels];
                    for (int c = 0; c < channels; c++) {
                        double sumDy = 0, sumDyXhat = 0;
                        for (long s = 0; s < n; s++) {
                            for (long i = 0; i < spatial; i++) {
                                int k = (int) ((s * channels + c) * spatial + i);
                                double dy = relu && !(yOut[k] > 0) ? 0 : r[k];
                                sumDy += dy;
                                sumDyXhat += dy * (x[k] - mean[c]) * invStd[c];
                            }
                        }
                        dBeta[c] = sumDy;
                        dGamma[c] = sumDyXhat;
                        for (long s = 0; s < n; s++) {
                            for (long i = 0; i < spatial; i++) {
                                int k = (int) ((s * channels + c) * spatial + i);
                                double dy = relu && !(yOut[k] > 0) ? 0 : r[k];
                                double xhat = (x[k] - mean[c]) * invStd[c];
                                dx[k] = gamma[c] * invStd[c] / perChannel * (perChannel * dy - sumDy - xhat * sumDyXhat);
                            }
                        }
                    }
                    // Scales: the gradients are sums of dy times the normalised input xhat = (x - mean) invStd,
                    // which float32 knows to u (|x| + |mean|) invStd: kappa is that amplification (about
                    // 3 for centred data, 15 with the offset).
                    double maxGainOfDx = 0, kappa = 1;
                    for (int c = 0; c < channels; c++) maxGainOfDx = Math.max(maxGainOfDx, Math.abs(gamma[c]) * invStd[c]);
                    for (int i = 0; i < x.length; i++) {
                        int c = (int) ((i / spatial) % channels);
                        kappa = Math.max(kappa, (Math.abs(x[i]) + Math.abs(mean[c])) * invStd[c]);
                    }
                    assertNormwise("dx", xv.grad().toArray(), dx, kappa * maxGainOfDx * norm(r), 1e-5);
                    assertNormwise("dgamma", g.grad().toArray(), dGamma, kappa * norm(r) * Math.sqrt(perChannel), 1e-5);
                    assertNormwise("dbeta", b.grad().toArray(), dBeta, norm(r), 1e-5);
                } finally {
                    if (step != tape) step.close();
                }
            }
        });
    }

    /** The fused op is the two ops in turn, bit for bit (values and every gradient). */
    @TestFactory
    Stream<DynamicTest> fusedBatchNormReluIsTheTwoOpsBitForBit() {
        return PropertyRuns.tries("fused batch norm relu", 40, t -> {
            long[] shape = featureShape(t, 2);
            if (count(shape) / shape[1] < 2) shape[0] = 2;
            long channels = shape[1];
            float[] x = normal(t, count(shape), 1), r = normal(t, count(shape), 1), gamma = normal(t, channels, 1),
                    beta = normal(t, channels, 0.5);
            t.note("x " + Arrays.toString(shape));
            float[][] results = new float[2][];
            for (int fused = 0; fused < 2; fused++) {
                try (Arena arena = Arena.ofConfined(); Tape tape = new Tape(true)) {
                    Parameter g = new Parameter("gamma", arena, channels), b = new Parameter("beta", arena, channels);
                    g.data().copyFrom(gamma);
                    b.data().copyFrom(beta);
                    Tensor rm = Tensor.allocate(arena, channels), rv = Tensor.allocate(arena, channels);
                    Var xv = tape.input(Tensor.copyOf(arena, x, shape), true);
                    Var y = fused == 1 ? Functional.batchNormRelu(tape, xv, tape.param(g), tape.param(b), rm, rv, 0.1, 1e-5)
                            : Functional.relu(tape, Functional.batchNorm(tape, xv, tape.param(g), tape.param(b), rm, rv, 0.1, 1e-5));
                    float[] yv = y.data().toArray();
                    backwardOfDot(tape, y, Tensor.copyOf(arena, r, shape));
                    results[fused] = concat(yv, xv.grad().toArray(), g.grad().toArray(), b.grad().toArray(), rm.toArray(),
                            rv.toArray());
                }
            }
            assertArrayEquals(results[0], results[1], "fused vs unfused");
        });
    }

    private static float[] concat(float[]... parts) {
        int total = 0;
        for (float[] p : parts) total += p.length;
        float[] out = new float[total];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    // ----------------------------------------------------------------------------------------
    // Element-wise: ReLU, add, dropout
    // ----------------------------------------------------------------------------------------

    @TestFactory
    Stream<DynamicTest> reluAndAddAreExact() {
        return PropertyRuns.tries("relu and add", 80, t -> {
            long[] shape = featureShape(t, 2);
            float[] a = normal(t, count(shape), 2), b = normal(t, count(shape), 2), r = normal(t, count(shape), 1);
            for (int i = 0; i < a.length; i++) {
                if (t.chance(0.1)) a[i] = t.chance(0.5) ? 0f : -0f;  // the kink: its gradient is taken as 0
            }
            t.note("shape " + Arrays.toString(shape));
            try (Arena arena = Arena.ofConfined(); Tape tape = new Tape(true)) {
                Var av = tape.input(Tensor.copyOf(arena, a, shape), true), bv = tape.input(Tensor.copyOf(arena, b, shape), true);
                Var relu = Functional.relu(tape, av);
                Var sum = Functional.add(tape, relu, bv);
                float[] reluOut = relu.data().toArray(), sumOut = sum.data().toArray();
                for (int i = 0; i < a.length; i++) {
                    float expectRelu = a[i] > 0 ? a[i] : 0f;
                    assertEquals(expectRelu, reluOut[i], 0f, "relu[" + i + "] of " + a[i]);
                    assertEquals(expectRelu + b[i], sumOut[i], 0f, "add[" + i + "]");  // one float32 rounding: exact
                }
                backwardOfDot(tape, sum, Tensor.copyOf(arena, r, shape));
                float[] da = av.grad().toArray(), db = bv.grad().toArray();
                for (int i = 0; i < a.length; i++) {
                    assertEquals(a[i] > 0 ? r[i] : 0f, da[i], 0f, "relu gradient[" + i + "] at " + a[i]);
                    assertEquals(r[i], db[i], 0f, "add gradient[" + i + "]");
                }
            }
        });
    }

    @TestFactory
    Stream<DynamicTest> dropoutKeepsAScaledSeededSubset() {
        return PropertyRuns.tries("dropout", 60, t -> {
            long[] shape = featureShape(t, 2);
            // At least 512 elements: two seeds' masks then differ but with a chance below 1e-40.
            if (count(shape) < 512) shape[0] *= 512 / count(shape) + 1;
            double p = t.oneOf(0.0, 0.5, 0.1 + 0.8 * t.random().nextDouble());
            long seed = t.random().nextLong();
            float[] x = normal(t, count(shape), 1), r = normal(t, count(shape), 1);
            for (int i = 0; i < x.length; i++) if (x[i] == 0) x[i] = 1;  // a dropped element must read as 0
            t.note("shape " + Arrays.toString(shape) + " p " + p + " seed " + seed);
            double scale = 1 / (1 - p);
            float[] first;
            try (Arena arena = Arena.ofConfined(); Tape tape = new Tape(true)) {
                Var xv = tape.input(Tensor.copyOf(arena, x, shape), true);
                Var y = Functional.dropout(tape, xv, p, seed);
                if (p == 0) {
                    assertSame(xv, y, "p = 0 is the identity");
                    return;
                }
                first = y.data().toArray();
                long kept = 0;
                for (int i = 0; i < x.length; i++) {
                    if (first[i] == 0) continue;
                    kept++;
                    assertEach("y", new float[] {first[i]}, new double[] {x[i] * scale}, new double[] {3 * U * Math.abs(x[i] * scale)});
                }
                // Binomial(count, 1 - p): five standard deviations.
                double expected = x.length * (1 - p), sd = Math.sqrt(x.length * p * (1 - p));
                assertTrue(Math.abs(kept - expected) <= 5 * sd + 1, "kept " + kept + " of " + x.length + " at p " + p);
                backwardOfDot(tape, y, Tensor.copyOf(arena, r, shape));
                float[] dx = xv.grad().toArray();
                for (int i = 0; i < x.length; i++) {
                    double ref = first[i] == 0 ? 0 : r[i] * scale;
                    assertEach("dx", new float[] {dx[i]}, new double[] {ref}, new double[] {3 * U * Math.abs(ref)});
                }
            }
            // The mask is a pure function of the seed; another seed draws another mask; evaluation is the identity.
            try (Arena arena = Arena.ofConfined(); Tape tape = new Tape(true)) {
                Var xv = tape.input(Tensor.copyOf(arena, x, shape));
                assertArrayEquals(first, Functional.dropout(tape, xv, p, seed).data().toArray(), "same seed, same mask");
                assertNotEquals(Arrays.toString(first), Arrays.toString(Functional.dropout(tape, xv, p, seed + 1).data().toArray()),
                        "another seed, another mask");
            }
            try (Arena arena = Arena.ofConfined(); Tape eval = new Tape(false)) {
                Var xv = eval.input(Tensor.copyOf(arena, x, shape));
                assertSame(xv, Functional.dropout(eval, xv, p, seed), "evaluation is the identity");
            }
            assertThrows(IllegalArgumentException.class, () -> {
                try (Tape tape = new Tape(true)) {
                    Functional.dropout(tape, tape.input(Tensor.allocate(tape.arena(), 2)), t.oneOf(1.0, -0.1, Double.NaN), 1);
                }
            });
        });
    }

    // ----------------------------------------------------------------------------------------
    // Pooling
    // ----------------------------------------------------------------------------------------

    @TestFactory
    Stream<DynamicTest> maxPoolingRoutesToTheFirstMaximum() {
        return PropertyRuns.tries("max pooling", 100, t -> {
            boolean twoD = t.chance(0.7);
            long n = t.between(1, 3), c = t.between(1, 3), h = twoD ? t.between(1, 9) : 1, w = t.between(1, 12);
            long k = t.between(1, (int) (twoD ? Math.min(h, w) : w)), s = t.chance(0.3) ? 2 : t.between(1, 3);
            if (twoD && t.chance(0.3) && Math.min(h, w) >= 2) k = s = 2;  // the CPU's 2x2 stride-2 fast path
            long[] shape = twoD ? new long[] {n, c, h, w} : new long[] {n, c, w};
            boolean ties = t.chance(0.5);
            float[] x = new float[(int) count(shape)];
            for (int i = 0; i < x.length; i++) x[i] = ties ? t.between(-2, 2) : (float) t.random().nextGaussian();
            t.note("x " + Arrays.toString(shape) + " kernel " + k + " stride " + s + (ties ? " with ties" : ""));
            long ho = twoD ? (h - k) / s + 1 : 1, wo = (w - k) / s + 1;
            long kh = twoD ? k : 1, sh = twoD ? s : 1;
            long[] outShape = twoD ? new long[] {n, c, ho, wo} : new long[] {n, c, wo};
            float[] r = normal(t, count(outShape), 1);
            try (Arena arena = Arena.ofConfined(); Tape tape = new Tape(true)) {
                Var xv = tape.input(Tensor.copyOf(arena, x, shape), true);
                Var y = twoD ? Functional.maxPool2d(tape, xv, k, s) : Functional.maxPool1d(tape, xv, k, s);
                assertArrayEquals(outShape, y.shape());
                float[] yOut = y.data().toArray();
                double[] dx = new double[x.length], dxBound = new double[x.length];
                int[] terms = new int[x.length];
                for (long plane = 0; plane < n * c; plane++) {
                    for (long i = 0; i < ho; i++) {
                        for (long j = 0; j < wo; j++) {
                            // The first maximum in scan order (rows, then columns), as PyTorch.
                            int winner = -1;
                            for (long u = 0; u < kh; u++) {
                                for (long v = 0; v < k; v++) {
                                    int at = (int) ((plane * h + i * sh + u) * w + j * s + v);
                                    if (winner < 0 || x[at] > x[winner]) winner = at;
                                }
                            }
                            int out = (int) ((plane * ho + i) * wo + j);
                            assertEquals(x[winner], yOut[out], 0f, "max of window " + out);
                            dx[winner] += r[out];
                            dxBound[winner] += Math.abs(r[out]);
                            terms[winner]++;
                        }
                    }
                }
                backwardOfDot(tape, y, Tensor.copyOf(arena, r, outShape));
                for (int i = 0; i < x.length; i++) dxBound[i] *= 2 * (terms[i] + 2) * U;
                // Every element, winners or not: a gradient routed to the wrong one of two tied
                // values is off by a whole term, far above the bound.
                assertEach("dx", xv.grad().toArray(), dx, dxBound);
            }
        });
    }

    @TestFactory
    Stream<DynamicTest> averagePoolingIsTheWindowMean() {
        return PropertyRuns.tries("average pooling", 80, t -> {
            boolean global = t.chance(0.4);
            long[] shape = global ? featureShape(t, 3) : new long[] {t.between(1, 3), t.between(1, 3), t.between(1, 9), t.between(1, 9)};
            long n = shape[0], c = shape[1];
            long k = global ? 0 : t.between(1, (int) Math.min(shape[2], shape[3])), s = global ? 0 : t.between(1, 3);
            float[] x = normal(t, count(shape), 1);
            t.note("x " + Arrays.toString(shape) + (global ? " global" : " kernel " + k + " stride " + s));
            long h = global ? 1 : shape[2], w = global ? count(shape) / (n * c) : shape[3];
            long kh = global ? 1 : k, kw = global ? w : k, sh = global ? 1 : s, sw = global ? 1 : s;
            long ho = (h - kh) / sh + 1, wo = (w - kw) / sw + 1;
            long[] outShape = global ? new long[] {n, c} : new long[] {n, c, ho, wo};
            float[] r = normal(t, count(outShape), 1);
            try (Arena arena = Arena.ofConfined(); Tape tape = new Tape(true)) {
                Var xv = tape.input(Tensor.copyOf(arena, x, shape), true);
                Var y = global ? Functional.globalAvgPool(tape, xv) : Functional.avgPool2d(tape, xv, k, s);
                assertArrayEquals(outShape, y.shape());
                double window = kh * kw;
                double[] yRef = new double[(int) count(outShape)], yBound = new double[yRef.length];
                double[] dx = new double[x.length], dxBound = new double[x.length];
                int[] terms = new int[x.length];
                for (long plane = 0; plane < n * c; plane++) {
                    for (long i = 0; i < ho; i++) {
                        for (long j = 0; j < wo; j++) {
                            int out = (int) ((plane * ho + i) * wo + j);
                            double sum = 0, abs = 0;
                            for (long u = 0; u < kh; u++) {
                                for (long v = 0; v < kw; v++) {
                                    int at = (int) ((plane * h + i * sh + u) * w + j * sw + v);
                                    sum += x[at];
                                    abs += Math.abs(x[at]);
                                    dx[at] += r[out] / window;
                                    dxBound[at] += Math.abs(r[out]) / window;
                                    terms[at]++;
                                }
                            }
                            yRef[out] = sum / window;
                            yBound[out] = 2 * (window + 2) * U * abs / window;
                        }
                    }
                }
                assertEach("y", y.data().toArray(), yRef, yBound);
                backwardOfDot(tape, y, Tensor.copyOf(arena, r, outShape));
                for (int i = 0; i < x.length; i++) dxBound[i] *= 2 * (terms[i] + 2) * U;
                assertEach("dx", xv.grad().toArray(), dx, dxBound);
            }
        });
    }

    // ----------------------------------------------------------------------------------------
    // Linear and the loss
    // ----------------------------------------------------------------------------------------

    @TestFactory
    Stream<DynamicTest> linearIsTheMatrixProduct() {
        return PropertyRuns.tries("linear", 100, t -> {
            int n = t.between(1, 6), in = t.oneOf(1, t.between(1, 40), t.between(1, 70)), out = t.between(1, 12);
            boolean withBias = t.chance(0.7);
            t.note("x [" + n + ", " + in + "] -> " + out + (withBias ? " bias" : ""));
            float[] x = normal(t, (long) n * in, 1), w = normal(t, (long) out * in, 1), b = normal(t, out, 1),
                    r = normal(t, (long) n * out, 1);
            try (Arena arena = Arena.ofConfined(); Tape tape = new Tape(true)) {
                Parameter wp = new Parameter("weight", arena, out, in), bp = new Parameter("bias", arena, out);
                wp.data().copyFrom(w);
                bp.data().copyFrom(b);
                Var xv = tape.input(Tensor.copyOf(arena, x, n, in), true);
                Var y = Functional.linear(tape, xv, wp, withBias ? bp : null);
                double[] yRef = new double[n * out], yBound = new double[n * out];
                for (int s = 0; s < n; s++) {
                    for (int o = 0; o < out; o++) {
                        double sum = withBias ? b[o] : 0, abs = withBias ? Math.abs(b[o]) : 0;
                        for (int i = 0; i < in; i++) {
                            sum += (double) x[s * in + i] * w[o * in + i];
                            abs += Math.abs((double) x[s * in + i] * w[o * in + i]);
                        }
                        yRef[s * out + o] = sum;
                        yBound[s * out + o] = 2 * (in + 3) * U * abs;
                    }
                }
                assertEach("y", y.data().toArray(), yRef, yBound);
                backwardOfDot(tape, y, Tensor.copyOf(arena, r, n, out));
                double[] dx = new double[n * in], dxBound = new double[n * in], dw = new double[out * in],
                        dwBound = new double[out * in], db = new double[out], dbBound = new double[out];
                for (int s = 0; s < n; s++) {
                    for (int o = 0; o < out; o++) {
                        double g = r[s * out + o];
                        db[o] += g;
                        dbBound[o] += Math.abs(g);
                        for (int i = 0; i < in; i++) {
                            dx[s * in + i] += g * w[o * in + i];
                            dxBound[s * in + i] += Math.abs(g * w[o * in + i]);
                            dw[o * in + i] += g * x[s * in + i];
                            dwBound[o * in + i] += Math.abs(g * x[s * in + i]);
                        }
                    }
                }
                for (int i = 0; i < dxBound.length; i++) dxBound[i] *= 2 * (out + 2) * U;
                for (int i = 0; i < dwBound.length; i++) dwBound[i] *= 2 * (n + 2) * U;
                for (int i = 0; i < dbBound.length; i++) dbBound[i] *= 2 * (n + 2) * U;
                assertEach("dx", xv.grad().toArray(), dx, dxBound);
                assertEach("dw", wp.grad().toArray(), dw, dwBound);
                if (withBias) {
                    assertEach("db", bp.grad().toArray(), db, dbBound);
                } else {
                    assertArrayEquals(new float[out], bp.grad().toArray(), "an unused bias gets no gradient");
                }
            }
        });
    }

    @TestFactory
    Stream<DynamicTest> softmaxCrossEntropyIsTheMeanNegativeLogLikelihood() {
        return PropertyRuns.tries("softmax cross-entropy", 100, t -> {
            int n = t.between(1, 8), classes = t.between(1, 12);
            double scale = t.oneOf(1.0, 10.0, 100.0);  // large logits: the row maximum must be subtracted
            float[] z = normal(t, (long) n * classes, scale);
            int[] labels = new int[n];
            for (int i = 0; i < n; i++) labels[i] = t.random().nextInt(classes);
            t.note("logits [" + n + ", " + classes + "] scale " + scale + " labels " + Arrays.toString(labels));
            double[] grad = new double[n * classes], gradBound = new double[n * classes];
            double loss = 0;
            for (int s = 0; s < n; s++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < classes; k++) max = Math.max(max, z[s * classes + k]);
                double sum = 0;
                for (int k = 0; k < classes; k++) sum += Math.exp(z[s * classes + k] - max);
                loss += max + Math.log(sum) - z[s * classes + labels[s]];
                for (int k = 0; k < classes; k++) {
                    double p = Math.exp(z[s * classes + k] - max) / sum, onehot = k == labels[s] ? 1 : 0;
                    grad[s * classes + k] = (p - onehot) / n;
                    // The kept probability rounds to float32, then (p - onehot) / n: a few roundings of p and 1.
                    gradBound[s * classes + k] = 8 * U * (p + onehot) / n + Float.MIN_NORMAL;
                }
            }
            loss /= n;
            float[] r = {t.chance(0.5) ? 1f : (float) t.random().nextGaussian()};
            try (Arena arena = Arena.ofConfined(); Tape tape = new Tape(true)) {
                Var zv = tape.input(Tensor.copyOf(arena, z, n, classes), true);
                Var l = Functional.softmaxCrossEntropy(tape, zv, labels);
                assertArrayEquals(new long[] {1}, l.shape());
                // Evaluated in float64, rounded once; the logits' own scale bounds the float64 error.
                assertEach("loss", new float[] {l.item()}, new double[] {loss}, new double[] {2 * U * Math.abs(loss) + 1e-12 * scale});
                backwardOfDot(tape, l, Tensor.copyOf(arena, r, 1));
                for (int i = 0; i < grad.length; i++) {
                    grad[i] *= r[0];
                    gradBound[i] = gradBound[i] * Math.abs(r[0]) + 2 * U * Math.abs(grad[i]);
                }
                assertEach("dlogits", zv.grad().toArray(), grad, gradBound);
            }
            int bad = t.oneOf(-1, classes, classes + t.between(1, 5), Integer.MIN_VALUE);
            int[] badLabels = labels.clone();
            badLabels[t.random().nextInt(n)] = bad;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
                try (Arena arena = Arena.ofConfined(); Tape tape = new Tape(true)) {
                    Functional.softmaxCrossEntropy(tape, tape.input(Tensor.copyOf(arena, z, n, classes)), badLabels);
                }
            });
            assertTrue(e.getMessage().contains("label " + bad), e.getMessage());
        });
    }
}
