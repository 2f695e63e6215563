package dev.bandlimit.cli.experiment;

import dev.bandlimit.cli.data.SyntheticSeries;
import dev.bandlimit.cli.data.TrainTest;
import dev.bandlimit.cli.data.UcrReader;
import dev.bandlimit.cli.plot.RunPlots;
import dev.bandlimit.cli.train.Models;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Experiment 5: the paper's FCN (Conv1d 128/256/128, kernels 8/5/3, batch norm, ReLU, global
 * average pooling) with band-limited 1D convolutions on time series: the seeded synthetic set
 * (classes in disjoint frequency bands, so a band limit has something to lose) or a UCR set.
 */
@Command(name = "timeseries", mixinStandardHelpOptions = true,
        description = "5. Time series: the FCN on the synthetic set (or a UCR set), accuracy vs rho.")
final class TimeSeriesExperiment extends Experiment {
    @Option(names = "--rates", split = ",", defaultValue = "0,0.25,0.5,0.75,0.9", description = "rates (default ${DEFAULT-VALUE})")
    double[] rates;

    @Option(names = "--ucr", description = "a UCR set's name (files NAME_TRAIN.tsv / NAME_TEST.tsv in --data) instead of the synthetic set")
    String ucr;

    @Option(names = "--noise", defaultValue = "0.5", description = "synthetic set: noise sigma (default ${DEFAULT-VALUE})")
    double noise;

    @Override
    String name() {
        return "timeseries";
    }

    @Override
    List<Path> run(Path folder, Results.Builder results) {
        for (double r : rates) dev.bandlimit.cli.train.DataOptions.rate(spec.commandLine(), "--rates", r);
        dev.bandlimit.cli.train.Checks.nonNegative(spec.commandLine(), "--noise", noise);
        if (ucr != null && options.data == null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--ucr needs --data FOLDER (the UCR archive)");
        }
        TrainTest data;
        if (ucr != null) {
            data = UcrReader.load(options.data, ucr);
        } else {
            SyntheticSeries set = SyntheticSeries.withSeed(options.seed).withNoiseSigma(noise);
            if (options.quick) set = set.withCounts(128, 128);
            data = set.generate();
        }
        // Quick: the FCN at a sixteenth of its widths (the same layers, kernels and code path).
        long scale = options.quick ? 16 : 1;
        Workload w = Workload.of(data, Models.FCN, Models.fcn(data.train().itemShape()[0], data.train().classes(),
                128 / scale, 256 / scale, 128 / scale)).limitTest(options.testLimit());
        results.workload(w).put("fcn_widths", List.of(128 / scale, 256 / scale, 128 / scale));
        // Quick: 128 series are 2 steps an epoch; 8 epochs let the narrow FCN leave chance.
        int seeds = options.seeds(2), epochs = options.epochs(20, 8);
        System.out.println("experiment timeseries: " + w.describe() + ", " + epochs + " epochs, " + seeds + " seeds");
        RateSweep sweep = sweepRates(w, rates, seeds, epochs);
        results.put("epochs", epochs).put("seeds", seeds).put("rates", sweep.rows());
        results.table("FCN test accuracy vs rho (" + w.dataset() + ")", RateSweep.HEADER, sweep.table());
        Path png = sweep.plot("FCN on " + w.dataset() + ": test accuracy vs rho", "compression rate rho",
                folder.resolve("timeseries.png"));
        Path curves = RunPlots.curves("FCN (seed " + options.seed + ")", sweep.firstSeedRuns(),
                folder.resolve("curves.png"));
        Path cost = costPlot(w.model(), rates, sweep.firstSeedEpochs(), folder.resolve("cost.png"));
        return List.of(png, curves, cost);
    }
}
