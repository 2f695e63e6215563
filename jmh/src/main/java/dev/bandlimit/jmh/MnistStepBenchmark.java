package dev.bandlimit.jmh;

import dev.bandlimit.Compression;
import dev.bandlimit.Tensor;
import dev.bandlimit.nn.Adam;
import dev.bandlimit.nn.Functional;
import dev.bandlimit.nn.Module;
import dev.bandlimit.nn.Tape;
import dev.bandlimit.nn.Var;
import dev.bandlimit.nn.models.MnistCnn;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What does one training step of the CLI's MNIST model cost, and what share of it is the
 * convolution? With {@code -prof dev.bandlimit.jmh.OpTimersProfiler} each iteration also reports
 * the {@code OpTimers} breakdown per step and {@code conv.share}, the convolutions' forward and
 * backward over the step time (the figure docs/TRAINING.md quotes from the CLI).
 *
 * <p>The model is the one {@code bandlimit train} builds (Conv2d 1->16 5x5 pad 2, BatchNorm2d,
 * ReLU, MaxPool 2, Conv2d 16->32 5x5 pad 2, BatchNorm2d, ReLU, MaxPool 2, Flatten, Linear 1568->10)
 * at the compression {@code rho} for training and evaluation, Adam (lr 0.002, as the CLI trains) on
 * one fixed batch of {@code batch} 28x28 images (uniform pixels in [0, 1), random
 * labels, fixed seeds). A step is forward, loss, zeroGrad, backward and update on a fresh
 * {@link Tape}, whose memory the thread's {@code TapeMemory} recycles, as in the CLI's loop.
 *
 * <p>Checked once per trial: in set-up, {@value #CHECK_STEPS} steps must halve the loss (a
 * fixed batch is memorised); after timing, the last step's loss must be finite and still below
 * the first one. Warm-up: the first step builds the native plans and C2 compiles the Java loops
 * within about fifteen steps, which set-up and the warm-up iterations cover.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class MnistStepBenchmark {
    static final int CHECK_STEPS = 15;

    /** Compression of both convolutions (training and evaluation). */
    @Param({"0", "0.5", "0.75"})
    public double rho;

    @Param({"64"})
    public int batch;

    private Arena arena;
    private Module model;
    private Adam optimizer;
    private Tensor images;
    private int[] labels;
    private float firstLoss, lastLoss;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        model = new MnistCnn(Compression.fixed(rho), Compression.fixed(rho), 1).network();
        optimizer = new Adam(model.parameters(), 0.002);
        images = Tensor.allocate(arena, batch, 1, 28, 28);
        SplittableRandom random = new SplittableRandom(2);
        for (long i = 0; i < images.elementCount(); i++) images.set(i, (float) random.nextDouble());
        labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = random.nextInt(10);

        firstLoss = trainStep();
        for (int i = 1; i < CHECK_STEPS; i++) lastLoss = trainStep();
        if (!(lastLoss < 0.5f * firstLoss)) {
            throw new IllegalStateException("rho " + rho + ": " + CHECK_STEPS + " steps on one batch took the loss from "
                    + firstLoss + " to " + lastLoss + ", expected below half");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        try {
            if (!(Float.isFinite(lastLoss) && lastLoss < firstLoss)) {
                throw new IllegalStateException("rho " + rho + ": the timed steps left the loss at " + lastLoss
                        + " (first step " + firstLoss + ")");
            }
        } finally {
            optimizer.close();
            model.close();
            arena.close();
        }
    }

    /** One training step; returns its loss. */
    @Benchmark
    public float trainStep() {
        try (Tape tape = new Tape(true)) {
            Var logits = model.forward(tape, tape.input(images));
            Var loss = Functional.softmaxCrossEntropy(tape, logits, labels);
            optimizer.zeroGrad();
            tape.backward(loss);
            optimizer.step();
            lastLoss = loss.item();
            return lastLoss;
        }
    }
}
