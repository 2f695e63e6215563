package dev.bandlimit.nn;

/** The learning rate as a function of the step index (0-based), set on an {@link Optimizer} before each step. */
@FunctionalInterface
public interface LearningRateSchedule {
    double rate(long step);

    /** Always {@code rate}. */
    static LearningRateSchedule constant(double rate) {
        return step -> rate;
    }

    /** PyTorch's {@code StepLR}: {@code base * gamma^floor(step / stepSize)}. */
    static LearningRateSchedule step(double base, long stepSize, double gamma) {
        if (stepSize < 1) throw new IllegalArgumentException("stepSize must be >= 1, got " + stepSize);
        return step -> base * Math.pow(gamma, Math.floorDiv(Math.max(step, 0), stepSize));
    }

    /**
     * Cosine annealing (PyTorch's {@code CosineAnnealingLR} closed form):
     * {@code minRate + (base - minRate) (1 + cos(pi t / totalSteps)) / 2} with {@code t} clamped to
     * {@code [0, totalSteps]}, so {@code base} at step 0 and {@code minRate} from {@code totalSteps} on.
     */
    static LearningRateSchedule cosine(double base, long totalSteps, double minRate) {
        if (totalSteps < 1) throw new IllegalArgumentException("totalSteps must be >= 1, got " + totalSteps);
        return step -> {
            double t = Math.min(Math.max(step, 0), totalSteps);
            return minRate + (base - minRate) * (1 + Math.cos(Math.PI * t / totalSteps)) / 2;
        };
    }
}
