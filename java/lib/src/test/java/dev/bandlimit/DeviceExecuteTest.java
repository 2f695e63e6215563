package dev.bandlimit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Execute calls on {@link DeviceBuffer}s: on every backend this machine runs (the CPU always;
 * CUDA where a device is, else it says why it is skipped) a forward and backward on buffers give
 * the bits the same plan gives on host tensors (CPU) or agree with the float64 reference within
 * the operator's bound (CUDA); bad buffers are refused naming the argument before the native call.
 */
class DeviceExecuteTest {

    private static ConvPlan.Builder builder() {
        return ConvPlan.conv2d().maxBatch(3).channels(4).input(9, 7).filters(5).kernel(3, 3)
                .padding(Padding.symmetric(1)).compression(Compression.fixed(0.5));
    }

    private static double[] toDoubles(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) d[i] = v[i];
        return d;
    }

    private static long count(long[] shape) {
        long p = 1;
        for (long d : shape) p *= d;
        return p;
    }

    @Test
    void buffersGiveTheBitsOfHostTensors() {
        for (ExecutionContext context : TestSupport.contextsOfEveryBackend("DeviceExecuteTest")) {
            try (context; Arena arena = Arena.ofConfined()) {
                ConvPlan plan = builder().context(context).build(arena);
                ConvPlan host = builder().build(arena);  // the same layer on the default CPU context
                long n = 2;
                SplittableRandom r = new SplittableRandom(7070);
                float[] x = Reference.randomFloats(r, (int) count(plan.inputShape(n)));
                float[] w = Reference.randomFloats(r, (int) count(plan.weightShape()));
                float[] b = Reference.randomFloats(r, (int) plan.filters());
                float[] dy = Reference.randomFloats(r, (int) count(plan.outputShape(n)));
                TestSupport.Result want = TestSupport.forwardBackward(host, (int) n, x, w, b, dy);
                try (DeviceBuffer bx = context.allocate(4L * x.length); DeviceBuffer bw = context.allocate(4L * w.length);
                        DeviceBuffer bb = context.allocate(4L * b.length); DeviceBuffer bdy = context.allocate(4L * dy.length);
                        DeviceBuffer by = context.allocate(4L * dy.length); DeviceBuffer bdx = context.allocate(4L * x.length);
                        DeviceBuffer bdw = context.allocate(4L * w.length); DeviceBuffer bdb = context.allocate(4L * b.length);
                        DeviceBuffer saved = context.allocate(plan.savedSpectraBytes());
                        DeviceBuffer ws = context.allocate(plan.workspaceBytes())) {
                    bx.copyFrom(x);
                    bw.copyFrom(w);
                    bb.copyFrom(b);
                    bdy.copyFrom(dy);
                    Box box = plan.forward(n, bx, bw, bb, by, saved, ws);
                    plan.backward(n, saved, bw, bdy, bdx, bdw, bdb, ws);
                    context.synchronize();
                    assertEquals(host.box(), box);
                    float[] y = by.toFloats(dy.length), dx = bdx.toFloats(x.length), dw = bdw.toFloats(w.length),
                            db = bdb.toFloats(b.length);
                    if (context.backend() == Backend.CPU) {
                        assertArrayEquals(want.y(), y, "y");
                        assertArrayEquals(want.dx(), dx, "dx");
                        assertArrayEquals(want.dw(), dw, "dw");
                        assertArrayEquals(want.db(), db, "db");
                    } else {
                        // Another backend: the same operator within float32 rounding of the CPU's.
                        for (float[][] pair : new float[][][] {{want.y(), y}, {want.dx(), dx}, {want.dw(), dw}, {want.db(), db}}) {
                            double e = Reference.relErr(pair[1], toDoubles(pair[0]));
                            assertTrue(e < 1e-4, context.backend() + ": relative error " + e);
                        }
                    }
                }
            }
        }
    }

    @Test
    void badBuffersAreRefusedNamingTheArgument() {
        try (ExecutionContext cpu = ExecutionContext.builder(Backend.CPU).build(); Arena arena = Arena.ofConfined()) {
            ConvPlan plan = builder().context(cpu).build(arena);
            long n = 3;
            try (DeviceBuffer x = cpu.allocate(4 * count(plan.inputShape(n))); DeviceBuffer w = cpu.allocate(4 * count(plan.weightShape()));
                    DeviceBuffer y = cpu.allocate(4 * count(plan.outputShape(n)));
                    DeviceBuffer small = cpu.allocate(4);
                    DeviceBuffer ws = cpu.allocate(plan.workspaceBytes())) {
                InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                        () -> plan.forward(n, small, w, null, y, null, ws));
                assertEquals("x", e.argument());
                e = assertThrows(InvalidArgumentException.class, () -> plan.forward(n, x, w, null, small, null, ws));
                assertEquals("y", e.argument());
                e = assertThrows(InvalidArgumentException.class, () -> plan.forward(n, x, w, null, y, null, small));
                assertEquals("workspace", e.argument());
                e = assertThrows(InvalidArgumentException.class, () -> plan.forward(4, x, w, null, y, null, ws));
                assertEquals("n", e.argument());
                assertThrows(NullPointerException.class, () -> plan.forward(n, x, null, null, y, null, ws));
                // Inference into buffers works (saved null).
                plan.forward(n, x, w, null, y, null, ws);
            }
        }
    }
}
