package dev.bandlimit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bandlimit.internal.Native;
import dev.bandlimit.internal.ffm.BandlimitH;
import dev.bandlimit.internal.ffm.bl_compression;
import dev.bandlimit.internal.ffm.bl_conv2d_desc;
import dev.bandlimit.internal.ffm.bl_plan_options;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad inputs: each is a clear exception naming the argument, never a crash, and no caller
 * buffer is written (every buffer of the call is filled with a sentinel pattern or data and
 * compared byte for byte afterwards).
 */
class BadInputTest {
    private static final long SEED = 4242;

    // ----------------------------------------------------------------------------------------
    // Fixture: a small 2D plan with every buffer of forward and backward
    // ----------------------------------------------------------------------------------------

    private Arena arena;
    private ConvPlan plan;
    private Tensor x, w, b, y, dy, dx, dw, db;
    private SavedSpectra saved;
    private Workspace ws;
    private final List<MemorySegment> watched = new ArrayList<>();
    private final List<byte[]> snapshots = new ArrayList<>();

    /** maxBatch 2, C=2, 6x6, F=3, 3x3, pad 1, rho 0.5. */
    private static ConvPlan.Builder fixtureBuilder() {
        return ConvPlan.conv2d().maxBatch(2).channels(2).input(6, 6).filters(3).kernel(3, 3)
                .padding(Padding.symmetric(1)).compression(Compression.fixed(0.5));
    }

    @BeforeEach
    void setUp() {
        arena = Arena.ofConfined();
        plan = fixtureBuilder().build(arena);
        SplittableRandom random = new SplittableRandom(SEED);
        x = Tensor.copyOf(arena, Reference.randomFloats(random, 2 * 2 * 36), plan.inputShape(2));
        w = Tensor.copyOf(arena, Reference.randomFloats(random, 3 * 2 * 9), plan.weightShape());
        b = Tensor.copyOf(arena, Reference.randomFloats(random, 3), plan.biasShape());
        dy = Tensor.copyOf(arena, Reference.randomFloats(random, 2 * 3 * 36), plan.outputShape(2));
        y = sentinelTensor(plan.outputShape(2));
        dx = sentinelTensor(plan.inputShape(2));
        dw = sentinelTensor(plan.weightShape());
        db = sentinelTensor(plan.biasShape());
        saved = plan.allocateSavedSpectra(arena);
        ws = plan.allocateWorkspace(arena);
        TestSupport.fillSentinel(saved.segment());
        TestSupport.fillSentinel(ws.segment());
        watch(x.segment(), w.segment(), b.segment(), dy.segment(), y.segment(), dx.segment(), dw.segment(),
                db.segment(), saved.segment(), ws.segment());
    }

    @AfterEach
    void tearDown() {
        arena.close();
    }

    private Tensor sentinelTensor(long... shape) {
        Tensor t = Tensor.allocate(arena, shape);
        TestSupport.fillSentinel(t.segment());
        return t;
    }

    private void watch(MemorySegment... segments) {
        for (MemorySegment s : segments) watched.add(s);
    }

    /** Records the bytes of every watched buffer (call after any successful set-up calls). */
    private void snapshot() {
        snapshots.clear();
        for (MemorySegment s : watched) snapshots.add(TestSupport.snapshot(s));
    }

    private void assertUntouched(String ctx) {
        assertEquals(watched.size(), snapshots.size(), "snapshot() was not called");
        for (int i = 0; i < watched.size(); i++) {
            MemorySegment s = watched.get(i);
            if (!s.scope().isAlive()) continue;
            assertArrayEquals(snapshots.get(i), TestSupport.snapshot(s), ctx + ": buffer #" + i + " was written");
        }
    }

    /** A training forward into a fresh saved buffer (valid spectra for the backward tests). */
    private void validForward() {
        plan.forward(x, w, b, y, saved, ws);
    }

