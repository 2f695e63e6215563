package dev.bandlimit.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bandlimit.Compression;
import dev.bandlimit.Tensor;
import dev.bandlimit.nn.Checkpoint;
import dev.bandlimit.nn.Functional;
import dev.bandlimit.nn.Sgd;
import dev.bandlimit.nn.Tape;
import dev.bandlimit.nn.Var;
import dev.bandlimit.nn.models.MnistCnn;
import dev.bandlimit.nn.models.Model;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data-parallel training on local[2] against one process: a plain training loop written here
 * (the trainer's sampling order, the library's layers and SGD, nothing of the trainer's step)
 * on the same seeded model and data. One Spark worker must reproduce it bit for bit; two workers
 * within the rounding of their two-term gradient sums, run after run with the same bits.
 * Checkpoints, a failure injected mid-run (restart from the last checkpoint, same bits as without
 * it), resuming a finished or cut run, a model with batch norm, and bad input.
 */
class DataParallelTrainingTest {
    private static final int N = 90, BATCH = 16, EPOCHS = 2;
    private static final Compression RHO = Compression.fixed(0.25);
    private static SyntheticImages images;
    private static Dataset<Row> frame;

    @BeforeAll
    static void data() {
        images = SparkTestSupport.images(N, TinyCnn.ITEM_SHAPE, TinyCnn.CLASSES, 2026);
        frame = SparkTestSupport.frame(images);
    }

    private static DataParallelTrainer.Builder trainer(int workers) {
        return DataParallelTrainer.builder(TinyCnn.spec()).workers(workers).epochs(EPOCHS).batchSize(BATCH)
                .learningRate(0.05).momentum(0.9).weightDecay(1e-4).seed(7).compression(RHO).ringHost("127.0.0.1");
    }

    /** The reference: one process, the same batches in the same order, mean loss per batch, SGD. */
    private record Reference(double[] losses, ModelState state) {}

    private static Reference reference() {
        long perEpoch = (N + BATCH - 1) / BATCH;
        List<Double> losses = new ArrayList<>();
        try (Model model = TinyCnn.create(RHO, RHO, 7);
                Sgd sgd = new Sgd(model.network().parameters(), 0.05, 0.9, 1e-4)) {
            for (int epoch = 0; epoch < EPOCHS; epoch++) {
                long[] order = SegmentTask.permutation(N, 7, epoch);
                for (long s = 0; s < perEpoch; s++) {
                    int first = (int) (s * BATCH), last = (int) Math.min(first + BATCH, N), n = last - first;
                    float[] x = new float[n * 144];
                    int[] labels = new int[n];
                    for (int k = 0; k < n; k++) {
                        int row = (int) order[first + k];
                        System.arraycopy(images.items()[row], 0, x, k * 144, 144);
                        labels[k] = images.labels()[row];
                    }
                    try (Arena arena = Arena.ofConfined(); Tape tape = new Tape(true)) {
                        Tensor input = Tensor.copyOf(arena, x, n, 1, 12, 12);
                        sgd.zeroGrad();
                        Var loss = Functional.softmaxCrossEntropy(tape, model.forward(tape, tape.input(input, false)), labels);
                        tape.backward(loss);
                        sgd.step();
                        losses.add((double) loss.item());
                    }
                }
            }
            return new Reference(losses.stream().mapToDouble(Double::doubleValue).toArray(),
                    ModelState.snapshot(model.network(), TinyCnn.NAME, RHO, 7));
        }
    }

    private static double maxRelativeDifference(ModelState a, ModelState b) {
        double worst = 0;
        for (String name : a.names()) {
            float[] x = a.values(name), y = b.values(name);
            double diff = 0, norm = 0;
            for (int i = 0; i < x.length; i++) {
                diff += (double) (x[i] - y[i]) * (x[i] - y[i]);
                norm += (double) x[i] * x[i];
            }
            worst = Math.max(worst, Math.sqrt(diff / Math.max(norm, 1e-30)));
        }
        return worst;
    }

    @Test
    void oneWorkerIsTheOneProcessLoopBitForBitAndTwoFollowItWithinRounding() {
        Reference ref = reference();
        TrainingResult one = trainer(1).build().fit(frame);
        assertEquals(N, one.items());
        assertEquals(ref.losses().length, one.steps().size());
        assertTrue(one.state().sameTensors(ref.state()), "one Spark worker ends with the one-process loop's weights, bit for bit");
        for (int s = 0; s < ref.losses().length; s++) {
            // The trainer reports (loss * n) / n in float: within an ulp of float32.
            assertEquals(ref.losses()[s], one.losses()[s], 1e-6 * ref.losses()[s], "step " + s);
            assertEquals(0, one.steps().get(s).bytesSent(), "one worker sends nothing");
        }

        TrainingResult two = trainer(2).build().fit(frame);
        TrainingResult again = trainer(2).build().fit(frame);
        assertTrue(two.state().sameTensors(again.state()), "two workers give the same bits run after run");
        int threads = dev.bandlimit.Bandlimit.numThreads();
        try {
            TrainingResult oneThread = trainer(2).nativeThreads(1).build().fit(frame);
            assertTrue(oneThread.state().sameTensors(two.state()), "the native thread count does not change the bits");
        } finally {
            dev.bandlimit.Bandlimit.setNumThreads(threads);
        }
        assertArrayEquals(two.losses(), again.losses());
        double worstLoss = 0;
        for (int s = 0; s < ref.losses().length; s++) {
            worstLoss = Math.max(worstLoss, Math.abs(two.losses()[s] - ref.losses()[s]) / ref.losses()[s]);
        }
        double weights = maxRelativeDifference(ref.state(), two.state());
        System.out.printf("two workers vs one process over %d steps: losses within %.2e relative, weights within %.2e%n",
                ref.losses().length, worstLoss, weights);
        // Each step's gradient is the sum of two float32 halves instead of one float32 sum: a few
        // ulps (~1e-7) per step, grown by the training's own sensitivity over 12 steps. 1e-4
        // leaves room for that growth and is still three orders below a one-item change of the batch.
        assertTrue(worstLoss < 1e-4, "two workers' losses follow the one-process curve: " + worstLoss);
        assertTrue(weights < 1e-4, "two workers' weights follow the one-process weights: " + weights);
        assertTrue(ref.losses()[ref.losses().length - 1] < ref.losses()[0], "the loss falls");
        long gradientFloats = 6 * 9 + 6 + 216 * 3 + 3;
        assertEquals(RingAllReduce.bytesPerCall(gradientFloats + 1, 2), two.steps().get(0).bytesSent());
        assertEquals(4 * (gradientFloats + 1), two.steps().get(0).bytesSent(), "2 workers: each sends half the vector twice");
    }

    @Test
    void aFailureRestartsFromTheLastCheckpointAndEndsWithTheSameBits(@TempDir Path dir) throws Exception {
        TrainingResult clean = trainer(2).build().fit(frame);
        List<String> log = new ArrayList<>();
        TrainingResult failed = trainer(2).checkpointDir(dir).checkpointEvery(4).failOnceAt(6, 1).log(log::add).build().fit(frame);
        assertEquals(1, failed.restarts(), String.join("\n", log));
        // Spark reports whichever task's failure came last: the injected one, or its neighbour's lost connection.
        assertTrue(log.stream().anyMatch(l -> l.startsWith("steps [4, 8) failed") && l.contains("restart 1 of 2 from ")
                && l.contains("step-00000004.safetensors")), String.join("\n", log));
        assertTrue(failed.state().sameTensors(clean.state()), "the restarted run ends with the uninterrupted run's bits");
        assertArrayEquals(clean.losses(), failed.losses());
        List<String> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertEquals(List.of("step-00000004.optimizer.safetensors", "step-00000004.safetensors",
                "step-00000008.optimizer.safetensors", "step-00000008.safetensors",
                "step-00000012.optimizer.safetensors", "step-00000012.safetensors"), files);
        Checkpoint.Contents last = Checkpoint.load(dir.resolve("step-00000012.safetensors"));
        assertEquals(TinyCnn.NAME, last.model());
        assertTrue(ModelState.of(last).sameTensors(clean.state()));

        // Resuming a finished run trains nothing; a run cut after step 8 resumes there, same bits.
        TrainingResult finished = trainer(2).checkpointDir(dir).checkpointEvery(4).build().fit(frame);
        assertEquals(12, finished.resumedFromStep());
        assertTrue(finished.steps().isEmpty());
        Files.delete(dir.resolve("step-00000012.safetensors"));
        TrainingResult resumed = trainer(2).checkpointDir(dir).checkpointEvery(4).build().fit(frame);
        assertEquals(8, resumed.resumedFromStep());
        assertEquals(4, resumed.steps().size());
        assertTrue(resumed.state().sameTensors(clean.state()), "resumed from step 8: the same bits");

        // A model and optimizer file that do not belong together are refused, naming both.
        Files.copy(dir.resolve("step-00000004.optimizer.safetensors"), dir.resolve("step-00000012.optimizer.safetensors"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        IllegalArgumentException mismatch = assertThrows(IllegalArgumentException.class,
                () -> trainer(2).checkpointDir(dir).checkpointEvery(4).build().fit(frame));
        assertTrue(mismatch.getMessage().contains("after 4 steps, its model file is named for step 12"), mismatch.getMessage());

        // Without restarts left, the failure is the caller's, naming the steps and the cause.
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> trainer(2).maxRestarts(0).failOnceAt(3, 0).build().fit(frame));
        assertTrue(e.getMessage().startsWith("training failed in steps [0, 12) after 0 restarts: "), e.getMessage());
    }

    @Test
    void theMnistCnnWithBatchNormTrainsOnTwoWorkers() {
        SyntheticImages mnistLike = SparkTestSupport.images(48, MnistCnn.ITEM_SHAPE, 10, 11);
        TrainingResult r = DataParallelTrainer.builder(ModelSpec.mnistCnn()).workers(2).epochs(1).batchSize(16)
                .optimizer("adam").learningRate(0.01).compression(Compression.fixed(0.5)).ringHost("127.0.0.1").build()
                .fit(SparkTestSupport.frame(mnistLike));
        assertEquals(3, r.steps().size());
        for (StepReport s : r.steps()) assertTrue(Double.isFinite(s.loss()) && s.loss() > 0, s.toString());
        assertEquals(3, r.optimizerState().steps());
        try (MnistCnn model = new MnistCnn(Compression.fixed(0.5), Compression.fixed(0.5), 99)) {
            r.state().restoreInto(model.network());  // the names and shapes of a MnistCnn
            float[] mean = model.network().namedBuffers().get("1.running_mean").toArray();
            boolean moved = false;
            for (float v : mean) moved |= v != 0;
            assertTrue(moved, "the running statistics were updated (and averaged over the workers)");
        }
    }

    @Test
    void badInputIsRefusedNamingTheColumn() {
        DataParallelTrainer t = trainer(2).build();
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> t.fit(frame.drop("label")));
        assertTrue(missing.getMessage().contains("label"), missing.getMessage());
        IllegalArgumentException type = assertThrows(IllegalArgumentException.class,
                () -> t.fit(frame.withColumn("label", frame.col("label").cast("double"))));
        assertTrue(type.getMessage().contains("integral"), type.getMessage());
        IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
                () -> t.fit(frame.withColumn("label", frame.col("label").plus(5))));
        assertTrue(String.valueOf(range.getMessage()).contains("outside [0, 3)"), range.getMessage());
        IllegalArgumentException length = assertThrows(IllegalArgumentException.class,
                () -> DataParallelTrainer.builder(ModelSpec.mnistCnn()).ringHost("127.0.0.1").build().fit(frame));
        assertTrue(String.valueOf(length.getMessage()).contains("column features holds 576 bytes"), length.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DataParallelTrainer.builder(TinyCnn.spec()).workers(0));
        IllegalArgumentException slots = assertThrows(IllegalArgumentException.class, () -> trainer(3).build().fit(frame));
        assertTrue(slots.getMessage().startsWith("workers (3) exceed the 2 task slots of local[2]"), slots.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DataParallelTrainer.builder(TinyCnn.spec()).optimizer("lbfgs"));
        assertFalse(Thread.currentThread().isInterrupted());
    }
}
