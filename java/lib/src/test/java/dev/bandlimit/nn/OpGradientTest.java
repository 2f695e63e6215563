package dev.bandlimit.nn;

import dev.bandlimit.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Finite-difference gradient checks of every op except the convolution (see
 * {@link ConvGradientTest}), on small, awkward shapes; see {@link GradCheck} for the method and
 * the tolerance.
 */
class OpGradientTest extends GradientTestBase {
    OpGradientTest() {
        super(20261125);
    }

    @Test
    void relu() {
        Tensor x = Tensor.allocate(arena, 2, 3, 4, 5);
        // |x| >= 1/16 > h * max|v| = 1/32: no element crosses the kink.
        GradCheck.fillAwayFromZero(x, 2, 1.0 / 16, random);
        GradCheck.check("relu", (tape, in, region) -> {
            region.add(GradCheck.positive(in[0].data()));
            return Functional.relu(tape, in[0]);
        }, new Tensor[] {x}, List.of(), 1);
    }

    @Test
    void reluModule() {
        Tensor x = Tensor.allocate(arena, 3, 7);
        GradCheck.fillAwayFromZero(x, 1, 1.0 / 16, random);
        try (ReLU relu = new ReLU()) {
            GradCheck.check("ReLU module", (tape, in, region) -> {
                region.add(GradCheck.positive(in[0].data()));
                return relu.forward(tape, in[0]);
            }, new Tensor[] {x}, List.of(), 2);
        }
    }

    @Test
    void add() {
        GradCheck.check("add", (tape, in, region) -> Functional.add(tape, in[0], in[1]),
                new Tensor[] {quantized(2, 3, 4), quantized(2, 3, 4)}, List.of(), 3);
    }

    @Test
    void addSameVarTwice() {
        // x + x: both operands accumulate into one gradient.
        GradCheck.check("add(x, x)", (tape, in, region) -> Functional.add(tape, in[0], in[0]),
                new Tensor[] {quantized(5, 3)}, List.of(), 4);
    }

    @Test
    void maxPool2d() {
        GradCheck.check("maxPool2d k2 s2", (tape, in, region) -> {
            region.add(GradCheck.poolWinners(in[0].data(), 2, 2, 2));
            return Functional.maxPool2d(tape, in[0], 2, 2);
        }, new Tensor[] {distinct(2, 2, 6, 6)}, List.of(), 5);
    }

    @Test
    void maxPool2dOverlappingOddSize() {
        // Overlapping windows (stride < kernel) send several gradients to one winner; 7x7 leaves
        // the last column and row out.
        try (MaxPool2d pool = new MaxPool2d(3, 2)) {
            GradCheck.check("MaxPool2d k3 s2 on 7x7", (tape, in, region) -> {
                region.add(GradCheck.poolWinners(in[0].data(), 3, 3, 2));
                return pool.forward(tape, in[0]);
            }, new Tensor[] {distinct(2, 3, 7, 7)}, List.of(), 6);
        }
    }

    @Test
    void avgPool2d() {
        GradCheck.check("avgPool2d k2 s2", (tape, in, region) -> Functional.avgPool2d(tape, in[0], 2, 2),
                new Tensor[] {quantized(2, 2, 6, 6)}, List.of(), 7);
        try (AvgPool2d pool = new AvgPool2d(3, 1)) {
            GradCheck.check("AvgPool2d k3 s1 on 5x7", (tape, in, region) -> pool.forward(tape, in[0]),
                    new Tensor[] {quantized(2, 3, 5, 7)}, List.of(), 8);
        }
    }

    @Test
    void maxPool1d() {
        GradCheck.check("maxPool1d k2 s2", (tape, in, region) -> {
            region.add(GradCheck.poolWinners(in[0].data(), 1, 2, 2));
            return Functional.maxPool1d(tape, in[0], 2, 2);
        }, new Tensor[] {distinct(2, 3, 10)}, List.of(), 9);
        try (MaxPool1d pool = new MaxPool1d(3, 2)) {
            GradCheck.check("MaxPool1d k3 s2 on 11", (tape, in, region) -> {
                region.add(GradCheck.poolWinners(in[0].data(), 1, 3, 2));
                return pool.forward(tape, in[0]);
            }, new Tensor[] {distinct(2, 2, 11)}, List.of(), 10);
        }
    }

