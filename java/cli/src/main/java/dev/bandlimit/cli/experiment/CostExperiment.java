package dev.bandlimit.cli.experiment;

import dev.bandlimit.Compression;
import dev.bandlimit.cli.data.Cifar10Reader;
import dev.bandlimit.cli.data.TrainTest;
import dev.bandlimit.cli.plot.Plots;
import dev.bandlimit.cli.train.Models;
import dev.bandlimit.cli.train.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Experiment 4: what a training step (forward, backward, Adam) costs against the compression
 * rate, for the MNIST CNN on MNIST and for ResNet-18 on CIFAR-shaped inputs (CIFAR-10 when
 * {@code --dataset cifar10 --data DIR}, else seeded random data: the cost does not depend on
 * the values). Saved-spectra bytes, peak native bytes of the step and the median step time,
 * each also as a ratio to rho 0 (the paper: about -40% memory and -30% time at 50%).
 */
@Command(name = "cost", mixinStandardHelpOptions = true,
        description = "4. Memory and time of a training step vs rho: the MNIST CNN and ResNet-18 (CIFAR-shaped).")
final class CostExperiment extends Experiment {
    @Option(names = "--rates", split = ",", defaultValue = "0,0.25,0.5,0.75,0.9", description = "rates (default ${DEFAULT-VALUE})")
    double[] rates;

    @Option(names = "--steps", description = "timed steps per rate, after about 3 s of warm-up steps (default 7; --quick: 2, after 1 warm-up step)")
    Integer steps;

    @Option(names = "--resnet-batch", description = "ResNet-18 batch size (default 32; --quick: 2)")
    Integer resnetBatch;

    @Option(names = "--resnet-width", description = "ResNet-18 first-stage filters (default 64, the paper's; --quick: 8)")
    Integer resnetWidth;

    @Override
    String name() {
        return "cost";
    }

    private record Case(String name, Workload workload, int batch) {}

