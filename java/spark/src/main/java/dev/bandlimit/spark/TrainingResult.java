package dev.bandlimit.spark;

import java.nio.file.Path;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What {@link DataParallelTrainer#fit} returns: the trained state, one report per step of this
 * run (steps resumed from a checkpoint are not repeated), how many times a failed stage was
 * restarted from the last checkpoint, the number of training items and the steps per epoch, and
 * the last checkpoint written (null without a checkpoint folder).
 */
public record TrainingResult(ModelState state, OptimizerState optimizerState, List<StepReport> steps, int restarts,
        long items, long stepsPerEpoch, long resumedFromStep, @Nullable Path lastCheckpoint) {

    /** The per-step losses of this run, in order. */
    public double[] losses() {
        return steps.stream().mapToDouble(StepReport::loss).toArray();
    }

    /** Items per second over this run's steps (their summed wall time). */
    public double itemsPerSecond() {
        double seconds = steps.stream().mapToDouble(StepReport::seconds).sum();
        long items = steps.stream().mapToLong(StepReport::items).sum();
        return seconds > 0 ? items / seconds : 0;
    }
}
