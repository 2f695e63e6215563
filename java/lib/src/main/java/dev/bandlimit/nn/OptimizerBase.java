package dev.bandlimit.nn;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * What {@link Sgd} and {@link Adam} share: the parameters, the learning rate, and the arena
 * holding their per-parameter state (momentum buffers, moments), released by {@link #close()}.
 */
abstract sealed class OptimizerBase implements Optimizer permits Sgd, Adam {
    final List<Parameter> params;
    private double lr;
    private final Arena stateArena = Arena.ofShared();
    private boolean closed;

    OptimizerBase(List<Parameter> params, double lr) {
        if (lr < 0) throw new IllegalArgumentException("lr must be >= 0, got " + lr);
        this.params = List.copyOf(params);
        this.lr = lr;
    }

    /** One zeroed float32 state buffer per parameter, shaped like its data. */
    final MemorySegment[] allocateState() {
        MemorySegment[] state = new MemorySegment[params.size()];
        for (int i = 0; i < state.length; i++) state[i] = stateArena.allocate(params.get(i).data().byteSize(), 64);
        return state;
    }

    final void checkOpen() {
        if (closed) throw new IllegalStateException("the optimizer is closed");
    }

    @Override
    public final void zeroGrad() {
        for (Parameter p : params) p.zeroGrad();
    }

    @Override
    public final double learningRate() {
        return lr;
    }

    @Override
    public final void setLearningRate(double lr) {
        if (lr < 0) throw new IllegalArgumentException("lr must be >= 0, got " + lr);
        this.lr = lr;
    }

    @Override
    public final void close() {
        if (closed) return;
        closed = true;
        stateArena.close();
    }
}
