package dev.bandlimit.jmh;

import dev.bandlimit.Flops;
import java.util.Map;

/**
 * What a benchmark's state publishes for {@link CountersProfiler}: the counted FLOPs of one call
 * of each {@code @Benchmark} method, and the native bytes of its plan.
 *
 * <p>A JMH fork runs one benchmark method with one parameter set; its trial set-up publishes
 * here and its trial tear-down withdraws, and the profiler (an {@code InternalProfiler}, so in
 * the same JVM) reads the snapshot after each iteration. The snapshot names its benchmark class,
 * and the profiler matches it against the running benchmark, so a stale snapshot (with
 * {@code -f 0}, where several benchmarks share a JVM) is never reported for another class.
 *
 * @param benchmarkClass the state's benchmark class, fully qualified
 * @param flopsPerOpByMethod counted FLOPs of one call, by {@code @Benchmark} method name
 *     (methods not listed, e.g. a pure-overhead baseline, get no FLOP results)
 * @param achievedRate the plan's {@code achievedRate()} (discarded / total coefficients)
 * @param savedSpectraBytes the plan's {@code savedSpectraBytes()}
 * @param workspaceBytes the plan's {@code workspaceBytes()}
 */
record Counters(String benchmarkClass, Map<String, Flops> flopsPerOpByMethod, double achievedRate,
        long savedSpectraBytes, long workspaceBytes) {

    private static volatile Counters current;

    Counters {
        flopsPerOpByMethod = Map.copyOf(flopsPerOpByMethod);
    }

    /** Makes {@code c} the counters of the running trial. */
    static void publish(Counters c) {
        current = c;
    }

    /** Withdraws the counters of the trial that published {@code c} (if still current). */
    static void withdraw(Counters c) {
        if (current == c) current = null;
    }

    /** The counters of the running trial of {@code benchmarkClass}, or null. */
    static Counters of(String benchmarkClass) {
        Counters c = current;
        return c != null && c.benchmarkClass.equals(benchmarkClass) ? c : null;
    }
}
