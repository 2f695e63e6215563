package dev.bandlimit.cli.experiment;

import dev.bandlimit.Compression;
import dev.bandlimit.cli.plot.Plots;
import dev.bandlimit.cli.train.Stats;
import dev.bandlimit.cli.train.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Experiment 6: models trained at each rate, tested with Gaussian noise of growing standard
 * deviation added to the normalised test items (the paper: band-limited models reject noise
 * better). Each model is tested at its own training rate.
 */
@Command(name = "noise", mixinStandardHelpOptions = true,
        description = "6. Noise robustness: accuracy under Gaussian noise of growing sigma, models trained at rho 0 and 0.5.")
final class NoiseExperiment extends Experiment {
    @Option(names = "--rates", split = ",", defaultValue = "0,0.5", description = "training rates (default ${DEFAULT-VALUE})")
    double[] rates;

    @Option(names = "--sigmas", split = ",", defaultValue = "0,0.25,0.5,1,1.5,2",
            description = "noise standard deviations, in units of the normalised data (std 1) (default ${DEFAULT-VALUE})")
    double[] sigmas;

    @Override
    String name() {
        return "noise";
    }

    @Override
    List<Path> run(Path folder, Results.Builder results) {
        for (double r : rates) dev.bandlimit.cli.train.DataOptions.rate(spec.commandLine(), "--rates", r);
        for (double s : sigmas) dev.bandlimit.cli.train.Checks.nonNegative(spec.commandLine(), "--sigmas", s);
        Workload w = Workload.load(options, System.out);
        results.workload(w);
        int seeds = options.seeds(2), epochs = options.epochs(3);
        System.out.println("experiment noise: " + w.describe() + ", " + epochs + " epochs, " + seeds + " seeds");
        List<Plots.Series> series = new ArrayList<>();
        List<Object> rows = new ArrayList<>();
        List<List<String>> table = new ArrayList<>();
        for (double rho : rates) {
            Compression c = Compression.fixed(rho);
            double[][] accuracy = new double[sigmas.length][seeds];
            for (int s = 0; s < seeds; s++) {
                try (Trainer t = w.trainer(options.config(c, c, epochs, options.seed + s), System.out)) {
                    t.train(null);
                    for (int k = 0; k < sigmas.length; k++) {
                        // The same noise for every model: seeded by the sigma's index and the seed.
                        accuracy[k][s] = t.evaluate(sigmas[k], 1000L * k + s).accuracy();
                    }
                }
            }
            double[] means = new double[sigmas.length], spreads = new double[sigmas.length];
            List<String> line = new ArrayList<>(List.of(f("%.2f", rho)));
            for (int k = 0; k < sigmas.length; k++) {
                means[k] = 100 * Stats.mean(accuracy[k]);
                spreads[k] = 100 * Stats.spread(accuracy[k]);
                line.add(f("%.2f%%", means[k]));
            }
            table.add(line);
            series.add(new Plots.Series(f("trained and tested at rho %.2f", rho), sigmas, means, spreads));
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("rho", rho);
            row.put("accuracy_mean_at_sigma", java.util.Arrays.stream(means).map(a -> a / 100).toArray());
            row.put("accuracy_std_at_sigma", java.util.Arrays.stream(spreads).map(a -> a / 100).toArray());
            rows.add(row);
        }
        List<String> header = new ArrayList<>(List.of("rho \\ sigma"));
        for (double s : sigmas) header.add(f("%.2f", s));
        results.put("epochs", epochs).put("seeds", seeds).put("sigmas", sigmas).put("rows", rows);
        results.table("Accuracy under Gaussian noise (" + w.dataset() + ", mean of " + seeds + " seeds)", header, table);
        return List.of(Plots.save(Plots.lines("accuracy under Gaussian noise (" + w.dataset() + ")",
                "noise sigma (normalised units)", "test accuracy (%)", series), folder.resolve("noise.png")));
    }
}
