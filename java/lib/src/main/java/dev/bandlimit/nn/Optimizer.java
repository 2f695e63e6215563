package dev.bandlimit.nn;

import dev.bandlimit.Tensor;
import java.util.Map;

/**
 * Updates parameters in place from their accumulated gradients. Its state (momentum, moments)
 * lives in an arena of its own, released by {@link #close()}.
 */
public interface Optimizer extends AutoCloseable {
    /** One update of every parameter from its current gradient. */
    void step();

    /** Sets every parameter's gradient to zero. */
    void zeroGrad();

    double learningRate();

    /** The learning rate of later steps (a schedule calls this before each step). */
    void setLearningRate(double lr);

    /**
     * The per-parameter state, by name: {@code momentum_buffer.<k>} ({@link Sgd} with momentum),
     * {@code exp_avg.<k>} and {@code exp_avg_sq.<k>} ({@link Adam}), {@code k} the parameter's
     * index in the list the optimizer was built with. The tensors are views of the live state
     * (read them to save it; {@link Tensor#copyFrom(float[])} to restore it) and are valid until
     * {@link #close()}. Empty for plain SGD.
     */
    Map<String, Tensor> namedState();

    /** The number of {@link #step()}s taken (Adam's bias corrections depend on it). */
    long stepCount();

    /** Sets the step count, with {@link #namedState()}, to resume from saved state. */
    void setStepCount(long steps);

    /** Releases the optimizer's state. Idempotent. */
    @Override
    void close();
}
