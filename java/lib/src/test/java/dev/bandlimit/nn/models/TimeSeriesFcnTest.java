package dev.bandlimit.nn.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bandlimit.Compression;
import dev.bandlimit.Padding;
import dev.bandlimit.Tensor;
import dev.bandlimit.nn.Adam;
import dev.bandlimit.nn.Conv1d;
import dev.bandlimit.nn.Functional;
import dev.bandlimit.nn.GradCheck;
import dev.bandlimit.nn.Parameter;
import dev.bandlimit.nn.Tape;
import dev.bandlimit.nn.TrainingFixtures;
import dev.bandlimit.nn.Var;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Wang et al.'s FCN: structure, names, "same" lengths, gradients, a few training steps. */
class TimeSeriesFcnTest {

    /**
     * Parameters of the full-width network on C-channel series with K classes, by hand: conv0
     * C*128*8 + 128, bn0 2*128, conv1 128*256*5 + 256, bn1 2*256, conv2 256*128*3 + 128, bn2
     * 2*128, lin 128*K + K. For C = 1, K = 5: 1,152 + 256 + 164,096 + 512 + 98,432 + 256 + 645 =
     * 265,349.
     */
    @Test
    void fullWidthModelHasWangsShapesCountAndNames() {
        try (Arena arena = Arena.ofConfined(); TimeSeriesFcn model = TimeSeriesFcn.builder(1, 5).build()) {
            assertEquals(265_349L, model.parameterCount());
            assertEquals(List.of("conv0", "conv1", "conv2"), model.convolutionNames());
            Map<String, Parameter> params = model.namedParameters();
            assertEquals(List.of("conv0.weight", "conv0.bias", "bn0.weight", "bn0.bias", "conv1.weight", "conv1.bias",
                    "bn1.weight", "bn1.bias", "conv2.weight", "conv2.bias", "bn2.weight", "bn2.bias", "lin.weight",
                    "lin.bias"), List.copyOf(params.keySet()));
            assertArrayEquals(new long[] {128, 1, 8}, params.get("conv0.weight").shape());
            assertArrayEquals(new long[] {256, 128, 5}, params.get("conv1.weight").shape());
            assertArrayEquals(new long[] {128, 256, 3}, params.get("conv2.weight").shape());
            assertArrayEquals(new long[] {5, 128}, params.get("lin.weight").shape());
            assertEquals(6, model.namedBuffers().size());
            // Keras's "same": the even kernel pads 3 before and 4 after.
            assertEquals(Padding.of1d(3, 4), model.convolutions().get(0).padding());
            assertEquals(Padding.of1d(2, 2), model.convolutions().get(1).padding());
            assertEquals(Padding.of1d(1, 1), model.convolutions().get(2).padding());

            Tensor series = Tensor.allocate(arena, 2, 1, 96);
            ModelFixtures.fillInputs(series, 1);
            try (Tape tape = new Tape(false)) {
                Var logits = model.forward(tape, tape.input(series));
                assertArrayEquals(new long[] {2, 5}, logits.shape());
                for (float v : logits.data().toArray()) assertTrue(Float.isFinite(v));
            }
        }
    }

    /** Every block keeps the length, odd or even, so the pooling averages L positions. */
    @ParameterizedTest(name = "L = {0}")
    @ValueSource(ints = {1, 7, 8, 31})
    void convolutionsKeepTheLength(int length) {
        try (Arena arena = Arena.ofConfined();
                TimeSeriesFcn model = TimeSeriesFcn.builder(2, 3).widths(3, 4, 3).build();
                Tape tape = new Tape(true)) {
            Tensor series = Tensor.allocate(arena, 2, 2, length);
            ModelFixtures.fillInputs(series, length);
            Var h = tape.input(series);
            for (int i = 0; i < 3; i++) {
                h = model.convolutions().get(i).forward(tape, h);
                assertArrayEquals(new long[] {2, model.widths().get(i), length}, h.shape());
            }
        }
    }

    @Test
    void compressionsChosenPerLayerByName() {
        Compression half = Compression.fixed(0.5);
        try (TimeSeriesFcn model = TimeSeriesFcn.builder(1, 2).widths(2, 2, 2)
                .compressionByLayer(name -> name.equals("conv0") ? Compression.none() : half)
                .evalCompression(Compression.fixed(0.75)).build()) {
            List<Conv1d> convs = model.convolutions();
            assertEquals(Compression.none(), convs.get(0).trainCompression());
            assertEquals(half, convs.get(1).trainCompression());
            assertEquals(half, convs.get(2).trainCompression());
            for (Conv1d conv : convs) assertEquals(Compression.fixed(0.75), conv.evalCompression());
            model.setEvalCompression(half);
            for (Conv1d conv : convs) assertEquals(half, conv.evalCompression());
        }
        try (TimeSeriesFcn model = TimeSeriesFcn.builder(1, 2).widths(2, 2, 2).compression(half).build()) {
            for (Conv1d conv : model.convolutions()) {
                assertEquals(half, conv.trainCompression());
                assertEquals(half, conv.evalCompression()); // evaluation follows training unless set
            }
        }
        assertThrows(IllegalArgumentException.class, () -> TimeSeriesFcn.builder(0, 2));
        assertThrows(IllegalArgumentException.class, () -> TimeSeriesFcn.builder(1, 2).widths(1, 0, 1));
    }

