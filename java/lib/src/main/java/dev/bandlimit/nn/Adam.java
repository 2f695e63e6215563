package dev.bandlimit.nn;

import dev.bandlimit.internal.LayerKernels;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Adam (Kingma and Ba) as PyTorch's {@code torch.optim.Adam} without amsgrad: with
 * {@code g = grad + weightDecay * p} (L2 decay added to the gradient, not decoupled as AdamW),
 * {@code m = b1 m + (1 - b1) g}, {@code v = b2 v + (1 - b2) g^2}, and at step {@code t}
 * {@code p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)}. The moments are float32;
 * the bias corrections are computed in float64 once per step.
 */
public final class Adam extends OptimizerBase {
    private final double beta1, beta2, eps, weightDecay;
    private final MemorySegment[] firstMoments, secondMoments;

    public Adam(List<Parameter> params, double lr, double beta1, double beta2, double eps, double weightDecay) {
        if (lr < 0 || eps < 0 || weightDecay < 0 || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("Adam needs lr, eps, weightDecay >= 0 and betas in [0, 1)");
        }
        super(params, lr);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.firstMoments = allocateState("exp_avg");
        this.secondMoments = allocateState("exp_avg_sq");
    }

    /** PyTorch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay. */
    public Adam(List<Parameter> params, double lr) {
        this(params, lr, 0.9, 0.999, 1e-8, 0.0);
    }

    @Override
    public void step() {
        checkOpen();
        Parameter.holdAll(params, "Adam.step");  // throws while another thread trains them
        try {
            update();
        } finally {
            Parameter.releaseAll(params);
        }
    }

    private void update() {
        long start = System.nanoTime();
        long steps = countStep();
        List<LayerKernels.ParamSlot> slots = new ArrayList<>(params.size());
        for (int k = 0; k < params.size(); k++) {
            Parameter p = params.get(k);
            slots.add(new LayerKernels.ParamSlot(data(p), grad(p), firstMoments[k],
                    secondMoments[k], p.elementCount()));
        }
        // All parameters in one native call (bl_adam_step), on the library's threads.
        LayerKernels.adamStep(stepContext(), learningRate(), beta1, beta2, eps, weightDecay, steps, slots);
        OpTimers.record("optimizer.step", System.nanoTime() - start);
    }
}
