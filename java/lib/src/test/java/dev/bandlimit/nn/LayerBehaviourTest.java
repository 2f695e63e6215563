package dev.bandlimit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bandlimit.Tensor;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Forward values and modes of the non-convolution layers against float64 hand computations. */
class LayerBehaviourTest {

    private static Tensor random(Arena arena, long seed, double offset, double scale, long... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor t = Tensor.allocate(arena, shape);
        for (long i = 0; i < t.elementCount(); i++) t.set(i, (float) (offset + scale * (r.nextDouble() * 2 - 1)));
        return t;
    }

    @Test
    void batchNormTrainingUpdatesRunningStatisticsAsPyTorch() {
        long n = 4, c = 3, s = 5;
        try (Arena arena = Arena.ofConfined(); BatchNorm1d bn = new BatchNorm1d(c)) {
            // A large mean against the spread: the two-pass statistics must not cancel.
            Tensor x = random(arena, 1, 100, 2, n, c, s);
            for (int i = 0; i < c; i++) {
                bn.weight().data().set(i, 0.5f + i);
                bn.bias().data().set(i, -1f + i);
            }
            float[] y;
            try (Tape tape = new Tape(true)) {
                y = bn.forward(tape, tape.input(x)).data().toArray();
            }
            for (int ch = 0; ch < c; ch++) {
                double sum = 0, sq = 0;
                for (int b = 0; b < n; b++) for (int i = 0; i < s; i++) sum += x.get((b * c + ch) * s + i);
                double mean = sum / (n * s);
                for (int b = 0; b < n; b++) for (int i = 0; i < s; i++) sq += Math.pow(x.get((b * c + ch) * s + i) - mean, 2);
                double var = sq / (n * s), unbiased = sq / (n * s - 1);
                assertEquals(0.1 * mean, bn.runningMean().get(ch), 1e-6 * Math.abs(mean));
                assertEquals(0.9 + 0.1 * unbiased, bn.runningVar().get(ch), 1e-6);
                for (int b = 0; b < n; b++) {
                    for (int i = 0; i < s; i++) {
                        int k = (b * (int) c + ch) * (int) s + i;
                        double expected = (0.5 + ch) * (x.get(k) - mean) / Math.sqrt(var + 1e-5) + (-1 + ch);
                        assertEquals(expected, y[k], 2e-5 * (1 + Math.abs(expected)));
                    }
                }
            }
            // Evaluation uses the running statistics.
            try (Tape tape = new Tape(false)) {
                float[] e = bn.forward(tape, tape.input(x)).data().toArray();
                for (int b = 0; b < n; b++) {
                    for (int ch = 0; ch < c; ch++) {
                        for (int i = 0; i < s; i++) {
                            int k = (b * (int) c + ch) * (int) s + i;
                            double expected = (0.5 + ch) * (x.get(k) - bn.runningMean().get(ch))
                                    / Math.sqrt(bn.runningVar().get(ch) + 1e-5) + (-1 + ch);
                            assertEquals(expected, e[k], 2e-5 * (1 + Math.abs(expected)));
                        }
                    }
                }
            }
        }
    }

    @Test
    void batchNormShapes() {
        try (Arena arena = Arena.ofConfined(); BatchNorm1d bn1 = new BatchNorm1d(3); BatchNorm2d bn2 = new BatchNorm2d(3);
                Tape tape = new Tape(true)) {
            bn1.forward(tape, tape.input(Tensor.allocate(arena, 2, 3)));
            bn1.forward(tape, tape.input(Tensor.allocate(arena, 2, 3, 4)));
            assertThrows(IllegalArgumentException.class, () -> bn1.forward(tape, tape.input(Tensor.allocate(arena, 2, 3, 4, 4))));
            assertThrows(IllegalArgumentException.class, () -> bn2.forward(tape, tape.input(Tensor.allocate(arena, 2, 3, 4))));
            assertThrows(IllegalArgumentException.class, () -> bn2.forward(tape, tape.input(Tensor.allocate(arena, 2, 4, 4, 4))));
            // One value per channel cannot give a batch variance.
            assertThrows(IllegalArgumentException.class, () -> bn1.forward(tape, tape.input(Tensor.allocate(arena, 1, 3))));
        }
    }

    @Test
    void dropoutIsInvertedSeededAndIdentityInEvaluation() {
        try (Arena arena = Arena.ofConfined(); Dropout a = new Dropout(0.25, 5); Dropout b = new Dropout(0.25, 5)) {
            Tensor x = random(arena, 3, 2, 1, 4000);
            float[] first, second, again;
            try (Tape tape = new Tape(true)) {
                first = a.forward(tape, tape.input(x)).data().toArray();
                second = a.forward(tape, tape.input(x)).data().toArray();
                again = b.forward(tape, tape.input(x)).data().toArray();
            }
            assertArrayEquals(first, again, "same seed, same first mask");
            assertFalse(java.util.Arrays.equals(first, second), "each forward draws a new mask");
            int kept = 0;
            for (int i = 0; i < first.length; i++) {
                if (first[i] != 0) {
                    kept++;
                    assertEquals(x.get(i) / 0.75f, first[i], 1e-6);
                }
            }
            assertEquals(0.75, kept / 4000.0, 0.03);
            try (Tape tape = new Tape(false)) {
                Var in = tape.input(x);
                assertSame(in, a.forward(tape, in));
            }
        }
    }

