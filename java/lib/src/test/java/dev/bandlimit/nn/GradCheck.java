package dev.bandlimit.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bandlimit.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Finite-difference gradient checks. For an op {@code y = f(inputs, params)} and a random
 * {@code r}, the scalar {@code L = <y, r>} (or a loss of {@code y}, see {@link Head}) is
 * back-propagated once (analytic gradients {@code g} for every input and parameter); then, for
 * each leaf and two random directions {@code v}, the analytic directional derivative
 * {@code A = <g, v>} is compared with central differences of float32 forwards, evaluated in
 * float64: {@code D(h) = (L(x + hv) - L(x - hv)) / 2h}, Richardson-extrapolated as
 * {@code R = (4 D(h/2) - D(h)) / 3} (truncation O(h^4) instead of O(h^2)).
 *
 * <p>Exact perturbations: leaves hold multiples of 2^-8 of magnitude at most 4 (or distinct
 * multiples of 1/8 for pooling inputs), directions multiples of 2^-4 in [-1, 1] and {@code h} a
 * power of two, so {@code x +- hv} and {@code x +- hv/2} are exact in float32 (asserted): the
 * differences see the op's own rounding only, never the rounding of the perturbation.
 *
 * <p>Tolerance: {@code |numeric - A| <= tol * scale} with {@code scale = max(|A|, |g| |v| / sqrt(n))};
 * the second term is the typical size of {@code <g, v>} for a random {@code v}, so a direction
 * nearly orthogonal to {@code g} cannot demand more than float32 can give. For single ops
 * {@code h = 2^-5} and {@code tol = 1e-3}: the float32 rounding of {@code L}, about
 * {@code 2^-24 sum|y_i r_i|}, over {@code h} is 1e-6 to 1e-5 of {@code A} on these shapes, and the
 * O(h^4) truncation of the smooth ops (batch norm, softmax) below that; the worst error seen is
 * 3e-5 (batch norm, energy-mode conv), 30x inside the tolerance, while a wrong gradient (a
 * missing term, a transposed index, the dense gradient of a band-limited forward, see
 * {@code ConvGradientTest.denseGradientFailsTheBandLimitedCheck}) is off by O(1e-1) to O(1).
 * (Public, with the helpers other packages' tests use, for the model tests of
 * {@code dev.bandlimit.nn.models}.)
 *
 * <p>Piecewise-smooth ops (ReLU, max pooling, energy-chosen boxes) are differentiable only inside
 * a region; each forward reports its region (sign patterns, pooling winners, boxes) and every
 * perturbed forward must stay in the base point's region, so no difference straddles a kink.
 * Single-op checks choose inputs at least {@code h} away from kinks; the whole-model check halves
 * {@code h} (down to a floor) until the region holds, trying another direction if it never does.
 * Below {@code h = 2^-8} the plain {@code D(h)} replaces {@code R}: truncation is then under 1e-5
 * and extrapolation would only triple the rounding noise.
 */
public final class GradCheck {
    public static final double H = 0x1.0p-5;
    public static final double TOLERANCE = 1e-3;
    static final int DIRECTIONS = 2;
    /** Set GRADCHECK_VERBOSE to print every comparison. */
    static final boolean VERBOSE = System.getenv("GRADCHECK_VERBOSE") != null;

    /** Builds the checked output from the input vars; adds region signatures to {@code region}. */
    public interface Forward {
        Var apply(Tape tape, Var[] inputs, List<Object> region);
    }

    /**
     * Turns the checked output {@code y} into the scalar {@code L}: on the tape for the analytic
     * gradient, and in float64 from {@code y}'s float32 values for the differences.
     */
    public interface Head {
        Var onTape(Tape tape, Var y, Tensor r);

        double inFloat64(Tensor y, Tensor r);
    }

