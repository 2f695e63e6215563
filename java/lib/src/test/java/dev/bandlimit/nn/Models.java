package dev.bandlimit.nn;

import dev.bandlimit.Compression;
import dev.bandlimit.Padding;
import dev.bandlimit.Tensor;
import java.util.SplittableRandom;

/** Models and data the tests share. */
final class Models {
    private Models() {}

    /**
     * The MNIST model the CLI builds: Conv2d(1->16, 5x5, pad 2) -> BatchNorm2d(16) -> ReLU ->
     * MaxPool2d(2,2) -> Conv2d(16->32, 5x5, pad 2) -> BatchNorm2d(32) -> ReLU -> MaxPool2d(2,2)
     * -> Flatten -> Linear(32*7*7 -> 10), for 28x28 inputs.
     */
    static Sequential mnist(Compression train, Compression eval, long seed) {
        return new Sequential(
                new Conv2d(1, 16, 5, 5, Padding.symmetric(2), 1, true, train, eval, seed),
                new BatchNorm2d(16),
                new ReLU(),
                new MaxPool2d(2, 2),
                new Conv2d(16, 32, 5, 5, Padding.symmetric(2), 1, true, train, eval, seed + 1),
                new BatchNorm2d(32),
                new ReLU(),
                new MaxPool2d(2, 2),
                new Flatten(),
                new Linear(32 * 7 * 7, 10, true, seed + 2));
    }

    /** Uniform [0, 1) pixels, like normalised images. */
    static void fillImages(Tensor images, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < images.elementCount(); i++) images.set(i, (float) r.nextDouble());
    }

    static int[] labels(int n, int classes, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = r.nextInt(classes);
        return out;
    }

    /** One training step: forward, loss, backward, update. Returns the loss. */
    static float trainStep(Module model, Optimizer optimizer, Tensor images, int[] labels) {
        try (Tape tape = new Tape(true)) {
            Var logits = model.forward(tape, tape.input(images));
            Var loss = Functional.softmaxCrossEntropy(tape, logits, labels);
            optimizer.zeroGrad();
            tape.backward(loss);
            optimizer.step();
            return loss.item();
        }
    }
}
