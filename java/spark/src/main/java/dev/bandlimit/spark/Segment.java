package dev.bandlimit.spark;

import java.io.Serializable;

/**
 * Steps {@code [from, to)} of a run over {@code items} rows, {@code stepsPerEpoch} steps per epoch,
 * {@code total} in all; {@code token} tells this segment's ring from any other's.
 */
record Segment(ModelSpec spec, DataParallelTrainer.Config config, long items, long stepsPerEpoch, long total,
        long from, long to, long token, long failAtStep, int failRank) implements Serializable {}
