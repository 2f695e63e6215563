package dev.bandlimit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bandlimit.Backend;
import dev.bandlimit.Compression;
import dev.bandlimit.ExecutionContext;
import dev.bandlimit.Padding;
import dev.bandlimit.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The thread-safety contract of {@code dev.bandlimit.nn} (its package documentation): what may
 * run concurrently gives the results of running it sequentially, bit for bit; each misuse that
 * the package detects throws the documented {@link IllegalStateException}, naming what was
 * misused, before anything is written.
 */
class ThreadSafetyTest {
    private static final int THREADS = 4;
    private static final int ROUNDS = 15;

    /** A CNN with every kind of layer whose evaluation reads shared state: plans, batch-norm statistics, parameters. */
    static Sequential model(long seed) {
        return new Sequential(
                new Conv2d(1, 4, 3, 3, Padding.symmetric(1), 1, true, Compression.fixed(0.5), Compression.fixed(0.5), seed),
                new BatchNorm2d(4),
                new ReLU(),
                new MaxPool2d(2, 2),
                new Residual(new Sequential(new Conv2d(4, 4, 3, 3, Padding.symmetric(1), 1, false, Compression.energy(0.9),
                        Compression.energy(0.9), seed + 1), new BatchNorm2d(4)), null),
                new ReLU(),
                new Flatten(),
                new Dropout(0.3, seed + 2),
                new Linear(4 * 6 * 6, 5, true, seed + 3));
    }

    private static float[] evaluate(Module m, Tensor images) {
        try (Tape tape = m.device() == null ? new Tape(false) : Tape.on(m.device(), false)) {
            return m.forward(tape, tape.input(images)).data().toArray();
        }
    }