    @Test
    void poolingValues() {
        try (Arena arena = Arena.ofConfined(); Tape tape = new Tape(false)) {
            float[] plane = new float[16];
            for (int i = 0; i < 16; i++) plane[i] = i % 5 - (i / 4);
            Tensor x = Tensor.copyOf(arena, plane, 1, 1, 4, 4);
            float[] max = Functional.maxPool2d(tape, tape.input(x), 2, 2).data().toArray();
            float[] avg = Functional.avgPool2d(tape, tape.input(x), 2, 2).data().toArray();
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 2; j++) {
                    float m = Float.NEGATIVE_INFINITY, sum = 0;
                    for (int u = 0; u < 2; u++) {
                        for (int v = 0; v < 2; v++) {
                            float value = plane[(2 * i + u) * 4 + 2 * j + v];
                            m = Math.max(m, value);
                            sum += value;
                        }
                    }
                    assertEquals(m, max[i * 2 + j]);
                    assertEquals(sum / 4, avg[i * 2 + j], 1e-6);
                }
            }
            float[] gap = Functional.globalAvgPool(tape, tape.input(x)).data().toArray();
            double mean = 0;
            for (float v : plane) mean += v / 16.0;
            assertEquals(mean, gap[0], 1e-6);
            float[] mp1 = Functional.maxPool1d(tape, tape.input(Tensor.copyOf(arena, plane, 1, 2, 8)), 3, 2).data().toArray();
            assertEquals(6, mp1.length);
            assertEquals(Math.max(plane[0], Math.max(plane[1], plane[2])), mp1[0]);
        }
    }

    @Test
    void crossEntropyIsStableForLargeLogitsAndArgmaxPicksTheFirstMaximum() {
        try (Arena arena = Arena.ofConfined(); Tape tape = new Tape(true)) {
            Tensor logits = Tensor.copyOf(arena, new float[] {1000, 0, -1000, 3, 3, 1}, 2, 3);
            Var z = tape.input(logits, true);
            Var loss = Functional.softmaxCrossEntropy(tape, z, new int[] {1, 2});
            double row2 = 3 + Math.log(2 * Math.exp(0) + Math.exp(-2)) - 1;
            assertEquals((1000 + row2) / 2, loss.item(), 1e-3);
            tape.backward(loss);
            float[] g = z.grad().toArray();
            assertTrue(Float.isFinite(g[0]) && Math.abs(g[0] - 0.5f) < 1e-6 && Math.abs(g[1] + 0.5f) < 1e-6);
            assertArrayEquals(new int[] {0, 0}, Functional.argmax(z));
            assertThrows(IllegalArgumentException.class, () -> Functional.softmaxCrossEntropy(tape, z, new int[] {1, 3}));
        }
    }

    @Test
    void linearAndFlattenValues() {
        try (Arena arena = Arena.ofConfined(); Linear fc = new Linear(5, 6, true, 2); Tape tape = new Tape(false)) {
            Tensor x = random(arena, 4, 0, 1, 3, 5);
            float[] y = fc.forward(tape, tape.input(x)).data().toArray();
            for (int n = 0; n < 3; n++) {
                for (int o = 0; o < 6; o++) {
                    double expected = fc.bias().data().get(o);
                    for (int i = 0; i < 5; i++) expected += (double) x.get(n * 5 + i) * fc.weight().data().get(o * 5 + i);
                    assertEquals(expected, y[n * 6 + o], 1e-6);
                }
            }
            Var flat = Functional.flatten(tape, tape.input(Tensor.allocate(arena, 2, 3, 4, 5)));
            assertArrayEquals(new long[] {2, 60}, flat.shape());
        }
    }

    /** Sequential fuses BatchNorm + ReLU: values, input and parameter gradients equal the two ops' bit for bit. */
    @Test
    void fusedBatchNormReluEqualsTheTwoOps() {
        try (Arena arena = Arena.ofConfined(); BatchNorm2d fusedBn = new BatchNorm2d(3); BatchNorm2d plainBn = new BatchNorm2d(3);
                Sequential fused = new Sequential(fusedBn, new ReLU())) {
            Tensor x = random(arena, 7, 0.5, 2, 4, 3, 5, 6);
            Tensor r = random(arena, 8, 0, 1, 4, 3, 5, 6);
            Tensor gamma = random(arena, 9, 1, 0.5, 3), beta = random(arena, 10, 0, 0.5, 3);
            for (BatchNorm2d bn : new BatchNorm2d[] {fusedBn, plainBn}) {
                bn.weight().data().copyFrom(gamma.toArray());
                bn.bias().data().copyFrom(beta.toArray());
            }
            float[][] outputs = new float[2][];
            float[][] inputGrads = new float[2][];
            float[][] paramGrads = new float[2][];
            for (int variant = 0; variant < 2; variant++) {
                BatchNorm2d bn = variant == 0 ? fusedBn : plainBn;
                try (Tape tape = new Tape(true)) {
                    Var in = tape.input(x, true);
                    Var y = variant == 0 ? fused.forward(tape, in) : Functional.relu(tape, plainBn.forward(tape, in));
                    tape.backward(Functional.dot(tape, y, r));
                    outputs[variant] = y.data().toArray();
                    inputGrads[variant] = in.grad().toArray();
                    paramGrads[variant] = concat(bn.weight().grad().toArray(), bn.bias().grad().toArray());
                }
            }
            assertArrayEquals(outputs[1], outputs[0]);
            assertArrayEquals(inputGrads[1], inputGrads[0]);
            assertArrayEquals(paramGrads[1], paramGrads[0]);
            assertArrayEquals(plainBn.runningMean().toArray(), fusedBn.runningMean().toArray());
            assertArrayEquals(plainBn.runningVar().toArray(), fusedBn.runningVar().toArray());
            boolean someZero = false, someGrad = false;
            for (float v : outputs[0]) someZero |= v == 0f;
            for (float v : inputGrads[0]) someGrad |= v != 0f;
            assertTrue(someZero && someGrad, "the ReLU clips some values and the gradient is not all zero");
        }
    }

    private static float[] concat(float[] a, float[] b) {
        float[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
