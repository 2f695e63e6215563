package dev.bandlimit.cli.experiment;

import dev.bandlimit.Compression;
import dev.bandlimit.cli.train.Checks;
import dev.bandlimit.cli.train.Trainer;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * What every experiment reads: the data, the training budget, the seeds, the output folder and
 * {@code --quick} (a few hundred items and one epoch: the same code path in seconds, for tests
 * and CI; its numbers say nothing about accuracy).
 */
public final class ExperimentOptions {
    @Option(names = "--quick", description = "a small run (few items, 1 epoch, 1 seed) that checks the pipeline in seconds")
    public boolean quick;

    @Option(names = "--out", defaultValue = "runs/experiments", description = "output folder; each experiment writes NAME/results.json and PNGs there (default ${DEFAULT-VALUE})")
    public Path out;

    @Option(names = "--dataset", defaultValue = "mnist10k",
            description = "mnist10k (bundled download), idx (MNIST or Fashion-MNIST files in --data), cifar10 (binary batches in --data; trains ResNet-18) (default ${DEFAULT-VALUE})")
    public String dataset;

    @Option(names = "--data", description = "folder of the dataset (mnist10k: the cache folder, default ~/.cache/bandlimit/mnist)")
    public Path data;

    @Option(names = "--epochs", description = "epochs per run (default: the experiment's; --quick: 1)")
    public Integer epochs;

    @Option(names = "--seeds", description = "seeds per configuration (default: the experiment's; --quick: 1)")
    public Integer seeds;

    @Option(names = "--seed", defaultValue = "1", description = "first seed (default ${DEFAULT-VALUE})")
    public long seed;

    @Option(names = "--batch", defaultValue = "64", description = "batch size (default ${DEFAULT-VALUE})")
    public int batch;

    @Option(names = "--lr", defaultValue = "0.002", description = "Adam learning rate, cosine schedule (default ${DEFAULT-VALUE})")
    public double learningRate;

    @Option(names = "--train-limit", defaultValue = "0", description = "train on this many items (0: all; --quick: 512)")
    public int trainLimit;

    @Option(names = "--test-limit", defaultValue = "0", description = "evaluate on this many test items (0: all; --quick: 500)")
    public int testLimit;

    public static final List<String> DATASETS = List.of("mnist10k", "idx", "cifar10");

    public void validate(CommandLine cl) {
        Checks.oneOf(cl, "--dataset", dataset, DATASETS);
        if (!dataset.equals("mnist10k") && data == null) {
            throw new CommandLine.ParameterException(cl, "--dataset " + dataset + " needs --data FOLDER (the files are"
                    + " not bundled: see docs/EXPERIMENTS.md for where to get them)");
        }
        if (epochs != null) Checks.atLeast(cl, "--epochs", epochs, 1);
        if (seeds != null) Checks.atLeast(cl, "--seeds", seeds, 1);
        Checks.atLeast(cl, "--batch", batch, 1);
        Checks.positive(cl, "--lr", learningRate);
        Checks.atLeast(cl, "--train-limit", trainLimit, 0);
        Checks.atLeast(cl, "--test-limit", testLimit, 0);
    }

    public int epochs(int standard) {
        return epochs(standard, 1);
    }

    /** As given, else {@code quickEpochs} in a quick run, else {@code standard}. */
    public int epochs(int standard, int quickEpochs) {
        return epochs != null ? epochs : quick ? quickEpochs : standard;
    }

    public int seeds(int standard) {
        return seeds != null ? seeds : quick ? 1 : standard;
    }

    public int trainLimit() {
        return trainLimit > 0 ? trainLimit : quick ? 512 : 0;
    }

    public int testLimit() {
        return testLimit > 0 ? testLimit : quick ? 500 : 0;
    }

    /** A training configuration: Adam with a cosine schedule, train and eval compressions as given. */
    public Trainer.Config config(Compression train, Compression eval, int epochs, long seed) {
        return new Trainer.Config(train, eval, epochs, batch, learningRate, "adam", 0.9, 0.0, "cosine", seed,
                trainLimit(), false, false);
    }
}
