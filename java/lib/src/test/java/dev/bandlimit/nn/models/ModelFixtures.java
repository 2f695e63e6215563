package dev.bandlimit.nn.models;

import dev.bandlimit.Tensor;
import java.util.SplittableRandom;

/** Inputs the model tests share (labels and the training step: {@link dev.bandlimit.nn.TrainingFixtures}). */
final class ModelFixtures {
    private ModelFixtures() {}

    /** Standard-normal-ish values (sum of uniforms), like normalised images or series. */
    static void fillInputs(Tensor t, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < t.elementCount(); i++) {
            t.set(i, (float) (r.nextDouble() + r.nextDouble() + r.nextDouble() - 1.5) * 2);
        }
    }
}
