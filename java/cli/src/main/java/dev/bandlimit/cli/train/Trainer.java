package dev.bandlimit.cli.train;

import dev.bandlimit.Box;
import dev.bandlimit.Compression;
import dev.bandlimit.Pass;
import dev.bandlimit.Tensor;
import dev.bandlimit.nn.Adam;
import dev.bandlimit.nn.ConvLayer;
import dev.bandlimit.nn.Functional;
import dev.bandlimit.nn.LearningRateSchedule;
import dev.bandlimit.nn.OpTimers;
import dev.bandlimit.nn.Optimizer;
import dev.bandlimit.nn.Sgd;
import dev.bandlimit.nn.Tape;
import dev.bandlimit.nn.Var;
import dev.bandlimit.nn.models.MnistCnn;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Trains and evaluates a {@link Model} ({@link MnistCnn} by default) on in-memory items: seeded (bit-for-bit reproducible
 * on one machine), one progress bar and one log line per epoch, metrics as JSON lines.
 */
public final class Trainer implements AutoCloseable {

    /**
     * What to train. {@code trainLimit <= 0} uses the whole training set. {@code profile}: print
     * each epoch's {@link StepProfile} after its line and add it to the metrics.
     */
    public record Config(Compression train, Compression eval, int epochs, int batch, double learningRate,
            String optimizer, double momentum, double weightDecay, String schedule, long seed, int trainLimit,
            boolean progress, boolean profile) {}

    /**
     * One convolution's box and achieved rate in training (the epoch's first step; with energy
     * compression {@code meanTrainRate} averages all its steps) and in evaluation.
     */
    public record LayerReport(String name, Box trainBox, double trainRate, double meanTrainRate, Box evalBox,
            double evalRate) {}

    /** One epoch's numbers; {@code profile}: where its steps' time went (always measured, printed on request). */
    public record EpochReport(int epoch, double loss, double trainAccuracy, double testAccuracy, double seconds,
            double imagesPerSecond, long savedSpectraBytes, double gflopsPerStep, double convShare,
            List<LayerReport> layers, StepProfile profile) {}

    /** An evaluation's accuracy and the boxes the convolutions used. */
    public record Evaluation(double accuracy, List<Box> boxes, List<Double> rates) {}

    /**
     * What one training step costs (forward, backward, optimizer): the median wall time of the
     * timed steps, the convolutions' saved spectra, and the peak native bytes (everything the
     * step's tape allocated, which it frees only at its end, plus what the library holds).
     */
    public record StepCost(double medianMs, long savedSpectraBytes, long tapeBytes, long libraryBytes) {
        public long peakBytes() {
            return tapeBytes + libraryBytes;
        }
    }

    private final Config config;
    private final float[] trainImages, testImages;
    private final int[] trainLabels, testLabels;
    private final Model model;
    private final long[] itemShape;
    private final int itemSize;
    private final Optimizer optimizer;
    private final LearningRateSchedule schedule;
    private final PrintStream log;
    private long step;

    /**
     * The MNIST CNN on normalised images {@code [n][1][28][28]}, labels alike; the test set likewise.
     */
    public Trainer(Config config, float[] trainImages, int[] trainLabels, float[] testImages, int[] testLabels,
            PrintStream log) {
        this(config, Models.mnistCnn(), MnistCnn.ITEM_SHAPE, trainImages, trainLabels, testImages, testLabels, log);
    }

