package dev.bandlimit.jmh;

import dev.bandlimit.Flops;
import java.util.Map;

/**
 * What a benchmark's state publishes for {@link CountersProfiler}: the counted FLOPs of one call
 * of each {@code @Benchmark} method, and the native bytes of its plan.
 *
 * <p>A JMH fork runs one benchmark method with one parameter set; its trial set-up publishes
 * here and the profiler (an {@code InternalProfiler}, so in the same JVM) reads the snapshot
 * after each iteration. Nothing withdraws it: JMH runs the trial tear-down after the last
 * iteration but before the profilers' {@code afterIteration} of that iteration, so the snapshot
 * holds values, not the plan, and outlives the trial. It names its benchmark class, which the
 * profiler matches against the running benchmark; with {@code -f 0} (several trials in one JVM)
 * each trial's set-up replaces it before its first iteration ends.
 *
 * @param benchmarkClass the state's benchmark class, fully qualified
 * @param flopsPerOpByMethod counted FLOPs of one call, by {@code @Benchmark} method name
 *     (methods not listed, e.g. a pure-overhead baseline, get no FLOP results)
 * @param achievedRate the plan's {@code achievedRate()} (discarded / total coefficients)
 * @param savedSpectraBytes the plan's {@code savedSpectraBytes()}
 * @param workspaceBytes the plan's {@code workspaceBytes()}
 * @param nativeBytes {@code Bandlimit.allocatedBytes()} at the end of set-up, the plan built
 *     and executed: what the native library itself holds (plans and their tables)
 */
record Counters(String benchmarkClass, Map<String, Flops> flopsPerOpByMethod, double achievedRate,
        long savedSpectraBytes, long workspaceBytes, long nativeBytes) {

    private static volatile Counters current;

    Counters {
        flopsPerOpByMethod = Map.copyOf(flopsPerOpByMethod);
    }

    /** Makes {@code c} the counters of the running trial. */
    static void publish(Counters c) {
        current = c;
    }

    /** The counters of the latest trial of {@code benchmarkClass}, or null. */
    static Counters of(String benchmarkClass) {
        Counters c = current;
        return c != null && c.benchmarkClass.equals(benchmarkClass) ? c : null;
    }
}
