package dev.bandlimit.nn.models;

import dev.bandlimit.Tensor;
import dev.bandlimit.nn.Functional;
import dev.bandlimit.nn.Module;
import dev.bandlimit.nn.Optimizer;
import dev.bandlimit.nn.Tape;
import dev.bandlimit.nn.Var;
import java.util.SplittableRandom;

/** Data and the training step the model tests share. */
final class ModelFixtures {
    private ModelFixtures() {}

    /** Standard-normal-ish values (sum of uniforms), like normalised images or series. */
    static void fillInputs(Tensor t, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < t.elementCount(); i++) {
            t.set(i, (float) (r.nextDouble() + r.nextDouble() + r.nextDouble() - 1.5) * 2);
        }
    }

    static int[] labels(int n, int classes, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = r.nextInt(classes);
        return out;
    }

    /** One training step: forward, loss, backward, update. Returns the loss before the update. */
    static float trainStep(Module model, Optimizer optimizer, Tensor inputs, int[] labels) {
        try (Tape tape = new Tape(true)) {
            Var logits = model.forward(tape, tape.input(inputs));
            Var loss = Functional.softmaxCrossEntropy(tape, logits, labels);
            optimizer.zeroGrad();
            tape.backward(loss);
            optimizer.step();
            return loss.item();
        }
    }
}