    /**
     * {@code factory}'s model on items of {@code itemShape} (e.g. {3, 32, 32}, or {1, L} for a
     * series), stored one after another in {@code trainImages} and {@code testImages}.
     */
    public Trainer(Config config, Model.Factory factory, long[] itemShape, float[] trainImages, int[] trainLabels,
            float[] testImages, int[] testLabels, PrintStream log) {
        this.config = config;
        this.log = log;
        this.itemShape = itemShape.clone();
        long size = 1;
        for (long d : itemShape) size *= d;
        this.itemSize = Math.toIntExact(size);
        if (trainImages.length != (long) trainLabels.length * itemSize
                || testImages.length != (long) testLabels.length * itemSize) {
            throw new IllegalArgumentException("items hold " + trainImages.length + " / " + testImages.length
                    + " values for " + trainLabels.length + " / " + testLabels.length + " labels of "
                    + java.util.Arrays.toString(itemShape));
        }
        int n = trainLabels.length;
        if (config.trainLimit() > 0 && config.trainLimit() < n) {
            // A seeded subset, so small runs see every class.
            int[] order = permutation(n, new SplittableRandom(config.seed() ^ 0x5eed));
            int[] kept = java.util.Arrays.copyOf(order, config.trainLimit());
            trainImages = gather(trainImages, itemSize, kept);
            trainLabels = gather(trainLabels, kept);
        }
        this.trainImages = trainImages;
        this.trainLabels = trainLabels;
        this.testImages = testImages;
        this.testLabels = testLabels;
        this.model = factory.create(config.train(), config.eval(), config.seed());
        var params = model.network().parameters();
        this.optimizer = switch (config.optimizer().toLowerCase(Locale.ROOT)) {
            case "sgd" -> new Sgd(params, config.learningRate(), config.momentum(), config.weightDecay());
            case "adam" -> new Adam(params, config.learningRate(), 0.9, 0.999, 1e-8, config.weightDecay());
            default -> throw new IllegalArgumentException("optimizer must be sgd or adam, got " + config.optimizer());
        };
        long stepsPerEpoch = (this.trainLabels.length + config.batch() - 1) / config.batch();
        long total = stepsPerEpoch * config.epochs();
        this.schedule = switch (config.schedule().toLowerCase(Locale.ROOT)) {
            case "constant" -> LearningRateSchedule.constant(config.learningRate());
            case "cosine" -> LearningRateSchedule.cosine(config.learningRate(), total, 0.0);
            case "step" -> LearningRateSchedule.step(config.learningRate(), Math.max(1, total / 3), 0.1);
            default -> throw new IllegalArgumentException("schedule must be constant, cosine or step, got "
                    + config.schedule());
        };
    }

    public Model model() {
        return model;
    }

    public int trainSize() {
        return trainLabels.length;
    }

    /** Trains all epochs; appends one JSON line per epoch to {@code metrics} (may be null). */
    public List<EpochReport> train(Path metrics) {
        List<EpochReport> reports = new ArrayList<>();
        SplittableRandom shuffle = new SplittableRandom(config.seed());
        for (int epoch = 1; epoch <= config.epochs(); epoch++) {
            EpochReport r = trainEpoch(epoch, shuffle);
            reports.add(r);
            log.println(formatEpoch(r));
            // Per epoch, since the counters restart with each: the first epoch includes JIT warm-up.
            if (config.profile()) log.print(r.profile().format(formatProfileTitle(r)));
            if (metrics != null) appendJson(metrics, toJson(r, config.profile()));
        }
        return reports;
    }

