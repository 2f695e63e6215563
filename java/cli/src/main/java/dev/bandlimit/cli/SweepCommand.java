package dev.bandlimit.cli;

import dev.bandlimit.Bandlimit;
import dev.bandlimit.Box;
import dev.bandlimit.Compression;
import dev.bandlimit.ConvPlan;
import dev.bandlimit.Flops;
import dev.bandlimit.Padding;
import dev.bandlimit.Pass;
import dev.bandlimit.SavedSpectra;
import dev.bandlimit.Tensor;
import dev.bandlimit.Workspace;
import dev.bandlimit.cli.train.Stats;
import java.lang.foreign.Arena;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Sweeps the compression rate on one convolution layer from Java and prints a table: achieved
 * rate and box, relative error against a float64 direct convolution, saved-spectra bytes,
 * FLOPs and median times of the forward and backward passes.
 */
@Command(
        name = "sweep",
        mixinStandardHelpOptions = true,
        description = "Sweep rho on one layer (default: a ResNet-18/CIFAR layer, N=32, C=F=64, 32x32, 3x3, pad 1).")
final class SweepCommand implements Callable<Integer> {

    @Option(names = "--batch", defaultValue = "32", description = "batch N (default ${DEFAULT-VALUE})")
    long batch;

    @Option(names = "--channels", defaultValue = "64", description = "input and output channels (default ${DEFAULT-VALUE})")
    long channels;

    @Option(names = "--size", defaultValue = "32", description = "input height and width (default ${DEFAULT-VALUE})")
    long size;

    @Option(names = "--kernel", defaultValue = "3", description = "kernel size, odd; padding keeps the size (default ${DEFAULT-VALUE})")
    long kernel;

    @Option(names = "--rates", split = ",", defaultValue = "0,0.25,0.5,0.75,0.9",
            description = "requested rates rho (default ${DEFAULT-VALUE})")
    double[] rates;

    @Option(names = "--repeats", defaultValue = "5", description = "timed runs per rate, after one warm-up (default ${DEFAULT-VALUE})")
    int repeats;

