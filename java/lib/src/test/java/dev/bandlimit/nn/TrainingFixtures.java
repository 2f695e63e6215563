package dev.bandlimit.nn;

import dev.bandlimit.Tensor;
import java.util.SplittableRandom;

/**
 * Data and the training step the tests share (those of {@code nn.models} too). (The MNIST model itself is timed by
 * {@code jmh/.../MnistStepBenchmark}.)
 */
public final class TrainingFixtures {
    private TrainingFixtures() {}

    /** Uniform [0, 1) pixels, like normalised images. */
    static void fillImages(Tensor images, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < images.elementCount(); i++) images.set(i, (float) r.nextDouble());
    }

    public static int[] labels(int n, int classes, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = r.nextInt(classes);
        return out;
    }

    /** One training step: forward, loss, backward, update. Returns the loss. */
    public static float trainStep(Module model, Optimizer optimizer, Tensor images, int[] labels) {
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
