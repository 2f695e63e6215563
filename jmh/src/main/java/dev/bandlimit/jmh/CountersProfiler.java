package dev.bandlimit.jmh;

import dev.bandlimit.Flops;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

/**
 * A JMH profiler ({@code -prof dev.bandlimit.jmh.CountersProfiler}) that adds the library's
 * counted work and memory to each benchmark's result, next to the measured time:
 *
 * <ul>
 *   <li>{@code ·flop.nominal}, {@code ·flop.executed}, {@code ·flop.dense}: counted GFLOP of one
 *       call ({@code ConvPlan.flops(pass, n)}, docs/ALGORITHM.md section 5);
 *   <li>{@code ·gflops.effective} (dense-equivalent FLOPs / time per call) and
 *       {@code ·gflops.executed} (executed FLOPs / time per call), in GFLOP/s;
 *   <li>{@code ·plan.rate}: the plan's achieved compression rate;
 *   <li>{@code ·bytes.savedSpectra}, {@code ·bytes.workspace}: the plan's buffers;
 *       {@code ·bytes.native}: {@code Bandlimit.allocatedBytes()}, what the native library
 *       itself holds (plans and their tables), sampled at the end of the trial's set-up.
 * </ul>
 *
 * <p>The time per call is the iteration's own primary score, which JMH hands to
 * {@link #afterIteration} in the {@link IterationResult}: in {@code AverageTime},
 * {@code SampleTime} and {@code SingleShotTime} it is time per operation, in {@code Throughput}
 * operations per time unit. The GFLOP/s are computed per iteration (count / that iteration's
 * time per call) and averaged over iterations like the score; the mean of count / t_i is at least
 * count / mean(t_i), equal when the iterations are equally fast. Dividing {@code ·flop.dense} by
 * the score gives the second figure.
 *
 * <p>The counters come from {@link Counters}, which the benchmark's trial set-up publishes in
 * this same JVM (internal profilers run inside the fork). Benchmarks that publish nothing get
 * no extra results.
 */
public final class CountersProfiler implements InternalProfiler {

    @Override
    public String getDescription() {
        return "bandlimit: counted FLOPs per call, effective and executed GFLOP/s, plan and native bytes";
    }

    @Override
    public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {}

    @Override
    public Collection<? extends Result<?>> afterIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams,
            IterationResult result) {
        String benchmark = benchmarkParams.getBenchmark();
        int dot = benchmark.lastIndexOf('.');
        Counters c = Counters.of(benchmark.substring(0, dot));
        List<Result<?>> out = new ArrayList<>();
        if (c == null) return out;
        Flops flops = c.flopsPerOpByMethod().get(benchmark.substring(dot + 1));
        if (flops != null) {
            out.add(scalar("flop.nominal", flops.nominal() / 1e9, "GFLOP/op"));
            out.add(scalar("flop.executed", flops.executed() / 1e9, "GFLOP/op"));
            out.add(scalar("flop.dense", flops.denseEquivalent() / 1e9, "GFLOP/op"));
            double seconds = secondsPerOp(benchmarkParams, result);
            if (seconds > 0 && Double.isFinite(seconds)) {
                out.add(scalar("gflops.effective", flops.denseEquivalent() / seconds / 1e9, "GFLOP/s"));
                out.add(scalar("gflops.executed", flops.executed() / seconds / 1e9, "GFLOP/s"));
            }
        }
        out.add(scalar("plan.rate", c.achievedRate(), "ratio"));
        out.add(scalar("bytes.savedSpectra", c.savedSpectraBytes(), "B"));
        out.add(scalar("bytes.workspace", c.workspaceBytes(), "B"));
        out.add(scalar("bytes.native", c.nativeBytes(), "B"));
        return out;
    }

    /** Seconds per benchmark call from the iteration's primary score; NaN when there is none. */
    static double secondsPerOp(BenchmarkParams params, IterationResult result) {
        Result<?> primary = result.getPrimaryResult();
        if (primary == null) return Double.NaN;
        double score = primary.getScore();
        double unitSeconds = params.getTimeUnit().toNanos(1) / 1e9;
        return switch (params.getMode()) {
            case Throughput -> unitSeconds / score; // score: calls per time unit
            case AverageTime, SampleTime, SingleShotTime -> score * unitSeconds; // score: time per call
            default -> Double.NaN;
        };
    }

    private static ScalarResult scalar(String label, double value, String unit) {
        return new ScalarResult(label, value, unit, AggregationPolicy.AVG);
    }
}
