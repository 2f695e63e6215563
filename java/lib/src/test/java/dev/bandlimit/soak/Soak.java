package dev.bandlimit.soak;

import dev.bandlimit.Bandlimit;
import dev.bandlimit.Box;
import dev.bandlimit.Compression;
import dev.bandlimit.ConvPlan;
import dev.bandlimit.Padding;
import dev.bandlimit.SavedSpectra;
import dev.bandlimit.SpectraMode;
import dev.bandlimit.Tensor;
import dev.bandlimit.Workspace;
import dev.bandlimit.nn.Adam;
import dev.bandlimit.nn.BatchNorm2d;
import dev.bandlimit.nn.Conv2d;
import dev.bandlimit.nn.Flatten;
import dev.bandlimit.nn.Functional;
import dev.bandlimit.nn.Linear;
import dev.bandlimit.nn.MaxPool2d;
import dev.bandlimit.nn.ReLU;
import dev.bandlimit.nn.Sequential;
import dev.bandlimit.nn.Tape;
import dev.bandlimit.nn.Var;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.LongConsumer;

/**
 * The soak run behind {@code scripts/soak.sh} (not a test of the build: it runs for minutes).
 * Two phases, each sampling the library's own allocation counter ({@code bl_allocated_bytes},
 * {@link Bandlimit#allocatedBytes()}) and the process's resident memory ({@code VmRSS} of
 * {@code /proc/self/status}) at evenly spaced points after a warm-up:
 *
 * <ol>
 *   <li><b>cycles</b>: create, execute and destroy small {@link ConvPlan}s (2D and 1D, fixed and
 *       energy compression, both spectra modes), with tensors in confined and shared arenas, the
 *       plan closed by {@link ConvPlan#close()} or by its arena, training forward + backward with
 *       explicit buffers or inference with the plan's shared workspace;
 *   <li><b>training</b>: a small band-limited CNN on synthetic data with Adam, an evaluation batch
 *       of another size now and then (the layers' plan caches grow and evict).
 * </ol>
 *
 * <p>The RSS is read after glibc's {@code malloc_trim(0)} ({@link #rssBytes()}). Each phase passes
 * when neither series rises by more than the tolerance (default 1%) above an earlier sample
 * ({@link #largestRise}); the table also shows each sample's drift from the first. The program
 * prints a table per phase, then {@code PASS} or {@code FAIL}, and exits 1 on a failure. The Java heap should be fixed and touched up front
 * ({@code -Xms = -Xmx}, {@code -XX:+AlwaysPreTouch}, as the script does), so that resident memory
 * measures native memory and the code cache rather than the heap growing into its limit.
 *
 * <p>Options: {@code --cycles N} (default 1,000,000), {@code --steps N} (default 50,000),
 * {@code --samples N} (default 20), {@code --warmup F} (the fraction of each phase run before its
 * first sample, default 0.1), {@code --warmup-seconds S} (default 15: cycles and training steps
 * before the phases, so that the JIT's compilations, whose memory counts in the RSS, are done;
 * see {@link #warmUp}), {@code --tolerance F} (default 0.01), {@code --quick} (50,000 cycles,
 * 10,000 steps: under a minute).
 */
public final class Soak {
    private Soak() {}

    /** One sample of a phase. */
    private record Sample(long done, long libraryBytes, long rssBytes, double note) {}

