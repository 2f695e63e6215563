package dev.bandlimit.cli.train;

import dev.bandlimit.nn.Checkpoint;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bandlimit.Compression;
import dev.bandlimit.cli.data.SyntheticSeries;
import dev.bandlimit.cli.data.TrainTest;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The paper's models through the CLI's trainer: ResNet-18 (narrow, on CIFAR-shaped data) and the
 * FCN (on the synthetic series) train, evaluate, report every band-limited layer, and go through
 * a safetensors checkpoint into a fresh model that then evaluates identically.
 */
class PaperModelsTrainingTest {

    private static Trainer.Config config(Compression c, int epochs, long seed) {
        return new Trainer.Config(c, c, epochs, 16, 0.002, "adam", 0.9, 0.0, "cosine", seed, 0, false, false);
    }

    @Test
    void resnet18TrainsEvaluatesAndRoundTripsItsCheckpoint(@TempDir Path dir) {
        // Labels that a model can learn only through the items: the first channel is shifted by
        // +-0.5 with the label, so ten epochs (40 steps, enough for the batch-norm running
        // statistics to settle) fit the training set far above chance (50%).
        SplittableRandom r = new SplittableRandom(5);
        int n = 64, size = 3 * 32 * 32;
        float[] items = new float[n * size];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = r.nextInt(2);
            for (int k = 0; k < size; k++) {
                items[i * size + k] = (float) (r.nextGaussian() + (k < 1024 ? (labels[i] == 1 ? 0.5 : -0.5) : 0));
            }
        }
        Compression c = Compression.fixed(0.5);
        Path file = dir.resolve("resnet.safetensors");
        double accuracy;
        try (Trainer t = new Trainer(config(c, 10, 3), Models.resnet18(4), new long[] {3, 32, 32}, items, labels,
                items, labels, System.out)) {
            List<Trainer.EpochReport> reports = t.train(null);
            Trainer.EpochReport last = reports.getLast();
            assertEquals(20, last.layers().size(), "ResNet-18 has 20 band-limited convolutions");
            for (Trainer.LayerReport l : last.layers()) assertTrue(l.trainRate() > 0.2, l.name() + " " + l.trainRate());
            assertTrue(last.loss() < reports.getFirst().loss(), "loss did not fall");
            accuracy = t.evaluate().accuracy();
            assertTrue(accuracy > 0.75, "accuracy " + accuracy);
            Checkpoint.save(file, t.model().network(), t.model().name(), c, 3);
        }
        Checkpoint.Contents loaded = Checkpoint.load(file);
        assertEquals("resnet18-w4", loaded.model());
        assertTrue(loaded.names().contains("layer2.0.shortcut.0.weight"), loaded.names().toString());
        try (Trainer fresh = new Trainer(config(c, 1, 99), Models.resnet18(4), new long[] {3, 32, 32}, items, labels,
                items, labels, System.out)) {
            Checkpoint.restore(loaded, fresh.model().network(), fresh.model().name());
            assertEquals(accuracy, fresh.evaluate().accuracy(), 0.0);
        }
    }

    @Test
    void fcnLearnsTheSyntheticSeries() {
        TrainTest data = SyntheticSeries.withSeed(2).withCounts(256, 256).generate();
        Compression c = Compression.fixed(0.25);
        try (Trainer t = new Trainer(config(c, 6, 4), Models.fcn(1, 4, 8, 16, 8), data.train().itemShape(),
                data.train().values(), data.train().labels(), data.test().values(), data.test().labels(), System.out)) {
            Trainer.EpochReport last = t.train(null).getLast();
            assertEquals(3, last.layers().size());
            // Four classes in four frequency bands; rho 0.25 keeps the lower 3/4 of each layer's
            // spectrum, so three classes are intact: chance is 25%.
            assertTrue(last.testAccuracy() > 0.6, "test accuracy " + last.testAccuracy());
        }
    }
}
