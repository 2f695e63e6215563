package dev.bandlimit.nn;

import dev.bandlimit.internal.LayerKernels;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
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
        this.buffers = momentum != 0 ? allocateState("momentum_buffer") : new MemorySegment[this.params.size()];
    }

    @Override
    public void step() {
        checkOpen();
        Parameter.holdAll(params, "Sgd.step");  // throws while another thread trains them
        try {
            update();
        } finally {
            Parameter.releaseAll(params);
        }
    }

    private void update() {
        long start = System.nanoTime();
        countStep();
        List<LayerKernels.ParamSlot> slots = new ArrayList<>(params.size());
        for (int k = 0; k < params.size(); k++) {
            Parameter p = params.get(k);
            slots.add(new LayerKernels.ParamSlot(data(p), grad(p), buffers[k], null,
                    p.elementCount()));
        }
        // All parameters in one native call (bl_sgd_step); the buffers start zeroed.
        LayerKernels.sgdStep(stepContext(), learningRate(), momentum, weightDecay, slots);
        OpTimers.record("optimizer.step", System.nanoTime() - start);
    }
}
