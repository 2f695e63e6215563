package dev.bandlimit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Execution contexts: plans built in a context run with its settings (threads, CPU path), a plan
 * outlives the closing of its context, bad options name the option, and contexts are independent
 * of the default one.
 */
class ExecutionContextTest {

    private static ConvPlan.Builder builder() {
        return ConvPlan.conv2d().maxBatch(3).channels(4).input(13, 11).filters(5).kernel(3, 3)
                .padding(Padding.symmetric(1)).compression(Compression.fixed(0.5));
    }

    private record Data(float[] x, float[] w, float[] b, float[] dy) {}

    private static Data data(ConvPlan plan, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = (int) plan.maxBatch();
        return new Data(Reference.randomFloats(r, (int) (n * plan.channels() * plan.height() * plan.width())),
                Reference.randomFloats(r, (int) (plan.filters() * plan.channels() * plan.kernelHeight() * plan.kernelWidth())),
                Reference.randomFloats(r, (int) plan.filters()),
                Reference.randomFloats(r, (int) (n * plan.filters() * plan.outputHeight() * plan.outputWidth())));
    }

    @Test
    void aPlanRunsWithItsContextsSettingsAndOutlivesIt() {
        for (Bandlimit.CpuPath path : Bandlimit.CpuPath.values()) {
            if (path == Bandlimit.CpuPath.AUTO) continue;
            ExecutionContext.Builder settings = ExecutionContext.builder(Backend.CPU).numThreads(1).cpuPath(path);
            ExecutionContext first;
            try {
                first = settings.build();
            } catch (UnsupportedFeatureException e) {
                System.out.println("ExecutionContextTest: skipped: cpu path " + path + ": " + e.getMessage());
                continue;
            }
            try (Arena arena = Arena.ofConfined(); ExecutionContext second = settings.build()) {
                assertEquals(Backend.CPU, first.backend());
                assertEquals(BufferMemory.HOST, first.bufferMemory());
                assertEquals(path, first.cpuPath());
                assertEquals(1, first.numThreads());
                ConvPlan a = builder().context(first).build(arena);
                first.close();  // the plan keeps the native context alive
                first.close();  // idempotent
                assertThrows(IllegalStateException.class, first::numThreads);
                ConvPlan b = builder().context(second).build(arena);
                assertEquals(Backend.CPU, a.backend());
                Data d = data(a, 41);
                TestSupport.Result ra = TestSupport.forwardBackward(a, 3, d.x(), d.w(), d.b(), d.dy());
                second.setNumThreads(2);  // more threads than the plan was sized for: capped, same bits
                TestSupport.Result rb = TestSupport.forwardBackward(b, 3, d.x(), d.w(), d.b(), d.dy());
                assertArrayEquals(ra.y(), rb.y(), path + ": y");
                assertArrayEquals(ra.dx(), rb.dx(), path + ": dx");
                assertArrayEquals(ra.dw(), rb.dw(), path + ": dw");
                assertArrayEquals(ra.db(), rb.db(), path + ": db");
                // And it is the operator: against the float64 reference at rho 0 on this path.
                ConvPlan dense = builder().compression(Compression.none()).context(second).build(arena);
                TestSupport.Result rd = TestSupport.forwardBackward(dense, 3, d.x(), d.w(), d.b(), d.dy());
                Reference.Geom g = Reference.Geom.conv2d(3, 4, 13, 11, 5, 3, 3, 1, 1, 1, 1, 1, 1);
                double[] want = Reference.denseForward(g, 3, Reference.toDouble(d.x()), Reference.toDouble(d.w()),
                        Reference.toDouble(d.b()));
                double bound = Reference.bound(dense.fftLengths().height(), dense.fftLengths().width(), Reference.reductionY(g));
                double err = Reference.relErr(rd.y(), want);
                assertTrue(err <= bound, path + ": y rel err " + err + " > bound " + bound);
            }
        }
    }

    @Test
    void contextsAreIndependentOfTheDefault() {
        int before = Bandlimit.numThreads();
        try (ExecutionContext c = ExecutionContext.builder(Backend.CPU).numThreads(1).build()) {
            c.setNumThreads(3);
            assertEquals(3, c.numThreads());
            assertEquals(before, Bandlimit.numThreads());
            assertEquals(before, ExecutionContext.defaultContext().numThreads());
        }
        ExecutionContext.defaultContext().close();  // does nothing
        assertEquals(before, ExecutionContext.defaultContext().numThreads());
    }

    @Test
    void badOptionsNameTheOption() {
        InvalidArgumentException device = assertThrows(InvalidArgumentException.class,
                () -> ExecutionContext.builder(Backend.CPU).device(1).build());
        assertEquals("options.device", device.argument());
        assertEquals(Status.INVALID_ARGUMENT, device.status());
        try (ExecutionContext c = ExecutionContext.builder(Backend.CPU).build()) {
            InvalidArgumentException threads = assertThrows(InvalidArgumentException.class, () -> c.setNumThreads(0));
            assertEquals("num_threads", threads.argument());
        }
        assertThrows(IllegalArgumentException.class, () -> ExecutionContext.builder(Backend.CPU).numThreads(0));
        if (!Backend.CUDA.isAvailable()) {
            UnsupportedFeatureException e = assertThrows(UnsupportedFeatureException.class,
                    () -> ExecutionContext.builder(Backend.CUDA).build());
            System.out.println("ExecutionContextTest: CUDA: " + e.getMessage());
            assertTrue(e.getMessage().contains(Backend.CUDA.unavailableReason()), e.getMessage());
        }
    }
}
