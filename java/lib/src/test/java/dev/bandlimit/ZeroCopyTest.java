package dev.bandlimit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The native core reads and writes the caller's segments in place; execute calls allocate no Java heap. */
class ZeroCopyTest {

    @Test
    void outputIsWrittenInTheCallersSegment() {
        long seed = 5001;
        Reference.Geom g = Reference.Geom.conv2d(2, 3, 9, 7, 4, 3, 3, 1, 1, 1, 1, 1, 1);
        int n = 2;
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = Reference.randomFloats(random, g.xSize(n)), w = Reference.randomFloats(random, g.wSize()),
                b = Reference.randomFloats(random, g.F());
        try (Arena arena = Arena.ofConfined(); ConvPlan plan = g.builder().build(arena)) {
            Tensor tx = Tensor.copyOf(arena, x, plan.inputShape(n));
            Tensor tw = Tensor.copyOf(arena, w, plan.weightShape());
            Tensor tb = Tensor.copyOf(arena, b, plan.biasShape());
            long yBytes = 4L * g.ySize(n), guard = 64;
            // The caller's segment: guard bytes, then y, then guard bytes.
            MemorySegment mine = arena.allocate(guard + yBytes + guard, 64);
            TestSupport.fillSentinel(mine);
            byte[] before = TestSupport.snapshot(mine);
            Tensor ty = Tensor.wrap(mine.asSlice(guard, yBytes), plan.outputShape(n));
            assertEquals(mine.address() + guard, ty.segment().address(), "the tensor views the caller's memory");
            plan.infer(tx, tw, tb, ty, plan.allocateWorkspace(arena));
            assertEquals(mine.address() + guard, ty.segment().address());
            // Read back through the caller's own segment, not the tensor.
            float[] y = mine.asSlice(guard, yBytes).toArray(ValueLayout.JAVA_FLOAT);
            double[] ref = Reference.denseForward(g, n, Reference.toDouble(x), Reference.toDouble(w), Reference.toDouble(b));
            TestSupport.assertWithinBound("y", y, ref, Reference.bound(g.LH(), g.LW(), Reference.reductionY(g)),
                    "zero-copy seed=" + seed);
            byte[] after = TestSupport.snapshot(mine);
            assertArrayEquals(Arrays.copyOfRange(before, 0, (int) guard), Arrays.copyOfRange(after, 0, (int) guard),
                    "bytes before y were written");
            assertArrayEquals(Arrays.copyOfRange(before, (int) (guard + yBytes), before.length),
                    Arrays.copyOfRange(after, (int) (guard + yBytes), after.length), "bytes after y were written");
        }
    }

    @Test
    void floatArrayOverloadAgreesWithTensorApi() {
        long seed = 5002;
        Reference.Geom g = Reference.Geom.conv2d(3, 2, 10, 11, 3, 3, 3, 1, 1, 1, 1, 1, 1);
        SplittableRandom random = new SplittableRandom(seed);
        int n = 2; // below maxBatch: the overload infers the batch from x.length
        float[] x = Reference.randomFloats(random, g.xSize(n)), w = Reference.randomFloats(random, g.wSize()),
                b = Reference.randomFloats(random, g.F());
        for (Compression comp : new Compression[] {Compression.none(), Compression.fixed(0.5)}) {
            try (Arena arena = Arena.ofConfined(); ConvPlan plan = g.builder().compression(comp).build(arena)) {
                for (float[] bias : new float[][] {b, null}) {
                    float[] viaArrays = plan.infer(x, w, bias);
                    Tensor ty = Tensor.allocate(arena, plan.outputShape(n));
                    plan.infer(Tensor.copyOf(arena, x, plan.inputShape(n)), Tensor.copyOf(arena, w, plan.weightShape()),
                            bias == null ? null : Tensor.copyOf(arena, bias, plan.biasShape()), ty,
                            plan.allocateWorkspace(arena));
                    assertArrayEquals(ty.toArray(), viaArrays, comp + " bias=" + (bias != null) + " seed=" + seed);
                    assertEquals(g.ySize(n), viaArrays.length);
                }
                // And against the references.
                double[] ref = plan.achievedRate() == 0
                        ? Reference.denseForward(g, n, Reference.toDouble(x), Reference.toDouble(w), Reference.toDouble(b))
                        : Reference.bandLimitedForward(g, n, Reference.toDouble(x), Reference.toDouble(w),
                                Reference.toDouble(b), plan.box(), null);
                TestSupport.assertWithinBound("y", plan.infer(x, w, b), ref,
                        Reference.bound(g.LH(), g.LW(), Reference.reductionY(g)), "float[] infer " + comp + " seed=" + seed);
            }
        }
    }

    /**
     * com.sun.management.ThreadMXBean#getCurrentThreadAllocatedBytes, called reflectively: the test
     * classes are compiled into module dev.bandlimit, which does not read java.management.
     */
    static final class AllocationCounter {
        private final Object bean;
        private final Method allocated;