    /** {@code L = <y, r>}. */
    public static final Head DOT = new Head() {
        @Override
        public Var onTape(Tape tape, Var y, Tensor r) {
            return Functional.dot(tape, y, r);
        }

        @Override
        public double inFloat64(Tensor y, Tensor r) {
            double sum = 0;
            for (long i = 0; i < y.elementCount(); i++) sum += (double) y.get(i) * r.get(i);
            return sum;
        }
    };

    /**
     * {@code L = softmaxCrossEntropy(y, labels)}: the op on the tape, the same formula in float64
     * for the differences, so the loss's own float32 rounding (6e-8 of ~1) is not divided by h.
     */
    public static Head crossEntropy(int[] labels) {
        return new Head() {
            @Override
            public Var onTape(Tape tape, Var y, Tensor r) {
                return Functional.softmaxCrossEntropy(tape, y, labels);
            }

            @Override
            public double inFloat64(Tensor y, Tensor r) {
                int classes = (int) y.dim(1);
                double total = 0;
                for (int n = 0; n < labels.length; n++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int k = 0; k < classes; k++) max = Math.max(max, y.get((long) n * classes + k));
                    double sum = 0;
                    for (int k = 0; k < classes; k++) sum += Math.exp(y.get((long) n * classes + k) - max);
                    total += max + Math.log(sum) - y.get((long) n * classes + labels[n]);
                }
                return total / labels.length;
            }
        };
    }

    /** The worst relative error seen, for the report. */
    static double worstSeen;

    private GradCheck() {}

    /**
     * Checks the gradients of every input tensor and every parameter. Inputs and parameter data
     * must already hold exactly representable values ({@link #fillQuantized}).
     */
    public static double check(String what, Forward f, Tensor[] inputs, List<Parameter> params, long seed) {
        return check(what, f, DOT, inputs, params, seed, H, TOLERANCE);
    }

    /**
     * {@link #check(String, Forward, Tensor[], List, long)} with another head, a smallest step {@code minStep}
     * (h is halved from {@link #H} while a perturbed forward leaves the smooth region) and a
     * tolerance of its own.
     */
    public static double check(String what, Forward f, Head head, Tensor[] inputs, List<Parameter> params, long seed,
            double minStep, double tolerance) {
        SplittableRandom random = new SplittableRandom(seed);
        for (Parameter p : params) p.zeroGrad();
        List<Object> baseRegion = new ArrayList<>();
        double[][] inputGrads = new double[inputs.length][];
        Tensor r;
        try (Arena arena = Arena.ofConfined()) {
            try (Tape tape = new Tape(true)) {
                Var[] vars = new Var[inputs.length];
                for (int i = 0; i < inputs.length; i++) vars[i] = tape.input(inputs[i], true);
                Var y = f.apply(tape, vars, baseRegion);
                r = Tensor.allocate(arena, y.shape());
                for (long i = 0; i < r.elementCount(); i++) r.set(i, (float) (random.nextDouble() * 2 - 1));
                tape.backward(head.onTape(tape, y, r));
                for (int i = 0; i < inputs.length; i++) {
                    assertTrue(vars[i].grad() != null, what + ": input " + i + " got no gradient");
                    inputGrads[i] = toDoubles(vars[i].grad());
                }
            }
            double worst = 0;
            double smallestStep = H;
            List<Tensor> leaves = new ArrayList<>(Arrays.asList(inputs));
            List<double[]> grads = new ArrayList<>(Arrays.asList(inputGrads));
            List<String> names = new ArrayList<>();
            for (int i = 0; i < inputs.length; i++) names.add("input " + i);
            for (Parameter p : params) {
                leaves.add(p.data());
                grads.add(toDoubles(p.grad()));
                names.add("param " + p.name());
            }
            for (int k = 0; k < leaves.size(); k++) {
                Tensor leaf = leaves.get(k);
                double[] g = grads.get(k);
                float[] saved = leaf.toArray();
                for (int d = 0; d < DIRECTIONS; d++) {
                    double[] v = new double[g.length];
                    double analytic = 0, gNorm = 0, vNorm = 0;
                    double[] losses = new double[4];
                    double h = H;
                    // Halve h until no perturbed forward leaves the base point's smooth region
                    // (a ReLU sign, a pooling winner or an energy box changes); below minStep,
                    // draw another random direction (a few times at most).
                    boolean inRegion = false;
                    for (int attempt = 0; !inRegion; attempt++) {
                        assertTrue(attempt < 8, what + ": " + names.get(k)
                                + ": perturbed forwards leave the base point's smooth region in every direction tried");
                        analytic = 0;
                        gNorm = 0;
                        vNorm = 0;
                        for (int i = 0; i < v.length; i++) {
                            v[i] = (random.nextInt(33) - 16) / 16.0;
                            analytic += g[i] * v[i];
                            gNorm += g[i] * g[i];
                            vNorm += v[i] * v[i];
                        }
                        for (h = H; h >= minStep && !inRegion; h /= 2) {
                            inRegion = evaluate(f, head, inputs, r, leaf, saved, v, h, baseRegion, losses);
                        }
                        h *= 2; // undo the loop's last halving
                    }
                    smallestStep = Math.min(smallestStep, h);
                    double dH = (losses[0] - losses[1]) / (2 * h);
                    double dHalf = (losses[2] - losses[3]) / h;
                    // Large h: Richardson cancels the O(h^2) truncation. Small h (forced by nearby
                    // kinks): truncation is below 1e-5 relative and extrapolation would only
                    // triple the rounding noise, so take the plain difference with the larger step.
                    double numeric = h > 0x1.0p-8 ? (4 * dHalf - dH) / 3 : dH;
                    double scale = Math.max(Math.abs(analytic), Math.sqrt(gNorm * vNorm / v.length));
                    double error = Math.abs(numeric - analytic) / scale;
                    if (VERBOSE) {
                        System.out.printf("  %s, %s, direction %d: h 2^%d, analytic %.6g, D(h) %.6g, D(h/2) %.6g,"
                                + " numeric %.6g, relative error %.2e%n", what, names.get(k), d, Math.getExponent(h),
                                analytic, dH, dHalf, numeric, error);
                    }
                    worst = Math.max(worst, error);
                    assertTrue(scale > 0, what + ": " + names.get(k) + ": zero gradient, nothing checked");
                    assertTrue(error <= tolerance, String.format(
                            "%s: %s, direction %d: analytic %.9g, numeric %.9g, relative error %.3g > %.1g",
                            what, names.get(k), d, analytic, numeric, error, tolerance));
                }
            }
            synchronized (GradCheck.class) {
                worstSeen = Math.max(worstSeen, worst);
            }
            System.out.printf("gradcheck %-58s worst relative error %.2e (smallest h 2^%d)%n", what, worst,
                    Math.getExponent(smallestStep));
            return worst;
        }
    }

    /** Fills {@code losses} with L at {@code x + hv, x - hv, x + hv/2, x - hv/2}; false if one leaves the region. */
    private static boolean evaluate(Forward f, Head head, Tensor[] inputs, Tensor r, Tensor leaf, float[] saved,
            double[] v, double h, List<Object> baseRegion, double[] losses) {
        double[] steps = {h, -h, h / 2, -h / 2};
        try {
            for (int s = 0; s < 4; s++) {
                for (int i = 0; i < v.length; i++) {
                    float moved = (float) (saved[i] + steps[s] * v[i]);
                    assertEquals(saved[i] + steps[s] * v[i], moved, 0.0, "perturbation must be exact");
                    leaf.set(i, moved);
                }
                List<Object> region = new ArrayList<>();
                losses[s] = loss(f, head, inputs, r, region);
                if (!baseRegion.equals(region)) {
                    if (VERBOSE) System.out.println("  left the smooth region at h = " + h);
                    return false;
                }
            }
            return true;
        } finally {
            leaf.copyFrom(saved);
        }
    }

    private static double loss(Forward f, Head head, Tensor[] inputs, Tensor r, List<Object> region) {
        try (Tape tape = new Tape(true)) {
            Var[] vars = new Var[inputs.length];
            for (int i = 0; i < inputs.length; i++) vars[i] = tape.input(inputs[i], true);
            Var y = f.apply(tape, vars, region);
            return head.inFloat64(y.data(), r);
        }
    }

    static double[] toDoubles(Tensor t) {
        double[] out = new double[Math.toIntExact(t.elementCount())];
        for (int i = 0; i < out.length; i++) out[i] = t.get(i);
        return out;
    }

    /** Fills {@code t} with multiples of 2^-8 in [-range, range] (range a power of two <= 4). */
    public static void fillQuantized(Tensor t, double range, SplittableRandom random) {
        int steps = (int) (range * 256);
        for (long i = 0; i < t.elementCount(); i++) t.set(i, (random.nextInt(2 * steps + 1) - steps) / 256f);
    }

    /** Like {@link #fillQuantized} but every value at least {@code margin} away from 0 (ReLU inputs). */
    public static void fillAwayFromZero(Tensor t, double range, double margin, SplittableRandom random) {
        int lo = (int) Math.ceil(margin * 256), hi = (int) (range * 256);
        for (long i = 0; i < t.elementCount(); i++) {
            int m = lo + random.nextInt(hi - lo + 1);
            t.set(i, (random.nextBoolean() ? m : -m) / 256f);
        }
    }

    /** Quantizes every parameter of a module to multiples of 2^-8 in [-range, range]. */
    public static void quantizeParameters(List<Parameter> params, double range, SplittableRandom random) {
        for (Parameter p : params) fillQuantized(p.data(), range, random);
    }

    /** Region signature of a ReLU input: which elements are positive. */
    public static BitSet positive(Tensor x) {
        BitSet b = new BitSet();
        for (int i = 0; i < x.elementCount(); i++) if (x.get(i) > 0) b.set(i);
        return b;
    }

    /** Region signature of max pooling: the winner of every window (ties resolved to the first, like the op). */
    static String poolWinners(Tensor x, long kernelH, long kernelW, long stride) {
        long[] s = x.shape();
        long h = s.length == 4 ? s[2] : 1, w = s[s.length - 1];
        long planes = s[0] * s[1];
        long ho = s.length == 4 ? (h - kernelH) / stride + 1 : 1, wo = (w - kernelW) / stride + 1;
        StringBuilder sb = new StringBuilder();
        for (long p = 0; p < planes; p++) {
            for (long i = 0; i < ho; i++) {
                for (long j = 0; j < wo; j++) {
                    long best = -1;
                    float bestValue = Float.NEGATIVE_INFINITY;
                    int ties = 0;
                    for (long u = 0; u < kernelH; u++) {
                        for (long v = 0; v < kernelW; v++) {
                            long idx = p * h * w + (i * stride + u) * w + j * stride + v;
                            float value = x.get(idx);
                            if (value > bestValue) {
                                bestValue = value;
                                best = idx;
                                ties = 0;
                            } else if (value == bestValue) {
                                ties++;
                            }
                        }
                    }
                    // A tie at the base point is itself a kink.
                    sb.append(best).append(ties > 0 ? "T" : "").append(',');
                }
            }
        }
        return sb.toString();
    }

    /**
     * Fills {@code t} with a shuffle of distinct multiples of {@code spacing} centred on 0, so
     * any two elements differ by at least {@code spacing}: max-pooling winners cannot change
     * under perturbations smaller than {@code spacing / 2} (ours move an element by at most h).
     */
    static void fillDistinct(Tensor t, double spacing, SplittableRandom random) {
        int n = Math.toIntExact(t.elementCount());
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        for (int i = 0; i < n; i++) t.set(i, (float) ((order[i] - n / 2) * spacing));
    }
}
