package dev.bandlimit.cli.train;

import dev.bandlimit.Compression;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The training options of train and demo (eval reads only {@link DataOptions}). */
public final class TrainingOptions {

    /** The data, batch and compression (what eval reads too). */
    @Mixin
    public DataOptions data;

    @Option(names = "--epochs", defaultValue = "3", description = "epochs (default ${DEFAULT-VALUE})")
    public int epochs;

    @Option(names = "--lr", defaultValue = "0.002", description = "learning rate (default ${DEFAULT-VALUE})")
    public double learningRate;

    @Option(names = "--optimizer", defaultValue = "adam", description = "adam or sgd (default ${DEFAULT-VALUE})")
    public String optimizer;

    @Option(names = "--momentum", defaultValue = "0.9", description = "SGD momentum (default ${DEFAULT-VALUE})")
    public double momentum;

    @Option(names = "--weight-decay", defaultValue = "0", description = "L2 weight decay (default ${DEFAULT-VALUE})")
    public double weightDecay;

    @Option(names = "--schedule", defaultValue = "cosine", description = "constant, step or cosine (default ${DEFAULT-VALUE})")
    public String schedule;

    @Option(names = "--seed", defaultValue = "1", description = "random seed; a seeded run is reproducible bit for bit (default ${DEFAULT-VALUE})")
    public long seed;

    @Option(names = "--train-limit", defaultValue = "0", description = "train on this many images only (0: all)")
    public int trainLimit;

    @Option(names = "--progress", negatable = true,
            description = "show a progress bar per epoch (default: when the output is a terminal)")
    public Boolean progress;

    // Off by default: the table is ~12 lines per epoch, and the counters run anyway (the epoch
    // line's conv share comes from them), so asking for it costs no extra time.
    @Option(names = "--profile", description = "after each epoch, print where a training step's time goes: forward,"
            + " backward, total ms per step and share per op kind, and the rest (Java glue, data); also in metrics.jsonl")
    public boolean profile;

    /** The progress bar draws with carriage returns: only for terminals unless asked for. */
    public boolean showProgress() {
        return progress != null ? progress : System.console() != null;
    }

    public Trainer.Config config(Compression train, Compression eval) {
        return new Trainer.Config(train, eval, epochs, data.batch, learningRate, optimizer, momentum, weightDecay, schedule,
                seed, trainLimit, showProgress(), profile);
    }

    /** Throws a ParameterException naming the first option out of range. */
    public void validate(CommandLine cl) {
        data.validate(cl);
        Checks.atLeast(cl, "--epochs", epochs, 1);
        Checks.positive(cl, "--lr", learningRate);
        Checks.oneOf(cl, "--optimizer", optimizer, List.of("adam", "sgd"));
        Checks.unit(cl, "--momentum", momentum);
        Checks.nonNegative(cl, "--weight-decay", weightDecay);
        Checks.oneOf(cl, "--schedule", schedule, List.of("constant", "step", "cosine"));
        Checks.atLeast(cl, "--train-limit", trainLimit, 0);
    }

    /**
     * The configuration of an evaluation-only run (eval): the training settings are not read
     * there, so they take their defaults.
     */
    public static Trainer.Config evaluationConfig(DataOptions data, Compression train, Compression eval) {
        return new Trainer.Config(train, eval, 1, data.batch, 0.002, "adam", 0.9, 0, "cosine", 1, 0, false, false);
    }
}
