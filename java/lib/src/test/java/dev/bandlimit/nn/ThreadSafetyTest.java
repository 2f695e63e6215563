package dev.bandlimit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bandlimit.Compression;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The thread-safety contract of {@code dev.bandlimit.nn} (its package documentation): what may
 * run concurrently gives the results of running it sequentially, bit for bit.
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
        try (Tape tape = new Tape(false)) {
            return m.forward(tape, tape.input(images)).data().toArray();
        }
    }

    /**
     * Several threads evaluate one model at once, each on its own batches of several sizes (so
     * the layers' plan caches grow and replace plans while other threads run them): every result
     * is the one a sequential evaluation gives. With a plan cache of one plan, every batch-size
     * change evicts a plan that another thread may be running.
     */
    @ParameterizedTest(name = "plan cache capacity {0}")
    @ValueSource(ints = {1, 8})
    void concurrentEvaluationOfOneModelIsSequentialEvaluation(int capacity) throws Exception {
        try (Arena arena = Arena.ofShared(); Sequential m = model(21)) {
            // Two training steps first: batch-norm statistics and weights away from their initial values.
            try (Adam adam = new Adam(m.parameters(), 0.01)) {
                Tensor x = Tensor.allocate(arena, 8, 1, 12, 12);
                TrainingFixtures.fillImages(x, 5);
                for (int i = 0; i < 2; i++) TrainingFixtures.trainStep(m, adam, x, TrainingFixtures.labels(8, 5, i));
            }
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
}
