package dev.bandlimit.cli.experiment;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code bandlimit experiment NAME}: the paper's experiments, one subcommand each. */
@Command(name = "experiment", mixinStandardHelpOptions = true,
        description = "The paper's experiments, seeded, writing JSON and PNG (docs/EXPERIMENTS.md). --quick runs each in seconds.",
        subcommands = {AccuracyExperiment.class, MismatchExperiment.class, EnergyExperiment.class,
            NoiseExperiment.class, CostExperiment.class, TimeSeriesExperiment.class,
            CommandLine.HelpCommand.class})
public final class ExperimentCommand implements Runnable {
    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
