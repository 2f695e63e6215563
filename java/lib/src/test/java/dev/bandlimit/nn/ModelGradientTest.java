package dev.bandlimit.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bandlimit.Compression;
import dev.bandlimit.Padding;
import dev.bandlimit.Tensor;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Gradient check of a whole small model, every parameter at once through the chain of hand-written
 * backwards: Conv2d(rho) -> BatchNorm2d -> ReLU -> MaxPool2d -> Conv2d(rho) -> ReLU ->
 * GlobalAvgPool -> Linear -> softmaxCrossEntropy, at rho = 0 and rho = 0.5.
 *
 * <p>The ReLUs and the pooling see hundreds of values after batch norm, some close to a kink, so
 * the step h is halved (down to 2^-12) until every perturbed forward keeps the base point's sign
 * patterns, pooling winners and boxes (see {@link GradCheck}). The loss of the differences is the
 * cross-entropy of the float32 logits evaluated in float64 (the op's own float32 value would add
 * 6e-8 of rounding, divided by h); what remains is the float32 rounding of the forward, ~1e-9
 * in L, which over h = 2^-11 is ~1e-3 of the smallest directional derivatives here (those of
 * the input, which batch norm makes small). Hence a tolerance of 1e-2; the worst error seen is
 * 2.8e-3 (rho 0.5, input), against O(1e-1) and more for a wrong gradient. The first convolution
 * has no bias: before batch norm its gradient is exactly zero, which no relative test can check.
 */
class ModelGradientTest {

    @ParameterizedTest(name = "rho = {0}")
    @ValueSource(doubles = {0.0, 0.5})
    void wholeModel(double rho) {
        SplittableRandom random = new SplittableRandom(31);
        Compression c = Compression.fixed(rho);
        Conv2d conv1 = new Conv2d(2, 2, 3, 3, Padding.symmetric(1), 1, false, c, c, 1);
        BatchNorm2d bn = new BatchNorm2d(2);
        ReLU relu1 = new ReLU();
        MaxPool2d pool = new MaxPool2d(2, 2);
        Conv2d conv2 = new Conv2d(2, 3, 3, 3, Padding.symmetric(1), 1, true, c, c, 2);
        ReLU relu2 = new ReLU();
        GlobalAvgPool gap = new GlobalAvgPool();
        Linear fc = new Linear(3, 3, true, 3);
        int[] labels = {2, 0};
        try (Arena arena = Arena.ofConfined();
                Sequential model = new Sequential(conv1, bn, relu1, pool, conv2, relu2, gap, fc)) {
            GradCheck.quantizeParameters(model.parameters(), 0.5, random);
            Tensor x = Tensor.allocate(arena, 2, 2, 8, 8);
            GradCheck.fillQuantized(x, 2, random);
            List<Parameter> params = model.parameters();
            assertEquals(7, params.size());
            GradCheck.check("model rho " + rho, (tape, in, region) -> {
                // The model's layers one by one, noting each piecewise op's region.
                Var h = in[0];
                for (Module layer : model.layers()) {
                    if (layer instanceof ReLU) region.add(GradCheck.positive(h.data()));
                    if (layer instanceof MaxPool2d) region.add(GradCheck.poolWinners(h.data(), 2, 2, 2));
                    h = layer.forward(tape, h);
                    if (layer instanceof Conv2d conv) region.add(conv.lastBox());
                }
                return h;
            }, GradCheck.crossEntropy(labels), new Tensor[] {x}, params, 11, 0x1.0p-12, 1e-2);
            if (rho > 0) {
                // 8x8 pad 1 (L = 10) keeps 0.25 at rho 0.5; 4x4 pad 1 (L = 6) 0.375.
                assertEquals(0.25, conv1.lastAchievedRate(), 1e-12);
                assertEquals(0.375, conv2.lastAchievedRate(), 1e-12);
            } else {
                assertEquals(0.0, conv1.lastAchievedRate());
                assertTrue(conv2.lastAchievedRate() == 0.0);
            }
        }
    }
}
