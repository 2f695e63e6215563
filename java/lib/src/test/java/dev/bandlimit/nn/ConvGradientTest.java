package dev.bandlimit.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bandlimit.Box;
import dev.bandlimit.Compression;
import dev.bandlimit.Padding;
import dev.bandlimit.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Finite-difference gradient checks of {@link Conv2d} and {@link Conv1d} (input, weight and
 * bias) through the native operator: dense ({@code rho = 0}), band-limited ({@code rho = 0.5},
 * a different function whose gradient must be just as exact: the backward masks with the
 * forward's box) and energy mode, where the box is chosen by the forward and every perturbed
 * forward must choose the same one. See {@link GradCheck} for the tolerance.
 */
class ConvGradientTest extends GradientTestBase {
    ConvGradientTest() {
        super(7);
    }

    /**
     * A smooth input (a few low-frequency cosines plus a little noise, quantized), whose energy
     * sits at low frequencies so that energy mode picks a box smaller than the full one.
     */
    private Tensor smooth(long... shape) {
        Tensor t = Tensor.allocate(arena, shape);
        long w = shape[shape.length - 1];
        long h = shape.length == 4 ? shape[2] : 1;
        long planes = shape[0] * shape[1];
        for (long p = 0; p < planes; p++) {
            double a = random.nextDouble() + 0.5, b = random.nextDouble(), phase = random.nextDouble() * 6;
            for (long i = 0; i < h; i++) {
                for (long j = 0; j < w; j++) {
                    double v = a + b * Math.cos(2 * Math.PI * j / w + phase) + 0.5 * b * Math.cos(2 * Math.PI * i / Math.max(h, 2))
                            + 0.02 * (random.nextDouble() - 0.5);
                    t.set(p * h * w + i * w + j, Math.round(v * 256) / 256f);
                }
            }
        }
        return t;
    }

    private double checkConv(String what, ConvLayer conv, Tensor x, long seed) {
        GradCheck.quantizeParameters(conv.parameters(), 0.5, random);
        return GradCheck.check(what, (tape, in, region) -> {
            Var y = conv.forward(tape, in[0]);
            region.add(conv.lastBox());
            return y;
        }, new Tensor[] {x}, conv.parameters(), seed);
    }

    @Test
    void conv2dDense() {
        try (Conv2d conv = new Conv2d(3, 4, 3, 3, Padding.symmetric(1), 1, true, Compression.fixed(0), Compression.fixed(0), 1)) {
            checkConv("Conv2d 3->4 3x3 pad 1, rho 0", conv, quantized(2, 3, 8, 8), 1);
            assertEquals(0.0, conv.lastAchievedRate());
        }
    }

    @Test
    void conv2dBandLimited() {
        try (Conv2d conv = new Conv2d(3, 4, 3, 3, Padding.symmetric(1), 1, true, Compression.fixed(0.5), Compression.fixed(0.5), 2)) {
            checkConv("Conv2d 3->4 3x3 pad 1, rho 0.5", conv, quantized(2, 3, 8, 8), 2);
            // 8x8 with pad 1: L = 10, the achievable rates are 0, 0.25, 0.533...: 0.5 gives 0.25.
            assertEquals(0.25, conv.lastAchievedRate(), 1e-12);
        }
    }

    @Test
    void conv2dBandLimitedStrideTwoNoBias() {
        try (Conv2d conv = new Conv2d(2, 3, 3, 3, Padding.symmetric(1), 2, false, Compression.fixed(0.5), Compression.fixed(0.5), 3)) {
            checkConv("Conv2d 2->3 3x3 pad 1 stride 2 no bias, rho 0.5", conv, quantized(2, 2, 9, 7), 3);
            assertTrue(conv.lastAchievedRate() > 0);
        }
    }

    @Test
    void conv2dMnistShapedKernel() {
        // The MNIST model's kernel: 5x5, pad 2, on an odd map; and an even kernel with one-sided padding.
        try (Conv2d conv = new Conv2d(2, 3, 5, 5, Padding.symmetric(2), 1, true, Compression.fixed(0.5), Compression.fixed(0.5), 4)) {
            checkConv("Conv2d 2->3 5x5 pad 2 on 7x7, rho 0.5", conv, quantized(2, 2, 7, 7), 4);
            assertTrue(conv.lastAchievedRate() > 0);
        }
        try (Conv2d conv = new Conv2d(2, 2, 2, 4, Padding.same(2, 4), 1, true, Compression.fixed(0.3), Compression.fixed(0.3), 5)) {
            checkConv("Conv2d 2x4 kernel same padding, rho 0.3", conv, quantized(3, 2, 5, 6), 5);
        }
    }

    @Test
    void conv2dEnergy() {
        try (Conv2d conv = new Conv2d(2, 3, 3, 3, Padding.symmetric(1), 1, true, Compression.energy(0.95), Compression.energy(0.95), 6)) {
            Tensor x = smooth(2, 2, 10, 10);
            checkConv("Conv2d energy 0.95 (box fixed by the forward)", conv, x, 6);
            Box box = conv.lastBox();
            assertTrue(conv.lastAchievedRate() > 0, "energy mode should keep less than the full box here, got " + box);
        }
    }

    @Test
    void conv1dDense() {
        try (Conv1d conv = new Conv1d(3, 4, 3, Padding.of1d(1, 1), 1, true, Compression.fixed(0), Compression.fixed(0), 7)) {
            checkConv("Conv1d 3->4 k3 pad 1, rho 0", conv, quantized(2, 3, 12), 7);
        }
    }

    @Test
    void conv1dBandLimited() {
        try (Conv1d conv = new Conv1d(3, 4, 3, Padding.of1d(1, 1), 1, true, Compression.fixed(0.5), Compression.fixed(0.5), 8)) {
            checkConv("Conv1d 3->4 k3 pad 1, rho 0.5", conv, quantized(2, 3, 12), 8);
            assertTrue(conv.lastAchievedRate() > 0.3);
        }
        try (Conv1d conv = new Conv1d(2, 3, 4, Padding.of1d(2, 1), 2, false, Compression.fixed(0.5), Compression.fixed(0.5), 9)) {
            checkConv("Conv1d 2->3 k4 pad (2,1) stride 2 no bias, rho 0.5", conv, quantized(2, 2, 13), 9);
        }
    }

    @Test
    void conv1dEnergy() {
        try (Conv1d conv = new Conv1d(2, 3, 3, Padding.of1d(1, 1), 1, true, Compression.energy(0.95), Compression.energy(0.95), 10)) {
            checkConv("Conv1d energy 0.95 (box fixed by the forward)", conv, smooth(2, 2, 20), 10);
            assertTrue(conv.lastAchievedRate() > 0, "energy mode should keep less than the full box, got " + conv.lastBox());
        }
    }
    /**
     * The check has teeth: the dense operator's gradient, fed as the analytic side against
     * differences of the band-limited forward (same weights), misses by far more than the
     * tolerance. (What a backward that forgot to mask dY would produce.)
     */
    @Test
    void denseGradientFailsTheBandLimitedCheck() {
        try (Conv2d dense = new Conv2d(3, 4, 3, 3, Padding.symmetric(1), 1, true, Compression.none(), Compression.none(), 2);
                Conv2d limited = new Conv2d(3, 4, 3, 3, Padding.symmetric(1), 1, true, Compression.fixed(0.5),
                        Compression.fixed(0.5), 2)) {
            Tensor x = quantized(2, 3, 8, 8);
            Tensor r = quantized(2, 4, 8, 8);
            GradCheck.quantizeParameters(limited.parameters(), 0.5, random);
            for (int i = 0; i < 2; i++) {
                dense.parameters().get(i).data().copyFrom(limited.parameters().get(i).data().toArray());
            }
            double[] g;
            try (Tape tape = new Tape(true)) {
                Var in = tape.input(x, true);
                tape.backward(Functional.dot(tape, dense.forward(tape, in), r));
                g = GradCheck.toDoubles(in.grad());
            }
            double[] v = new double[g.length];
            double analytic = 0, gNorm = 0, vNorm = 0;
            for (int i = 0; i < v.length; i++) {
                v[i] = (random.nextInt(33) - 16) / 16.0;
                analytic += g[i] * v[i];
                gNorm += g[i] * g[i];
                vNorm += v[i] * v[i];
            }
            float[] saved = x.toArray();
            double[] losses = new double[2];
            for (int s = 0; s < 2; s++) {
                for (int i = 0; i < v.length; i++) x.set(i, (float) (saved[i] + (s == 0 ? 1 : -1) * GradCheck.H * v[i]));
                try (Tape tape = new Tape(false)) {
                    losses[s] = GradCheck.DOT.inFloat64(limited.forward(tape, tape.input(x)).data(), r);
                }
            }
            x.copyFrom(saved);
            // The band-limited operator is linear in x: the central difference is exact up to rounding.
            double numeric = (losses[0] - losses[1]) / (2 * GradCheck.H);
            double error = Math.abs(numeric - analytic) / Math.max(Math.abs(analytic), Math.sqrt(gNorm * vNorm / v.length));
            System.out.printf("negative control: dense gradient vs band-limited differences, relative error %.3f%n", error);
            assertTrue(error > 100 * GradCheck.TOLERANCE, "relative error only " + error);
        }
    }
}