    public static void main(String[] args) throws IOException {
        long cycles = 1_000_000, steps = 50_000;
        int samples = 20;
        double warmup = 0.1, tolerance = 0.01;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--cycles" -> cycles = Long.parseLong(args[++i]);
                case "--steps" -> steps = Long.parseLong(args[++i]);
                case "--samples" -> samples = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Double.parseDouble(args[++i]);
                case "--tolerance" -> tolerance = Double.parseDouble(args[++i]);
                case "--warmup-seconds" -> warmupSeconds = Double.parseDouble(args[++i]);
                case "--quick" -> {
                    cycles = 50_000;
                    steps = 10_000;
                }
                default -> {
                    System.err.println("soak: unknown option " + args[i]
                            + " (--cycles N --steps N --samples N --warmup F --warmup-seconds S --tolerance F --quick)");
                    System.exit(2);
                }
            }
        }
        if (cycles < 1 || steps < 1 || samples < 2 || !(warmup >= 0 && warmup < 1) || !(tolerance > 0)) {
            System.err.println("soak: need cycles, steps >= 1, samples >= 2, warmup in [0, 1), tolerance > 0");
            System.exit(2);
        }
        System.out.printf(Locale.ROOT, "soak: native %s from %s; %,d cycles, %,d training steps, %d samples per phase after"
                + " %.0f%% of it, tolerance %.1f%%; heap max %d MiB%n", Bandlimit.nativeVersion(),
                Bandlimit.nativeLibraryLocation(), cycles, steps, samples, 100 * warmup, 100 * tolerance,
                Runtime.getRuntime().maxMemory() >> 20);
        long start = System.nanoTime();
        warmUp(warmupSeconds);
        boolean ok = report("cycles", "cycles", cycles(cycles, samples, warmup), tolerance, null);
        ok &= report("training", "steps", training(steps, samples, warmup, true), tolerance, "loss");
        System.out.printf(Locale.ROOT, "soak: wall time %.1f s%n", (System.nanoTime() - start) * 1e-9);
        System.out.println(ok ? "PASS" : "FAIL");
        System.exit(ok ? 0 : 1);
    }

    // ----------------------------------------------------------------------------------------
    // Phase 1: plan cycles
    // ----------------------------------------------------------------------------------------

    private static final SplittableRandom DATA = new SplittableRandom(7);
    private static final float[] VALUES = new float[4096];

    static {
        for (int i = 0; i < VALUES.length; i++) VALUES[i] = (float) DATA.nextGaussian();
    }

    /** Fills {@code t} from the fixed random values (no allocation). */
    private static void fill(Tensor t) {
        long n = t.elementCount();
        for (long i = 0; i < n; i++) t.set(i, VALUES[(int) (i % VALUES.length)]);
    }

    /** Cycle {@code i}: one plan of a rotating kind, created, executed and destroyed. */
    private static void cycle(long i) {
        int kind = (int) (i % 8);
        ConvPlan.Builder b = (kind & 1) == 0
                ? ConvPlan.conv2d().maxBatch(2).channels(2).input(8, 8).filters(3).kernel(3, 3).padding(Padding.symmetric(1))
                : ConvPlan.conv1d().maxBatch(2).channels(2).length(24).filters(2).kernel(5).padding(Padding.of1d(2, 2));
        b.compression((kind & 2) == 0 ? Compression.fixed(0.5) : Compression.energy(0.9));
        b.spectraMode((kind & 4) == 0 ? SpectraMode.INPUT_AND_WEIGHT : SpectraMode.INPUT_ONLY);
        boolean shared = (i / 8) % 2 == 1;
        boolean closeByArena = (i / 16) % 2 == 1;
        try (Arena arena = shared ? Arena.ofShared() : Arena.ofConfined()) {
            ConvPlan plan = b.build(arena);
            long n = 1 + i % 2;
            Tensor x = Tensor.allocate(arena, plan.inputShape(n));
            Tensor w = Tensor.allocate(arena, plan.weightShape());
            Tensor y = Tensor.allocate(arena, plan.outputShape(n));
            fill(x);
            fill(w);
            if ((i / 32) % 2 == 0) {
                Tensor dy = Tensor.allocate(arena, plan.outputShape(n));
                fill(dy);
                Tensor dx = Tensor.allocate(arena, plan.inputShape(n)), dw = Tensor.allocate(arena, plan.weightShape()),
                        db = Tensor.allocate(arena, plan.biasShape());
                SavedSpectra saved = plan.allocateSavedSpectra(arena);
                Workspace ws = plan.allocateWorkspace(arena);
                Box box = plan.forward(x, w, null, y, saved, ws);
                plan.backward(saved, w, dy, dx, dw, db, ws);
                if (box.kh() < 0 || !Float.isFinite(dx.get(0))) throw new IllegalStateException("cycle " + i + ": bad result");
            } else {
                plan.infer(x, w, null, y);  // the plan's shared workspace: freed with the plan
                if (!Float.isFinite(y.get(0))) throw new IllegalStateException("cycle " + i + ": bad result");
            }
            if (!closeByArena) plan.close();
        }
    }

    // ----------------------------------------------------------------------------------------
    // Phase 2: training
    // ----------------------------------------------------------------------------------------

    private static final int CLASSES = 4, SIZE = 16, BATCH = 16;

    /** Images whose class is the quadrant holding a bright blob, plus noise. */
    private static int[] syntheticBatch(Tensor images, SplittableRandom r) {
        int n = (int) images.dim(0);
        int[] labels = new int[n];
        for (int s = 0; s < n; s++) {
            int label = r.nextInt(CLASSES);
            labels[s] = label;
            int cy = (label / 2) * SIZE / 2 + SIZE / 4, cx = (label % 2) * SIZE / 2 + SIZE / 4;
            for (int i = 0; i < SIZE; i++) {
                for (int j = 0; j < SIZE; j++) {
                    double d2 = (i - cy) * (i - cy) + (j - cx) * (j - cx);
                    images.set((float) (Math.exp(-d2 / 8) + 0.3 * r.nextGaussian()), s, 0, i, j);
                }
            }
        }
        return labels;
    }

    /** The model, optimizer and data of the training phase; {@link #step} is one training step. */
    private static final class Training implements AutoCloseable {
        final Arena arena = Arena.ofConfined();
        final Sequential model;
        final Adam adam;
        final Tensor images = Tensor.allocate(arena, BATCH, 1, SIZE, SIZE);
        final Tensor evalImages = Tensor.allocate(arena, 2 * BATCH + 3, 1, SIZE, SIZE);
        final int[] evalLabels = syntheticBatch(evalImages, new SplittableRandom(12));
        final SplittableRandom random = new SplittableRandom(11);
        float lastLoss = Float.NaN;
        double accuracy = Double.NaN;

        Training() {
            Compression half = Compression.fixed(0.5);
            model = new Sequential(
                    new Conv2d(1, 8, 3, 3, Padding.symmetric(1), 1, true, half, half, 1),
                    new BatchNorm2d(8), new ReLU(), new MaxPool2d(2, 2),
                    new Conv2d(8, 8, 3, 3, Padding.symmetric(1), 1, false, Compression.energy(0.9), Compression.energy(0.9), 2),
                    new BatchNorm2d(8), new ReLU(), new MaxPool2d(2, 2),
                    new Flatten(), new Linear(8 * 4 * 4, CLASSES, true, 3));
            adam = new Adam(model.parameters(), 3e-3);
        }

        void step(long step) {
            int[] labels = syntheticBatch(images, random);
            try (Tape tape = new Tape(true)) {
                Var loss = Functional.softmaxCrossEntropy(tape, model.forward(tape, tape.input(images)), labels);
                adam.zeroGrad();
                tape.backward(loss);
                adam.step();
                lastLoss = loss.item();
            }
            if (step % 50 == 0) {  // from the first step: its plans exist before the first sample
                try (Tape eval = new Tape(false)) {
                    int[] predicted = Functional.argmax(model.forward(eval, eval.input(evalImages)));
                    int right = 0;
                    for (int k = 0; k < predicted.length; k++) right += predicted[k] == evalLabels[k] ? 1 : 0;
                    accuracy = (double) right / predicted.length;
                }
            }
        }

        @Override
        public void close() {
            adam.close();
            model.close();
            arena.close();
        }
    }

    private static List<Sample> training(long steps, int samples, double warmup, boolean print) {
        try (Training t = new Training()) {
            List<Sample> out = run(steps, samples, warmup, t::step, () -> t.lastLoss);
            if (print) {
                System.out.printf(Locale.ROOT, "training: final loss %.4f, evaluation accuracy %.3f (chance %.3f)%n", t.lastLoss,
                        t.accuracy, 1.0 / CLASSES);
            }
            return out;
        }
    }

    private static List<Sample> cycles(long cycles, int samples, double warmup) {
        return run(cycles, samples, warmup, Soak::cycle, () -> Double.NaN);
    }

    /**
     * Both phases, shortened and repeated for {@code seconds} (half each, a fresh model per
     * training round), through the very methods and call sites the measured phases use, then a
     * collection and a pause: the JIT compiles the phases' code first, and HotSpot frees its
     * compilers' pooled arena chunks some seconds after their last use (its chunk pool cleaner runs
     * every 5 s), so neither the compilations nor that release fall among a phase's samples.
     */
    private static void warmUp(double seconds) {
        long start = System.nanoTime(), cycleCount = 0, stepCount = 0;
        while (System.nanoTime() - start < seconds * 0.5e9) {
            cycles(5_000, 2, 0);
            cycleCount += 5_000;
        }
        while (System.nanoTime() - start < seconds * 1e9) {
            training(500, 2, 0, false);
            stepCount += 500;
        }
        System.gc();
        try {
            Thread.sleep(seconds > 0 ? 6_000 : 0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        System.out.printf(Locale.ROOT, "warm-up: %,d cycles and %,d training steps in %.1f s, then a 6 s pause%n", cycleCount,
                stepCount, (System.nanoTime() - start) * 1e-9 - (seconds > 0 ? 6 : 0));
    }

    // ----------------------------------------------------------------------------------------
    // Sampling and the verdict
    // ----------------------------------------------------------------------------------------

    /** The length of the warm-up before the phases (see {@link #warmUp}). */
    static double warmupSeconds = 15;

    /**
     * Runs {@code body} for units 0 .. total-1: a warm-up of the fraction {@code warmup} (at least
     * one unit), then {@code samples} samples evenly spread over the rest, the last after the last
     * unit (with {@code samples} 2 and {@code warmup} 0, what {@link #warmUp} runs).
     */
    private static List<Sample> run(long total, int samples, double warmup, LongConsumer body,
            java.util.function.DoubleSupplier note) {
        long i = 0;
        while (i < Math.max(1, (long) Math.ceil(total * warmup))) body.accept(i++);
        long first = i;
        // One full collection before the first sample: the collector's own structures (G1's
        // marking bitmaps, touched by its first marking cycle) are then part of the baseline
        // instead of a one-time step that a long phase would meet halfway.
        System.gc();
        List<Sample> out = new ArrayList<>();
        out.add(new Sample(i, Bandlimit.allocatedBytes(), rssBytes(), note.getAsDouble()));
        for (int k = 1; k < samples; k++) {
            long due = first + (long) ((double) k * (total - first) / (samples - 1));
            while (i < due) body.accept(i++);
            out.add(new Sample(i, Bandlimit.allocatedBytes(), rssBytes(), note.getAsDouble()));
        }
        return out;
    }

    /** glibc's {@code int malloc_trim(size_t pad)}; null where the C library has none. */
    private static final java.lang.invoke.MethodHandle MALLOC_TRIM = java.lang.foreign.Linker.nativeLinker().defaultLookup()
            .find("malloc_trim")
            .map(address -> java.lang.foreign.Linker.nativeLinker().downcallHandle(address,
                    java.lang.foreign.FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_INT,
                            java.lang.foreign.ValueLayout.JAVA_LONG)))
            .orElse(null);

    /**
     * Resident set size of this process (VmRSS), in bytes, after {@code malloc_trim(0)}: glibc
     * keeps freed memory of its per-thread arenas mapped, and the JIT's compiler threads free
     * tens of MiB after their largest compilations, which happen late for code that runs rarely
     * (the evaluation every 50 steps): untrimmed, that peak reads as a one-time growth. Memory
     * still allocated is not trimmed, so a leak shows all the same. The least of three readings
     * 20 ms apart: a compilation in progress holds its memory for a moment, a leak for good.
     */
    static long rssBytes() {
        long least = Long.MAX_VALUE;
        for (int k = 0; k < 3; k++) {
            if (k > 0) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            least = Math.min(least, trimmedRssBytes());
        }
        return least;
    }

    private static long trimmedRssBytes() {
        if (MALLOC_TRIM != null) {
            try {
                int ignored = (int) MALLOC_TRIM.invokeExact(0L);
            } catch (Throwable e) {
                throw new IllegalStateException("malloc_trim", e);
            }
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).trim().split("\\s+")[0]) * 1024;
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    private static double drift(long value, long first) {
        return first == 0 ? (value == 0 ? 0 : Double.POSITIVE_INFINITY) : (double) (value - first) / first;
    }

    /**
     * The verdict on one series: its largest rise above an earlier low point, relative to that
     * low point ({@code max_j (v_j - min_{i <= j} v_i) / min_{i <= j} v_i}). A leak rises steadily
     * and shows wherever it starts; memory given back (the JIT returning its compilers' arenas
     * a few seconds after a burst of compilations, which the first samples of a phase can still
     * hold) lowers the baseline instead of failing the run.
     */
    private static double largestRise(List<Sample> samples, java.util.function.ToLongFunction<Sample> value) {
        long low = Long.MAX_VALUE;
        double rise = 0;
        for (Sample s : samples) {
            long v = value.applyAsLong(s);
            low = Math.min(low, v);
            rise = Math.max(rise, drift(v, low));
        }
        return rise;
    }

    private static boolean report(String phase, String unit, List<Sample> samples, double tolerance, String noteName) {
        System.out.printf(Locale.ROOT, "%n%-9s %12s %15s %9s %12s %9s%s%n", phase, unit, "library bytes", "drift", "RSS MiB", "drift",
                noteName == null ? "" : String.format(Locale.ROOT, " %9s", noteName));
        Sample first = samples.get(0);
        double maxLibrary = 0, maxRss = 0;
        for (Sample s : samples) {
            double dl = drift(s.libraryBytes(), first.libraryBytes()), dr = drift(s.rssBytes(), first.rssBytes());
            maxLibrary = Math.max(maxLibrary, Math.abs(dl));
            maxRss = Math.max(maxRss, Math.abs(dr));
            System.out.printf(Locale.ROOT, "%-9s %,12d %,15d %+8.2f%% %12.1f %+8.2f%%%s%n", "", s.done(), s.libraryBytes(),
                    100 * dl, s.rssBytes() / 1048576.0, 100 * dr,
                    noteName == null ? "" : String.format(Locale.ROOT, " %9.4f", s.note()));
        }
        Sample last = samples.get(samples.size() - 1);
        double riseLibrary = largestRise(samples, Sample::libraryBytes), riseRss = largestRise(samples, Sample::rssBytes);
        boolean ok = riseLibrary <= tolerance && riseRss <= tolerance;
        System.out.printf(Locale.ROOT, "%s: library bytes %,d -> %,d (max drift %.2f%%, largest rise %.2f%%), RSS %.1f -> %.1f MiB"
                + " (max drift %.2f%%, largest rise %.2f%%): %s%n", phase, first.libraryBytes(), last.libraryBytes(),
                100 * maxLibrary, 100 * riseLibrary, first.rssBytes() / 1048576.0, last.rssBytes() / 1048576.0, 100 * maxRss,
                100 * riseRss, ok ? "PASS" : "FAIL");
        return ok;
    }
}
