package dev.bandlimit.cli;

import dev.bandlimit.Bandlimit;
import dev.bandlimit.Compression;
import dev.bandlimit.cli.plot.Plots;
import dev.bandlimit.cli.plot.RunPlots;
import dev.bandlimit.cli.train.Data;
import dev.bandlimit.nn.models.MnistCnn;
import dev.bandlimit.cli.train.Stats;
import dev.bandlimit.cli.train.Trainer;
import dev.bandlimit.cli.train.TrainingOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The main job: trains the MNIST CNN at several compression rates and prints one table of
 * accuracy, time, memory and work per rate, then the accuracy of every model evaluated at
 * every rate (training and evaluation rates may differ).
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Train the MNIST CNN at rho 0, 0.5, 0.75 and compare accuracy, time, memory and FLOPs.")
final class DemoCommand implements Callable<Integer> {

    @Mixin
    TrainingOptions options;

    @Option(names = "--rates", split = ",", defaultValue = "0,0.5,0.75", description = "training rates (default ${DEFAULT-VALUE})")
    double[] rates;

    @Option(names = "--out", defaultValue = "runs/demo", description = "output folder for metrics (default ${DEFAULT-VALUE})")
    Path out;

    private record Row(double rho, List<Trainer.EpochReport> reports, Trainer.EpochReport last, double medianEpochSeconds,
            double[] accuracyAt) {}

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        options.validate(spec.commandLine());
        for (double rho : rates) dev.bandlimit.cli.train.DataOptions.rate(spec.commandLine(), "--rates", rho);
        Files.createDirectories(out);
        Data data = Data.load(options.data.dataDir, System.out);
        System.out.printf(Locale.ROOT, "bandlimit demo: %s on MNIST (%d train / %d test images), %d epochs per rate, "
                        + "batch %d, %s lr %s (%s), seed %d, %d native threads%n%n", MnistCnn.NAME,
                options.trainLimit > 0 ? Math.min(options.trainLimit, data.trainLabels().length) : data.trainLabels().length,
                data.testLabels().length, options.epochs, options.data.batch, options.optimizer, options.learningRate,
                options.schedule, options.seed, Bandlimit.numThreads());
        List<Row> rows = new ArrayList<>();
        for (double rho : rates) {
            Compression c = Compression.fixed(rho);
            System.out.printf(Locale.ROOT, "== training at rho = %.2f ==%n", rho);
            Path metrics = out.resolve(String.format(Locale.ROOT, "metrics-rho%.2f.jsonl", rho));
            Files.deleteIfExists(metrics);
            try (Trainer trainer = new Trainer(options.config(c, c), data.trainImages(), data.trainLabels(),
                    data.testImages(), data.testLabels(), System.out)) {
                List<Trainer.EpochReport> reports = trainer.train(metrics);
                double[] accuracyAt = new double[rates.length];
                for (int j = 0; j < rates.length; j++) {
                    accuracyAt[j] = trainer.evaluateAt(Compression.fixed(rates[j])).accuracy();
                }
                // The median epoch: the first epoch carries the warm-up (JIT, plans, page faults),
                // which a mean spreads over a rate's whole row.
                double median = Stats.median(reports.stream().mapToDouble(Trainer.EpochReport::seconds).toArray());
                rows.add(new Row(rho, reports, reports.getLast(), median, accuracyAt));
            }
            System.out.println();
        }
        printTables(rows);
        Path png = plot(rows);
        System.out.println();
        System.out.println("plots: " + png + " and " + out.resolve("demo-curves.png"));
        return 0;
    }

    /** Accuracy, epoch time and saved spectra against rho, and the train/eval accuracy matrix. */
    private Path plot(List<Row> rows) {
        double[] rho = rows.stream().mapToDouble(Row::rho).toArray();
        var accuracy = Plots.lines("test accuracy vs rho", "rho (train = eval)", "accuracy (%)", List.of(
                new Plots.Series("test accuracy", rho, rows.stream().mapToDouble(r -> 100 * r.last().testAccuracy()).toArray())));
        var time = Plots.lines("epoch time vs rho", "rho", "seconds (median epoch)", List.of(
                new Plots.Series("epoch", rho, rows.stream().mapToDouble(Row::medianEpochSeconds).toArray())));
        var memory = Plots.lines("saved spectra vs rho", "rho", "MiB per step", List.of(
                new Plots.Series("saved spectra", rho,
                        rows.stream().mapToDouble(r -> r.last().savedSpectraBytes() / 1048576.0).toArray())));
        List<String> labels = rows.stream().map(r -> String.format(Locale.ROOT, "%.2f", r.rho())).toList();
        double[][] matrix = rows.stream().map(r -> java.util.Arrays.stream(r.accuracyAt()).map(a -> 100 * a).toArray())
                .toArray(double[][]::new);
        var mismatch = Plots.heatMap("accuracy (%): trained (rows) vs evaluated (columns)", "evaluated at rho",
                "trained at rho", labels, labels, matrix, 2);
        RunPlots.curves("demo", rows.stream().map(r -> new RunPlots.Run(
                String.format(Locale.ROOT, "rho %.2f", r.rho()), r.reports())).toList(), out.resolve("demo-curves.png"));
        return Plots.save(List.of(accuracy, time, memory, mismatch), 2, out.resolve("demo.png"));
    }

    private void printTables(List<Row> rows) {
        long savedAtZero = rows.stream().filter(r -> r.rho() == 0).mapToLong(r -> r.last().savedSpectraBytes())
                .findFirst().orElse(0);
        StringBuilder header = new StringBuilder("| rho requested |");
        StringBuilder rule = new StringBuilder("|---|");
        for (Trainer.LayerReport layer : rows.getFirst().last().layers()) {
            header.append(' ').append(layer.name()).append(" achieved (box) |");
            rule.append("---|");
        }
        header.append(" test acc | epoch s (median) | saved spectra / step | vs rho=0 | GFLOP / step | conv share |");
        rule.append("---|---|---|---|---|---|");
        System.out.println(header);
        System.out.println(rule);
        for (Row r : rows) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "| %.2f |", r.rho()));
            for (Trainer.LayerReport l : r.last().layers()) {
                line.append(String.format(Locale.ROOT, " %.3f (%d,%d) |", l.trainRate(), l.trainBox().kh(), l.trainBox().kw()));
            }
            line.append(String.format(Locale.ROOT, " %.2f%% | %.2f | %s | %s | %.3f | %.0f%% |",
                    100 * r.last().testAccuracy(), r.medianEpochSeconds(), bytes(r.last().savedSpectraBytes()),
                    savedAtZero > 0 ? String.format(Locale.ROOT, "%.2fx", (double) r.last().savedSpectraBytes() / savedAtZero) : "-",
                    r.last().gflopsPerStep(), 100 * r.last().convShare()));
            System.out.println(line);
        }
        System.out.println();
        System.out.println("Test accuracy when evaluating at a different rate (rows: trained at; columns: evaluated at):");
        System.out.println();
        StringBuilder h2 = new StringBuilder("| trained \\ evaluated |");
        StringBuilder r2 = new StringBuilder("|---|");
        for (double rho : rates) {
            h2.append(String.format(Locale.ROOT, " %.2f |", rho));
            r2.append("---|");
        }
        System.out.println(h2);
        System.out.println(r2);
        for (Row r : rows) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "| %.2f |", r.rho()));
            for (double a : r.accuracyAt()) line.append(String.format(Locale.ROOT, " %.2f%% |", 100 * a));
            System.out.println(line);
        }
    }

    private static String bytes(long b) {
        return String.format(Locale.ROOT, "%.2f MiB", b / 1048576.0);
    }
}
