package dev.bandlimit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bandlimit.Box;
import dev.bandlimit.Compression;
import dev.bandlimit.ConvPlan;
import dev.bandlimit.Flops;
import dev.bandlimit.Padding;
import dev.bandlimit.Pass;
import dev.bandlimit.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The convolution layers' behaviour beyond gradients: modes, plan cache, reporting, initialisation. */
class ConvLayerTest {

    private static Tensor random(Arena arena, long seed, long... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor t = Tensor.allocate(arena, shape);
        for (long i = 0; i < t.elementCount(); i++) t.set(i, (float) (r.nextDouble() * 2 - 1));
        return t;
    }

    private static float[] run(Conv2d conv, Tensor x, boolean training) {
        try (Tape tape = new Tape(training)) {
            return conv.forward(tape, tape.input(x)).data().toArray();
        }
    }

    private static double relativeDifference(float[] a, float[] b) {
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - b[i]) * (double) (a[i] - b[i]);
            den += (double) a[i] * a[i];
        }
        return Math.sqrt(num / den);
    }

    @Test
    void aPlanOverTheLayersByteLimitIsRefusedBeforeAllocatingAndRaisingTheLimitBuildsIt() {
        try (Arena arena = Arena.ofConfined();
                Conv2d conv = Conv2d.builder(3, 4).kernel(3, 3).padding(Padding.symmetric(1)).maxPlanBytes(4096).build()) {
            Tensor x = random(arena, 1, 2, 3, 16, 16);
            long before = dev.bandlimit.Bandlimit.allocatedBytes();
            dev.bandlimit.PlanTooLargeException e = assertThrows(dev.bandlimit.PlanTooLargeException.class,
                    () -> run(conv, x, true));
            assertEquals("options.max_bytes", e.argument());
            assertEquals(before, dev.bandlimit.Bandlimit.allocatedBytes());
            assertEquals(4096, conv.maxPlanBytes());
            conv.setMaxPlanBytes(0);  // the library's default
            assertEquals(2 * 4 * 16 * 16, run(conv, x, true).length);
        }
    }

    @Test
    void evaluationAtAnotherCompressionThanTraining() {
        try (Arena arena = Arena.ofConfined();
                Conv2d conv = new Conv2d(3, 4, 3, 3, Padding.symmetric(1), 1, true, Compression.none(),
                        Compression.fixed(0.5), 3)) {
            Tensor x = random(arena, 1, 2, 3, 16, 16);
            float[] trained = run(conv, x, true);
            assertEquals(0.0, conv.lastAchievedRate());
            assertTrue(conv.lastSavedSpectraBytes() > 0);
            long denseSaved = conv.lastSavedSpectraBytes();

            float[] evaluated = run(conv, x, false);
            // 16x16 pad 1: L = 18, rho 0.5 keeps the box (6, 6) and discards 0.4649 of 180.
            assertTrue(conv.lastAchievedRate() > 0.3 && conv.lastAchievedRate() <= 0.5, "rate " + conv.lastAchievedRate());
            assertEquals(conv.lastPlan().box(), conv.lastBox());
            assertEquals(0, conv.lastSavedSpectraBytes(), "an evaluation forward saves nothing");
            double diff = relativeDifference(trained, evaluated);
            assertTrue(diff > 1e-3, "band-limited evaluation must differ from the dense training output, diff " + diff);

            // The same rate for evaluation matches training bit for bit.
            conv.setEvalCompression(Compression.none());
            assertArrayEquals(trained, run(conv, x, false));
            assertEquals(Compression.none(), conv.evalCompression());

            // Training at rho 0.5 saves fewer spectra bytes than dense training.
            try (Conv2d compressed = new Conv2d(3, 4, 3, 3, Padding.symmetric(1), 1, true, Compression.fixed(0.5),
                    Compression.fixed(0.5), 3)) {
                run(compressed, x, true);
                assertTrue(compressed.lastSavedSpectraBytes() < denseSaved);
                assertArrayEquals(conv.weight().data().toArray(), compressed.weight().data().toArray(),
                        "same seed, same initial weights");
            }
        }
    }

    @Test
    void energyModeReportsTheBoxChosenPerBatch() {
        try (Arena arena = Arena.ofConfined();
                Conv1d conv = new Conv1d(2, 3, 3, Padding.of1d(1, 1), 1, false, Compression.energy(0.9),
                        Compression.energy(0.9), 1)) {
            Tensor smooth = Tensor.allocate(arena, 2, 2, 64);
            for (int i = 0; i < smooth.elementCount(); i++) smooth.set(i, (float) Math.cos(2 * Math.PI * (i % 64) / 66.0));
            try (Tape tape = new Tape(true)) {
                conv.forward(tape, tape.input(smooth));
            }
            Box smoothBox = conv.lastBox();
            double smoothRate = conv.lastAchievedRate();
            try (Tape tape = new Tape(true)) {
                conv.forward(tape, tape.input(random(arena, 2, 2, 2, 64)));
            }
            assertTrue(conv.lastBox().kw() > smoothBox.kw(), "white noise needs a wider box than a cosine");
            assertTrue(smoothRate > conv.lastAchievedRate());
        }
    }

    @Test
    void largerBatchGetsANewPlanSmallerReusesIt() {
        try (Arena arena = Arena.ofConfined();
                Conv2d conv = new Conv2d(1, 2, 3, 3, Padding.symmetric(1), 1, true, Compression.fixed(0.5),
                        Compression.fixed(0.5), 1)) {
            ConvPlan first;
            try (Tape tape = new Tape(true)) {
                Var small = conv.forward(tape, tape.input(random(arena, 1, 4, 1, 8, 8)));
                first = conv.lastPlan();
                assertEquals(4, first.maxBatch());
                conv.forward(tape, tape.input(random(arena, 2, 2, 1, 8, 8)));
                assertSame(first, conv.lastPlan(), "a smaller batch reuses the plan");
                Var big = conv.forward(tape, tape.input(random(arena, 3, 9, 1, 8, 8)));
                assertEquals(9, conv.lastPlan().maxBatch());
                assertTrue(!first.isClosed(), "the old plan stays alive: this tape still holds its saved spectra");
                // Backward through both plans in one tape.
                Var loss = Functional.add(tape, Functional.dot(tape, small, Tensor.allocate(tape.arena(), small.shape())),
                        Functional.dot(tape, big, Tensor.allocate(tape.arena(), big.shape())));
                tape.backward(loss);
                assertNotNull(conv.weight().grad());
                // A different input size is another plan.
                conv.forward(tape, tape.input(random(arena, 4, 1, 1, 5, 7)));
                assertArrayEquals(new long[] {1, 1, 5, 7}, conv.lastPlan().inputShape(1));
            }
            assertTrue(first.isClosed(), "replaced, and the tape that needed it is closed");
            assertEquals(2, conv.planCacheSize(), "the 8x8 plan for batch 9 and the 5x7 one");
        }
    }

    @Test
    void flopsAndBoxReportedForTheLastBatch() {
        try (Arena arena = Arena.ofConfined();
                Conv2d conv = new Conv2d(2, 4, 5, 5, Padding.symmetric(2), 1, true, Compression.fixed(0.5),
                        Compression.fixed(0.5), 1)) {
            assertThrows(IllegalStateException.class, conv::lastAchievedRate);
            assertThrows(IllegalStateException.class, conv::lastPlan);
            try (Tape tape = new Tape(true)) {
                conv.forward(tape, tape.input(random(arena, 1, 3, 2, 12, 12)));
            }
            Flops f = conv.lastFlops(Pass.FORWARD);
            assertEquals(2.0 * 3 * 4 * 2 * 12 * 12 * 5 * 5, f.denseEquivalent(), 1e-6);
            assertTrue(f.executed() > 0 && f.nominal() > 0);
            assertEquals(conv.lastPlan().savedSpectraBytes(), conv.lastSavedSpectraBytes());
            assertEquals(conv.lastPlan().box(), conv.lastBox());
        }
    }

    @Test
    void inputWithoutGradientSkipsDxButGivesTheSameWeightGradient() {
        try (Arena arena = Arena.ofConfined();
                Conv2d conv = new Conv2d(2, 3, 3, 3, Padding.symmetric(1), 1, true, Compression.fixed(0.5),
                        Compression.fixed(0.5), 1)) {
            Tensor x = random(arena, 1, 2, 2, 8, 8);
            Tensor r = random(arena, 2, 2, 3, 8, 8);
            float[][] dw = new float[2][];
            for (int pass = 0; pass < 2; pass++) {
                conv.zeroGrad();
                try (Tape tape = new Tape(true)) {
                    Var in = tape.input(x, pass == 1);
                    tape.backward(Functional.dot(tape, conv.forward(tape, in), r));
                    assertEquals(pass == 1, in.grad() != null);
                }
                dw[pass] = conv.weight().grad().toArray();
            }
            assertArrayEquals(dw[0], dw[1]);
        }
    }

    @Test
    void initialisationIsKaimingUniformAndSeeded() {
        try (Conv2d a = new Conv2d(16, 32, 5, 5, Padding.symmetric(2), 1, true, Compression.none(), Compression.none(), 9);
                Conv2d b = new Conv2d(16, 32, 5, 5, Padding.symmetric(2), 1, true, Compression.none(), Compression.none(), 9);
                Conv2d c = new Conv2d(16, 32, 5, 5, Padding.symmetric(2), 1, true, Compression.none(), Compression.none(), 10)) {
            float[] w = a.weight().data().toArray();
            assertArrayEquals(w, b.weight().data().toArray());
            assertNotEquals(w[0], c.weight().data().get(0));
            double bound = 1 / Math.sqrt(16 * 25), sumSquares = 0, max = 0;
            for (float v : w) {
                max = Math.max(max, Math.abs(v));
                sumSquares += v * v;
            }
            assertTrue(max <= bound);
            // U(-b, b) has variance b^2 / 3.
            assertEquals(bound * bound / 3, sumSquares / w.length, 0.05 * bound * bound / 3);
            for (float v : a.bias().data().toArray()) assertTrue(Math.abs(v) <= bound);
        }
    }

    @Test
    void wrongInputShapeIsRejected() {
        try (Arena arena = Arena.ofConfined();
                Conv2d conv = new Conv2d(3, 4, 3, 3, Padding.none(), 1, true, Compression.none(), Compression.none(), 1);
                Tape tape = new Tape(false)) {
            assertThrows(IllegalArgumentException.class, () -> conv.forward(tape, tape.input(Tensor.allocate(arena, 1, 2, 5, 5))));
            assertThrows(IllegalArgumentException.class, () -> conv.forward(tape, tape.input(Tensor.allocate(arena, 1, 3, 5))));
        }
    }
    @Test
    void largeEvaluationBatchDoesNotGrowTheTrainingPlan() {
        Compression c = Compression.fixed(0.5);
        try (Arena arena = Arena.ofConfined();
                Conv2d conv = new Conv2d(1, 2, 3, 3, Padding.symmetric(1), 1, true, c, c, 1)) {
            Tensor train = random(arena, 1, 8, 1, 8, 8), eval = random(arena, 2, 100, 1, 8, 8);
            run(conv, train, true);
            long trainingBytes = conv.lastSavedSpectraBytes();
            run(conv, eval, false);
            assertEquals(100, conv.lastPlan().maxBatch());
            run(conv, train, true);
            assertEquals(8, conv.lastPlan().maxBatch());
            assertEquals(trainingBytes, conv.lastSavedSpectraBytes());
        }
    }

    // ------------------------------------------------------------------------------------
    // The plan cache: bounded, least recently used out, never closing a plan a backward needs
    // ------------------------------------------------------------------------------------

    private static Conv2d smallConv(int planCacheCapacity) {
        return Conv2d.builder(1, 2).kernel(3).padding(Padding.symmetric(1)).compression(Compression.fixed(0.5))
                .seed(1).planCacheCapacity(planCacheCapacity).build();
    }

    @Test
    void planCacheKeepsAtMostItsCapacityLeastRecentlyUsedOut() {
        try (Arena arena = Arena.ofConfined(); Conv2d conv = smallConv(2)) {
            assertEquals(2, conv.planCacheCapacity());
            Tensor x6 = random(arena, 1, 2, 1, 6, 6), x7 = random(arena, 2, 2, 1, 7, 7), x8 = random(arena, 3, 2, 1, 8, 8);
            run(conv, x6, false);
            ConvPlan p6 = conv.lastPlan();
            run(conv, x7, false);
            ConvPlan p7 = conv.lastPlan();
            assertEquals(2, conv.planCacheSize());
            run(conv, x6, false); // a hit: 6x6 is now the most recently used, 7x7 the least
            assertSame(p6, conv.lastPlan());
            run(conv, x8, false);
            assertEquals(2, conv.planCacheSize());
            assertTrue(p7.isClosed(), "the least recently used plan is evicted and, unused, closed at once");
            assertTrue(!p6.isClosed());
            run(conv, x6, false);
            assertSame(p6, conv.lastPlan(), "still cached");
            run(conv, x7, false);
            assertNotSame(p7, conv.lastPlan(), "evicted: built again");
        }
        try (Conv2d conv = new Conv2d(1, 1, 1, 1, Padding.none(), 1, false, Compression.none(), Compression.none(), 1)) {
            assertEquals(8, conv.planCacheCapacity(), "the documented default");
        }
    }

    @Test
    void loweringTheCapacityEvictsAndClosesAtOnce() {
        try (Arena arena = Arena.ofConfined(); Conv2d conv = smallConv(8)) {
            List<ConvPlan> plans = new ArrayList<>();
            for (long size = 5; size <= 8; size++) {
                run(conv, random(arena, size, 1, 1, size, size), false);
                plans.add(conv.lastPlan());
            }
            assertEquals(4, conv.planCacheSize());
            conv.setPlanCacheCapacity(1);
            assertEquals(1, conv.planCacheSize());
            for (int i = 0; i < 3; i++) assertTrue(plans.get(i).isClosed(), "plan " + i);
            assertTrue(!plans.get(3).isClosed(), "the most recently used stays");
            assertSame(plans.get(3), conv.lastPlan());
            assertTrue(conv.lastFlops(Pass.FORWARD).executed() > 0);
            assertThrows(IllegalArgumentException.class, () -> conv.setPlanCacheCapacity(0));
            assertThrows(IllegalArgumentException.class, () -> Conv2d.builder(1, 2).planCacheCapacity(0));
        }
    }

    /**
     * One training step through a layer that keeps a single plan: the second input size evicts
     * the first size's plan while the step's backward still needs it (its saved spectra were made
     * by it). The plan must stay open through the backward and close with the tape; the step must
     * give bit for bit what a layer with room for both plans gives.
     */
    @Test
    void anEvictedPlanStaysOpenUntilThePendingBackwardHasRun() {
        try (Arena arena = Arena.ofConfined(); Conv2d tight = smallConv(1); Conv2d roomy = smallConv(8)) {
            Tensor x8 = random(arena, 1, 2, 1, 8, 8), x6 = random(arena, 2, 3, 1, 6, 6);
            Tensor r8 = random(arena, 3, 2, 2, 8, 8), r6 = random(arena, 4, 3, 2, 6, 6);
            float[][] results = new float[2][];
            float[][] weightGrads = new float[2][];
            for (int pass = 0; pass < 2; pass++) {
                Conv2d conv = pass == 0 ? tight : roomy;
                try (Tape tape = new Tape(true)) {
                    Var in8 = tape.input(x8, true);
                    Var y8 = conv.forward(tape, in8);
                    ConvPlan plan8 = conv.lastPlan();
                    Var y6 = conv.forward(tape, tape.input(x6));
                    if (conv == tight) {
                        assertEquals(1, conv.planCacheSize());
                        assertTrue(!plan8.isClosed(), "evicted, but the pending backward of y8 runs it");
                    }
                    tape.backward(Functional.add(tape, Functional.dot(tape, y8, r8), Functional.dot(tape, y6, r6)));
                    assertTrue(!plan8.isClosed(), "open until the tape closes");
                    float[] y = y8.data().toArray(), dx = in8.grad().toArray();
                    results[pass] = new float[y.length + dx.length];
                    System.arraycopy(y, 0, results[pass], 0, y.length);
                    System.arraycopy(dx, 0, results[pass], y.length, dx.length);
                    tape.close();
                    assertEquals(conv == tight, plan8.isClosed(), "closed with the tape only when evicted");
                }
                weightGrads[pass] = conv.weight().grad().toArray();
            }
            assertArrayEquals(results[1], results[0]);
            assertArrayEquals(weightGrads[1], weightGrads[0]);
        }
    }

    @Test
    void closingTheLayerReleasesPlansAPendingTapeHolds() {
        try (Arena arena = Arena.ofConfined(); Tape tape = new Tape(true)) {
            Conv2d conv = smallConv(1);
            conv.forward(tape, tape.input(random(arena, 1, 2, 1, 8, 8)));
            ConvPlan evicted = conv.lastPlan();
            conv.forward(tape, tape.input(random(arena, 2, 2, 1, 6, 6)));
            ConvPlan cached = conv.lastPlan();
            conv.close();
            assertTrue(evicted.isClosed() && cached.isClosed());
            tape.close(); // releases its pins on plans already closed: harmless
        }
    }
}
