package dev.bandlimit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bandlimit.Backend;
import dev.bandlimit.Compression;
import dev.bandlimit.ExecutionContext;
import dev.bandlimit.Padding;
import dev.bandlimit.Tensor;
import dev.bandlimit.UnsupportedFeatureException;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * Training on a device tape ({@link Tape#on}): the model moved into a context's buffer memory
 * ({@link Module#to}), every op on that context, nothing copied to the host but the loss. On a
 * CPU context the buffers are host memory and the kernels the host tape's, so a device run must
 * equal a host run bit for bit: that checks the device code path (allocation, copies, context
 * routing, plans on the tape's context, optimizer state in the buffers) where no GPU is. On
 * CUDA, where a device is, the same run must agree within float32 tolerance.
 */
class DeviceTapeTest {

    /** Every op a device tape must run: conv (fixed and energy), batch norm (+ReLU), pooling, dropout, add, linear, loss. */
    private static Sequential model(long seed) {
        Compression c = Compression.fixed(0.5);
        return new Sequential(
                new Conv2d(1, 4, 3, 3, Padding.symmetric(1), 1, true, c, c, seed),
                new BatchNorm2d(4),
                new ReLU(),
                new MaxPool2d(2, 2),
                new Residual(new Sequential(new Conv2d(4, 4, 3, 3, Padding.symmetric(1), 1, false,
                        Compression.energy(0.9), Compression.energy(0.9), seed + 1), new BatchNorm2d(4)), null),
                new ReLU(),
                new AvgPool2d(2, 2),
                new Flatten(),
                new Dropout(0.2, seed + 2),
                new Linear(4 * 3 * 3, 5, true, seed + 3));
    }

    /** Losses of each step, then every parameter and buffer after the steps, as raw float bits. */
    private record Run(float[] losses, List<int[]> state, float[] evalLogits) {}

    /** Four Adam steps alternating two batches, on the host ({@code device} null) or on a device tape. */
    private static Run train(ExecutionContext device) {
        try (Arena arena = Arena.ofConfined(); Sequential m = model(21)) {
            if (device != null) m.to(device);
            Tensor a = Tensor.allocate(arena, 8, 1, 12, 12), b = Tensor.allocate(arena, 8, 1, 12, 12);
            TrainingFixtures.fillImages(a, 1);
            TrainingFixtures.fillImages(b, 2);
            int[] la = TrainingFixtures.labels(8, 5, 3), lb = TrainingFixtures.labels(8, 5, 4);
            float[] losses = new float[4];
            float[] evalLogits;
            try (Optimizer opt = new Adam(m.parameters(), 0.01, 0.9, 0.999, 1e-8, 1e-4);
                    TapeMemory memory = device == null ? new TapeMemory() : new TapeMemory(device)) {
                for (int step = 0; step < losses.length; step++) {
                    try (Tape tape = device == null ? new Tape(true, memory) : Tape.on(device, true, memory)) {
                        Var logits = m.forward(tape, tape.input(step % 2 == 0 ? a : b));
                        Var loss = Functional.softmaxCrossEntropy(tape, logits, step % 2 == 0 ? la : lb);
                        opt.zeroGrad();
                        tape.backward(loss);
                        opt.step();
                        losses[step] = loss.item();
                    }
                }
                try (Tape tape = device == null ? new Tape(false, memory) : Tape.on(device, false, memory)) {
                    evalLogits = m.forward(tape, tape.input(a)).data().toArray();
                }
            }
            List<int[]> state = new ArrayList<>();
            for (Parameter p : m.parameters()) state.add(bits(p.data().toArray()));
            for (Tensor t : m.namedBuffers().values()) state.add(bits(t.toArray()));
            return new Run(losses, state, evalLogits);
        }
    }

    private static int[] bits(float[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) out[i] = Float.floatToRawIntBits(v[i]);
        return out;
    }

    @Test
    void aCpuContextTapeTrainsBitwiseLikeAHostTape() {
        Run host = train(null);
        try (ExecutionContext cpu = ExecutionContext.builder(Backend.CPU)
                .numThreads(ExecutionContext.defaultContext().numThreads()).build()) {
            Run device = train(cpu);
            assertArrayEquals(bits(host.losses()), bits(device.losses()), "losses");
            assertEquals(host.state().size(), device.state().size());
            for (int i = 0; i < host.state().size(); i++) {
                assertArrayEquals(host.state().get(i), device.state().get(i), "parameter/buffer " + i);
            }
            assertArrayEquals(bits(host.evalLogits()), bits(device.evalLogits()), "evaluation logits");
        }
        // And it trained (not a run where nothing moves): the loss fell on the repeated batch.
        assertTrue(host.losses()[2] < host.losses()[0], () -> "losses " + java.util.Arrays.toString(host.losses()));
    }

    @Test
    void aCudaTapeAgreesWithAHostTape() {
        ExecutionContext gpu;
        try {
            gpu = ExecutionContext.builder(Backend.CUDA).build();
        } catch (UnsupportedFeatureException e) {
            System.out.println("DeviceTapeTest.aCudaTapeAgreesWithAHostTape: skipped: cuda: " + e.getMessage());
            return;
        }
        try (gpu) {
            Run host = train(null);
            Run device = train(gpu);
            // Four Adam steps amplify float32 rounding differences (a different GEMM and
            // reduction order): a loose bound on the losses and the evaluation logits.
            for (int i = 0; i < host.losses().length; i++) {
                double err = Math.abs(host.losses()[i] - device.losses()[i]) / Math.abs(host.losses()[i]);
                assertTrue(err < 1e-3, String.format(Locale.ROOT, "loss %d: host %g cuda %g", i, host.losses()[i],
                        device.losses()[i]));
            }
            float[] h = host.evalLogits(), d = device.evalLogits();
            double num = 0, den = 0;
            for (int i = 0; i < h.length; i++) {
                num += (h[i] - d[i]) * (double) (h[i] - d[i]);
                den += h[i] * (double) h[i];
            }
            assertTrue(Math.sqrt(num / den) < 1e-3, "evaluation logits rel err " + Math.sqrt(num / den));
        }
    }

    @Test
    void tensorsOfADeviceTapeAreBufferTensorsReadByCopies() {
        try (ExecutionContext cpu = ExecutionContext.builder(Backend.CPU).build();
                Arena arena = Arena.ofConfined()) {
            Tensor host = Tensor.copyOf(arena, new float[] {-1f, 2f, -3f, 4f}, 2, 2);
            try (Tape tape = Tape.on(cpu, true)) {
                Var x = tape.input(host, true);
                assertEquals(cpu, x.data().context(), "a host input is copied into the tape's buffers");
                Var y = Functional.relu(tape, x);
                assertThrows(IllegalStateException.class, () -> y.data().segment(),
                        "Java must not address buffer memory");
                assertArrayEquals(new float[] {0f, 2f, 0f, 4f}, y.data().toArray());
                assertEquals(4f, y.data().get(1, 1));
                Var loss = Functional.softmaxCrossEntropy(tape, Functional.flatten(tape, y), new int[] {1, 0});
                tape.backward(loss);
                assertNotNull(x.grad());
                assertEquals(cpu, x.grad().context());
            }
        }
    }

    @Test
    void aModelAndATapeInDifferentMemoriesAreRefusedByName() {
        try (ExecutionContext cpu = ExecutionContext.builder(Backend.CPU).build(); Linear host = new Linear(3, 2, true, 1);
                Linear moved = new Linear(3, 2, true, 1); Arena arena = Arena.ofConfined()) {
            moved.to(cpu);
            assertEquals(cpu, moved.device());
            assertNull(host.device());
            Tensor x = Tensor.allocate(arena, 1, 3);
            try (Tape tape = Tape.on(cpu, true)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> host.forward(tape, tape.input(x)));
                assertTrue(e.getMessage().contains("weight") && e.getMessage().contains("Module.to"), e.getMessage());
            }
            try (Tape tape = new Tape(true)) {
                assertThrows(IllegalArgumentException.class, () -> moved.forward(tape, tape.input(x)));
            }
            // The moved parameters hold the same values.
            assertArrayEquals(host.weight().data().toArray(), moved.weight().data().toArray());
            // An optimizer built before a move refuses to step.
            try (Linear later = new Linear(3, 2, true, 1); Sgd sgd = new Sgd(later.parameters(), 0.1, 0, 0)) {
                later.to(cpu);
                assertThrows(IllegalStateException.class, sgd::step);
            }
        }
    }
}