    @Option(names = "--seed", defaultValue = "42", description = "random seed (default ${DEFAULT-VALUE})")
    long seed;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        dev.bandlimit.cli.train.Checks.atLeast(cl, "--batch", batch, 1);
        dev.bandlimit.cli.train.Checks.atLeast(cl, "--channels", channels, 1);
        dev.bandlimit.cli.train.Checks.atLeast(cl, "--size", size, 1);
        dev.bandlimit.cli.train.Checks.atLeast(cl, "--kernel", kernel, 1);
        if (kernel % 2 == 0) throw new CommandLine.ParameterException(cl, "--kernel must be odd (padding keeps the size), got " + kernel);
        dev.bandlimit.cli.train.Checks.atLeast(cl, "--repeats", repeats, 1);
        for (double rho : rates) dev.bandlimit.cli.train.DataOptions.rate(cl, "--rates", rho);
        long n = batch, c = channels, f = channels, h = size, w = size, k = kernel;
        long pad = k / 2;
        System.out.printf(Locale.ROOT, "bandlimit sweep (Java, FFM): N=%d C=F=%d %dx%d input, %dx%d kernel, pad %d;"
                + " %d native threads, median of %d runs%n%n", n, c, h, w, k, k, pad, Bandlimit.numThreads(), repeats);
        try (Arena arena = Arena.ofConfined()) {
            SplittableRandom random = new SplittableRandom(seed);
            Tensor x = Tensor.allocate(arena, n, c, h, w);
            Tensor wt = Tensor.allocate(arena, f, c, k, k);
            float[] xs = Images.smoothNoise(random, (int) (n * c), (int) h, (int) w);
            x.copyFrom(xs);
            float[] ws = new float[(int) wt.elementCount()];
            for (int i = 0; i < ws.length; i++) ws[i] = (float) (random.nextGaussian() / Math.sqrt(c * k * k));
            wt.copyFrom(ws);
            double[] dense = directConvolution(xs, ws, (int) n, (int) c, (int) f, (int) h, (int) w, (int) k, (int) pad);
            Tensor dy = Tensor.allocate(arena, n, f, h, w);
            for (long i = 0; i < dy.elementCount(); i++) dy.set(i, (float) random.nextGaussian());

            System.out.println("| rho req | rho achieved | box (kh,kw) | rel err vs dense | saved bytes | saved vs rho=0"
                    + " | fwd GFLOP nominal | fwd GFLOP executed | fwd ms | bwd ms (dx+dw+db) |");
            System.out.println("|---|---|---|---|---|---|---|---|---|---|");
            long savedDense = 0;
            for (double rho : rates) {
                try (Arena layer = Arena.ofConfined();
                        ConvPlan plan = ConvPlan.conv2d().maxBatch(n).channels(c).input(h, w).filters(f).kernel(k, k)
                                .padding(Padding.symmetric(pad)).compression(Compression.fixed(rho)).build(layer)) {
                    Tensor y = Tensor.allocate(layer, plan.outputShape(n));
                    Tensor dx = Tensor.allocate(layer, plan.inputShape(n));
                    Tensor dw = Tensor.allocate(layer, plan.weightShape());
                    Tensor db = Tensor.allocate(layer, plan.biasShape());
                    SavedSpectra saved = plan.allocateSavedSpectra(layer);
                    Workspace workspace = plan.allocateWorkspace(layer);
                    if (rho == 0) savedDense = plan.savedSpectraBytes();
                    double[] forward = new double[repeats], backward = new double[repeats];
                    Box box = null;
                    for (int r = -1; r < repeats; r++) {
                        long t0 = System.nanoTime();
                        box = plan.forward(x, wt, null, y, saved, workspace);
                        long t1 = System.nanoTime();
                        plan.backward(saved, wt, dy, dx, dw, db, workspace);
                        long t2 = System.nanoTime();
                        if (r >= 0) {
                            forward[r] = (t1 - t0) * 1e-6;
                            backward[r] = (t2 - t1) * 1e-6;
                        }
                    }
                    Flops flops = plan.flops(Pass.FORWARD, n);
                    double err = relativeError(y.toArray(), dense);
                    System.out.printf(Locale.ROOT, "| %.2f | %.4f | (%d, %d) | %.3e | %d | %s | %.2f | %.2f | %.1f | %.1f |%n",
                            rho, plan.achievedRate(), box.kh(), box.kw(), err, plan.savedSpectraBytes(),
                            savedDense > 0 ? String.format(Locale.ROOT, "%.3f", (double) plan.savedSpectraBytes() / savedDense) : "-",
                            flops.nominal() * 1e-9, flops.executed() * 1e-9, Stats.median(forward), Stats.median(backward));
                }
            }
        }
        System.out.println();
        System.out.println("Input: Gaussian noise smoothed to an image-like spectrum. The error at rho > 0 is the");
        System.out.println("band-limiting itself (a different operator), not rounding; at rho = 0 it is float32 rounding.");
        return 0;
    }

    static double relativeError(float[] got, double[] want) {
        double num = 0, den = 0;
        for (int i = 0; i < got.length; i++) {
            double d = got[i] - want[i];
            num += d * d;
            den += want[i] * want[i];
        }
        return Math.sqrt(num / den);
    }

    /** Float64 cross-correlation with symmetric zero padding, stride 1 (the dense operator). */
    static double[] directConvolution(float[] x, float[] w, int n, int c, int f, int h, int wd, int k, int pad) {
        double[] y = new double[n * f * h * wd];
        IntStream.range(0, n * f).parallel().forEach(nf -> {
            int s = nf / f, o = nf % f;
            int base = nf * h * wd;
            for (int ch = 0; ch < c; ch++) {
                int xb = (s * c + ch) * h * wd, wb = (o * c + ch) * k * k;
                for (int i = 0; i < h; i++) {
                    for (int u = 0; u < k; u++) {
                        int r = i + u - pad;
                        if (r < 0 || r >= h) continue;
                        for (int j = 0; j < wd; j++) {
                            double acc = 0;
                            for (int v = 0; v < k; v++) {
                                int q = j + v - pad;
                                if (q >= 0 && q < wd) acc += (double) x[xb + r * wd + q] * w[wb + u * k + v];
                            }
                            y[base + i * wd + j] += acc;
                        }
                    }
                }
            }
        });
        return y;
    }
}
