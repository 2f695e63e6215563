package dev.bandlimit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bandlimit.Compression;
import dev.bandlimit.Padding;
import dev.bandlimit.Tensor;
import java.lang.foreign.Arena;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The tape's contract: recording, backward, gradient accumulation, memory ownership, timers. */
class TapeTest {

    @Test
    void closingTheTapeReleasesEverything() {
        Var y;
        Arena tapeArena;
        Tensor x;
        try (Arena arena = Arena.ofConfined();
                Conv2d conv = new Conv2d(1, 2, 3, 3, Padding.symmetric(1), 1, true, Compression.fixed(0.5),
                        Compression.fixed(0.5), 1)) {
            x = Tensor.allocate(arena, 2, 1, 6, 6);
            for (int i = 0; i < x.elementCount(); i++) x.set(i, i % 7 - 3);
            Tape tape = new Tape(true);
            tapeArena = tape.arena();
            y = Functional.relu(tape, conv.forward(tape, tape.input(x)));
            Var loss = Functional.dot(tape, Functional.flatten(tape, y), Tensor.allocate(tape.arena(), 2, 72));
            tape.backward(loss);
            assertNotNull(y.grad());
            assertTrue(tape.allocatedBytes() >= conv.lastSavedSpectraBytes() + y.data().byteSize());
            tape.close();
            tape.close(); // idempotent
            assertTrue(tape.isClosed());
            assertFalse(tapeArena.scope().isAlive(), "the tape's arena must be closed");
            assertThrows(IllegalStateException.class, y::data);
            assertThrows(IllegalStateException.class, y::grad);
            assertThrows(IllegalStateException.class, y::item);
            assertThrows(IllegalStateException.class, tape::arena);
            assertThrows(IllegalStateException.class, () -> tape.input(x));
            // The caller's input and the module's parameters outlive the tape.
            assertEquals(0f, x.get(3));
            assertTrue(conv.weight().data().segment().scope().isAlive());
        }
    }

    @Test
    void segmentsOfAClosedTapeCannotBeRead() {
        Tensor held;
        try (Tape tape = new Tape(false)) {
            held = tape.allocate(4);
        }
        assertThrows(IllegalStateException.class, () -> held.get(0));
    }

    @Test
    void evaluationTapeRecordsNothingAndRefusesBackward() {
        try (Arena arena = Arena.ofConfined(); Linear fc = new Linear(3, 2, true, 1); Tape tape = new Tape(false)) {
            assertFalse(tape.training());
            Var y = fc.forward(tape, tape.input(Tensor.allocate(arena, 4, 3), true));
            assertFalse(y.requiresGrad());
            Var loss = Functional.softmaxCrossEntropy(tape, y, new int[] {0, 1, 0, 1});
            assertEquals(0, tape.recordedOps());
            assertThrows(IllegalStateException.class, () -> tape.backward(loss));
        }
    }

    @Test
    void backwardNeedsAScalarAndRunsOnce() {
        try (Arena arena = Arena.ofConfined(); Tape tape = new Tape(true)) {
            Var x = tape.input(Tensor.allocate(arena, 2, 3), true);
            Var y = Functional.relu(tape, x);
            assertThrows(IllegalArgumentException.class, () -> tape.backward(y));
            Var loss = Functional.dot(tape, y, Tensor.allocate(arena, 2, 3));
            tape.backward(loss);
            assertThrows(IllegalStateException.class, () -> tape.backward(loss));
        }
    }

    @Test
    void parameterGradientsAccumulateAcrossStepsUntilZeroed() {
        try (Arena arena = Arena.ofConfined(); Linear fc = new Linear(2, 1, true, 5)) {
            Tensor x = Tensor.copyOf(arena, new float[] {1, 2, 3, 4}, 2, 2);
            Tensor r = Tensor.copyOf(arena, new float[] {1, 1}, 2, 1);
            for (int step = 1; step <= 2; step++) {
                try (Tape tape = new Tape(true)) {
                    Var y = fc.forward(tape, tape.input(x));
                    tape.backward(Functional.dot(tape, y, r));
                    // d/dw sum_n (x_n . w + b) = sum_n x_n = (4, 6); d/db = 2; per step.
                    assertArrayEquals(new float[] {4 * step, 6 * step}, fc.weight().grad().toArray());
                    assertArrayEquals(new float[] {2 * step}, fc.bias().grad().toArray());
                }
            }
            fc.zeroGrad();
            assertArrayEquals(new float[] {0, 0}, fc.weight().grad().toArray());
        }
    }

