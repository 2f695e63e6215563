package dev.bandlimit.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bandlimit.Bandlimit;
import dev.bandlimit.Compression;
import dev.bandlimit.Tensor;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Times one training step of the CLI's MNIST model at batch 64 and prints the {@link OpTimers}
 * breakdown and the share of the step spent in convolution. Asserts nothing about time (machines
 * differ); run alone with {@code -Dtest=MnistStepTimingTest}, or as a program:
 * {@code main(rho, steps)}.
 */
class MnistStepTimingTest {
    /** Steps before timing: plans are built on the first, and C2 compiles the Java loops within a few. */
    static final int WARM_UP_STEPS = 15;

    @Test
    void oneStepAtBatch64() {
        for (double rho : new double[] {0.0, 0.5}) {
            double share = measure(rho, 10);
            assertTrue(share > 0 && share <= 1);
        }
    }

    /** Runs warm-up steps, then {@code steps} timed steps; prints the breakdown; returns the conv share. */
    static double measure(double rho, int steps) {
        int batch = 64;
        try (Arena arena = Arena.ofConfined();
                Sequential model = Models.mnist(Compression.fixed(rho), Compression.fixed(rho), 1);
                Sgd sgd = new Sgd(model.parameters(), 0.01, 0.9, 5e-4)) {
            Tensor images = Tensor.allocate(arena, batch, 1, 28, 28);
            Models.fillImages(images, 2);
            int[] labels = Models.labels(batch, 10, 3);
            for (int i = 0; i < WARM_UP_STEPS; i++) Models.trainStep(model, sgd, images, labels);
            OpTimers.reset();
            long[] stepNanos = new long[steps];
            for (int i = 0; i < steps; i++) {
                long start = System.nanoTime();
                Models.trainStep(model, sgd, images, labels);
                stepNanos[i] = System.nanoTime() - start;
            }
            Arrays.sort(stepNanos);
            long total = 0;
            for (long t : stepNanos) total += t;
            Map<String, Long> nanos = OpTimers.snapshotNanos();
            long conv = OpTimers.totalNanos("conv.");
            double share = conv / (double) total;
            System.out.printf("MNIST model, batch %d, rho %.2f, %d native threads: median step %.2f ms, conv share %.1f%%%n",
                    batch, rho, Bandlimit.numThreads(), stepNanos[steps / 2] / 1e6, 100 * share);
            for (Map.Entry<String, Long> e : nanos.entrySet()) {
                System.out.printf("  %-34s %9.3f ms/step  %5.1f%%%n", e.getKey(), e.getValue() / 1e6 / steps,
                        100.0 * e.getValue() / total);
            }
            return share;
        }
    }

    public static void main(String[] args) {
        double rho = args.length > 0 ? Double.parseDouble(args[0]) : 0.0;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        measure(rho, steps);
    }
}
