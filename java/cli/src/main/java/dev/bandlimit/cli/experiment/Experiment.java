package dev.bandlimit.cli.experiment;

import dev.bandlimit.Compression;
import dev.bandlimit.cli.plot.Plots;
import dev.bandlimit.cli.plot.RunPlots;
import dev.bandlimit.cli.train.Stats;
import dev.bandlimit.cli.train.Trainer;
import dev.bandlimit.cli.train.Trainer.EpochReport;
import dev.bandlimit.cli.train.Trainer.LayerReport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * One experiment of the paper, as a command: validates its options, runs, writes
 * {@code OUT/NAME/results.json}, {@code summary.md} and its PNGs, and prints their paths.
 */
abstract class Experiment implements Callable<Integer> {
    @Mixin
    ExperimentOptions options;

    @Spec
    CommandSpec spec;

    /** The folder name under --out (the command's name). */
    abstract String name();

    /** Runs the experiment, filling {@code results}; returns the PNGs written. */
    abstract List<Path> run(Path folder, Results.Builder results) throws Exception;

    @Override
    public final Integer call() throws Exception {
        options.validate(spec.commandLine());
        Path folder = options.out.resolve(name());
        long t0 = System.nanoTime();
        Results.Builder builder = new Results.Builder(name(), options, folder);
        List<Path> plots = run(folder, builder);
        Results results = builder.results();
        results.root.put("seconds", (System.nanoTime() - t0) * 1e-9);
        Path json = results.write();
        System.out.println("wrote " + json + ", " + folder.resolve("summary.md"));
        for (Path p : plots) System.out.println("plot: " + p);
        return 0;
    }

    // ---- what the experiments share ----

    static String pct(double accuracy) {
        return String.format(Locale.ROOT, "%.2f%%", 100 * accuracy);
    }

    static String f(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }

    /** The epoch reports of one run as JSON values. */
    static List<Object> epochs(List<EpochReport> reports) {
        List<Object> out = new ArrayList<>();
        for (EpochReport r : reports) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("epoch", r.epoch());
            e.put("loss", r.loss());
            e.put("train_accuracy", r.trainAccuracy());
            e.put("test_accuracy", r.testAccuracy());
            e.put("seconds", r.seconds());
            e.put("saved_spectra_bytes", r.savedSpectraBytes());
            e.put("gflops_per_step", r.gflopsPerStep());
            List<Object> layers = new ArrayList<>();
            for (LayerReport l : r.layers()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", l.name());
                m.put("train_rate_first_step", l.trainRate());
                m.put("train_rate_mean", l.meanTrainRate());
                m.put("eval_rate", l.evalRate());
                m.put("eval_box", List.of(l.evalBox().kh(), l.evalBox().kw()));
                layers.add(m);
            }
            e.put("layers", layers);
            out.add(e);
        }
        return out;
    }

    /** The mean of the layers' achieved evaluation rates after the last epoch. */
    static double meanEvalRate(EpochReport last) {
        return last.layers().stream().mapToDouble(LayerReport::evalRate).average().orElse(0);
    }

    /**
     * Accuracy against the rate, the same rate in training and test: {@code seeds} runs per rate,
     * their mean and spread, each run's epochs (as JSON rows), and each rate's first-seed run.
     */
    record RateSweep(double[] rates, int seeds, double[] means, double[] spreads, List<Object> rows,
            List<List<String>> table, List<RunPlots.Run> firstSeedRuns) {

        static final List<String> HEADER = List.of("rho", "achieved (mean of layers)", "accuracy (mean)",
                "std (points)", "seeds");

        /** Mean accuracy +- spread against the rate, in percent, as {@code png}. */
        Path plot(String title, String xTitle, Path png) {
            return Plots.save(Plots.lines(title, xTitle, "test accuracy (%)", List.of(new Plots.Series("mean +- std",
                    rates, java.util.Arrays.stream(means).map(a -> 100 * a).toArray(),
                    java.util.Arrays.stream(spreads).map(a -> 100 * a).toArray()))), png);
        }

        /** The first-seed runs' epochs, one list per rate (for {@link #costPlot}). */
        List<List<EpochReport>> firstSeedEpochs() {
            return firstSeedRuns.stream().map(RunPlots.Run::epochs).toList();
        }
    }

    RateSweep sweepRates(Workload w, double[] rates, int seeds, int epochs) {
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
                    List<EpochReport> reports = t.train(null);
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
            means[i] = Stats.mean(accuracy);
            spreads[i] = Stats.spread(accuracy);
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
        return new RateSweep(rates, seeds, means, spreads, rows, table, firstSeedRuns);
    }

    /**
     * Epoch time (median over a run's epochs) and saved spectra per step against the rate, from
     * one run per rate: the cost side of an accuracy experiment, in one PNG.
     */
    static Path costPlot(String title, double[] rates, List<List<EpochReport>> runs, Path png) {
        double[] seconds = new double[rates.length], mib = new double[rates.length];
        for (int i = 0; i < rates.length; i++) {
            seconds[i] = Stats.median(runs.get(i).stream().mapToDouble(EpochReport::seconds).toArray());
            mib[i] = runs.get(i).getLast().savedSpectraBytes() / 1048576.0;
        }
        return Plots.save(List.of(
                Plots.lines(title + ": epoch time vs rho", "rho", "seconds (median epoch)",
                        List.of(new Plots.Series("epoch", rates, seconds))),
                Plots.lines(title + ": saved spectra vs rho", "rho", "MiB per training step",
                        List.of(new Plots.Series("saved spectra", rates, mib)))), 2, png);
    }
}