    /**
     * Several threads evaluate one model at once, each on its own batches of several sizes (so
     * the layers' plan caches grow and replace plans while other threads run them): every result
     * is the one a sequential evaluation gives. With a plan cache of one plan, every batch-size
     * change evicts a plan that another thread may be running; on device tapes the scratch
     * workspace of a contended call is a context buffer.
     */
    @ParameterizedTest(name = "plan cache capacity {0}, device tapes {1}")
    @CsvSource({"1, false", "8, false", "1, true"})
    void concurrentEvaluationOfOneModelIsSequentialEvaluation(int capacity, boolean deviceTapes) throws Exception {
        try (ExecutionContext cpu = ExecutionContext.builder(Backend.CPU).build(); Arena arena = Arena.ofShared();
                Sequential m = model(21)) {
            // Two training steps first: batch-norm statistics and weights away from their initial values.
            try (Adam adam = new Adam(m.parameters(), 0.01)) {
                Tensor x = Tensor.allocate(arena, 8, 1, 12, 12);
                TrainingFixtures.fillImages(x, 5);
                for (int i = 0; i < 2; i++) TrainingFixtures.trainStep(m, adam, x, TrainingFixtures.labels(8, 5, i));
            }
            // Device tapes (a CPU context's buffers): the convolutions' second workspace is then a buffer.
            if (deviceTapes) m.to(cpu);
            for (Module layer : List.of(m.layers().get(0), ((Residual) m.layers().get(4)).body().children().get(0))) {
                ((ConvLayer) layer).setPlanCacheCapacity(capacity);
            }
            int[] batchSizes = {1, 3, 6, 2, 8};
            Tensor[][] inputs = new Tensor[THREADS][batchSizes.length];
            float[][][] expected = new float[THREADS][batchSizes.length][];
            for (int t = 0; t < THREADS; t++) {
                for (int b = 0; b < batchSizes.length; b++) {
                    inputs[t][b] = Tensor.allocate(arena, batchSizes[(b + t) % batchSizes.length], 1, 12, 12);
                    TrainingFixtures.fillImages(inputs[t][b], 100 + 10L * t + b);
                    expected[t][b] = evaluate(m, inputs[t][b]);
                }
            }
            CyclicBarrier start = new CyclicBarrier(THREADS);
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                List<Future<Integer>> done = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    int id = t;
                    done.add(pool.submit(() -> {
                        start.await(30, TimeUnit.SECONDS);
                        for (int round = 0; round < ROUNDS; round++) {
                            for (int b = 0; b < batchSizes.length; b++) {
                                assertArrayEquals(expected[id][b], evaluate(m, inputs[id][b]),
                                        "thread " + id + " round " + round + " batch " + b);
                            }
                        }
                        return ROUNDS;
                    }));
                }
                for (Future<Integer> f : done) assertEquals(ROUNDS, f.get(300, TimeUnit.SECONDS));
            } finally {
                pool.shutdownNow();
            }
        }
    }

    // ----------------------------------------------------------------------------------------
    // Training separate copies on separate threads
    // ----------------------------------------------------------------------------------------

    /** Every parameter and buffer of a model after a few seeded training steps, as raw bits. */
    private static List<int[]> trainedState(long seed, int steps) {
        try (Arena arena = Arena.ofConfined(); Sequential m = model(seed); Adam adam = new Adam(m.parameters(), 0.01)) {
            Tensor x = Tensor.allocate(arena, 8, 1, 12, 12);
            TrainingFixtures.fillImages(x, seed);
            for (int step = 0; step < steps; step++) {
                TrainingFixtures.trainStep(m, adam, x, TrainingFixtures.labels(8, 5, seed + step));
            }
            List<int[]> state = new ArrayList<>();
            for (Parameter p : m.parameters()) state.add(bits(p.data()));
            for (Tensor t : m.namedBuffers().values()) state.add(bits(t));
            return state;
        }
    }

    private static int[] bits(Tensor t) {
        float[] v = t.toArray();
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) out[i] = Float.floatToRawIntBits(v[i]);
        return out;
    }

    /** Copies of a model trained on threads of their own end where sequential training ends, bit for bit. */
    @Test
    void concurrentTrainingOfSeparateCopiesIsIndependent() throws Exception {
        long[] seeds = {31, 31, 32, 33};  // two copies of the same model, and two others
        List<List<int[]>> sequential = new ArrayList<>();
        for (long seed : seeds) sequential.add(trainedState(seed, 5));
        CyclicBarrier start = new CyclicBarrier(seeds.length);
        ExecutorService pool = Executors.newFixedThreadPool(seeds.length);
        try {
            List<Future<List<int[]>>> done = new ArrayList<>();
            for (long seed : seeds) {
                done.add(pool.submit(() -> {
                    start.await(30, TimeUnit.SECONDS);
                    return trainedState(seed, 5);
                }));
            }
            for (int i = 0; i < seeds.length; i++) {
                List<int[]> got = done.get(i).get(300, TimeUnit.SECONDS);
                for (int k = 0; k < got.size(); k++) {
                    assertArrayEquals(sequential.get(i).get(k), got.get(k), "copy " + i + " (seed " + seeds[i] + ") tensor " + k);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    // ----------------------------------------------------------------------------------------
    // Misuse that the package detects
    // ----------------------------------------------------------------------------------------

    /** Runs {@code body} on a new thread named {@code name} and returns what it threw (null: nothing). */
    private static Throwable onThread(String name, Executable body) throws InterruptedException {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                body.execute();
            } catch (Throwable e) {
                thrown.set(e);
            }
        }, name);
        t.start();
        t.join(60_000);
        assertFalse(t.isAlive(), name + " did not finish");
        return thrown.get();
    }

    private static void assertMisuse(Throwable thrown, String... mentions) {
        assertTrue(thrown instanceof IllegalStateException, "expected an IllegalStateException, got " + thrown);
        for (String m : mentions) assertTrue(thrown.getMessage().contains(m), "message names " + m + ": " + thrown.getMessage());
    }

    @Test
    void aTapeUsedFromAnotherThreadThrowsAndStaysUsable() throws Exception {
        try (Arena arena = Arena.ofShared(); Sequential m = model(41); Tape tape = new Tape(true)) {
            Tensor images = Tensor.allocate(arena, 2, 1, 12, 12);
            TrainingFixtures.fillImages(images, 1);
            Var x = tape.input(images);
            Var logits = m.forward(tape, x);
            String owner = Thread.currentThread().getName();
            List<Executable> misuses = List.of(
                    () -> Functional.relu(tape, logits),
                    () -> m.forward(tape, x),
                    () -> tape.input(images),
                    () -> tape.param(m.parameters().get(0)),
                    () -> tape.backward(Functional.softmaxCrossEntropy(tape, logits, new int[] {0, 1})),
                    logits::data,
                    logits::item,
                    tape::arena,
                    tape::close);
            for (int i = 0; i < misuses.size(); i++) {
                assertMisuse(onThread("intruder-" + i, misuses.get(i)), "this tape belongs to thread \"" + owner + "\"",
                        "thread \"intruder-" + i + "\"");
            }
            assertFalse(tape.isClosed(), "a close() from another thread closes nothing");
            // The owner goes on as if nothing had happened.
            Var loss = Functional.softmaxCrossEntropy(tape, logits, new int[] {0, 1});
            tape.backward(loss);
            assertTrue(Float.isFinite(loss.item()));
        }
    }

    @Test
    void twoThreadsCannotTrainOneModelAtOnce() throws Exception {
        try (Arena arena = Arena.ofShared(); Sequential m = model(42); Adam adam = new Adam(m.parameters(), 0.01)) {
            Tensor images = Tensor.allocate(arena, 2, 1, 12, 12);
            TrainingFixtures.fillImages(images, 2);
            int[] labels = {1, 3};
            String trainer = Thread.currentThread().getName();
            List<int[]> before;
            try (Tape tape = new Tape(true)) {
                Var loss = Functional.softmaxCrossEntropy(tape, m.forward(tape, tape.input(images)), labels);
                before = new ArrayList<>();
                for (Parameter p : m.parameters()) before.add(bits(p.data()));
                for (Parameter p : m.parameters()) before.add(bits(p.grad()));
                // While this training tape is open, no other thread may train, evaluate, step or zero the model.
                assertMisuse(onThread("second-trainer", () -> TrainingFixtures.trainStep(m, adam, images, labels)),
                        "parameter weight", "thread \"" + trainer + "\" (a training tape)", "a training tape on thread \"second-trainer\"");
                assertMisuse(onThread("evaluator", () -> evaluate(m, images)), "thread \"" + trainer + "\"",
                        "an evaluation tape on thread \"evaluator\"");
                assertMisuse(onThread("stepper", adam::step), "Adam.step on thread \"stepper\"");
                assertMisuse(onThread("zeroer", adam::zeroGrad), "zeroGrad on thread \"zeroer\"");
                assertMisuse(onThread("module-zeroer", m::zeroGrad), "zeroGrad on thread \"module-zeroer\"");
                assertEquals(0, adam.stepCount(), "a refused step counts nothing");
                List<int[]> after = new ArrayList<>();
                for (Parameter p : m.parameters()) after.add(bits(p.data()));
                for (Parameter p : m.parameters()) after.add(bits(p.grad()));
                for (int i = 0; i < before.size(); i++) assertArrayEquals(before.get(i), after.get(i), "tensor " + i + " was written");
                adam.zeroGrad();
                tape.backward(loss);
                adam.step();  // the trainer's own step, inside its tape: allowed
            }
            // Closed: the model is free for another thread (one at a time).
            assertEquals(null, onThread("next-trainer", () -> TrainingFixtures.trainStep(m, adam, images, labels)));
            assertEquals(null, onThread("next-evaluator", () -> evaluate(m, images)));
            assertEquals(2, adam.stepCount());
        }
    }

    /** Two optimizer steps over the same parameters overlapping on two threads: the second throws, writing nothing. */
    @Test
    void overlappingOptimizerStepsThrow() throws Exception {
        try (Sequential m = model(43); Adam adam = new Adam(m.parameters(), 0.01); Sgd sgd = new Sgd(m.parameters(), 0.1, 0.9, 0)) {
            List<Parameter> params = m.parameters();
            for (Parameter p : params) Init.fill(p.grad(), 0.5f);
            List<int[]> before = new ArrayList<>();
            for (Parameter p : params) before.add(bits(p.data()));
            // The hold that a running step takes (Parameter.holdAll, as Adam.step and Sgd.step do) on this
            // thread: the other thread's steps arrive in the middle of it.
            Parameter.holdAll(params, "Adam.step");
            try {
                String stepping = Thread.currentThread().getName();
                assertMisuse(onThread("same-optimizer", adam::step), "thread \"" + stepping + "\" (Adam.step)",
                        "Adam.step on thread \"same-optimizer\"");
                assertMisuse(onThread("other-optimizer", sgd::step), "Sgd.step on thread \"other-optimizer\"");
                assertEquals(0, adam.stepCount());
            } finally {
                Parameter.releaseAll(params);
            }
            for (int i = 0; i < params.size(); i++) assertArrayEquals(before.get(i), bits(params.get(i).data()), "parameter " + i);
            assertEquals(null, onThread("after", adam::step), "released: another thread may step");
            assertEquals(1, adam.stepCount());
        }
    }

    /** A thread that ended with a training tape open (never closed) does not hold the model forever. */
    @Test
    void aDeadThreadsTapeHoldsNothing() throws Exception {
        try (Arena arena = Arena.ofShared(); Sequential m = model(44); Adam adam = new Adam(m.parameters(), 0.01)) {
            Tensor images = Tensor.allocate(arena, 2, 1, 12, 12);
            TrainingFixtures.fillImages(images, 3);
            assertEquals(null, onThread("abandons-its-tape", () -> {
                Tape leaked = new Tape(true, null);
                m.forward(leaked, leaked.input(images));
            }));
            assertDoesNotThrow(() -> TrainingFixtures.trainStep(m, adam, images, new int[] {0, 4}));
        }
    }

    @Test
    void aClosedTapeRefusesEveryUse() {
        try (Arena arena = Arena.ofShared(); Sequential m = model(45)) {
            Tensor images = Tensor.allocate(arena, 2, 1, 12, 12);
            Tape tape = new Tape(true);
            Var x = tape.input(images, true);
            Var logits = m.forward(tape, x);
            tape.close();
            List<Executable> uses = List.of(() -> tape.input(images), () -> tape.param(m.parameters().get(0)),
                    () -> tape.backward(logits), tape::arena, () -> Functional.relu(tape, logits), () -> m.forward(tape, x),
                    logits::data, logits::grad, logits::item, x::data);
            for (Executable use : uses) {
                IllegalStateException e = assertThrows(IllegalStateException.class, use);
                assertTrue(e.getMessage().contains("the tape is closed"), e.getMessage());
            }
            assertDoesNotThrow(tape::close);
            // Closing released the parameters: another thread may train the model.
            try (Adam adam = new Adam(m.parameters(), 0.01)) {
                assertEquals(null, onThread("after-close", () -> TrainingFixtures.trainStep(m, adam, images, new int[] {1, 2})));
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    /** The per-thread tape memory of threads that have ended is returned once they are collected. */
    @Test
    void perThreadTapeMemoryOfEndedThreadsIsFreed() throws Exception {
        // Earlier tests' ended threads first, so that nothing else is freed during the measurement.
        long baseline = collectUntilStable();
        int threads = 6;
        java.util.concurrent.CountDownLatch allocated = new java.util.concurrent.CountDownLatch(threads);
        java.util.concurrent.CountDownLatch finish = new java.util.concurrent.CountDownLatch(1);
        List<Thread> started = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> {
                try (Tape tape = new Tape(false)) {
                    tape.allocate(1 << 18);  // 1 MiB: the pool's first block, kept after the tape closes
                }
                allocated.countDown();
                try {
                    finish.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "short-lived-" + i);
            t.start();
            started.add(t);
        }
        assertTrue(allocated.await(60, TimeUnit.SECONDS));
        long whileAlive = TapeMemory.perThreadReservedBytes() - baseline;
        assertTrue(whileAlive >= threads * (1L << 20), "live threads' pools hold " + whileAlive + " bytes");
        finish.countDown();
        for (Thread t : started) t.join(60_000);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (TapeMemory.perThreadReservedBytes() > baseline && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        assertTrue(TapeMemory.perThreadReservedBytes() <= baseline, "per-thread pools of ended threads still hold "
                + (TapeMemory.perThreadReservedBytes() - baseline) + " of the " + whileAlive + " bytes they took");
    }

    /** Collects until the per-thread pools' bytes stop falling (five collections in a row); returns them. */
    private static long collectUntilStable() throws InterruptedException {
        long bytes = TapeMemory.perThreadReservedBytes();
        for (int stable = 0, round = 0; stable < 5 && round < 200; round++) {
            System.gc();
            Thread.sleep(20);
            long now = TapeMemory.perThreadReservedBytes();
            stable = now == bytes ? stable + 1 : 0;
            bytes = now;
        }
        return bytes;
    }

    @Test
    void opTimersSumRecordsOfAllThreads() throws Exception {
        OpTimers.reset();
        int threads = 4, records = 20_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) done.add(pool.submit(() -> {
                for (int i = 0; i < records; i++) OpTimers.record("thread.test", 3);
            }));
            for (Future<?> f : done) f.get(60, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        assertEquals(3L * threads * records, OpTimers.snapshotNanos().get("thread.test"));
        OpTimers.reset();
    }
}
