package dev.bandlimit.cli.experiment;

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

    static double mean(double[] v) {
        double s = 0;
        for (double x : v) s += x;
        return s / v.length;
    }

    /** The sample standard deviation (0 for one value). */
    static double spread(double[] v) {
        if (v.length < 2) return 0;
        double m = mean(v), s = 0;
        for (double x : v) s += (x - m) * (x - m);
        return Math.sqrt(s / (v.length - 1));
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
     * Epoch time (median over a run's epochs) and saved spectra per step against the rate, from
     * one run per rate: the cost side of an accuracy experiment, in one PNG.
     */
    static Path costPlot(String title, double[] rates, List<List<EpochReport>> runs, Path png) {
        double[] seconds = new double[rates.length], mib = new double[rates.length];
        for (int i = 0; i < rates.length; i++) {
            double[] s = runs.get(i).stream().mapToDouble(EpochReport::seconds).sorted().toArray();
            seconds[i] = s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
            mib[i] = runs.get(i).getLast().savedSpectraBytes() / 1048576.0;
        }
        return dev.bandlimit.cli.plot.Plots.save(List.of(
                dev.bandlimit.cli.plot.Plots.lines(title + ": epoch time vs rho", "rho", "seconds (median epoch)",
                        List.of(new dev.bandlimit.cli.plot.Plots.Series("epoch", rates, seconds))),
                dev.bandlimit.cli.plot.Plots.lines(title + ": saved spectra vs rho", "rho", "MiB per training step",
                        List.of(new dev.bandlimit.cli.plot.Plots.Series("saved spectra", rates, mib)))), 2, png);
    }

    static Trainer.EpochReport trainQuietly(Trainer t) {
        return t.train(null).getLast();
    }
}
