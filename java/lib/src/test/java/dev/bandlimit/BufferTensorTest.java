package dev.bandlimit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Tensors over a context's buffer memory ({@link Tensor#wrap(DeviceBuffer, long...)}): element
 * access and copies go through the context on every backend this machine runs, Java never gets
 * a segment of them, a closed buffer's tensors refuse use, and a plan runs on them (CPU context:
 * bitwise the host-tensor result).
 */
class BufferTensorTest {

    @Test
    void elementsAndCopiesGoThroughTheContext() {
        for (ExecutionContext context : TestSupport.contextsOfEveryBackend("BufferTensorTest")) {
            try (context; Arena arena = Arena.ofConfined(); DeviceBuffer buffer = context.allocate(4 * 64)) {
                SplittableRandom r = new SplittableRandom(77);
                float[] values = Reference.randomFloats(r, 24);
                Tensor t = Tensor.wrapAt(buffer, 16, 2, 3, 4);  // from the 5th float
                assertEquals(context, t.context());
                assertTrue(!t.isHost());
                t.copyFrom(values);
                assertArrayEquals(values, t.toArray(), context.backend() + ": round trip");
                assertEquals(values[1 * 12 + 2 * 4 + 3], t.get(1, 2, 3));
                t.set(-7f, 0, 1, 2);
                assertEquals(-7f, t.get(0, 1, 2));
                Tensor host = Tensor.allocate(arena, 6, 4);
                host.copyFrom(t);  // buffer -> host, another shape of the same count
                assertEquals(-7f, host.get(1, 2));
                Tensor other = Tensor.wrapAt(buffer, 4 * 40, 24);
                other.copyFrom(t.reshape(24));  // within the buffer
                assertArrayEquals(t.toArray(), other.toArray());
                assertThrows(IllegalStateException.class, t::segment, "no segment of buffer memory");
                assertThrows(InvalidArgumentException.class, () -> Tensor.wrapAt(buffer, 4 * 60, 8), "past the end");
                assertThrows(InvalidArgumentException.class, () -> Tensor.wrapAt(buffer, 2, 4), "misaligned offset");
                assertThrows(InvalidArgumentException.class, () -> t.reshape(5, 5));
            }
        }
    }

    @Test
    void aClosedBuffersTensorsRefuseUse() {
        try (ExecutionContext cpu = ExecutionContext.builder(Backend.CPU).build()) {
            DeviceBuffer buffer = cpu.allocate(64);
            Tensor t = Tensor.wrap(buffer, 4);
            buffer.close();
            assertThrows(IllegalStateException.class, () -> t.get(0));
            assertThrows(IllegalStateException.class, t::toArray);
        }
    }

    @Test
    void aPlanRunsOnBufferTensorsOfItsContextBitwiseLikeOnHostTensors() {
        try (ExecutionContext cpu = ExecutionContext.builder(Backend.CPU).build(); Arena arena = Arena.ofConfined()) {
            ConvPlan plan = ConvPlan.conv2d().maxBatch(2).channels(3).filters(4).input(9, 9).kernel(3, 3)
                    .padding(Padding.symmetric(1)).compression(Compression.fixed(0.5)).context(cpu).build(arena);
            SplittableRandom r = new SplittableRandom(5);
            float[] x = Reference.randomFloats(r, 2 * 3 * 81), w = Reference.randomFloats(r, 4 * 3 * 9);
            float[] expected = plan.infer(x, w, null);
            try (DeviceBuffer bx = cpu.allocate(4L * x.length); DeviceBuffer bw = cpu.allocate(4L * w.length);
                    DeviceBuffer by = cpu.allocate(4L * expected.length);
                    DeviceBuffer ws = cpu.allocate(Math.max(1, plan.workspaceBytes()))) {
                Tensor tx = Tensor.wrap(bx, plan.inputShape(2)), tw = Tensor.wrap(bw, plan.weightShape());
                Tensor ty = Tensor.wrap(by, plan.outputShape(2));
                tx.copyFrom(x);
                tw.copyFrom(w);
                plan.infer(tx, tw, null, ty, Workspace.wrap(ws));
                assertArrayEquals(expected, ty.toArray());
                // A host tensor where the plan's memory is expected is fine on the CPU; a buffer
                // tensor of a DEVICE context would be refused by name (checked where CUDA runs).
            }
        }
    }
}
