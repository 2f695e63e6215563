package dev.bandlimit.nn;

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

    /** Releases the optimizer's state. Idempotent. */
    @Override
    void close();
}