    private EpochReport trainEpoch(int epoch, SplittableRandom shuffle) {
        int n = trainLabels.length, batch = config.batch();
        int[] order = permutation(n, shuffle);
        int steps = (n + batch - 1) / batch;
        double lossSum = 0;
        long correct = 0;
        long stepNanos = 0;
        long savedBytes = 0;
        double gflops = 0;
        List<Box> trainBoxes = List.of();
        List<Double> trainRates = List.of();
        double[] rateSums = new double[model.convolutions().size()];
        OpTimers.reset();
        float[] images = new float[batch * itemSize];
        int[] labels = new int[batch];
        long t0 = System.nanoTime();
        try (ProgressBar bar = progressBar(epoch, steps)) {
            for (int s = 0; s < steps; s++) {
                int from = s * batch, size = Math.min(batch, n - from);
                for (int i = 0; i < size; i++) {
                    System.arraycopy(trainImages, order[from + i] * itemSize, images, i * itemSize, itemSize);
                    labels[i] = trainLabels[order[from + i]];
                }
                int[] batchLabels = size == batch ? labels : java.util.Arrays.copyOf(labels, size);
                long begin = System.nanoTime();
                optimizer.setLearningRate(schedule.rate(step));
                float loss;
                int[] predicted;
                try (Tape tape = new Tape(true)) {
                    Tensor x = Tensor.allocate(tape.arena(), batchShape(size));
                    MemorySegment.copy(images, 0, x.segment(), ValueLayout.JAVA_FLOAT, 0, size * itemSize);
                    Var logits = model.forward(tape, tape.input(x));
                    Var lossVar = Functional.softmaxCrossEntropy(tape, logits, batchLabels);
                    tape.backward(lossVar);
                    loss = lossVar.item();
                    predicted = Functional.argmax(logits);
                }
                optimizer.step();
                optimizer.zeroGrad();
                stepNanos += System.nanoTime() - begin;
                step++;
                lossSum += (double) loss * size;
                for (int i = 0; i < size; i++) if (predicted[i] == batchLabels[i]) correct++;
                for (int c = 0; c < rateSums.length; c++) rateSums[c] += model.convolutions().get(c).lastAchievedRate();
                if (s == 0) {
                    // One full step describes them all (the box is fixed, or energy's first choice).
                    savedBytes = savedSpectraBytes();
                    gflops = gflopsPerStep();
                    trainBoxes = model.convolutions().stream().map(ConvLayer::lastBox).toList();
                    trainRates = model.convolutions().stream().map(ConvLayer::lastAchievedRate).toList();
                }
                if (bar != null) {
                    double seconds = (System.nanoTime() - t0) * 1e-9;
                    bar.step();
                    bar.setExtraMessage(String.format(Locale.ROOT, "loss %.4f  %.0f img/s", loss,
                            (from + size) / Math.max(seconds, 1e-9)));
                }
            }
        }
        double seconds = (System.nanoTime() - t0) * 1e-9;
        // Before the evaluation, whose forwards would add to the counters.
        StepProfile profile = StepProfile.of(OpTimers.snapshotNanos(), steps, stepNanos);
        Evaluation test = evaluate();
        List<LayerReport> layers = new ArrayList<>();
        List<? extends ConvLayer> convs = model.convolutions();
        for (int i = 0; i < convs.size(); i++) {
            layers.add(new LayerReport(model.convolutionNames().get(i), trainBoxes.get(i), trainRates.get(i),
                    rateSums[i] / steps,
                    test.boxes().get(i), test.rates().get(i)));
        }
        return new EpochReport(epoch, lossSum / n, (double) correct / n, test.accuracy(), seconds, n / seconds,
                savedBytes, gflops, profile.share("conv"), layers, profile);
    }

    /** Saved-spectra bytes of one training step (all convolutions). */
    private long savedSpectraBytes() {
        long bytes = 0;
        for (ConvLayer c : model.convolutions()) bytes += c.lastSavedSpectraBytes();
        return bytes;
    }

    /** Executed GFLOPs of one training step's convolutions (the first layer has no input gradient). */
    private double gflopsPerStep() {
        double flops = 0;
        List<? extends ConvLayer> convs = model.convolutions();
        for (int i = 0; i < convs.size(); i++) {
            ConvLayer c = convs.get(i);
            flops += c.lastFlops(Pass.FORWARD).executed() + c.lastFlops(Pass.BACKWARD_WEIGHTS).executed();
            if (i > 0) flops += c.lastFlops(Pass.BACKWARD_DATA).executed();
        }
        return flops * 1e-9;
    }

    /** Test accuracy at the model's current evaluation compression. */
    public Evaluation evaluate() {
        return evaluate(0.0, 0);
    }

