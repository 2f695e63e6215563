package dev.bandlimit.nn;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Wall-clock nanoseconds spent per op kind, summed over all threads since the last
 * {@link #reset()}. Every op of this package records its forward under {@code "<op>.forward"}
 * and its backward under {@code "<op>.backward"} (e.g. {@code "conv.forward"},
 * {@code "batchnorm.backward"}); optimizers record {@code "optimizer.step"} and the tape records
 * the hand-over of parameter gradients as {@code "tape.parameter_grads"}. A training step's share
 * of time in convolution is {@code (conv.forward + conv.backward) / step time}.
 *
 * <p>Static and thread-safe: the counters are {@link LongAdder}s, so recording never blocks.
 */
public final class OpTimers {
    private static final ConcurrentHashMap<String, LongAdder> NANOS = new ConcurrentHashMap<>();

    private OpTimers() {}

    /** Adds {@code nanos} to the counter of {@code opKind}. */
    public static void record(String opKind, long nanos) {
        NANOS.computeIfAbsent(opKind, k -> new LongAdder()).add(nanos);
    }

    /** The counters now, by op kind (sorted by name); a copy, later records do not change it. */
    public static Map<String, Long> snapshotNanos() {
        Map<String, Long> copy = new TreeMap<>();
        NANOS.forEach((k, v) -> copy.put(k, v.sum()));
        return copy;
    }

    /** Sets every counter to zero. */
    public static void reset() {
        NANOS.clear();
    }

    /** Sum of all counters whose key starts with {@code prefix} (e.g. {@code "conv."}). */
    public static long totalNanos(String prefix) {
        long total = 0;
        for (Map.Entry<String, Long> e : snapshotNanos().entrySet()) {
            if (e.getKey().startsWith(prefix)) total += e.getValue();
        }
        return total;
    }
}