    @Override
    List<Path> run(Path folder, Results.Builder results) {
        for (double r : rates) dev.bandlimit.cli.train.DataOptions.rate(spec.commandLine(), "--rates", r);
        int timed = steps != null ? steps : options.quick ? 2 : 7;
        // Warm-up steps: the JIT compiles the step's Java and the plans' first calls fault their pages in.
        int warmup = options.quick ? 1 : 3;
        double warmupSeconds = options.quick ? 0 : 3;
        int batch = resnetBatch != null ? resnetBatch : options.quick ? 2 : 32;
        int width = resnetWidth != null ? resnetWidth : options.quick ? 8 : 64;
        dev.bandlimit.cli.train.Checks.atLeast(spec.commandLine(), "--steps", timed, 1);
        dev.bandlimit.cli.train.Checks.atLeast(spec.commandLine(), "--resnet-batch", batch, 1);
        dev.bandlimit.cli.train.Checks.atLeast(spec.commandLine(), "--resnet-width", width, 1);

        Workload cnn = Workload.mnist10k(options.dataset.equals("mnist10k") ? options.data : null, System.out);
        Workload resnet;
        if (options.dataset.equals("cifar10")) {
            resnet = Workload.of(Cifar10Reader.load(options.data, Math.max(batch, 64)), Models.RESNET18,
                    Models.resnet18(width));
        } else {
            resnet = randomCifar(batch, width);
        }
        List<Case> cases = List.of(new Case("MNIST CNN", cnn, options.batch),
                new Case(f("ResNet-18 (width %d)", width), resnet, batch));
        results.put("timed_steps", timed).put("warmup_steps_at_least", warmup).put("warmup_seconds", warmupSeconds).put("resnet_width", width)
                .put("resnet_batch", batch).put("resnet_data", resnet.dataset());
        System.out.println("experiment cost: " + timed + " timed steps per rate; " + cnn.describe() + "; "
                + resnet.describe());

        List<Object> out = new ArrayList<>();
        List<Plots.Series> memory = new ArrayList<>(), time = new ArrayList<>();
        List<List<String>> table = new ArrayList<>();
        for (Case k : cases) {
            double[] ms = new double[rates.length];
            long[] saved = new long[rates.length], peak = new long[rates.length];
            List<Object> rows = new ArrayList<>();
            for (int i = 0; i < rates.length; i++) {
                Compression c = Compression.fixed(rates[i]);
                Trainer.Config config = new Trainer.Config(c, c, 1, k.batch(), options.learningRate, "adam", 0.9, 0,
                        "constant", options.seed, 0, false, false);
                try (Trainer t = k.workload().trainer(config, System.out)) {
                    // Warm up for about warmupSeconds (at least `warmup` steps): a fresh JVM runs a
                    // step's Java interpreted at first, and 5 steps of the small CNN (~60 ms) leave
                    // it so (the step measured 25 ms against the 7 ms of a warm JMH run).
                    // The probe runs after `warmup` steps: the first builds the plans and is no measure.
                    double probe = t.measureStep(warmup, 3).medianMs();
                    int steps = (int) Math.clamp(Math.ceil(warmupSeconds * 1000 / probe), warmup, 500);
                    Trainer.StepCost cost = t.measureStep(steps, timed);
                    ms[i] = cost.medianMs();
                    saved[i] = cost.savedSpectraBytes();
                    peak[i] = cost.peakBytes();
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("rho", rates[i]);
                    row.put("step_ms_median", cost.medianMs());
                    row.put("saved_spectra_bytes", cost.savedSpectraBytes());
                    row.put("tape_bytes", cost.tapeBytes());
                    row.put("library_bytes", cost.libraryBytes());
                    row.put("peak_native_bytes", cost.peakBytes());
                    rows.add(row);
                }
            }
            for (int i = 0; i < rates.length; i++) {
                table.add(List.of(k.name(), f("%.2f", rates[i]), mib(saved[i]), ratio(saved[i], saved[0]), mib(peak[i]),
                        ratio(peak[i], peak[0]), f("%.2f", ms[i]), f("%.2fx", ms[i] / ms[0])));
            }
            double[] peakRatio = new double[rates.length], timeRatio = new double[rates.length];
            for (int i = 0; i < rates.length; i++) {
                peakRatio[i] = (double) peak[i] / peak[0];
                timeRatio[i] = ms[i] / ms[0];
            }
            memory.add(new Plots.Series(k.name() + ": peak native bytes", rates, peakRatio));
            double[] savedRatio = new double[rates.length];
            for (int i = 0; i < rates.length; i++) savedRatio[i] = saved[0] == 0 ? 0 : (double) saved[i] / saved[0];
            memory.add(new Plots.Series(k.name() + ": saved spectra", rates, savedRatio));
            time.add(new Plots.Series(k.name(), rates, timeRatio));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("model", k.name());
            m.put("batch", k.batch());
            m.put("rates", rows);
            out.add(m);
        }
        results.put("models", out);
        results.table("A training step's cost vs rho (median of " + timed + " steps, after ~" + warmupSeconds + " s of warm-up)",
                List.of("model", "rho", "saved spectra", "vs rho 0", "peak native", "vs rho 0", "step ms", "vs rho 0"),
                table);
        Path png = Plots.save(List.of(
                Plots.lines("memory of a training step vs rho (relative to rho 0)", "rho", "bytes / bytes at rho 0", memory),
                Plots.lines("time of a training step vs rho (relative to rho 0)", "rho", "time / time at rho 0", time)),
                2, folder.resolve("cost.png"));
        return List.of(png);
    }

    /** Seeded N(0, 1) inputs of CIFAR's shape with random labels: enough to time a step. */
    private Workload randomCifar(int batch, int width) {
        int n = Math.max(batch, 1), size = Cifar10Reader.PIXELS;
        SplittableRandom r = new SplittableRandom(options.seed);
        float[] items = new float[n * size];
        for (int i = 0; i < items.length; i++) items[i] = (float) r.nextGaussian();
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = r.nextInt(10);
        return new Workload("random CIFAR-shaped", Models.RESNET18, Models.resnet18(width),
                new long[] {3, 32, 32}, items, labels, items.clone(), labels.clone());
    }

    private static String mib(long bytes) {
        return f("%.2f MiB", bytes / 1048576.0);
    }

    private static String ratio(long a, long b) {
        return b == 0 ? "-" : f("%.2fx", (double) a / b);
    }
}