    /**
     * Test accuracy with Gaussian noise of standard deviation {@code noiseSigma} (in the units of
     * the normalised items) added to every test value, seeded by {@code noiseSeed}; 0: none.
     */
    public Evaluation evaluate(double noiseSigma, long noiseSeed) {
        int n = testLabels.length, batch = config.batch();
        SplittableRandom noise = new SplittableRandom(noiseSeed);
        float[] noisy = noiseSigma > 0 ? new float[batch * itemSize] : null;
        long correct = 0;
        List<Box> boxes = new ArrayList<>();
        List<Double> rates = new ArrayList<>();
        for (int from = 0; from < n; from += batch) {
            int size = Math.min(batch, n - from);
            try (Tape tape = new Tape(false)) {
                Tensor x = Tensor.allocate(tape.arena(), batchShape(size));
                if (noisy == null) {
                    MemorySegment.copy(testImages, from * itemSize, x.segment(), ValueLayout.JAVA_FLOAT, 0,
                            size * itemSize);
                } else {
                    for (int i = 0; i < size * itemSize; i++) {
                        noisy[i] = (float) (testImages[from * itemSize + i] + noiseSigma * noise.nextGaussian());
                    }
                    MemorySegment.copy(noisy, 0, x.segment(), ValueLayout.JAVA_FLOAT, 0, size * itemSize);
                }
                int[] predicted = Functional.argmax(model.forward(tape, tape.input(x)));
                for (int i = 0; i < size; i++) if (predicted[i] == testLabels[from + i]) correct++;
            }
            if (from == 0) {
                for (ConvLayer c : model.convolutions()) {
                    boxes.add(c.lastBox());
                    rates.add(c.lastAchievedRate());
                }
            }
        }
        return new Evaluation((double) correct / n, boxes, rates);
    }

    /** Test accuracy with the convolutions evaluated at {@code eval}, then restores the configured one. */
    public Evaluation evaluateAt(Compression eval) {
        model.setEvalCompression(eval);
        try {
            return evaluate();
        } finally {
            model.setEvalCompression(config.eval());
        }
    }

    /**
     * Times {@code timed} training steps on the first batch of the training set after
     * {@code warmup} untimed ones (the parameters move: this is for cost, not for accuracy).
     */
    public StepCost measureStep(int warmup, int timed) {
        int size = Math.min(config.batch(), trainLabels.length);
        float[] items = java.util.Arrays.copyOf(trainImages, size * itemSize);
        int[] labels = java.util.Arrays.copyOf(trainLabels, size);
        double[] ms = new double[timed];
        long tapeBytes = 0;
        for (int s = -warmup; s < timed; s++) {
            long begin = System.nanoTime();
            try (Tape tape = new Tape(true)) {
                Tensor x = Tensor.allocate(tape.arena(), batchShape(size));
                MemorySegment.copy(items, 0, x.segment(), ValueLayout.JAVA_FLOAT, 0, items.length);
                Var loss = Functional.softmaxCrossEntropy(tape, model.forward(tape, tape.input(x)), labels);
                tape.backward(loss);
                tapeBytes = tape.allocatedBytes();
            }
            optimizer.step();
            optimizer.zeroGrad();
            if (s >= 0) ms[s] = (System.nanoTime() - begin) * 1e-6;
        }
        return new StepCost(Stats.median(ms), savedSpectraBytes(), tapeBytes, dev.bandlimit.Bandlimit.allocatedBytes());
    }

    private long[] batchShape(int size) {
        long[] shape = new long[itemShape.length + 1];
        shape[0] = size;
        System.arraycopy(itemShape, 0, shape, 1, itemShape.length);
        return shape;
    }

