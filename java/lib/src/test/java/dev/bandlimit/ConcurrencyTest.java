package dev.bandlimit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A plan is immutable: threads running it at once with their own buffers get the sequential
 * results, bit for bit; and the native thread count does not change results.
 */
class ConcurrencyTest {
    private static final int ITERATIONS = 25;

    private static ConvPlan.Builder builder(Compression comp) {
        return ConvPlan.conv2d().maxBatch(4).channels(6).input(20, 17).filters(5).kernel(3, 3)
                .padding(Padding.of(1, 2, 1, 0)).stride(1, 2).compression(comp);
    }

    /** Inputs of one worker: x, w, b, dy for batch n. */
    private record Data(int n, float[] x, float[] w, float[] b, float[] dy) {
        static Data random(ConvPlan plan, int n, long seed) {
            SplittableRandom r = new SplittableRandom(seed);
            return new Data(n, Reference.randomFloats(r, (int) (n * plan.channels() * plan.height() * plan.width())),
                    Reference.randomFloats(r, (int) (plan.filters() * plan.channels() * plan.kernelHeight() * plan.kernelWidth())),
                    Reference.randomFloats(r, (int) plan.filters()),
                    Reference.randomFloats(r, (int) (n * plan.filters() * plan.outputHeight() * plan.outputWidth())));
        }
    }

    private static void assertSame(TestSupport.Result expected, TestSupport.Result actual, String ctx) {
        assertEquals(expected.box(), actual.box(), ctx + ": box");
        assertArrayEquals(expected.y(), actual.y(), ctx + ": y");
        assertArrayEquals(expected.dx(), actual.dx(), ctx + ": dx");
        assertArrayEquals(expected.dw(), actual.dw(), ctx + ": dw");
        assertArrayEquals(expected.db(), actual.db(), ctx + ": db");
    }

    /** Forward + backward with the plan's shared workspace (the overloads without one). */
    private static TestSupport.Result sharedWorkspaceRun(ConvPlan plan, Data d) {
        try (Arena arena = Arena.ofConfined()) {
            Tensor x = Tensor.copyOf(arena, d.x(), plan.inputShape(d.n()));
            Tensor w = Tensor.copyOf(arena, d.w(), plan.weightShape());
            Tensor b = Tensor.copyOf(arena, d.b(), plan.biasShape());
            Tensor y = Tensor.allocate(arena, plan.outputShape(d.n()));
            Tensor dy = Tensor.copyOf(arena, d.dy(), plan.outputShape(d.n()));
            Tensor dx = Tensor.allocate(arena, plan.inputShape(d.n()));
            Tensor dw = Tensor.allocate(arena, plan.weightShape());
            Tensor db = Tensor.allocate(arena, plan.biasShape());
            SavedSpectra saved = plan.allocateSavedSpectra(arena);
            Box box = plan.forward(x, w, b, y, saved);
            plan.backward(saved, w, dy, dx, dw, db);
            return new TestSupport.Result(y.toArray(), box, dx.toArray(), dw.toArray(), db.toArray());
        }
    }

    @Test
    void twoThreadsOnOnePlanMatchSequentialRuns() throws Exception {
        for (Compression comp : new Compression[] {Compression.fixed(0.5), Compression.energy(0.7)}) {
            try (Arena arena = Arena.ofConfined(); ConvPlan plan = builder(comp).build(arena)) {
                Data[] data = {Data.random(plan, 4, 6001), Data.random(plan, 3, 6002)};
                TestSupport.Result[] expected = new TestSupport.Result[2];
                for (int t = 0; t < 2; t++) {
                    Data d = data[t];
                    expected[t] = TestSupport.forwardBackward(plan, d.n(), d.x(), d.w(), d.b(), d.dy());
                }
                CyclicBarrier start = new CyclicBarrier(2);
                ExecutorService pool = Executors.newFixedThreadPool(2);
                try {
                    List<Future<Integer>> futures = new ArrayList<>();
                    for (int t = 0; t < 2; t++) {
                        int id = t;
                        futures.add(pool.submit(() -> {
                            start.await(30, TimeUnit.SECONDS);
                            for (int i = 0; i < ITERATIONS; i++) {
                                Data d = data[id];
                                // Own workspace, saved spectra and outputs (TestSupport allocates them per call).
                                TestSupport.Result r = TestSupport.forwardBackward(plan, d.n(), d.x(), d.w(), d.b(), d.dy());
                                assertSame(expected[id], r, comp + " thread " + id + " iteration " + i + " seeds 6001/6002");
                                // The overloads with the plan's shared workspace, interleaved with the other thread.
                                assertSame(expected[id], sharedWorkspaceRun(plan, d),
                                        comp + " shared workspace, thread " + id + " iteration " + i);
                            }
                            return ITERATIONS;
                        }));
                    }
                    for (Future<Integer> f : futures) assertEquals(ITERATIONS, f.get(120, TimeUnit.SECONDS));
                } finally {
                    pool.shutdownNow();
                }
            }
        }
    }

    @Test
    void threadCountDoesNotChangeResults() {
        int original = Bandlimit.numThreads();
        try {
            Bandlimit.setNumThreads(4); // plans size their workspace for the count in force when built
            for (Compression comp : new Compression[] {Compression.none(), Compression.fixed(0.5), Compression.energy(0.7)}) {
                for (SpectraMode mode : SpectraMode.values()) {
                    try (Arena arena = Arena.ofConfined(); ConvPlan plan = builder(comp).spectraMode(mode).build(arena)) {
                        Data d = Data.random(plan, 4, 6003);
                        Bandlimit.setNumThreads(1);
                        assertEquals(1, Bandlimit.numThreads());
                        TestSupport.Result one = TestSupport.forwardBackward(plan, d.n(), d.x(), d.w(), d.b(), d.dy());
                        Bandlimit.setNumThreads(2);
                        assertEquals(2, Bandlimit.numThreads());
                        TestSupport.Result two = TestSupport.forwardBackward(plan, d.n(), d.x(), d.w(), d.b(), d.dy());
                        assertSame(one, two, comp + " " + mode + ": 1 vs 2 threads, seed 6003");
                        Bandlimit.setNumThreads(4);
                        TestSupport.Result four = TestSupport.forwardBackward(plan, d.n(), d.x(), d.w(), d.b(), d.dy());
                        assertSame(one, four, comp + " " + mode + ": 1 vs 4 threads, seed 6003");
                        Bandlimit.setNumThreads(8); // more than the plan was built for: capped
                        TestSupport.Result eight = TestSupport.forwardBackward(plan, d.n(), d.x(), d.w(), d.b(), d.dy());
                        assertSame(one, eight, comp + " " + mode + ": 1 vs 8 (capped) threads, seed 6003");
                    }
                }
            }
        } finally {
            Bandlimit.setNumThreads(original);
        }
        assertEquals(original, Bandlimit.numThreads());
    }
}
