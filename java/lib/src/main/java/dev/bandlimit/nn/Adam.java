package dev.bandlimit.nn;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
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
    private long steps;
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
        this.firstMoments = allocateState();
        this.secondMoments = allocateState();
    }

    /** PyTorch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay. */
    public Adam(List<Parameter> params, double lr) {
        this(params, lr, 0.9, 0.999, 1e-8, 0.0);
    }

    @Override
    public void step() {
        checkOpen();
        long start = System.nanoTime();
        steps++;
        double correction1 = 1 - Math.pow(beta1, steps);
        double correction2 = 1 - Math.pow(beta2, steps);
        float stepSize = (float) (learningRate() / correction1);
        float invSqrtCorrection2 = (float) (1 / Math.sqrt(correction2));
        float b1 = (float) beta1, b2 = (float) beta2, oneMinusB1 = (float) (1 - beta1), oneMinusB2 = (float) (1 - beta2);
        float epsF = (float) eps, wd = (float) weightDecay;
        for (int k = 0; k < firstMoments.length; k++) {
            Parameter p = params.get(k);
            MemorySegment data = p.data().segment(), grad = p.grad().segment();
            MemorySegment m = firstMoments[k], v = secondMoments[k];
            long count = p.elementCount();
            for (long i = 0; i < count; i++) {
                float w = data.getAtIndex(JAVA_FLOAT, i);
                float g = grad.getAtIndex(JAVA_FLOAT, i) + wd * w;
                float mi = b1 * m.getAtIndex(JAVA_FLOAT, i) + oneMinusB1 * g;
                float vi = b2 * v.getAtIndex(JAVA_FLOAT, i) + oneMinusB2 * g * g;
                m.setAtIndex(JAVA_FLOAT, i, mi);
                v.setAtIndex(JAVA_FLOAT, i, vi);
                float denom = (float) Math.sqrt(vi) * invSqrtCorrection2 + epsF;
                data.setAtIndex(JAVA_FLOAT, i, w - stepSize * mi / denom);
            }
        }
        OpTimers.record("optimizer.step", System.nanoTime() - start);
    }

    /** Number of steps taken (t). */
    public long stepCount() {
        return steps;
    }
}
