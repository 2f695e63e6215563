package dev.bandlimit.cli.experiment;

import dev.bandlimit.cli.plot.RunPlots;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Experiment 1, the paper's accuracy-vs-compression figure: one model trained and tested at
 * each rate (the same rate in both), several seeds, mean and spread.
 */
@Command(name = "accuracy", mixinStandardHelpOptions = true,
        description = "1. Test accuracy vs compression rate (same rate in training and test), several seeds.")
final class AccuracyExperiment extends Experiment {
    @Option(names = "--rates", split = ",", defaultValue = "0,0.25,0.5,0.75,0.85,0.9",
            description = "rates (default ${DEFAULT-VALUE})")
    double[] rates;

    @Override
    String name() {
        return "accuracy";
    }

    @Override
    List<Path> run(Path folder, Results.Builder results) {
        for (double r : rates) dev.bandlimit.cli.train.DataOptions.rate(spec.commandLine(), "--rates", r);
        Workload w = Workload.load(options, System.out);
        results.workload(w);
        int seeds = options.seeds(3), epochs = options.epochs(3);
        System.out.println("experiment accuracy: " + w.describe() + ", " + epochs + " epochs, " + seeds + " seeds");
        RateSweep sweep = sweepRates(w, rates, seeds, epochs);
        results.put("epochs", epochs).put("seeds", seeds).put("rates", sweep.rows());
        results.table("Test accuracy vs compression rate (" + w.dataset() + ", " + w.model() + ")", RateSweep.HEADER,
                sweep.table());
        Path png = sweep.plot("test accuracy vs compression (" + w.dataset() + ", " + seeds + " seeds)",
                "compression rate rho (training = test)", folder.resolve("accuracy.png"));
        Path curves = RunPlots.curves("accuracy (seed " + options.seed + ")", sweep.firstSeedRuns(),
                folder.resolve("curves.png"));
        Path cost = costPlot(w.model(), rates, sweep.firstSeedEpochs(), folder.resolve("cost.png"));
        return List.of(png, curves, cost);
    }
}