        AllocationCounter() {
            try {
                bean = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
                Class<?> sun = Class.forName("com.sun.management.ThreadMXBean");
                assumeTrue(sun.isInstance(bean), "no com.sun.management.ThreadMXBean in this JVM");
                assumeTrue((Boolean) sun.getMethod("isThreadAllocatedMemorySupported").invoke(bean),
                        "thread allocated memory is not supported by this JVM");
                sun.getMethod("setThreadAllocatedMemoryEnabled", boolean.class).invoke(bean, true);
                allocated = sun.getMethod("getCurrentThreadAllocatedBytes");
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }

        long getCurrentThreadAllocatedBytes() {
            try {
                return (Long) allocated.invoke(bean);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @Test
    void warmExecuteCallsAllocateNoHeapProportionalToTheTensors() {
        AllocationCounter threads = new AllocationCounter();
        int N = 16, C = 32, F = 32, H = 64, W = 64;
        long seed = 5003;
        SplittableRandom random = new SplittableRandom(seed);
        try (Arena arena = Arena.ofConfined();
                ConvPlan plan = ConvPlan.conv2d().maxBatch(N).channels(C).input(H, W).filters(F).kernel(3, 3)
                        .padding(Padding.symmetric(1)).compression(Compression.none()).build(arena)) {
            Tensor x = Tensor.allocate(arena, plan.inputShape(N));
            for (long i = 0; i < x.elementCount(); i++) x.set(i, (float) random.nextGaussian());
            Tensor w = Tensor.copyOf(arena, Reference.randomFloats(random, F * C * 9), plan.weightShape());
            Tensor b = Tensor.copyOf(arena, Reference.randomFloats(random, F), plan.biasShape());
            Tensor y = Tensor.allocate(arena, plan.outputShape(N));
            Tensor dy = Tensor.allocate(arena, plan.outputShape(N));
            for (long i = 0; i < dy.elementCount(); i++) dy.set(i, (float) random.nextGaussian());
            Tensor dx = Tensor.allocate(arena, plan.inputShape(N));
            Tensor dw = Tensor.allocate(arena, plan.weightShape());
            Tensor db = Tensor.allocate(arena, plan.biasShape());
            SavedSpectra saved = plan.allocateSavedSpectra(arena);
            Workspace ws = plan.allocateWorkspace(arena);
            assertEquals(8L << 20, x.byteSize(), "x is 8 MiB");
            long limit = 64 << 10;
            for (int i = 0; i < 3; i++) { // warm-up (class loading, JIT, the shared workspace)
                plan.forward(x, w, b, y, saved, ws);
                plan.infer(x, w, b, y, ws);
                plan.infer(x, w, b, y);
                plan.backward(saved, w, dy, dx, dw, db, ws);
            }
            long[] bytes = new long[4];
            String[] names = {"forward", "infer(workspace)", "infer(shared workspace)", "backward"};
            Runnable[] calls = {() -> plan.forward(x, w, b, y, saved, ws), () -> plan.infer(x, w, b, y, ws),
                    () -> plan.infer(x, w, b, y), () -> plan.backward(saved, w, dy, dx, dw, db, ws)};
            for (int k = 0; k < calls.length; k++) {
                long best = Long.MAX_VALUE;
                for (int rep = 0; rep < 3; rep++) { // the least of three, so a one-off JIT allocation does not count
                    long t0 = threads.getCurrentThreadAllocatedBytes();
                    calls[k].run();
                    long t1 = threads.getCurrentThreadAllocatedBytes();
                    best = Math.min(best, t1 - t0);
                }
                bytes[k] = best;
            }
            System.out.println("ZeroCopyTest: heap bytes allocated by a warm call on an 8 MiB x: "
                    + names[0] + " " + bytes[0] + ", " + names[1] + " " + bytes[1] + ", " + names[2] + " " + bytes[2]
                    + ", " + names[3] + " " + bytes[3]);
            for (int k = 0; k < calls.length; k++) {
                assertTrue(bytes[k] < limit, names[k] + " allocated " + bytes[k] + " bytes of Java heap (limit " + limit
                        + ", x is " + x.byteSize() + " bytes)");
            }
            // The result is still right: sample 0 of the last forward against the direct sum.
            plan.infer(x, w, b, y, ws);
            Reference.Geom g = Reference.Geom.conv2d(1, C, H, W, F, 3, 3, 1, 1, 1, 1, 1, 1);
            float[] x0 = x.segment().asSlice(0, 4L * g.xSize(1)).toArray(ValueLayout.JAVA_FLOAT);
            float[] y0 = y.segment().asSlice(0, 4L * g.ySize(1)).toArray(ValueLayout.JAVA_FLOAT);
            double[] ref = Reference.denseForward(g, 1, Reference.toDouble(x0), Reference.toDouble(w.toArray()),
                    Reference.toDouble(b.toArray()));
            TestSupport.assertWithinBound("y[0]", y0, ref, Reference.bound(g.LH(), g.LW(), Reference.reductionY(g)),
                    "large forward seed=" + seed);
        }
    }
}
