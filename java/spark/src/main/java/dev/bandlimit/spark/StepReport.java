package dev.bandlimit.spark;

import java.io.Serializable;

/**
 * One training step: its number (from 0 over the whole run) and epoch, the mean loss over the
 * step's global batch of {@code items}, the step's wall time on the slowest worker, the time the
 * slowest worker spent in the all-reduce, and the bytes one worker sent to all-reduce the
 * gradients (and the loss).
 */
public record StepReport(long step, int epoch, double loss, int items, double seconds, double allReduceSeconds,
        long bytesSent) implements Serializable {}