    @Test
    void sharedParameterAccumulatesEveryUse() {
        try (Arena arena = Arena.ofConfined(); Linear fc = new Linear(2, 2, false, 5); Tape tape = new Tape(true)) {
            Tensor x = Tensor.copyOf(arena, new float[] {1, -1}, 1, 2);
            assertSame(tape.param(fc.weight()), tape.param(fc.weight()));
            Var once = fc.forward(tape, tape.input(x));
            Var twice = fc.forward(tape, once);
            tape.backward(Functional.dot(tape, twice, Tensor.copyOf(arena, new float[] {1, 0}, 1, 2)));
            // L = (W W x)_0: dL/dW = e0 (W x)^T + W^T e0 x^T.
            float[] w = fc.weight().data().toArray();
            float[] wx = {w[0] - w[1], w[2] - w[3]};
            float[] expected = {wx[0] + w[0], wx[1] - w[0], w[1], -w[1]};
            float[] got = fc.weight().grad().toArray();
            for (int i = 0; i < 4; i++) assertEquals(expected[i], got[i], 1e-6);
        }
    }

    @Test
    void inputsNeedNoGradientByDefault() {
        try (Arena arena = Arena.ofConfined(); Linear fc = new Linear(3, 2, true, 1); Tape tape = new Tape(true)) {
            Var x = tape.input(Tensor.allocate(arena, 1, 3));
            Var y = fc.forward(tape, x);
            tape.backward(Functional.dot(tape, y, Tensor.allocate(arena, 1, 2)));
            assertNull(x.grad());
            assertFalse(x.requiresGrad());
        }
    }

    @Test
    void itemReadsScalars() {
        try (Arena arena = Arena.ofConfined(); Tape tape = new Tape(true)) {
            Var loss = Functional.softmaxCrossEntropy(tape, tape.input(Tensor.allocate(arena, 2, 4)), new int[] {1, 3});
            assertEquals(Math.log(4), loss.item(), 1e-6);
            assertArrayEquals(new long[] {1}, loss.shape());
            assertThrows(IllegalStateException.class, () -> tape.input(Tensor.allocate(arena, 2)).item());
        }
    }

    @Test
    void varsOfAnotherTapeAreRejected() {
        try (Arena arena = Arena.ofConfined(); Tape a = new Tape(true); Tape b = new Tape(true)) {
            Var x = a.input(Tensor.allocate(arena, 2));
            assertThrows(IllegalArgumentException.class, () -> Functional.relu(b, x));
        }
    }

    @Test
    void opTimersRecordForwardAndBackward() {
        OpTimers.reset();
        try (Arena arena = Arena.ofConfined();
                Conv2d conv = new Conv2d(1, 2, 3, 3, Padding.symmetric(1), 1, true, Compression.none(), Compression.none(), 1);
                BatchNorm2d bn = new BatchNorm2d(2);
                Tape tape = new Tape(true)) {
            Var h = bn.forward(tape, conv.forward(tape, tape.input(Tensor.allocate(arena, 2, 1, 4, 4))));
            Var logits = Functional.globalAvgPool(tape, Functional.relu(tape, h));
            tape.backward(Functional.softmaxCrossEntropy(tape, logits, new int[] {0, 1}));
        }
        Map<String, Long> nanos = OpTimers.snapshotNanos();
        for (String key : new String[] {"conv.forward", "conv.backward", "batchnorm.forward", "batchnorm.backward",
                "relu.forward", "relu.backward", "globalavgpool.forward", "globalavgpool.backward",
                "softmax_cross_entropy.forward", "softmax_cross_entropy.backward"}) {
            assertTrue(nanos.containsKey(key) && nanos.get(key) > 0, key + " missing from " + nanos);
        }
        OpTimers.reset();
        assertTrue(OpTimers.snapshotNanos().isEmpty());
    }

    @Test
    void moduleCloseIsIdempotentAndReleasesParameters() {
        Conv2d conv = new Conv2d(1, 2, 3, 3, Padding.none(), 1, true, Compression.none(), Compression.none(), 1);
        Sequential model = new Sequential(conv, new ReLU());
        Tensor w = conv.weight().data();
        try (Arena arena = Arena.ofConfined(); Tape tape = new Tape(false)) {
            model.forward(tape, tape.input(Tensor.allocate(arena, 1, 1, 5, 5)));
        }
        var plan = conv.lastPlan();
        model.close();
        model.close();
        assertTrue(conv.isClosed());
        assertTrue(plan.isClosed());
        assertFalse(w.segment().scope().isAlive());
        assertThrows(IllegalStateException.class, () -> {
            try (Tape tape = new Tape(false)) {
                conv.forward(tape, tape.input(Tensor.allocate(tape.arena(), 1, 1, 5, 5)));
            }
        });
    }

    @Test
    void namedParametersFollowPyTorchPaths() {
        try (Sequential model = new Sequential(new Conv2d(1, 2, 3, 3, Padding.none(), 1, true, Compression.none(),
                Compression.none(), 1), new BatchNorm2d(2), new Residual(new Linear(2, 2, true, 1), null))) {
            assertEquals(java.util.List.of("0.weight", "0.bias", "1.weight", "1.bias", "2.body.weight", "2.body.bias"),
                    java.util.List.copyOf(model.namedParameters().keySet()));
            assertEquals(java.util.List.of("1.running_mean", "1.running_var"),
                    java.util.List.copyOf(model.namedBuffers().keySet()));
            assertEquals(18 + 2 + 2 + 2 + 4 + 2, model.parameterCount());
        }
    }
}
