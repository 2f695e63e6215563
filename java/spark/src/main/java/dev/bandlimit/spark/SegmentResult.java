package dev.bandlimit.spark;

import java.io.Serializable;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What one worker's task of a segment returns; the state only from worker 0. {@code setupSeconds}:
 * from the task's start to its first step (rows into memory, the ring, the model and optimizer).
 */
record SegmentResult(int rank, double setupSeconds, List<StepReport> steps, long checksum, @Nullable ModelState state,
        @Nullable OptimizerState optimizerState) implements Serializable {}
