package dev.bandlimit.cli.experiment;

import dev.bandlimit.cli.data.Cifar10Reader;
import dev.bandlimit.cli.data.IdxReader;
import dev.bandlimit.cli.data.TrainTest;
import dev.bandlimit.cli.train.Data;
import dev.bandlimit.cli.train.MnistCnn;
import dev.bandlimit.cli.train.Model;
import dev.bandlimit.cli.train.Models;
import dev.bandlimit.cli.train.Trainer;
import java.io.PrintStream;
import java.util.Arrays;

/**
 * A dataset in memory with the model that the paper trains on it: items stored one after
 * another ({@code itemShape} each), labels, and the model's factory.
 */
record Workload(String dataset, String model, Model.Factory factory, long[] itemShape, float[] trainItems,
        int[] trainLabels, float[] testItems, int[] testLabels) {

    static Workload load(ExperimentOptions o, PrintStream log) {
        Workload w = switch (o.dataset) {
            case "mnist10k" -> {
                Data d = Data.load(o.data, log);
                yield new Workload("MNIST-10k", MnistCnn.NAME, MnistCnn::new, MnistCnn.ITEM_SHAPE, d.trainImages(),
                        d.trainLabels(), d.testImages(), d.testLabels());
            }
            case "idx" -> {
                TrainTest d = IdxReader.load(o.data);
                if (!Arrays.equals(d.train().itemShape(), MnistCnn.ITEM_SHAPE)) {
                    throw new IllegalArgumentException(o.data + ": the MNIST CNN reads 1x28x28 images, these are "
                            + Arrays.toString(d.train().itemShape()));
                }
                yield of(d, MnistCnn.NAME, MnistCnn::new);
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
        int[] order = new int[testLabels.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.SplittableRandom r = new java.util.SplittableRandom(0x7e57);
        for (int i = order.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        int[] kept = Arrays.copyOf(order, limit);
        Arrays.sort(kept);
        int size = itemSize();
        float[] items = new float[limit * size];
        int[] labels = new int[limit];
        for (int i = 0; i < limit; i++) {
            System.arraycopy(testItems, kept[i] * size, items, i * size, size);
            labels[i] = testLabels[kept[i]];
        }
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
