package dev.bandlimit.jmh;

import dev.bandlimit.Bandlimit;
import dev.bandlimit.Box;
import dev.bandlimit.Compression;
import dev.bandlimit.ConvPlan;
import dev.bandlimit.Padding;
import dev.bandlimit.Pass;
import dev.bandlimit.SavedSpectra;
import dev.bandlimit.Tensor;
import dev.bandlimit.Workspace;
import java.lang.foreign.Arena;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * How do time, memory and FLOPs scale with the compression rate rho?
 *
 * <p>Each pass of a layer is its own benchmark: {@link #forward} (the training forward, saving
 * the compact spectra), {@link #backwardData} (dx only) and {@link #backwardWeights} (dw only),
 * the backward reading the spectra a forward in set-up saved. Everything is allocated once per
 * trial, off-heap, and the calls pass their own workspace: the timed region is the FFM call and
 * the native work, nothing else. Run with {@code -prof dev.bandlimit.jmh.CountersProfiler} to
 * see counted FLOPs, GFLOP/s and bytes beside the time (docs/JMH.md).
 *
 * <p>Checked once per trial, before timing (a fast wrong kernel cannot win): at rho = 0 sample
 * 0's {@code y} and {@code dx} against float64 direct sums within the ALGORITHM.md section-5
 * bound; at every rho the adjoint identities {@code <y(x), dy> = <x, dx(dy)>} and
 * {@code <y(w), dy> = <w, dw(dy)>} within {@code 1e-5 ||y|| ||dy||}, for the benchmark's random
 * {@code dy} and for {@code dy = y} (where both sides are {@code ||y||^2}, so the check is
 * sharp). After timing, the outputs the timed calls wrote must still equal the checked ones. A
 * failed check fails the benchmark.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class CompressionSweepBenchmark {

    /** Requested compression rate (the plan reports the achieved one, {@code ·plan.rate}). */
    @Param({"0", "0.25", "0.5", "0.75", "0.9"})
    public double rho;

    /**
     * {@code resnet64}: N=32, C=F=64, 32x32, 3x3, pad 1. {@code resnet128}: N=32, C=F=128,
     * 16x16, 3x3, pad 1. {@code conv1d}: N=8, C=F=16, L=4096, K=1024, "same" padding.
     */
    @Param({"resnet64", "resnet128", "conv1d"})
    public String layer;

    private Arena arena;
    private ConvPlan plan;
    private Tensor x, w, y, dy, dx, dw;
    private SavedSpectra saved;
    private Workspace workspace;
    private float[] checkedY, checkedDx, checkedDw;

    /** The plan builder of a named layer. */
    static ConvPlan.Builder layer(String name) {
        return switch (name) {
            case "resnet64" -> ConvPlan.conv2d().maxBatch(32).channels(64).filters(64).input(32, 32).kernel(3, 3)
                    .padding(Padding.symmetric(1));
            case "resnet128" -> ConvPlan.conv2d().maxBatch(32).channels(128).filters(128).input(16, 16).kernel(3, 3)
                    .padding(Padding.symmetric(1));
            case "conv1d" -> ConvPlan.conv1d().maxBatch(8).channels(16).filters(16).length(4096).kernel(1024)
                    .padding(Padding.same1d(1024));
            default -> throw new IllegalArgumentException("unknown layer " + name + " (resnet64, resnet128, conv1d)");
        };
    }

    @Setup(Level.Trial)
    public void setUp() {
        // Shared: JMH may run set-up, iterations and tear-down on different worker threads.
        arena = Arena.ofShared();
        plan = layer(layer).compression(Compression.fixed(rho)).build(arena);
        long n = plan.maxBatch();
        x = Tensor.allocate(arena, plan.inputShape(n));
        w = Tensor.allocate(arena, plan.weightShape());
        y = Tensor.allocate(arena, plan.outputShape(n));
        dy = Tensor.allocate(arena, plan.outputShape(n));
        dx = Tensor.allocate(arena, plan.inputShape(n));
        dw = Tensor.allocate(arena, plan.weightShape());
        saved = plan.allocateSavedSpectra(arena);
        workspace = plan.allocateWorkspace(arena);
        SplittableRandom random = new SplittableRandom(42);
        Checks.fillUniform(x, random);
        Checks.fillUniform(w, random);
        Checks.fillUniform(dy, random);

        // The forward whose spectra the backward benchmarks read, then the checks on its results.
        plan.forward(x, w, null, y, saved, workspace);
        plan.backward(saved, w, dy, dx, dw, null, workspace);
        String what = String.format(Locale.ROOT, "%s rho=%s (achieved %.4f)", layer, rho, plan.achievedRate());
        if (plan.achievedRate() == 0) Checks.requireDenseSample0(what, plan, x, w, dy, y, dx);
        Checks.requireAdjoint(what + " <y,dy> vs <x,dx>", y, dy, x, dx);
        Checks.requireAdjoint(what + " <y,dy> vs <w,dw>", y, dy, w, dw);
        // With a random dy, <y, dy> is only ~||y|| ||dy|| / sqrt(size): the identities above catch
        // gross errors only. With dy = y both sides are ||y||^2, and the same 1e-5 tolerance
        // catches a gradient off by more than 1e-5 of its size along y.
        try (Arena scratch = Arena.ofConfined()) {
            Tensor dyIsY = Tensor.allocate(scratch, plan.outputShape(n));
            Tensor dx2 = Tensor.allocate(scratch, plan.inputShape(n));
            Tensor dw2 = Tensor.allocate(scratch, plan.weightShape());
            dyIsY.segment().copyFrom(y.segment());
            plan.backward(saved, w, dyIsY, dx2, dw2, null, workspace);
            Checks.requireAdjoint(what + " <y,y> vs <x,dx(y)>", y, y, x, dx2);
            Checks.requireAdjoint(what + " <y,y> vs <w,dw(y)>", y, y, w, dw2);
        }
        checkedY = y.toArray();
        checkedDx = dx.toArray();
        checkedDw = dw.toArray();

        Counters.publish(new Counters(CompressionSweepBenchmark.class.getName(),
                Map.of("forward", plan.flops(Pass.FORWARD, n),
                        "backwardData", plan.flops(Pass.BACKWARD_DATA, n),
                        "backwardWeights", plan.flops(Pass.BACKWARD_WEIGHTS, n)),
                plan.achievedRate(), plan.savedSpectraBytes(), plan.workspaceBytes(),
                Bandlimit.allocatedBytes()));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        try {
            String what = layer + " rho=" + rho;
            Checks.requireUnchanged(what + " y", y, checkedY);
            Checks.requireUnchanged(what + " dx", dx, checkedDx);
            Checks.requireUnchanged(what + " dw", dw, checkedDw);
        } finally {
            arena.close();
        }
    }

    /** The training forward: {@code y = conv(x, w)} band-limited, saving the compact spectra. */
    @Benchmark
    public Box forward() {
        return plan.forward(x, w, null, y, saved, workspace);
    }

    /** The input gradient {@code dx} from the saved spectra (transforms dy once). */
    @Benchmark
    public void backwardData() {
        plan.backward(saved, w, dy, dx, null, null, workspace);
    }

    /** The weight gradient {@code dw} from the saved spectra (transforms dy once). */
    @Benchmark
    public void backwardWeights() {
        plan.backward(saved, null, dy, null, dw, null, workspace);
    }
}
