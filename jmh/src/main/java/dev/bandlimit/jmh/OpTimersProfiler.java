package dev.bandlimit.jmh;

import dev.bandlimit.nn.OpTimers;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.IterationResultMetaData;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

/**
 * A JMH profiler ({@code -prof dev.bandlimit.jmh.OpTimersProfiler}) that adds the
 * {@code dev.bandlimit.nn} per-op timers ({@link OpTimers}) to the result of a benchmark that
 * runs training steps ({@link MnistStepBenchmark}):
 *
 * <ul>
 *   <li>{@code ·op.<kind>} ({@code ·op.conv.forward}, {@code ·op.batchnorm.backward}, ...): ms
 *       of that op kind per benchmark call;
 *   <li>{@code ·conv.share}: {@code conv.forward + conv.backward} over the time per call, the
 *       share of a training step spent in the convolutions.
 * </ul>
 *
 * <p>It resets the timers before each iteration and divides what they summed by the calls JMH
 * counted in it ({@link IterationResultMetaData#getAllOps()}); the time per call is the
 * iteration's primary score ({@link CountersProfiler#secondsPerOp}). An internal profiler runs in
 * the fork, beside the timers. A benchmark that runs no {@code nn} op gets no extra results.
 */
public final class OpTimersProfiler implements InternalProfiler {

    @Override
    public String getDescription() {
        return "bandlimit.nn: OpTimers per op kind (ms per call) and the convolutions' share of the call";
    }

    @Override
    public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
        OpTimers.reset();
    }

    @Override
    public Collection<? extends Result<?>> afterIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams,
            IterationResult result) {
        Map<String, Long> nanos = OpTimers.snapshotNanos();
        IterationResultMetaData meta = result.getMetadata();
        List<Result<?>> out = new ArrayList<>();
        if (nanos.isEmpty() || meta == null || meta.getAllOps() <= 0) return out;
        double calls = meta.getAllOps();
        for (Map.Entry<String, Long> e : nanos.entrySet()) {
            out.add(scalar("op." + e.getKey(), e.getValue() / calls / 1e6, "ms/op"));
        }
        double seconds = CountersProfiler.secondsPerOp(benchmarkParams, result);
        if (seconds > 0 && Double.isFinite(seconds)) {
            out.add(scalar("conv.share", OpTimers.totalNanos("conv.") / calls / 1e9 / seconds, "ratio"));
        }
        return out;
    }

    private static ScalarResult scalar(String label, double value, String unit) {
        return new ScalarResult(label, value, unit, AggregationPolicy.AVG);
    }
}
