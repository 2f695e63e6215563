package dev.bandlimit.cli.train;

import dev.bandlimit.nn.Checkpoint;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bandlimit.Box;
import dev.bandlimit.Compression;
import dev.bandlimit.cli.mnist.MnistDataset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training end to end on real MNIST (fetched once into the user's cache, as the CLI does):
 * a learning test that a broken forward or backward cannot pass, bit-for-bit reproducibility,
 * evaluation at a rate different from training, and checkpoints.
 */
class TrainingTest {
    private static Data data;

    @BeforeAll
    static void loadData() {
        data = Data.load(MnistDataset.defaultCacheDir(), System.out);
    }

    private static Trainer.Config config(Compression c, int epochs, int limit, long seed) {
        return new Trainer.Config(c, c, epochs, 32, 0.002, "adam", 0.9, 0.0, "cosine", seed, limit, false, false);
    }

    private static Trainer trainer(Trainer.Config config) {
        return new Trainer(config, data.trainImages(), data.trainLabels(), data.testImages(), data.testLabels(),
                System.out);
    }

    /**
     * 500 training images, 4 epochs at rho = 0.5: the test accuracy must exceed 85% (measured
     * ~90%; chance is 10%, and a model whose gradients are wrong stays far below). Under a minute.
     */
    @Test
    void learnsMnistFromFiveHundredImages() {
        long t0 = System.nanoTime();
        try (Trainer t = trainer(config(Compression.fixed(0.5), 4, 500, 7))) {
            List<Trainer.EpochReport> reports = t.train(null);
            double seconds = (System.nanoTime() - t0) * 1e-9;
            Trainer.EpochReport last = reports.getLast();
            System.out.printf("learning test: test accuracy %.2f%% after 4 epochs on 500 images, %.1f s%n",
                    100 * last.testAccuracy(), seconds);
            assertTrue(last.testAccuracy() > 0.85, "test accuracy " + last.testAccuracy() + " <= 0.85");
            assertTrue(reports.getFirst().loss() > last.loss(), "loss did not fall");
            assertTrue(seconds < 60, "took " + seconds + " s");
        }
    }

    @Test
    void seededRunsAreBitForBitReproducible(@TempDir Path dir) throws Exception {
        byte[][] checkpoints = new byte[2][];
        double[] losses = new double[2];
        for (int run = 0; run < 2; run++) {
            try (Trainer t = trainer(config(Compression.fixed(0.5), 1, 256, 11))) {
                losses[run] = t.train(null).getLast().loss();
                Path file = dir.resolve("run" + run + ".safetensors");
                Checkpoint.save(file, t.model().network(), t.model().name(), Compression.fixed(0.5), 11);
                checkpoints[run] = Files.readAllBytes(file);
            }
        }
        assertEquals(losses[0], losses[1], 0.0);
        assertArrayEquals(checkpoints[0], checkpoints[1]);
    }

    @Test
    void evaluatesAtAnotherRateAndReportsIt() {
        try (Trainer t = trainer(config(Compression.fixed(0.5), 1, 512, 3))) {
            t.train(null);
            Trainer.Evaluation same = t.evaluate();
            Trainer.Evaluation dense = t.evaluateAt(Compression.fixed(0.0));
            Trainer.Evaluation sparse = t.evaluateAt(Compression.fixed(0.75));
            // conv1 sees a 32x32 FFT plane (28 + 2 * 2): box (16, 16) is the full spectrum.
            assertEquals(new Box(16, 16), dense.boxes().getFirst());
            assertEquals(0.0, dense.rates().getFirst(), 0.0);
            assertTrue(same.rates().getFirst() > 0.45 && same.rates().getFirst() <= 0.5);
            assertTrue(sparse.rates().getFirst() > same.rates().getFirst());
            assertNotEquals(dense.boxes(), sparse.boxes());
            // After evaluating elsewhere, the configured evaluation rate is back.
            assertEquals(same.accuracy(), t.evaluate().accuracy(), 0.0);
            System.out.printf("eval at other rates: trained 0.5 -> acc %.2f%% @0, %.2f%% @0.5, %.2f%% @0.75%n",
                    100 * dense.accuracy(), 100 * same.accuracy(), 100 * sparse.accuracy());
        }
    }

    @Test
    void checkpointRestoresTheTrainedFunction(@TempDir Path dir) {
        Path file = dir.resolve("model.safetensors");
        double accuracy;
        try (Trainer t = trainer(config(Compression.fixed(0.25), 1, 512, 5))) {
            t.train(null);
            accuracy = t.evaluate().accuracy();
            Checkpoint.save(file, t.model().network(), t.model().name(), Compression.fixed(0.25), 5);
        }
        Checkpoint.Contents loaded = Checkpoint.load(file);
        assertEquals(Compression.fixed(0.25), loaded.trainCompression());
        // A fresh model with another seed evaluates differently until the checkpoint is restored.
        try (Trainer t = trainer(config(Compression.fixed(0.25), 1, 512, 99))) {
            Checkpoint.restore(loaded, t.model().network(), t.model().name());
            assertEquals(accuracy, t.evaluate().accuracy(), 0.0);
        }
    }
}
