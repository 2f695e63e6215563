package dev.bandlimit.nn;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Stochastic gradient descent with PyTorch's semantics (no dampening, no Nesterov):
 * {@code d = g + weightDecay * p; buf = momentum * buf + d; p -= lr * buf} (with
 * {@code buf = d} on the first step, which is the same as starting from a zero buffer), or
 * {@code p -= lr * d} without momentum. Element-wise in float32, as PyTorch.
 */
public final class Sgd extends OptimizerBase {
    private final double momentum, weightDecay;
    /** Momentum buffers; null entries without momentum. */
    private final @Nullable MemorySegment[] buffers;

    public Sgd(List<Parameter> params, double lr, double momentum, double weightDecay) {
        if (lr < 0 || momentum < 0 || weightDecay < 0) {
            throw new IllegalArgumentException("lr, momentum and weightDecay must be >= 0");
        }
        super(params, lr);
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.buffers = momentum != 0 ? allocateState() : new MemorySegment[this.params.size()];
    }

    @Override
    public void step() {
        checkOpen();
        long start = System.nanoTime();
        float lrF = (float) learningRate(), mom = (float) momentum, wd = (float) weightDecay;
        for (int k = 0; k < buffers.length; k++) {
            Parameter p = params.get(k);
            MemorySegment data = p.data().segment(), grad = p.grad().segment(), buf = buffers[k];
            long count = p.elementCount();
            for (long i = 0; i < count; i++) {
                float w = data.getAtIndex(JAVA_FLOAT, i);
                float d = grad.getAtIndex(JAVA_FLOAT, i) + wd * w;
                if (buf != null) {
                    d = mom * buf.getAtIndex(JAVA_FLOAT, i) + d;
                    buf.setAtIndex(JAVA_FLOAT, i, d);
                }
                data.setAtIndex(JAVA_FLOAT, i, w - lrF * d);
            }
        }
        OpTimers.record("optimizer.step", System.nanoTime() - start);
    }
}
