package dev.bandlimit.cli.experiment;

import dev.bandlimit.Compression;
import dev.bandlimit.cli.plot.Plots;
import dev.bandlimit.cli.train.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Experiment 2: models trained at one rate and tested at every other; the paper finds the
 * diagonal (the same rate in both) best.
 */
@Command(name = "mismatch", mixinStandardHelpOptions = true,
        description = "2. Train/test compression mismatch: accuracy of each trained model at each test rate (heat map).")
final class MismatchExperiment extends Experiment {
    @Option(names = "--rates", split = ",", defaultValue = "0,0.5,0.75,0.9", description = "rates (default ${DEFAULT-VALUE})")
    double[] rates;

    @Override
    String name() {
        return "mismatch";
    }

    @Override
    List<Path> run(Path folder, Results.Builder results) {
        for (double r : rates) dev.bandlimit.cli.train.DataOptions.rate(spec.commandLine(), "--rates", r);
        Workload w = Workload.load(options, System.out);
        results.workload(w);
        int seeds = options.seeds(2), epochs = options.epochs(3);
        System.out.println("experiment mismatch: " + w.describe() + ", " + epochs + " epochs, " + seeds + " seeds");
        int n = rates.length;
        double[][] accuracy = new double[n][n];
        for (int i = 0; i < n; i++) {
            Compression train = Compression.fixed(rates[i]);
            for (int s = 0; s < seeds; s++) {
                try (Trainer t = w.trainer(options.config(train, train, epochs, options.seed + s), System.out)) {
                    t.train(null);
                    for (int j = 0; j < n; j++) accuracy[i][j] += t.evaluateAt(Compression.fixed(rates[j])).accuracy() / seeds;
                }
            }
        }
        List<List<String>> table = new ArrayList<>();
        List<String> header = new ArrayList<>(List.of("trained \\ tested"));
        for (double r : rates) header.add(f("%.2f", r));
        int diagonalBest = 0;
        List<Object> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            List<String> line = new ArrayList<>(List.of(f("%.2f", rates[i])));
            int best = 0;
            for (int j = 0; j < n; j++) {
                line.add(pct(accuracy[i][j]));
                if (accuracy[i][j] > accuracy[i][best]) best = j;
            }
            if (best == i) diagonalBest++;
            table.add(line);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("train_rho", rates[i]);
            row.put("test_accuracy_at", accuracy[i].clone());
            row.put("best_test_rho", rates[best]);
            rows.add(row);
        }
        results.put("epochs", epochs).put("seeds", seeds).put("rates", rates).put("rows", rows)
                .put("rows_whose_best_test_rate_is_the_training_rate", diagonalBest);
        results.table("Accuracy, trained at (rows) vs tested at (columns), mean of " + seeds + " seeds", header, table);
        System.out.printf("rows whose best test rate is their training rate: %d of %d%n%n", diagonalBest, n);
        List<String> labels = java.util.Arrays.stream(rates).mapToObj(r -> f("%.2f", r)).toList();
        double[][] percent = java.util.Arrays.stream(accuracy)
                .map(row -> java.util.Arrays.stream(row).map(a -> 100 * a).toArray()).toArray(double[][]::new);
        return List.of(Plots.save(Plots.heatMap("test accuracy (%), " + w.dataset(), "test rho", "training rho", labels,
                labels, percent, 2), folder.resolve("mismatch.png")));
    }
}
