package dev.bandlimit.nn;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Stochastic gradient descent with PyTorch's semantics (no dampening, no Nesterov):
 * {@code d = g + weightDecay * p; buf = momentum * buf + d; p -= lr * buf} (with
 * {@code buf = d} on the first step, which is the same as starting from a zero buffer), or
 * {@code p -= lr * d} without momentum. Element-wise in float32, as PyTorch.
 */
public final class Sgd implements Optimizer {
    private final List<Parameter> params;
    private final double momentum, weightDecay;
    private double lr;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment[] buffers;
    private boolean closed;

    public Sgd(List<Parameter> params, double lr, double momentum, double weightDecay) {
        if (lr < 0 || momentum < 0 || weightDecay < 0) {
            throw new IllegalArgumentException("lr, momentum and weightDecay must be >= 0");
        }
        this.params = List.copyOf(params);
        this.lr = lr;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.buffers = new MemorySegment[this.params.size()];
        if (momentum != 0) {
            for (int i = 0; i < buffers.length; i++) {
                buffers[i] = arena.allocate(this.params.get(i).data().byteSize(), 64);
            }
        }
    }

    @Override
    public void step() {
        checkOpen();
        long start = System.nanoTime();
        float lrF = (float) lr, mom = (float) momentum, wd = (float) weightDecay;
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

    @Override
    public void zeroGrad() {
        for (Parameter p : params) p.zeroGrad();
    }

    @Override
    public double learningRate() {
        return lr;
    }

    @Override
    public void setLearningRate(double lr) {
        if (lr < 0) throw new IllegalArgumentException("lr must be >= 0, got " + lr);
        this.lr = lr;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        arena.close();
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("the optimizer is closed");
    }
}
