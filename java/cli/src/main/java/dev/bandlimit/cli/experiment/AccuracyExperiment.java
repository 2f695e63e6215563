package dev.bandlimit.cli.experiment;

import dev.bandlimit.Compression;
import dev.bandlimit.cli.plot.Plots;
import dev.bandlimit.cli.plot.RunPlots;
import dev.bandlimit.cli.train.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
        List<Object> rows = new ArrayList<>();
        List<List<String>> table = new ArrayList<>();
        double[] means = new double[rates.length], spreads = new double[rates.length];
        List<RunPlots.Run> firstSeedRuns = new ArrayList<>();
        for (int i = 0; i < rates.length; i++) {
            Compression c = Compression.fixed(rates[i]);
            double[] accuracy = new double[seeds];
            double achieved = 0;
            List<Object> runs = new ArrayList<>();
            for (int s = 0; s < seeds; s++) {
                long seed = options.seed + s;
                try (Trainer t = w.trainer(options.config(c, c, epochs, seed), System.out)) {
                    List<Trainer.EpochReport> reports = t.train(null);
                    accuracy[s] = reports.getLast().testAccuracy();
                    achieved = meanEvalRate(reports.getLast());
                    Map<String, Object> run = new LinkedHashMap<>();
                    run.put("seed", seed);
                    run.put("test_accuracy", accuracy[s]);
                    run.put("epochs", epochs(reports));
                    runs.add(run);
                    if (s == 0) firstSeedRuns.add(new RunPlots.Run(f("rho %.2f", rates[i]), reports));
                }
            }
            means[i] = mean(accuracy);
            spreads[i] = spread(accuracy);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("rho", rates[i]);
            row.put("achieved_rate_mean_over_layers", achieved);
            row.put("accuracy_mean", means[i]);
            row.put("accuracy_std", spreads[i]);
            row.put("accuracy", accuracy);
            row.put("runs", runs);
            rows.add(row);
            table.add(List.of(f("%.2f", rates[i]), f("%.3f", achieved), pct(means[i]), f("%.2f", 100 * spreads[i]),
                    f("%d", seeds)));
        }
        results.put("epochs", epochs).put("seeds", seeds).put("rates", rows);
        results.table("Test accuracy vs compression rate (" + w.dataset() + ", " + w.model() + ")",
                List.of("rho", "achieved (mean of layers)", "accuracy (mean)", "std (points)", "seeds"), table);
        double[] pctMeans = java.util.Arrays.stream(means).map(a -> 100 * a).toArray();
        double[] pctSpreads = java.util.Arrays.stream(spreads).map(a -> 100 * a).toArray();
        Path png = Plots.save(Plots.lines("test accuracy vs compression (" + w.dataset() + ", " + seeds + " seeds)",
                "compression rate rho (training = test)", "test accuracy (%)",
                List.of(new Plots.Series("mean +- std", rates, pctMeans, pctSpreads))), folder.resolve("accuracy.png"));
        Path curves = RunPlots.curves("accuracy (seed " + options.seed + ")", firstSeedRuns,
                folder.resolve("curves.png"));
        Path cost = costPlot(w.model(), rates,
                firstSeedRuns.stream().map(RunPlots.Run::epochs).toList(), folder.resolve("cost.png"));
        return List.of(png, curves, cost);
    }
}