    @Test
    void globalAvgPool() {
        try (GlobalAvgPool pool = new GlobalAvgPool()) {
            GradCheck.check("globalAvgPool 2D", (tape, in, region) -> pool.forward(tape, in[0]),
                    new Tensor[] {quantized(2, 3, 4, 5)}, List.of(), 11);
            GradCheck.check("globalAvgPool 1D", (tape, in, region) -> pool.forward(tape, in[0]),
                    new Tensor[] {quantized(3, 2, 7)}, List.of(), 12);
        }
    }

    @Test
    void flatten() {
        try (Flatten flatten = new Flatten()) {
            GradCheck.check("flatten", (tape, in, region) -> flatten.forward(tape, in[0]),
                    new Tensor[] {quantized(2, 3, 2, 2)}, List.of(), 13);
        }
    }

    @Test
    void linear() {
        try (Linear linear = new Linear(7, 5, true, 42)) {
            GradCheck.quantizeParameters(linear.parameters(), 1, random);
            GradCheck.check("Linear 7->5 with bias", (tape, in, region) -> linear.forward(tape, in[0]),
                    new Tensor[] {quantized(3, 7)}, linear.parameters(), 14);
        }
        try (Linear linear = new Linear(9, 6, false, 43)) {
            // 6 outputs: one register-blocked group of 4 and a remainder of 2.
            GradCheck.quantizeParameters(linear.parameters(), 1, random);
            GradCheck.check("Linear 9->6 without bias", (tape, in, region) -> linear.forward(tape, in[0]),
                    new Tensor[] {quantized(4, 9)}, linear.parameters(), 15);
        }
    }

    @Test
    void dropoutWithFixedMask() {
        // A fixed mask seed makes dropout a fixed linear map, so every forward of the check
        // applies the same mask.
        GradCheck.check("dropout p=0.3", (tape, in, region) -> Functional.dropout(tape, in[0], 0.3, 77),
                new Tensor[] {quantized(2, 3, 8)}, List.of(), 16);
    }

    @Test
    void residual() {
        try (Residual identity = new Residual(new Linear(6, 6, true, 1), null);
                Residual projected = new Residual(new Linear(6, 4, true, 2), new Linear(6, 4, false, 3))) {
            GradCheck.quantizeParameters(identity.parameters(), 1, random);
            GradCheck.quantizeParameters(projected.parameters(), 1, random);
            GradCheck.check("Residual identity shortcut", (tape, in, region) -> identity.forward(tape, in[0]),
                    new Tensor[] {quantized(3, 6)}, identity.parameters(), 17);
            GradCheck.check("Residual projection shortcut", (tape, in, region) -> projected.forward(tape, in[0]),
                    new Tensor[] {quantized(3, 6)}, projected.parameters(), 18);
        }
    }

    @Test
    void softmaxCrossEntropy() {
        int[] labels = {3, 0, 4, 4};
        GradCheck.check("softmaxCrossEntropy", (tape, in, region) -> Functional.softmaxCrossEntropy(tape, in[0], labels),
                new Tensor[] {quantized(4, 5)}, List.of(), 19);
    }

    @Test
    void dot() {
        Tensor r = quantized(3, 4);
        GradCheck.check("dot", (tape, in, region) -> Functional.dot(tape, in[0], r),
                new Tensor[] {quantized(3, 4)}, List.of(), 20);
    }

    @Test
    void batchNorm2dTraining() {
        try (BatchNorm2d bn = new BatchNorm2d(3)) {
            GradCheck.quantizeParameters(bn.parameters(), 2, random);
            GradCheck.check("BatchNorm2d training", (tape, in, region) -> bn.forward(tape, in[0]),
                    new Tensor[] {quantized(3, 3, 3, 2)}, bn.parameters(), 21);
        }
    }

    @Test
    void batchNorm1dTraining() {
        try (BatchNorm1d bn = new BatchNorm1d(4)) {
            GradCheck.quantizeParameters(bn.parameters(), 2, random);
            GradCheck.check("BatchNorm1d [N,C] training", (tape, in, region) -> bn.forward(tape, in[0]),
                    new Tensor[] {quantized(6, 4)}, bn.parameters(), 22);
        }
        try (BatchNorm1d bn = new BatchNorm1d(2)) {
            GradCheck.quantizeParameters(bn.parameters(), 2, random);
            GradCheck.check("BatchNorm1d [N,C,L] training", (tape, in, region) -> bn.forward(tape, in[0]),
                    new Tensor[] {quantized(3, 2, 5)}, bn.parameters(), 23);
        }
    }
}