    /**
     * Finite-difference check of a narrow network (widths 3, 4, 3 on 2-channel series of length
     * 12, 3 classes), the cross-entropy of its logits as the loss, every parameter and the input,
     * at rho = 0 and 0.5. The convolutions' biases are left out: each is followed by a
     * training-mode batch norm, which subtracts the channel mean, so their gradient is exactly
     * zero (asserted to be zero up to float32 rounding) and no relative test can check it.
     * The smooth region (the signs of the three ReLU inputs, the boxes) comes from a composed,
     * unfused forward that must equal the model's bit for bit.
     *
     * <p>Tolerance 1e-2, as {@code ModelGradientTest}'s and for the same reason: batch norm over
     * 2 x 12 values per channel makes the derivatives of the input and of the weights small, the
     * ReLUs force h down towards 2^-12, and the forward's float32 rounding over such h is ~1e-3 of
     * the smallest derivatives. The worst errors seen are 1.7e-3 (rho 0) and 4e-4 (rho 0.5); a
     * wrong gradient is off by O(1e-1) and more. (The leaves' seed
     * 43 put one ReLU input of the last block within 1e-4 of 0 at rho 0.5, where no step above
     * the 2^-12 floor stays in the region; 44 does not.)
     */
    @ParameterizedTest(name = "rho = {0}")
    @ValueSource(doubles = {0.0, 0.5})
    void gradientsOfANarrowNetwork(double rho) {
        SplittableRandom random = new SplittableRandom(44);
        int[] labels = {2, 0};
        try (Arena arena = Arena.ofConfined();
                TimeSeriesFcn model = TimeSeriesFcn.builder(2, 3).widths(3, 4, 3).compression(Compression.fixed(rho))
                        .seed(9).build()) {
            GradCheck.quantizeParameters(model.parameters(), 0.5, random);
            Tensor x = Tensor.allocate(arena, 2, 2, 12);
            GradCheck.fillQuantized(x, 2, random);
            List<Parameter> checked = new ArrayList<>();
            List<Parameter> biases = new ArrayList<>();
            for (Conv1d conv : model.convolutions()) biases.add(conv.bias());
            for (Parameter p : model.parameters()) if (!biases.contains(p)) checked.add(p);
            assertEquals(11, checked.size());
            GradCheck.check("fcn rho " + rho, (tape, inputs, region) -> {
                Var y = model.forward(tape, inputs[0]);
                try (Tape shadow = new Tape(true, null)) {
                    Var composed = composedForward(shadow, model, shadow.input(inputs[0].data()), region);
                    assertArrayEquals(composed.data().toArray(), y.data().toArray(), "composed forward differs");
                }
                return y;
            }, GradCheck.crossEntropy(labels), new Tensor[] {x}, checked, 17, 0x1.0p-12, 1e-2);
            for (int i = 0; i < 3; i++) {
                Conv1d conv = model.convolutions().get(i);
                // After the check's last backward: the bias gradient is rounding next to the weight's.
                double weightNorm = norm(conv.weight().grad().toArray());
                double biasNorm = norm(conv.bias().grad().toArray());
                assertTrue(biasNorm <= 1e-5 * weightNorm, "conv" + i + ": bias " + biasNorm + ", weight " + weightNorm);
                if (rho > 0) assertTrue(conv.lastAchievedRate() > 0, "conv" + i);
                else assertEquals(0.0, conv.lastAchievedRate());
            }
        }
    }

    /**
     * A few Adam steps on one fixed batch of a narrow network at rho = 0.5 fit it: the loss falls
     * (random labels: only memorising helps) and stays finite.
     */
    @Test
    void fewAdamStepsAtHalfCompressionReduceTheLoss() {
        try (Arena arena = Arena.ofConfined();
                TimeSeriesFcn model = TimeSeriesFcn.builder(1, 3).widths(8, 16, 8).compression(Compression.fixed(0.5))
                        .seed(2).build();
                Adam adam = new Adam(model.parameters(), 1e-2)) {
            Tensor series = Tensor.allocate(arena, 8, 1, 64);
            ModelFixtures.fillInputs(series, 3);
            int[] labels = TrainingFixtures.labels(8, 3, 4);
            List<Float> losses = new ArrayList<>();
            for (int step = 0; step < 10; step++) losses.add(TrainingFixtures.trainStep(model, adam, series, labels));
            System.out.println("TimeSeriesFcn widths 8/16/8, rho 0.5, Adam: losses " + losses);
            for (float l : losses) assertTrue(Float.isFinite(l), losses.toString());
            assertTrue(losses.getLast() < 0.8 * losses.getFirst(), losses.toString());
        }
    }

    /** The model's forward from its parts, unfused, noting each ReLU input's signs and the boxes. */
    private static Var composedForward(Tape tape, TimeSeriesFcn model, Var x, List<Object> region) {
        Var h = x;
        for (int i = 0; i < 3; i++) {
            Conv1d conv = model.convolutions().get(i);
            h = model.batchNorms().get(i).forward(tape, conv.forward(tape, h));
            region.add(GradCheck.positive(h.data()));
            region.add(conv.lastBox());
            h = Functional.relu(tape, h);
        }
        return model.classifier().forward(tape, Functional.globalAvgPool(tape, h));
    }

    private static double norm(float[] v) {
        double s = 0;
        for (float f : v) s += (double) f * f;
        return Math.sqrt(s);
    }
}
