package dev.bandlimit.nn;

import dev.bandlimit.DeviceBuffer;
import dev.bandlimit.ExecutionContext;
import dev.bandlimit.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What {@link Sgd} and {@link Adam} share: the parameters, the learning rate, and the memory
 * holding their per-parameter state (momentum buffers, moments), released by {@link #close()}.
 * The state lives where the parameters do when the optimizer is built (host memory, or the
 * buffer memory of the context a {@link Module#to} moved them to), and every step runs there: build
 * the optimizer after moving the model.
 *
 * <p>Threads: {@link #step()} and {@link #zeroGrad()} hold every parameter while they run
 * ({@link Parameter}), so a step that overlaps another thread's step of the same parameters (this
 * optimizer's or another's), or another thread's open training tape over them, throws
 * {@link IllegalStateException} naming the parameter and both threads, before anything is
 * written. The step count and learning rate are this optimizer's: step it from one thread at a
 * time.
 */
abstract sealed class OptimizerBase implements Optimizer permits Sgd, Adam {
    final List<Parameter> params;
    private double lr;
    private final Arena stateArena = Arena.ofShared();
    /** Where the parameters (and so the state) live; null: host memory. */
    private final @Nullable ExecutionContext device;
    private final List<DeviceBuffer> stateBuffers = new ArrayList<>();
    /** The state as tensors, by {@link Optimizer#namedState()} name. */
    private final Map<String, Tensor> namedState = new LinkedHashMap<>();
    private long steps;
    private boolean closed;

    OptimizerBase(List<Parameter> params, double lr) {
        if (lr < 0) throw new IllegalArgumentException("lr must be >= 0, got " + lr);
        this.params = List.copyOf(params);
        this.lr = lr;
        this.device = this.params.isEmpty() ? null : this.params.get(0).data().context();
        for (Parameter p : this.params) {
            if (p.data().context() != device) {
                throw new IllegalArgumentException("the parameters live in different memories (" + p.name()
                        + "): one optimizer steps parameters of one place");
            }
        }
    }

    /**
     * One zeroed float32 state buffer per parameter, shaped like its data, where the parameters
     * live; named {@code kind.<k>} in {@link #namedState()}.
     */
    final MemorySegment[] allocateState(String kind) {
        MemorySegment[] state = new MemorySegment[params.size()];
        for (int i = 0; i < state.length; i++) {
            long bytes = params.get(i).data().byteSize();
            long[] shape = params.get(i).shape();
            Tensor view;
            if (device == null) {
                state[i] = stateArena.allocate(bytes, 64);
                view = Tensor.wrap(state[i], shape);
            } else {
                DeviceBuffer b = device.allocate(bytes);
                stateBuffers.add(b);
                state[i] = DeviceMemory.of(b);
                DeviceMemory.zero(device, state[i], bytes);
                view = Tensor.wrap(b, shape);
            }
            namedState.put(kind + "." + i, view);
        }
        return state;
    }

    @Override
    public final Map<String, Tensor> namedState() {
        checkOpen();
        return Collections.unmodifiableMap(namedState);
    }

    @Override
    public final long stepCount() {
        return steps;
    }

    @Override
    public final void setStepCount(long steps) {
        if (steps < 0) throw new IllegalArgumentException("steps must be >= 0, got " + steps);
        this.steps = steps;
    }

    /** Counts a step; returns its number (1 for the first). */
    final long countStep() {
        return ++steps;
    }

    /** The native context of the step; throws when a parameter moved since the optimizer was built. */
    final MemorySegment stepContext() {
        for (Parameter p : params) {
            if (p.data().context() != device) {
                throw new IllegalStateException("parameter " + p.name() + " moved (Module.to) after the optimizer was"
                        + " built: build the optimizer after moving the model");
            }
        }
        return DeviceMemory.handle(device);
    }

    /** A parameter's data and gradient memory, for the native step. */
    static MemorySegment data(Parameter p) {
        return DeviceMemory.of(p.data());
    }

    static MemorySegment grad(Parameter p) {
        return DeviceMemory.of(p.grad());
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
        for (DeviceBuffer b : stateBuffers) b.close();
        stateBuffers.clear();
    }
}