    /** Runs {@code call}, expects an InvalidArgumentException of {@code status} naming {@code argument}. */
    private InvalidArgumentException expectInvalid(Status status, String argument, Executable call) {
        snapshot();
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, call, argument);
        System.out.println("BadInputTest: " + argument + " -> " + e.status() + ": " + e.getMessage());
        assertEquals(status, e.status(), e.getMessage());
        assertEquals(argument, e.argument(), e.getMessage());
        assertTrue(e.getMessage().contains(argument), "message names " + argument + ": " + e.getMessage());
        assertUntouched(argument + " (" + e.getMessage() + ")");
        return e;
    }

    private <T extends Throwable> T expect(Class<T> type, String mentions, Executable call) {
        snapshot();
        T e = assertThrows(type, call, mentions);
        System.out.println("BadInputTest: " + mentions + " -> " + e);
        assertTrue(e.getMessage() != null && e.getMessage().contains(mentions),
                "message should mention " + mentions + ": " + e.getMessage());
        assertUntouched(mentions + " (" + e.getMessage() + ")");
        return e;
    }

    private static void expectBuildInvalid(Status status, String argument, Supplier<ConvPlan.Builder> builder) {
        long before = Bandlimit.allocatedBytes();
        try (Arena a = Arena.ofConfined()) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> builder.get().build(a),
                    argument);
            System.out.println("BadInputTest: build " + argument + " -> " + e.status() + ": " + e.getMessage());
            assertEquals(status, e.status(), e.getMessage());
            assertEquals(argument, e.argument(), e.getMessage());
            assertTrue(e.getMessage().contains(argument), e.getMessage());
        }
        assertEquals(before, Bandlimit.allocatedBytes(), "a failed build leaked native memory");
    }

    // ----------------------------------------------------------------------------------------
    // Plan creation
    // ----------------------------------------------------------------------------------------

    static List<Arguments> badGeometries() {
        List<Arguments> l = new ArrayList<>();
        Supplier<ConvPlan.Builder> ok2 = () -> ConvPlan.conv2d().maxBatch(2).channels(2).input(6, 6).filters(3)
                .kernel(3, 3);
        Supplier<ConvPlan.Builder> ok1 = () -> ConvPlan.conv1d().maxBatch(2).channels(2).length(10).filters(3).kernel(3);
        l.add(Arguments.of("max_batch = 0", "max_batch", (Supplier<ConvPlan.Builder>) () -> ok2.get().maxBatch(0)));
        l.add(Arguments.of("max_batch < 0", "max_batch", (Supplier<ConvPlan.Builder>) () -> ok2.get().maxBatch(-1)));
        l.add(Arguments.of("channels = 0", "channels", (Supplier<ConvPlan.Builder>) () -> ok2.get().channels(0)));
        l.add(Arguments.of("channels < 0", "channels", (Supplier<ConvPlan.Builder>) () -> ok2.get().channels(-3)));
        l.add(Arguments.of("filters = 0", "filters", (Supplier<ConvPlan.Builder>) () -> ok2.get().filters(0)));
        l.add(Arguments.of("filters < 0", "filters", (Supplier<ConvPlan.Builder>) () -> ok2.get().filters(-7)));
        l.add(Arguments.of("height = 0", "height", (Supplier<ConvPlan.Builder>) () -> ok2.get().input(0, 6)));
        l.add(Arguments.of("width < 0", "width", (Supplier<ConvPlan.Builder>) () -> ok2.get().input(6, -1)));
        l.add(Arguments.of("kernel height 0", "kernel_height", (Supplier<ConvPlan.Builder>) () -> ok2.get().kernel(0, 3)));
        l.add(Arguments.of("kernel width < 0", "kernel_width",
                (Supplier<ConvPlan.Builder>) () -> ok2.get().kernel(3, -2)));
        l.add(Arguments.of("stride h 0", "stride_h", (Supplier<ConvPlan.Builder>) () -> ok2.get().stride(0, 1)));
        l.add(Arguments.of("stride w < 0", "stride_w", (Supplier<ConvPlan.Builder>) () -> ok2.get().stride(1, -1)));
        l.add(Arguments.of("kernel height > padded input", "kernel_height",
                (Supplier<ConvPlan.Builder>) () -> ok2.get().input(4, 4).kernel(5, 3)));
        l.add(Arguments.of("kernel width > padded input", "kernel_width",
                (Supplier<ConvPlan.Builder>) () -> ok2.get().input(4, 4).kernel(3, 7).padding(Padding.symmetric(1))));
        l.add(Arguments.of("1D length 0", "length", (Supplier<ConvPlan.Builder>) () -> ok1.get().length(0)));
        l.add(Arguments.of("1D kernel 0", "kernel", (Supplier<ConvPlan.Builder>) () -> ok1.get().kernel(0)));
        l.add(Arguments.of("1D stride 0", "stride", (Supplier<ConvPlan.Builder>) () -> ok1.get().stride(0)));
        l.add(Arguments.of("1D kernel > padded input", "kernel",
                (Supplier<ConvPlan.Builder>) () -> ok1.get().length(4).kernel(7).padding(Padding.of1d(1, 1))));
        l.add(Arguments.of("1D vertical padding", "padding",
                (Supplier<ConvPlan.Builder>) () -> ok1.get().padding(Padding.symmetric(1))));
        return l;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badGeometries")
    void badGeometryIsRejected(String what, String argument, Supplier<ConvPlan.Builder> builder) {
        expectBuildInvalid(Status.INVALID_SIZE, argument, builder);
    }

    @Test
    void negativePaddingIsRejected() {
        for (Executable e : new Executable[] {() -> Padding.of(-1, 0, 0, 0), () -> Padding.of(0, 0, 0, -2),
                () -> Padding.of1d(-1, 0), () -> Padding.symmetric(-1)}) {
            InvalidArgumentException ex = assertThrows(InvalidArgumentException.class, e);
            assertEquals("padding", ex.argument());
            assertEquals(Status.INVALID_SIZE, ex.status());
            assertTrue(ex.getMessage().contains("padding"), ex.getMessage());
        }
    }

    @Test
    void compressionOutOfRangeIsRejected() {
        for (double rho : new double[] {1.0, 1.5, -0.01, -0.0 - 1e-300, Double.NaN, Double.POSITIVE_INFINITY,
                Double.NEGATIVE_INFINITY}) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> Compression.fixed(rho),
                    "rho " + rho);
            assertEquals("compression", e.argument());
            assertEquals(Status.INVALID_COMPRESSION, e.status());
            assertTrue(e.getMessage().contains("rho"), e.getMessage());
        }
        for (double en : new double[] {0.0, -0.0, -0.5, 1.0000001, 2, Double.NaN, Double.POSITIVE_INFINITY}) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> Compression.energy(en),
                    "E " + en);
            assertEquals("compression", e.argument());
            assertEquals(Status.INVALID_COMPRESSION, e.status());
            assertTrue(e.getMessage().contains("energy"), e.getMessage());
        }
        // The boundary values are accepted.
        assertDoesNotThrow(() -> Compression.fixed(0.0));
        assertDoesNotThrow(() -> Compression.fixed(Math.nextDown(1.0)));
        assertDoesNotThrow(() -> Compression.energy(1.0));
        assertDoesNotThrow(() -> Compression.energy(Double.MIN_VALUE));
    }

    /**
     * The native layer's own checks of the compression and options, which the Java records make
     * unreachable through the facade: called through the generated bindings, each returns its
     * status and leaves the out-parameter untouched.
     */
    @Test
    void nativeLayerRejectsBadCompressionAndOptions() {
        Native.ensureLoaded();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment desc = bl_conv2d_desc.allocate(a);
            bl_conv2d_desc.max_batch(desc, 2);
            bl_conv2d_desc.channels(desc, 2);
            bl_conv2d_desc.height(desc, 6);
            bl_conv2d_desc.width(desc, 6);
            bl_conv2d_desc.filters(desc, 3);
            bl_conv2d_desc.kernel_height(desc, 3);
            bl_conv2d_desc.kernel_width(desc, 3);
            bl_conv2d_desc.stride_h(desc, 1);
            bl_conv2d_desc.stride_w(desc, 1);
            MemorySegment options = bl_plan_options.allocate(a);
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            double[][] bad = {{0, 1.0}, {0, -0.1}, {0, Double.NaN}, {0, Double.POSITIVE_INFINITY}, {1, 0.0}, {1, -0.0},
                    {1, 1.5}, {1, Double.NaN}, {7, 0.5}, {-1, 0.5}};
            for (double[] c : bad) {
                MemorySegment comp = bl_compression.allocate(a);
                bl_compression.kind(comp, (int) c[0]);
                bl_compression.value(comp, c[1]);
                TestSupport.fillSentinel(out);
                byte[] before = TestSupport.snapshot(out);
                int status = BandlimitH.bl_plan_create_2d(MemorySegment.NULL, desc, comp, options, out);
                String message = Native.lastErrorMessage();
                assertEquals(Status.INVALID_COMPRESSION, Status.of(status), "kind " + c[0] + " value " + c[1] + ": " + message);
                assertTrue(message.startsWith("compression"), message);
                assertArrayEquals(before, TestSupport.snapshot(out), "out_plan was written");
            }
            MemorySegment comp = bl_compression.allocate(a);
            bl_compression.kind(comp, 0);
            bl_compression.value(comp, 0.5);
            for (int mode : new int[] {2, -1, 77}) {
                bl_plan_options.spectra_mode(options, mode);
                TestSupport.fillSentinel(out);
                byte[] before = TestSupport.snapshot(out);
                int status = BandlimitH.bl_plan_create_2d(MemorySegment.NULL, desc, comp, options, out);
                String message = Native.lastErrorMessage();
                assertEquals(Status.INVALID_ARGUMENT, Status.of(status), message);
                assertTrue(message.startsWith("options.spectra_mode"), message);
                assertEquals("options.spectra_mode", Native.lastErrorArgument());
                assertArrayEquals(before, TestSupport.snapshot(out), "out_plan was written");
            }
            // NULL plan and NULL pointers: a status, never a crash.
            assertEquals(Status.NULL_POINTER, Status.of(BandlimitH.bl_forward(MemorySegment.NULL, 1, x.segment(),
                    w.segment(), MemorySegment.NULL, y.segment(), MemorySegment.NULL, 0, ws.segment(), ws.byteSize(),
                    MemorySegment.NULL)));
            assertEquals(Status.NULL_POINTER, Status.of(BandlimitH.bl_plan_create_2d(MemorySegment.NULL,
                    MemorySegment.NULL, comp, MemorySegment.NULL, out)));
            assertEquals(Status.OK, Status.of(BandlimitH.bl_plan_destroy(MemorySegment.NULL)));
        }
    }

    static List<Arguments> overflowingGeometries() {
        return List.of(
                Arguments.of("padded size", (Supplier<ConvPlan.Builder>) () -> ConvPlan.conv2d().channels(1).filters(1)
                        .input(Long.MAX_VALUE, 4).kernel(1, 1).padding(Padding.symmetric(1))),
                Arguments.of("tensor elements", (Supplier<ConvPlan.Builder>) () -> ConvPlan.conv2d().maxBatch(1L << 20)
                        .channels(1L << 20).filters(1).input(1L << 12, 1L << 12).kernel(1, 1)),
                Arguments.of("weight elements", (Supplier<ConvPlan.Builder>) () -> ConvPlan.conv2d().channels(1L << 30)
                        .filters(1L << 30).input(8, 8).kernel(8, 8)),
                Arguments.of("spectrum sizes", (Supplier<ConvPlan.Builder>) () -> ConvPlan.conv2d().channels(1).filters(1)
                        .input(1L << 28, 1L << 28).kernel(1, 1)),
                Arguments.of("1D length", (Supplier<ConvPlan.Builder>) () -> ConvPlan.conv1d().channels(1).filters(1)
                        .length(Long.MAX_VALUE - 1).kernel(1).padding(Padding.of1d(1, 1))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("overflowingGeometries")
    void overflowingSizesAreRejected(String what, Supplier<ConvPlan.Builder> builder) {
        long before = Bandlimit.allocatedBytes();
        try (Arena a = Arena.ofConfined()) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> builder.get().build(a), what);
            System.out.println("BadInputTest: overflow " + what + " -> " + e.status() + " [argument " + e.argument()
                    + "]: " + e.getMessage());
            assertEquals(Status.SIZE_OVERFLOW, e.status(), e.getMessage());
            assertTrue(e.getMessage().contains("overflow"), e.getMessage());
        }
        assertEquals(before, Bandlimit.allocatedBytes());
    }

    @Test
    void unsupportedBackend() {
        if (Backend.CUDA.isAvailable()) {
            System.out.println("BadInputTest: Backend.CUDA is available here: checked that a CUDA plan builds");
            try (Arena a = Arena.ofConfined(); ConvPlan p = fixtureBuilder().backend(Backend.CUDA).build(a)) {
                assertEquals(Backend.CUDA, p.backend());
            }
        } else {
            System.out.println("BadInputTest: Backend.CUDA unavailable: checked UnsupportedFeatureException");
            long before = Bandlimit.allocatedBytes();
            try (Arena a = Arena.ofConfined()) {
                UnsupportedFeatureException e = assertThrows(UnsupportedFeatureException.class,
                        () -> fixtureBuilder().backend(Backend.CUDA).build(a));
                assertEquals(Status.UNSUPPORTED, e.status());
                assertTrue(e.getMessage().contains("backend"), e.getMessage());
                String reason = Backend.CUDA.unavailableReason();
                assertFalse(reason.isEmpty(), "an unavailable backend says why");
                assertTrue(e.getMessage().contains(reason), "the exception carries the registry's reason: " + e.getMessage());
                UnsupportedFeatureException c = assertThrows(UnsupportedFeatureException.class,
                        () -> ExecutionContext.builder(Backend.CUDA).build());
                assertTrue(c.getMessage().contains(reason), c.getMessage());
            }
            assertEquals(before, Bandlimit.allocatedBytes());
        }
        assertTrue(Backend.CPU.isAvailable());
    }

    @Test
    void badThreadCount() {
        int threads = Bandlimit.numThreads();
        for (int t : new int[] {0, -1}) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> Bandlimit.setNumThreads(t));
            assertEquals("num_threads", e.argument());
        }
        assertEquals(threads, Bandlimit.numThreads());
    }

    // ----------------------------------------------------------------------------------------
    // Tensors
    // ----------------------------------------------------------------------------------------

    @Test
    void segmentTooSmallForShape() {
        MemorySegment seg = arena.allocate(4 * 71, 64);
        TestSupport.fillSentinel(seg);
        watch(seg);
        expectInvalid(Status.BUFFER_TOO_SMALL, "segment", () -> Tensor.wrap(seg, plan.inputShape(1)));
        // Exactly enough is fine, and extra bytes are ignored.
        assertEquals(72, Tensor.wrap(arena.allocate(4 * 72), plan.inputShape(1)).elementCount());
        assertEquals(4 * 72, Tensor.wrap(arena.allocate(4 * 80), plan.inputShape(1)).segment().byteSize());
    }

    @Test
    void wrongElementLayout() {
        MemorySegment seg = arena.allocate(4 * 72, 64);
        expectInvalid(Status.INVALID_ARGUMENT, "layout", () -> Tensor.wrap(seg, ValueLayout.JAVA_INT, 1, 2, 6, 6));
        ByteOrder other = ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
        expectInvalid(Status.INVALID_ARGUMENT, "layout",
                () -> Tensor.wrap(seg, ValueLayout.JAVA_FLOAT.withOrder(other), 1, 2, 6, 6));
        expectInvalid(Status.INVALID_ARGUMENT, "layout", () -> Tensor.wrap(seg, ValueLayout.JAVA_DOUBLE, 1, 2, 6, 6));
        assertEquals(72, Tensor.wrap(seg, ValueLayout.JAVA_FLOAT, 1, 2, 6, 6).elementCount());
    }

    @Test
    void badTensorShapes() {
        expectInvalid(Status.INVALID_SIZE, "shape", () -> Tensor.allocate(arena, 2, 0, 6));
        expectInvalid(Status.INVALID_SIZE, "shape", () -> Tensor.allocate(arena, 2, -3, 6));
        expectInvalid(Status.INVALID_SIZE, "shape", () -> Tensor.allocate(arena));
        expectInvalid(Status.SIZE_OVERFLOW, "shape", () -> Tensor.allocate(arena, Long.MAX_VALUE / 2, 4));
        expectInvalid(Status.SIZE_OVERFLOW, "shape", () -> Tensor.allocate(arena, 1L << 31, 1L << 31));
        expectInvalid(Status.INVALID_SIZE, "data", () -> Tensor.copyOf(arena, new float[5], 2, 3));
    }

    // ----------------------------------------------------------------------------------------
    // Execute: batch, memory kind and lifetime, shapes, overlap, buffers
    // ----------------------------------------------------------------------------------------

    @Test
    void batchLargerThanMaxBatch() {
        Tensor x3 = Tensor.copyOf(arena, Reference.randomFloats(new SplittableRandom(SEED + 1), 3 * 72),
                plan.inputShape(3));
        Tensor y3 = sentinelTensor(plan.outputShape(3));
        Tensor dy3 = Tensor.copyOf(arena, Reference.randomFloats(new SplittableRandom(SEED + 2), 3 * 108),
                plan.outputShape(3));
        Tensor dx3 = sentinelTensor(plan.inputShape(3));
        watch(x3.segment(), y3.segment(), dy3.segment(), dx3.segment());
        expectInvalid(Status.INVALID_BATCH, "x", () -> plan.forward(x3, w, b, y3, saved, ws));
        expectInvalid(Status.INVALID_BATCH, "x", () -> plan.infer(x3, w, b, y3, ws));
        validForward();
        expectInvalid(Status.INVALID_BATCH, "dy", () -> plan.backward(saved, w, dy3, dx3, dw, db, ws));
    }

    @Test
    void heapSegmentsAreRejected() {
        Tensor heapX = Tensor.wrap(MemorySegment.ofArray(x.toArray()), plan.inputShape(2));
        float[] heapYArray = new float[2 * 3 * 36];
        java.util.Arrays.fill(heapYArray, 12345.0f);
        Tensor heapY = Tensor.wrap(MemorySegment.ofArray(heapYArray), plan.outputShape(2));
        watch(heapX.segment(), heapY.segment());
        expectInvalid(Status.INVALID_ARGUMENT, "x", () -> plan.forward(heapX, w, b, y, saved, ws));
        expectInvalid(Status.INVALID_ARGUMENT, "y", () -> plan.forward(x, w, b, heapY, saved, ws));
        expectInvalid(Status.INVALID_ARGUMENT, "y", () -> plan.infer(x, w, b, heapY));
        Tensor heapW = Tensor.wrap(MemorySegment.ofArray(w.toArray()), plan.weightShape());
        expectInvalid(Status.INVALID_ARGUMENT, "w", () -> plan.infer(x, heapW, b, y, ws));
        validForward();
        Tensor heapDx = Tensor.wrap(MemorySegment.ofArray(new float[2 * 2 * 36]), plan.inputShape(2));
        watch(heapDx.segment());
        expectInvalid(Status.INVALID_ARGUMENT, "dx", () -> plan.backward(saved, w, dy, heapDx, dw, db, ws));
        Workspace heapWs = Workspace.wrap(MemorySegment.ofArray(new byte[(int) plan.workspaceBytes()]));
        expectInvalid(Status.INVALID_ARGUMENT, "workspace", () -> plan.infer(x, w, b, y, heapWs));
    }

    @Test
    void tensorWhoseArenaIsClosed() {
        Arena other = Arena.ofConfined();
        Tensor deadX = Tensor.copyOf(other, x.toArray(), plan.inputShape(2));
        Tensor deadY = Tensor.allocate(other, plan.outputShape(2));
        other.close();
        expect(IllegalStateException.class, "x", () -> plan.forward(deadX, w, b, y, saved, ws));
        expect(IllegalStateException.class, "y", () -> plan.infer(x, w, b, deadY, ws));
        Arena other2 = Arena.ofConfined();
        Workspace deadWs = plan.allocateWorkspace(other2);
        SavedSpectra deadSaved = plan.allocateSavedSpectra(other2);
        other2.close();
        expect(IllegalStateException.class, "workspace", () -> plan.infer(x, w, b, y, deadWs));
        expect(IllegalStateException.class, "saved", () -> plan.forward(x, w, b, y, deadSaved, ws));
    }

    @Test
    void closedPlan() {
        long before = Bandlimit.allocatedBytes();
        Arena a = Arena.ofConfined();
        ConvPlan p = fixtureBuilder().build(a);
        assertTrue(Bandlimit.allocatedBytes() > before, "a plan holds native memory");
        Workspace pws = p.allocateWorkspace(arena);
        SavedSpectra psaved = p.allocateSavedSpectra(arena);
        TestSupport.fillSentinel(psaved.segment());
        watch(psaved.segment());
        assertFalse(p.isClosed());
        p.close();
        assertTrue(p.isClosed());
        assertEquals(before, Bandlimit.allocatedBytes(), "close() released the plan");
        assertDoesNotThrow(p::close, "close() twice is harmless");
        expect(IllegalStateException.class, "closed", () -> p.forward(x, w, b, y, psaved, pws));
        expect(IllegalStateException.class, "closed", () -> p.infer(x, w, b, y));
        expect(IllegalStateException.class, "closed", () -> p.infer(x.toArray(), w.toArray(), null));
        expect(IllegalStateException.class, "closed", () -> p.backward(psaved, w, dy, dx, dw, db, pws));
        expect(IllegalStateException.class, "closed", () -> p.rateOf(new Box(0, 0)));
        expect(IllegalStateException.class, "closed", () -> p.flops(Pass.FORWARD, 1));
        expect(IllegalStateException.class, "closed", () -> p.allocateWorkspace(arena));
        a.close(); // the arena's cleanup must not destroy the plan a second time
        assertEquals(before, Bandlimit.allocatedBytes(), "the plan was released exactly once");
        assertDoesNotThrow(p::close);
    }

    @Test
    void planWhoseArenaIsClosed() {
        long before = Bandlimit.allocatedBytes();
        Arena a = Arena.ofConfined();
        ConvPlan p = fixtureBuilder().build(a);
        Workspace pws = p.allocateWorkspace(arena);
        SavedSpectra psaved = p.allocateSavedSpectra(arena);
        p.infer(x, w, b, y); // creates the plan's shared workspace too
        TestSupport.fillSentinel(y.segment());
        TestSupport.fillSentinel(psaved.segment());
        watch(psaved.segment());
        a.close();
        assertTrue(p.isClosed(), "closing the owning arena closes the plan");
        assertEquals(before, Bandlimit.allocatedBytes(), "closing the arena released the plan");
        expect(IllegalStateException.class, "closed", () -> p.forward(x, w, b, y, psaved, pws));
        expect(IllegalStateException.class, "closed", () -> p.infer(x, w, b, y));
        assertDoesNotThrow(p::close);
        assertEquals(before, Bandlimit.allocatedBytes(), "the plan was released exactly once");
    }

    @Test
    void wrongShapes() {
        Tensor xC = sentinelTensor(2, 3, 6, 6); // wrong C
        Tensor xRank = sentinelTensor(2, 2, 36); // 1D shape for a 2D plan
        Tensor wK = sentinelTensor(3, 2, 3, 2); // wrong KW
        Tensor wF = sentinelTensor(4, 2, 3, 3); // wrong F
        Tensor bF = sentinelTensor(4);
        Tensor yHW = sentinelTensor(2, 3, 6, 5);
        Tensor yN = sentinelTensor(1, 3, 6, 6); // batch differs from x's
        watch(xC.segment(), xRank.segment(), wK.segment(), wF.segment(), bF.segment(), yHW.segment(), yN.segment());
        expectInvalid(Status.INVALID_SIZE, "x", () -> plan.forward(xC, w, b, y, saved, ws));
        expectInvalid(Status.INVALID_SIZE, "x", () -> plan.forward(xRank, w, b, y, saved, ws));
        expectInvalid(Status.INVALID_SIZE, "w", () -> plan.forward(x, wK, b, y, saved, ws));
        expectInvalid(Status.INVALID_SIZE, "w", () -> plan.forward(x, wF, b, y, saved, ws));
        expectInvalid(Status.INVALID_SIZE, "bias", () -> plan.forward(x, w, bF, y, saved, ws));
        expectInvalid(Status.INVALID_SIZE, "y", () -> plan.forward(x, w, b, yHW, saved, ws));
        expectInvalid(Status.INVALID_SIZE, "y", () -> plan.forward(x, w, b, yN, saved, ws));
        expectInvalid(Status.INVALID_SIZE, "x", () -> plan.infer(new float[71], w.toArray(), null));
        validForward();
        Tensor dyHW = sentinelTensor(2, 3, 5, 6);
        Tensor dxN = sentinelTensor(1, 2, 6, 6);
        Tensor dbF = sentinelTensor(2);
        watch(dyHW.segment(), dxN.segment(), dbF.segment());
        expectInvalid(Status.INVALID_SIZE, "dy", () -> plan.backward(saved, w, dyHW, dx, dw, db, ws));
        expectInvalid(Status.INVALID_SIZE, "dx", () -> plan.backward(saved, w, dy, dxN, dw, db, ws));
        expectInvalid(Status.INVALID_SIZE, "dw", () -> plan.backward(saved, w, dy, dx, wK, db, ws));
        expectInvalid(Status.INVALID_SIZE, "db", () -> plan.backward(saved, w, dy, dx, dw, dbF, ws));
        expectInvalid(Status.INVALID_SIZE, "w", () -> plan.backward(saved, wF, dy, dx, dw, db, ws));
    }

    @Test
    void oneDimensionalShapes() {
        try (Arena a = Arena.ofConfined();
                ConvPlan p1 = ConvPlan.conv1d().maxBatch(2).channels(2).length(10).filters(3).kernel(3).build(a)) {
            Tensor x4 = sentinelTensor(2, 2, 1, 10); // a 2D shape for a 1D plan
            Tensor y1 = sentinelTensor(2, 3, 8);
            watch(x4.segment(), y1.segment());
            Tensor w1 = Tensor.copyOf(arena, Reference.randomFloats(new SplittableRandom(SEED), 18), 3, 2, 3);
            expectInvalid(Status.INVALID_SIZE, "x", () -> p1.infer(x4, w1, null, y1));
            expectInvalid(Status.INVALID_SIZE, "w", () -> p1.infer(sentinelTensor(2, 2, 10), w, null, y1));
        }
    }

    @Test
    void outputOverlappingInput() {
        // x and y as overlapping slices of one segment.
        long xBytes = x.byteSize(), yBytes = y.byteSize();
        MemorySegment shared = arena.allocate(xBytes + yBytes, 64);
        TestSupport.fillSentinel(shared);
        watch(shared);
        Tensor xs = Tensor.wrap(shared.asSlice(0, xBytes), plan.inputShape(2));
        Tensor ys = Tensor.wrap(shared.asSlice(xBytes - 16, yBytes), plan.outputShape(2));
        expectInvalid(Status.INVALID_ARGUMENT, "y", () -> plan.forward(xs, w, b, ys, saved, ws));
        expectInvalid(Status.INVALID_ARGUMENT, "y", () -> plan.infer(xs, w, b, ys, ws));
        // In place: y over x (the same memory).
        Tensor yOverX = Tensor.wrap(x.segment(), 1, 3, 6, 6);
        Tensor x1 = Tensor.wrap(x.segment(), plan.inputShape(1));
        expectInvalid(Status.INVALID_ARGUMENT, "y", () -> plan.infer(x1, w, b, yOverX, ws));
        // y containing the bias.
        MemorySegment big = arena.allocate(y.byteSize() + 64, 64);
        TestSupport.fillSentinel(big);
        watch(big);
        Tensor bInY = Tensor.wrap(big.asSlice(8, 12), 3);
        Tensor yBig = Tensor.wrap(big, plan.outputShape(2));
        expectInvalid(Status.INVALID_ARGUMENT, "y", () -> plan.forward(x, w, bInY, yBig, saved, ws));
        // saved overlapping y.
        MemorySegment sy = arena.allocate(plan.savedSpectraBytes() + y.byteSize(), 64);
        TestSupport.fillSentinel(sy);
        watch(sy);
        SavedSpectra s2 = SavedSpectra.wrap(sy.asSlice(0, plan.savedSpectraBytes()));
        Tensor y2 = Tensor.wrap(sy.asSlice(plan.savedSpectraBytes() - 64), plan.outputShape(2));
        expectInvalid(Status.INVALID_ARGUMENT, "saved", () -> plan.forward(x, w, b, y2, s2, ws));
        // Backward: dx overlapping dy, dw overlapping dx.
        validForward();
        Tensor dxOverDy = Tensor.wrap(dy.segment(), plan.inputShape(2));
        expectInvalid(Status.INVALID_ARGUMENT, "dx", () -> plan.backward(saved, w, dy, dxOverDy, dw, db, ws));
        Tensor dwOverDx = Tensor.wrap(dx.segment(), plan.weightShape());
        expectInvalid(Status.INVALID_ARGUMENT, "dx", () -> plan.backward(saved, w, dy, dx, dwOverDx, db, ws));
        Tensor dbOverSaved = Tensor.wrap(saved.segment().asSlice(64), plan.biasShape());
        expectInvalid(Status.INVALID_ARGUMENT, "db", () -> plan.backward(saved, w, dy, dx, dw, dbOverSaved, ws));
    }

    @Test
    void workspaceAndSavedTooSmall() {
        Workspace small = Workspace.wrap(arena.allocate(plan.workspaceBytes() - 8, 64));
        SavedSpectra smallSaved = SavedSpectra.wrap(arena.allocate(plan.savedSpectraBytes() - 8, 64));
        TestSupport.fillSentinel(small.segment());
        TestSupport.fillSentinel(smallSaved.segment());
        watch(small.segment(), smallSaved.segment());
        expectInvalid(Status.BUFFER_TOO_SMALL, "workspace", () -> plan.forward(x, w, b, y, saved, small));
        expectInvalid(Status.BUFFER_TOO_SMALL, "workspace", () -> plan.infer(x, w, b, y, small));
        expectInvalid(Status.BUFFER_TOO_SMALL, "saved", () -> plan.forward(x, w, b, y, smallSaved, ws));
        validForward();
        expectInvalid(Status.BUFFER_TOO_SMALL, "workspace", () -> plan.backward(saved, w, dy, dx, dw, db, small));
        // The first bytes of a valid saved buffer, wrapped short.
        SavedSpectra truncated = SavedSpectra.wrap(saved.segment().asSlice(0, plan.savedSpectraBytes() - 8));
        expectInvalid(Status.BUFFER_TOO_SMALL, "saved", () -> plan.backward(truncated, w, dy, dx, dw, db, ws));
    }

    @Test
    void savedFromADifferentPlan() {
        // Another geometry (8x8 instead of 6x6) whose saved buffer is large enough for this plan.
        try (Arena a = Arena.ofConfined();
                ConvPlan other = ConvPlan.conv2d().maxBatch(2).channels(2).input(8, 8).filters(3).kernel(3, 3)
                        .padding(Padding.symmetric(1)).compression(Compression.fixed(0.5)).build(a)) {
            assertTrue(other.savedSpectraBytes() >= plan.savedSpectraBytes());
            SavedSpectra otherSaved = other.allocateSavedSpectra(arena);
            Tensor ox = Tensor.copyOf(arena, Reference.randomFloats(new SplittableRandom(SEED + 3), 2 * 2 * 64),
                    other.inputShape(2));
            other.forward(ox, w, b, Tensor.allocate(arena, other.outputShape(2)), otherSaved);
            watch(otherSaved.segment());
            expectInvalid(Status.INVALID_SAVED_SPECTRA, "saved", () -> plan.backward(otherSaved, w, dy, dx, dw, db, ws));
            expectInvalid(Status.INVALID_SAVED_SPECTRA, "saved", () -> plan.backwardWeights(otherSaved, dy, dw, db));
        }
        // Same geometry, other rate.
        try (Arena a = Arena.ofConfined();
                ConvPlan other = fixtureBuilder().compression(Compression.fixed(0.9)).build(a)) {
            SavedSpectra otherSaved = SavedSpectra.wrap(arena.allocate(
                    Math.max(other.savedSpectraBytes(), plan.savedSpectraBytes()), 64));
            other.forward(x, w, b, Tensor.allocate(arena, other.outputShape(2)), otherSaved, other.allocateWorkspace(arena));
            watch(otherSaved.segment());
            expectInvalid(Status.INVALID_SAVED_SPECTRA, "saved", () -> plan.backward(otherSaved, w, dy, dx, dw, db, ws));
        }
    }

    @Test
    void savedOfAnotherBatch() {
        Tensor x1 = Tensor.wrap(x.segment(), plan.inputShape(1));
        Tensor y1 = sentinelTensor(plan.outputShape(1));
        plan.forward(x1, w, b, y1, saved, ws);
        expectInvalid(Status.INVALID_SAVED_SPECTRA, "saved", () -> plan.backward(saved, w, dy, dx, dw, db, ws));
    }

    @Test
    void backwardBeforeAnyForward() {
        // saved holds the sentinel pattern: garbage.
        expectInvalid(Status.INVALID_SAVED_SPECTRA, "saved", () -> plan.backward(saved, w, dy, dx, dw, db, ws));
        expectInvalid(Status.INVALID_SAVED_SPECTRA, "saved", () -> plan.backwardData(saved, w, dy, dx));
        expectInvalid(Status.INVALID_SAVED_SPECTRA, "saved", () -> plan.backwardWeights(saved, dy, dw, db));
        // Zeros are garbage too.
        SavedSpectra zeros = plan.allocateSavedSpectra(arena);
        watch(zeros.segment());
        expectInvalid(Status.INVALID_SAVED_SPECTRA, "saved", () -> plan.backward(zeros, w, dy, dx, dw, db, ws));
        // A valid forward, then one corrupted header byte.
        validForward();
        byte[] good = TestSupport.snapshot(saved.segment());
        for (long off : new long[] {0, 8, 17, 33}) {
            if (off >= saved.byteSize()) continue;
            saved.segment().set(ValueLayout.JAVA_BYTE, off, (byte) (good[(int) off] ^ 0x40));
            expectInvalid(Status.INVALID_SAVED_SPECTRA, "saved", () -> plan.backward(saved, w, dy, dx, dw, db, ws));
            saved.segment().set(ValueLayout.JAVA_BYTE, off, good[(int) off]);
        }
        assertDoesNotThrow(() -> plan.backward(saved, w, dy, dx, dw, db, ws));
    }

    @Test
    void misalignedAndReadOnlySegments() {
        MemorySegment raw = arena.allocate(x.byteSize() + 4, 64);
        TestSupport.fillSentinel(raw);
        watch(raw);
        Tensor odd = Tensor.wrap(raw.asSlice(1, x.byteSize()), plan.inputShape(2));
        expectInvalid(Status.INVALID_ARGUMENT, "x", () -> plan.forward(odd, w, b, y, saved, ws));
        Tensor roY = Tensor.wrap(y.segment().asReadOnly(), plan.outputShape(2));
        expectInvalid(Status.INVALID_ARGUMENT, "y", () -> plan.forward(x, w, b, roY, saved, ws));
    }

    @Test
    void nullArguments() {
        snapshot();
        for (Executable e : new Executable[] {() -> plan.forward(null, w, b, y, saved, ws),
                () -> plan.forward(x, null, b, y, saved, ws), () -> plan.forward(x, w, b, null, saved, ws),
                () -> plan.forward(x, w, b, y, null, ws), () -> plan.forward(x, w, b, y, saved, null),
                () -> plan.backward(null, w, dy, dx, dw, db, ws), () -> plan.backward(saved, w, null, dx, dw, db, ws)}) {
            NullPointerException npe = assertThrows(NullPointerException.class, e);
            assertTrue(npe.getMessage() != null && npe.getMessage().contains("must not be null"), npe.getMessage());
        }
        assertUntouched("null arguments");
        // INPUT_ONLY needs w for dx.
        try (Arena a = Arena.ofConfined(); ConvPlan p = fixtureBuilder().spectraMode(SpectraMode.INPUT_ONLY).build(a)) {
            SavedSpectra s = p.allocateSavedSpectra(arena);
            p.forward(x, w, b, y, s);
            NullPointerException npe = assertThrows(NullPointerException.class,
                    () -> p.backward(s, null, dy, dx, dw, db));
            assertTrue(npe.getMessage().contains("w"), npe.getMessage());
        }
    }

    // ----------------------------------------------------------------------------------------
    // Non-finite values (ALGORITHM.md section 5): NaN/Inf in sample n makes all of y[n] NaN
    // ----------------------------------------------------------------------------------------

    @Test
    void nonFiniteInputSpreadsOnlyWithinItsSample() {
        for (Compression comp : new Compression[] {Compression.fixed(0.5), Compression.energy(0.5)}) {
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
                try (Arena a = Arena.ofConfined();
                        ConvPlan p = ConvPlan.conv2d().maxBatch(3).channels(2).input(6, 6).filters(3).kernel(3, 3)
                                .padding(Padding.symmetric(1)).compression(comp).build(a)) {
                    float[] xs = Reference.randomFloats(new SplittableRandom(SEED + 5), 3 * 72);
                    xs[72 + 36 + 4 * 6 + 1] = bad; // sample 1, channel 1, row 4, column 1
                    Tensor tx = Tensor.copyOf(a, xs, p.inputShape(3));
                    Tensor ty = Tensor.allocate(a, p.outputShape(3));
                    Box box = p.forward(tx, w, null, ty, p.allocateSavedSpectra(a), p.allocateWorkspace(a));
                    if (comp instanceof Compression.Energy && Float.isNaN(bad)) {
                        assertEquals(p.fftLengths().height() / 2, box.kh(), "NaN energy selects the full box");
                        assertEquals(p.fftLengths().width() / 2, box.kw(), "NaN energy selects the full box");
                    }
                    float[] out = ty.toArray();
                    int per = 3 * 36;
                    for (int i = 0; i < out.length; i++) {
                        int sample = i / per;
                        if (sample == 1) {
                            assertTrue(Float.isNaN(out[i]), comp + " " + bad + ": y of the bad sample must be NaN at " + i);
                        } else {
                            assertTrue(Float.isFinite(out[i]), comp + " " + bad + ": other samples stay finite at " + i);
                        }
                    }
                }
            }
        }
    }
}
