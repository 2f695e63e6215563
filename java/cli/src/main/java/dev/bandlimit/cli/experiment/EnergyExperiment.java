package dev.bandlimit.cli.experiment;

import dev.bandlimit.Compression;
import dev.bandlimit.cli.plot.Plots;
import dev.bandlimit.cli.train.Stats;
import dev.bandlimit.cli.train.Trainer;
import dev.bandlimit.cli.train.Trainer.EpochReport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Experiment 3: energy-based compression (keep the smallest box holding a fraction E of each
 * batch's spectral energy) against fixed rates. The rate energy achieves per layer drifts as
 * training changes the spectra; it is recorded per epoch (mean over the epoch's steps), and
 * the accuracy is set against the fixed mode's accuracy-vs-rate curve at the rates achieved.
 */
@Command(name = "energy", mixinStandardHelpOptions = true,
        description = "3. Energy vs fixed compression: achieved rate per layer per epoch, accuracy vs achieved rate.")
final class EnergyExperiment extends Experiment {
    @Option(names = "--energies", split = ",", defaultValue = "0.99,0.95,0.9", description = "energy fractions (default ${DEFAULT-VALUE})")
    double[] energies;

    @Option(names = "--rates", split = ",", defaultValue = "0,0.25,0.5,0.75,0.9", description = "fixed rates to compare (default ${DEFAULT-VALUE})")
    double[] rates;

    @Override
    String name() {
        return "energy";
    }

    @Override
    List<Path> run(Path folder, Results.Builder results) {
        for (double e : energies) dev.bandlimit.cli.train.DataOptions.energy(spec.commandLine(), "--energies", e);
        for (double r : rates) dev.bandlimit.cli.train.DataOptions.rate(spec.commandLine(), "--rates", r);
        Workload w = Workload.load(options, System.out);
        results.workload(w);
        int seeds = options.seeds(1), epochs = options.epochs(4);
        System.out.println("experiment energy: " + w.describe() + ", " + epochs + " epochs, " + seeds + " seeds");

        List<Object> energyRows = new ArrayList<>(), fixedRows = new ArrayList<>();
        List<List<String>> table = new ArrayList<>();
        List<Plots.Series> drift = new ArrayList<>();
        double[] energyRate = new double[energies.length], energyAccuracy = new double[energies.length];
        for (int i = 0; i < energies.length; i++) {
            Compression c = Compression.energy(energies[i]);
            double[] accuracy = new double[seeds], achieved = new double[seeds];
            List<Object> runs = new ArrayList<>();
            for (int s = 0; s < seeds; s++) {
                try (Trainer t = w.trainer(options.config(c, c, epochs, options.seed + s), System.out)) {
                    List<EpochReport> reports = t.train(null);
                    accuracy[s] = reports.getLast().testAccuracy();
                    achieved[s] = reports.getLast().layers().stream().mapToDouble(Trainer.LayerReport::meanTrainRate)
                            .average().orElse(0);
                    if (s == 0) {
                        int layers = reports.getFirst().layers().size();
                        for (int l = 0; l < layers; l++) {
                            final int layer = l;
                            double[] epoch = reports.stream().mapToDouble(EpochReport::epoch).toArray();
                            double[] rate = reports.stream().mapToDouble(r -> r.layers().get(layer).meanTrainRate()).toArray();
                            drift.add(new Plots.Series(f("E %.2f %s", energies[i], reports.getFirst().layers().get(l).name()),
                                    epoch, rate));
                        }
                    }
                    Map<String, Object> run = new LinkedHashMap<>();
                    run.put("seed", options.seed + s);
                    run.put("test_accuracy", accuracy[s]);
                    run.put("epochs", epochs(reports));
                    runs.add(run);
                }
            }
            energyRate[i] = Stats.mean(achieved);
            energyAccuracy[i] = Stats.mean(accuracy);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("energy", energies[i]);
            row.put("achieved_rate_last_epoch_mean_over_layers", energyRate[i]);
            row.put("accuracy_mean", energyAccuracy[i]);
            row.put("runs", runs);
            energyRows.add(row);
            table.add(List.of(f("energy %.2f", energies[i]), f("%.3f", energyRate[i]), pct(energyAccuracy[i])));
        }
        double[] fixedRate = new double[rates.length], fixedAccuracy = new double[rates.length];
        for (int i = 0; i < rates.length; i++) {
            Compression c = Compression.fixed(rates[i]);
            double[] accuracy = new double[seeds], achieved = new double[seeds];
            for (int s = 0; s < seeds; s++) {
                try (Trainer t = w.trainer(options.config(c, c, epochs, options.seed + s), System.out)) {
                    EpochReport last = t.train(null).getLast();
                    accuracy[s] = last.testAccuracy();
                    achieved[s] = last.layers().stream().mapToDouble(Trainer.LayerReport::meanTrainRate).average().orElse(0);
                }
            }
            fixedRate[i] = Stats.mean(achieved);
            fixedAccuracy[i] = Stats.mean(accuracy);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("rho", rates[i]);
            row.put("achieved_rate_mean_over_layers", fixedRate[i]);
            row.put("accuracy_mean", fixedAccuracy[i]);
            fixedRows.add(row);
            table.add(List.of(f("fixed %.2f", rates[i]), f("%.3f", fixedRate[i]), pct(fixedAccuracy[i])));
        }
        results.put("epochs", epochs).put("seeds", seeds).put("energy", energyRows).put("fixed", fixedRows);
        results.table("Energy vs fixed compression (" + w.dataset() + ", mean of " + seeds + " seeds)",
                List.of("mode", "achieved rate (last epoch, mean of layers)", "test accuracy"), table);
        Path driftPng = Plots.save(Plots.lines("energy compression: achieved rate per layer per epoch",
                "epoch", "achieved rate (mean over the epoch's steps)", drift), folder.resolve("energy-drift.png"));
        Path versus = Plots.save(Plots.lines("accuracy vs achieved rate: energy and fixed", "achieved compression rate",
                "test accuracy (%)", List.of(
                        new Plots.Series("fixed", fixedRate, java.util.Arrays.stream(fixedAccuracy).map(a -> 100 * a).toArray()),
                        new Plots.Series("energy", energyRate,
                                java.util.Arrays.stream(energyAccuracy).map(a -> 100 * a).toArray()))),
                folder.resolve("energy-vs-fixed.png"));
        return List.of(driftPng, versus);
    }
}
