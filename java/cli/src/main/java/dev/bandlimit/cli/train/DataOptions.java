package dev.bandlimit.cli.train;

import dev.bandlimit.Compression;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/** Options every MNIST command reads (train, eval, demo): the data, the batch, the compression. */
public final class DataOptions {

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

    @Option(names = "--batch", defaultValue = "64", description = "batch size (default ${DEFAULT-VALUE})")
    public int batch;

    @Option(names = "--data", description = "MNIST cache folder (default: ~/.cache/bandlimit/mnist)")
    public Path dataDir;

    @ArgGroup(exclusive = true)
    public CompressionOption compression = new CompressionOption();

    /** Throws a ParameterException naming the first option out of range. */
    public void validate(CommandLine cl) {
        Checks.atLeast(cl, "--batch", batch, 1);
        rate(cl, "--rho", compression.rho);
        energy(cl, "--energy", compression.energy);
    }

    /** A fixed rate, when given, in [0, 1). */
    public static void rate(CommandLine cl, String option, Double rho) {
        if (rho != null && !(rho >= 0 && rho < 1)) {
            throw new CommandLine.ParameterException(cl, option + " must be in [0, 1) (the fraction of the spectrum"
                    + " discarded), got " + rho);
        }
    }

    /** An energy fraction, when given, in (0, 1]. */
    public static void energy(CommandLine cl, String option, Double energy) {
        if (energy != null && !(energy > 0 && energy <= 1)) {
            throw new CommandLine.ParameterException(cl, option + " must be in (0, 1] (the fraction of the energy"
                    + " kept), got " + energy);
        }
    }
}
