package dev.bandlimit.jmh;

import dev.bandlimit.Bandlimit;
import dev.bandlimit.Box;
import dev.bandlimit.ConvPlan;
import dev.bandlimit.Pass;
import dev.bandlimit.SavedSpectra;
import dev.bandlimit.Tensor;
import dev.bandlimit.Workspace;
import dev.bandlimit.internal.ffm.BandlimitH;
import dev.bandlimit.internal.ffm.bl_box;
import dev.bandlimit.internal.ffm.bl_compression;
import dev.bandlimit.internal.ffm.bl_conv2d_desc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 * What does a call through the Java facade and FFM cost?
 *
 * <p>A layer so small that the arithmetic is negligible (N=1, C=F=1, 4x4 input, 1x1 kernel: 16
 * multiply-adds dense, 4x4 FFTs), called five ways:
 *
 * <ul>
 *   <li>{@link #minimalDowncall}: {@code Bandlimit.numThreads()}, the cheapest facade call (a
 *       confined arena for the out-parameter, one downcall): the floor;
 *   <li>{@link #tensorInfer}: {@code plan.infer(x, w, null, y, workspace)} on off-heap tensors,
 *       zero-copy: shape and overlap checks, one downcall, the native FFT convolution;
 *   <li>{@link #rawInfer}: the same inference through the generated binding
 *       ({@code BandlimitH.bl_forward}) on a native plan of the same layer, no facade: the
 *       downcall and the native work alone. {@code tensorInfer - rawInfer} is the facade's
 *       checks; {@code rawInfer - minimalDowncall} the native work of this layer. (It reaches into
 *       {@code dev.bandlimit.internal.ffm}, which the module does not export: fine on the class
 *       path, where this jar runs, and nowhere else.)
 *   <li>{@link #tensorForward}: the training forward, which also writes the saved spectra;
 *   <li>{@link #floatArrayInfer}: {@code plan.infer(float[], float[], float[])}, the
 *       convenience overload: a confined arena, copies of x and w in, a new y array out, and
 *       the plan's shared workspace (taken under its lock).
 * </ul>
 *
 * <p>The native core runs on {@code threads} threads (default 1), set before the plan is built
 * and restored at tear-down: with more, an OpenMP fork-join would be timed instead of the call.
 * Checked once per trial: both paths give {@code y = w x} (a 1x1 kernel, rho 0) to float32
 * rounding, and the timed calls' output still equals it at tear-down.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class JavaOverheadBenchmark {

    /** Threads of the native core during the trial. */
    @Param({"1"})
    public int threads;

    private int threadsBefore;
    private Arena arena;
    private ConvPlan plan;
    private Tensor x, w, y;
    private SavedSpectra saved;
    private Workspace workspace;
    private float[] xArray, wArray, expected;
    private MemorySegment rawPlan = MemorySegment.NULL, rawBox;

    @Setup(Level.Trial)
    public void setUp() {
        threadsBefore = Bandlimit.numThreads();
        Bandlimit.setNumThreads(threads);
        arena = Arena.ofShared();
        plan = ConvPlan.conv2d().maxBatch(1).channels(1).filters(1).input(4, 4).kernel(1, 1).build(arena);
        x = Tensor.allocate(arena, plan.inputShape(1));
        w = Tensor.allocate(arena, plan.weightShape());
        y = Tensor.allocate(arena, plan.outputShape(1));
        saved = plan.allocateSavedSpectra(arena);
        workspace = plan.allocateWorkspace(arena);
        SplittableRandom random = new SplittableRandom(7);
        Checks.fillUniform(x, random);
        Checks.fillUniform(w, random);
        xArray = x.toArray();
        wArray = w.toArray();

        expected = new float[xArray.length];
        for (int i = 0; i < expected.length; i++) expected[i] = xArray[i] * wArray[0];
        float[] fromArrays = plan.infer(xArray, wArray, null);
        requireExpected("float[] infer", fromArrays);
        plan.forward(x, w, null, y, saved, workspace);
        requireExpected("Tensor forward", y.toArray());
        plan.infer(x, w, null, y, workspace);
        requireExpected("Tensor infer", y.toArray());

        rawPlan = createRawPlan();
        rawBox = bl_box.allocate(arena);
        y.segment().fill((byte) 0);
        requireOk(rawInfer(), "bl_forward");
        requireExpected("raw bl_forward", y.toArray());

        var forward = plan.flops(Pass.FORWARD, 1);
        Counters.publish(new Counters(JavaOverheadBenchmark.class.getName(),
                Map.of("tensorInfer", forward, "rawInfer", forward, "tensorForward", forward, "floatArrayInfer",
                        forward),
                plan.achievedRate(), plan.savedSpectraBytes(), plan.workspaceBytes(),
                Bandlimit.allocatedBytes()));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        try {
            requireExpected("the timed calls' y", y.toArray());
        } finally {
            if (!rawPlan.equals(MemorySegment.NULL)) BandlimitH.bl_plan_destroy(rawPlan);
            arena.close();
            Bandlimit.setNumThreads(threadsBefore);
        }
    }

    /** The plan of {@link #plan}'s layer, made through the generated bindings (CPU, rho 0). */
    private static MemorySegment createRawPlan() {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment desc = bl_conv2d_desc.allocate(call); // zeroed: no padding
            bl_conv2d_desc.max_batch(desc, 1);
            bl_conv2d_desc.channels(desc, 1);
            bl_conv2d_desc.height(desc, 4);
            bl_conv2d_desc.width(desc, 4);
            bl_conv2d_desc.filters(desc, 1);
            bl_conv2d_desc.kernel_height(desc, 1);
            bl_conv2d_desc.kernel_width(desc, 1);
            bl_conv2d_desc.stride_h(desc, 1);
            bl_conv2d_desc.stride_w(desc, 1);
            MemorySegment compression = bl_compression.allocate(call);
            bl_compression.kind(compression, BandlimitH.BL_COMPRESSION_FIXED());
            bl_compression.value(compression, 0.0);
            MemorySegment out = call.allocate(ValueLayout.ADDRESS);
            requireOk(BandlimitH.bl_plan_create_2d(MemorySegment.NULL, desc, compression, MemorySegment.NULL, out),
                    "bl_plan_create_2d");
            return out.get(ValueLayout.ADDRESS, 0);
        }
    }

    private static void requireOk(int status, String call) {
        if (status != 0) throw new IllegalStateException(call + " returned status " + status);
    }

    private void requireExpected(String what, float[] got) {
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(got[i] - expected[i]) <= 1e-5 * (1 + Math.abs(expected[i])))) {
                throw new IllegalStateException(what + ": y[" + i + "] = " + got[i] + ", expected w x = " + expected[i]);
            }
        }
    }

    /** The floor: the cheapest call through the facade (one downcall, one tiny confined arena). */
    @Benchmark
    public int minimalDowncall() {
        return Bandlimit.numThreads();
    }

    /** Zero-copy inference on off-heap tensors with the caller's workspace. */
    @Benchmark
    public Box tensorInfer() {
        return plan.infer(x, w, null, y, workspace);
    }

    /** The same inference through the generated binding: no facade checks, no per-call arena. */
    @Benchmark
    public int rawInfer() {
        MemorySegment ws = workspace.segment();
        return BandlimitH.bl_forward(rawPlan, 1, x.segment(), w.segment(), MemorySegment.NULL, y.segment(),
                MemorySegment.NULL, 0, ws, ws.byteSize(), rawBox);
    }

    /** Zero-copy training forward (also writes the saved spectra). */
    @Benchmark
    public Box tensorForward() {
        return plan.forward(x, w, null, y, saved, workspace);
    }

    /** The float[] overload: copies in and out, the plan's shared workspace. */
    @Benchmark
    public float[] floatArrayInfer() {
        return plan.infer(xArray, wArray, null);
    }
}
