package dev.bandlimit.cli.train;

import dev.bandlimit.Compression;
import java.nio.file.Path;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/** Options shared by train, eval and demo. */
public final class TrainingOptions {

    /** --rho or --energy: how the convolutions compress. */
    public static final class CompressionOption {
        @Option(names = "--rho", description = "fixed compression rate in [0, 1) for every convolution")
        public Double rho;

        @Option(names = "--energy", description = "energy compression: keep this fraction in (0, 1] of the spectrum's energy")
        public Double energy;

        public Compression toCompression() {
            if (energy != null) return Compression.energy(energy);
            return Compression.fixed(rho == null ? 0.0 : rho);
        }
    }

    @Option(names = "--epochs", defaultValue = "3", description = "epochs (default ${DEFAULT-VALUE})")
    public int epochs;

    @Option(names = "--batch", defaultValue = "64", description = "batch size (default ${DEFAULT-VALUE})")
    public int batch;

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

    @Option(names = "--data", description = "MNIST cache folder (default: ~/.cache/bandlimit/mnist)")
    public Path dataDir;

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
        return new Trainer.Config(train, eval, epochs, batch, learningRate, optimizer, momentum, weightDecay, schedule,
                seed, trainLimit, showProgress(), profile);
    }

    @ArgGroup(exclusive = true)
    public CompressionOption compression = new CompressionOption();
}