    private ProgressBar progressBar(int epoch, int steps) {
        if (!config.progress()) return null;
        return new ProgressBarBuilder()
                .setTaskName(String.format(Locale.ROOT, "epoch %d/%d", epoch, config.epochs()))
                .setInitialMax(steps)
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(200)
                .setConsumer(new ConsoleProgressBarConsumer(System.err))
                .continuousUpdate()
                .build();
    }

    static String formatEpoch(EpochReport r) {
        return String.format(Locale.ROOT,
                "epoch %d: loss %.4f  train acc %.2f%%  test acc %.2f%%  %.1f s (%.0f img/s)  saved spectra %s/step"
                        + "  %.3f GFLOP/step  conv %.0f%% of step time",
                r.epoch(), r.loss(), 100 * r.trainAccuracy(), 100 * r.testAccuracy(), r.seconds(),
                r.imagesPerSecond(), bytes(r.savedSpectraBytes()), r.gflopsPerStep(), 100 * r.convShare());
    }

    static String formatProfileTitle(EpochReport r) {
        return String.format(Locale.ROOT, "epoch %d profile: %d steps, %.2f ms/step (OpTimers per op kind)",
                r.epoch(), r.profile().steps(), r.profile().stepMs());
    }

    static String bytes(long b) {
        if (b >= 1 << 20) return String.format(Locale.ROOT, "%.2f MiB", b / 1048576.0);
        if (b >= 1 << 10) return String.format(Locale.ROOT, "%.1f KiB", b / 1024.0);
        return b + " B";
    }

    /** The metrics line of {@code r}; with {@code withProfile}, its step profile under "profile". */
    static String toJson(EpochReport r, boolean withProfile) {
        StringBuilder layers = new StringBuilder("[");
        for (LayerReport l : r.layers()) {
            if (layers.length() > 1) layers.append(',');
            layers.append(String.format(Locale.ROOT,
                    "{\"name\":\"%s\",\"train_box\":[%d,%d],\"train_rate\":%.6f,\"mean_train_rate\":%.6f,"
                            + "\"eval_box\":[%d,%d],\"eval_rate\":%.6f}",
                    l.name(), l.trainBox().kh(), l.trainBox().kw(), l.trainRate(), l.meanTrainRate(), l.evalBox().kh(),
                    l.evalBox().kw(),
                    l.evalRate()));
        }
        layers.append(']');
        return String.format(Locale.ROOT,
                "{\"epoch\":%d,\"loss\":%.6f,\"train_accuracy\":%.6f,\"test_accuracy\":%.6f,\"seconds\":%.3f,"
                        + "\"images_per_second\":%.1f,\"saved_spectra_bytes\":%d,\"gflops_per_step\":%.6f,"
                        + "\"conv_share\":%.4f,\"layers\":%s%s}",
                r.epoch(), r.loss(), r.trainAccuracy(), r.testAccuracy(), r.seconds(), r.imagesPerSecond(),
                r.savedSpectraBytes(), r.gflopsPerStep(), r.convShare(), layers,
                withProfile ? ",\"profile\":" + r.profile().toJson() : "");
    }

    static void appendJson(Path file, String line) {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND)) {
            w.write(line);
            w.write('\n');
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** Items {@code indices[0]}, {@code indices[1]}, ... of {@code items} ({@code itemSize} values each), in that order. */
    public static float[] gather(float[] items, int itemSize, int[] indices) {
        float[] out = new float[indices.length * itemSize];
        for (int i = 0; i < indices.length; i++) System.arraycopy(items, indices[i] * itemSize, out, i * itemSize, itemSize);
        return out;
    }

    /** {@code labels[indices[0]]}, {@code labels[indices[1]]}, ... */
    public static int[] gather(int[] labels, int[] indices) {
        int[] out = new int[indices.length];
        for (int i = 0; i < indices.length; i++) out[i] = labels[indices[i]];
        return out;
    }

    /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
    public static int[] permutation(int n, SplittableRandom random) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    @Override
    public void close() {
        optimizer.close();
        model.close();
    }
}
