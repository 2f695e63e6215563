package dev.bandlimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.RepeatedTest;

/**
 * Closing a plan (or its arena, or an execution context) while other threads are executing it
 * must not free it under them: the calls in flight finish with correct results, later calls
 * throw {@link IllegalStateException}, and the native plan is released after the last call
 * (the library's byte counter comes back). Before, the native plan was destroyed at once and a
 * running {@code bl_forward} read freed memory (SIGSEGV, the JVM gone).
 */
class CloseWhileExecutingTest {
    private static final int THREADS = 4;

    @RepeatedTest(5)
    void closingAPlanWhileThreadsExecuteItLetsThemFinish() throws Exception {
        long before = Bandlimit.allocatedBytes();
        Arena planArena = Arena.ofShared();
        ConvPlan plan = ConvPlan.conv2d().maxBatch(4).channels(16).input(24, 24).filters(16).kernel(3, 3)
                .padding(Padding.symmetric(1)).compression(Compression.fixed(0.5)).build(planArena);
        SplittableRandom random = new SplittableRandom(5);
        float[] x = Reference.randomFloats(random, 4 * 16 * 24 * 24);
        float[] w = Reference.randomFloats(random, 16 * 16 * 9);
        float[] expected = plan.infer(x, w, null);
        CountDownLatch running = new CountDownLatch(THREADS);
        AtomicInteger completed = new AtomicInteger();
        AtomicReference<Throwable> unexpected = new AtomicReference<>();
        Thread[] workers = new Thread[THREADS];
        for (int t = 0; t < THREADS; t++) {
            workers[t] = new Thread(() -> {
                try (Arena arena = Arena.ofConfined()) {
                    Tensor xt = Tensor.copyOf(arena, x, 4, 16, 24, 24);
                    Tensor wt = Tensor.copyOf(arena, w, 16, 16, 3, 3);
                    Tensor y = Tensor.allocate(arena, 4, 16, 24, 24);
                    Workspace ws = plan.allocateWorkspace(arena);
                    running.countDown();
                    for (;;) {
                        plan.infer(xt, wt, null, y, ws);
                        // A call that ran completed on the live plan: its result is the plan's.
                        if (!java.util.Arrays.equals(expected, y.toArray())) {
                            throw new AssertionError("a forward racing close() gave different results");
                        }
                        completed.incrementAndGet();
                    }
                } catch (IllegalStateException closed) {
                    // the plan was closed: the documented outcome
                } catch (Throwable e) {
                    unexpected.set(e);
                }
            });
            workers[t].start();
        }
        running.await();
        Thread.sleep(20);
        if (random.nextBoolean()) plan.close(); else planArena.close();
        for (Thread t : workers) t.join(30_000);
        if (unexpected.get() != null) throw new AssertionError(unexpected.get());
        assertTrue(plan.isClosed());
        assertTrue(completed.get() > 0, "no forward completed before the close");
        assertEquals(before, Bandlimit.allocatedBytes(), "the native plan was not released after the last call");
        if (planArena.scope().isAlive()) planArena.close();
    }

    @RepeatedTest(3)
    void closingAContextWhileThreadsUseItIsAnExceptionNotACrash() throws Exception {
        ExecutionContext context = ExecutionContext.builder(Backend.CPU).numThreads(1).build();
        CountDownLatch running = new CountDownLatch(THREADS);
        AtomicReference<Throwable> unexpected = new AtomicReference<>();
        Thread[] workers = new Thread[THREADS];
        for (int t = 0; t < THREADS; t++) {
            workers[t] = new Thread(() -> {
                running.countDown();
                try {
                    for (;;) {
                        try (DeviceBuffer b = context.allocate(4096)) {
                            b.copyFrom(new float[16]);
                            context.setNumThreads(1);
                        }
                    }
                } catch (IllegalStateException closed) {
                    // closed under us: the documented outcome
                } catch (Throwable e) {
                    unexpected.set(e);
                }
            });
            workers[t].start();
        }
        running.await();
        Thread.sleep(10);
        context.close();
        for (Thread t : workers) t.join(30_000);
        if (unexpected.get() != null) throw new AssertionError(unexpected.get());
    }
}
