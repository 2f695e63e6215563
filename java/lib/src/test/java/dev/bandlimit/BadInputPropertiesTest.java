package dev.bandlimit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

/**
 * {@link BadInputTest}'s contract on random cases: one random mistake in an execute call of a
 * random valid plan (wrong shapes and batches, too-small segments, heap, misaligned and
 * read-only memory, closed arenas and buffers, overlapping outputs, foreign or damaged saved
 * spectra, nulls), in plan creation (zero, negative and overflowing sizes, NaN, infinite and
 * out-of-range rates, the other kind's setters, an impossible product) and on closed plans. Each
 * throws the documented exception naming the argument, writes no byte of any buffer of the call
 * (every one is compared before and after), leaks no native memory, and leaves the plan usable:
 * the valid call afterwards gives the bits it gave before. Seeds and try counts:
 * {@link PropertyRuns}.
 */
class BadInputPropertiesTest {

    /**
     * What a mistake must throw: an {@link InvalidArgumentException} of a status naming an
     * argument, or another type whose message mentions a word.
     */
    private record Expected(Class<? extends Throwable> type, @Nullable Status status, String argument) {
        static Expected invalid(Status status, String argument) {
            return new Expected(InvalidArgumentException.class, status, argument);
        }

        static Expected thrown(Class<? extends Throwable> type, String mentions) {
            return new Expected(type, null, mentions);
        }
    }

    private record Mistake(String what, Expected expected, Executable call) {}

    /**
     * A valid plan with every buffer of a forward and a backward, after one valid forward and
     * backward (so the saved spectra are valid and the outputs hold results): the state every
     * mistake starts from. Everything lives in {@link #arena}.
     */
    private static final class Fixture implements AutoCloseable {
        final Arena arena = Arena.ofConfined();
        final ConvCases.Case c;
        final ConvPlan plan;
        final Tensor x, w, dy, y, dx, dw, db;
        final @Nullable Tensor bias;
        final SavedSpectra saved;
        final Workspace ws;
        final float[] y0, dx0, dw0, db0;
        final Box box0;
        final List<MemorySegment> watched = new ArrayList<>();
        private final List<byte[]> before = new ArrayList<>();

        Fixture(ConvCases.Case c) {
            this.c = c;
            plan = c.builder().build(arena);
            long n = c.n();
            x = Tensor.copyOf(arena, c.x(), plan.inputShape(n));
            w = Tensor.copyOf(arena, c.w(), plan.weightShape());
            bias = c.bias() == null ? null : Tensor.copyOf(arena, c.bias(), plan.biasShape());
            dy = Tensor.copyOf(arena, c.dy(), plan.outputShape(n));
            y = Tensor.allocate(arena, plan.outputShape(n));
            dx = Tensor.allocate(arena, plan.inputShape(n));
            dw = Tensor.allocate(arena, plan.weightShape());
            db = Tensor.allocate(arena, plan.biasShape());
            saved = plan.allocateSavedSpectra(arena);
            ws = plan.allocateWorkspace(arena);
            box0 = plan.forward(x, w, bias, y, saved, ws);
            plan.backward(saved, w, dy, dx, dw, db, ws);
            y0 = y.toArray();
            dx0 = dx.toArray();
            dw0 = dw.toArray();
            db0 = db.toArray();
            for (Tensor t : new Tensor[] {x, w, bias, dy, y, dx, dw, db}) {
                if (t != null) watch(t.segment());
            }
            watch(saved.segment(), ws.segment());
        }

        long n() {
            return c.n();
        }

        void watch(MemorySegment... segments) {
            watched.addAll(Arrays.asList(segments));
        }

        /** A tensor of {@code shape} in this arena holding the sentinel pattern, watched. */
        Tensor sentinel(long... shape) {
            Tensor t = Tensor.allocate(arena, shape);
            TestSupport.fillSentinel(t.segment());
            watch(t.segment());
            return t;
        }

        void snapshot() {
            before.clear();
            for (MemorySegment s : watched) before.add(TestSupport.snapshot(s));
        }

        void assertUntouched(String what) {
            for (int i = 0; i < watched.size(); i++) {
                MemorySegment s = watched.get(i);
                if (!s.scope().isAlive()) continue;  // a closed arena's memory: the mistake itself
                assertArrayEquals(before.get(i), TestSupport.snapshot(s), what + ": buffer #" + i + " was written");
            }
        }

        /** The valid forward and backward again, into fresh buffers: the same bits as before the mistake. */
        void assertStillUsable() {
            try (Arena again = Arena.ofConfined()) {
                Tensor y1 = Tensor.allocate(again, plan.outputShape(n())), dx1 = Tensor.allocate(again, plan.inputShape(n())),
                        dw1 = Tensor.allocate(again, plan.weightShape()), db1 = Tensor.allocate(again, plan.biasShape());
                SavedSpectra s1 = plan.allocateSavedSpectra(again);
                Workspace ws1 = plan.allocateWorkspace(again);
                assertEquals(box0, plan.forward(x, w, bias, y1, s1, ws1), "box after the mistake");
                plan.backward(s1, w, dy, dx1, dw1, db1, ws1);
                assertArrayEquals(y0, y1.toArray(), "y after the mistake");
                assertArrayEquals(dx0, dx1.toArray(), "dx after the mistake");
                assertArrayEquals(dw0, dw1.toArray(), "dw after the mistake");
                assertArrayEquals(db0, db1.toArray(), "db after the mistake");
            }
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    // ----------------------------------------------------------------------------------------
    // Execute calls
    // ----------------------------------------------------------------------------------------

    @TestFactory
    Stream<DynamicTest> aBadExecuteArgumentIsNamedAndWritesNothing() {
        return PropertyRuns.tries("bad execute argument", 400, t -> {
            ConvCases.Case c = ConvCases.of(t, ConvCases.geometry(t), t.chance(0.6));
            try (Fixture f = new Fixture(c)) {
                Mistake m = executeMistake(t, f);
                t.note("mistake: " + m.what());
                long nativeBytes = Bandlimit.allocatedBytes();
                f.snapshot();
                assertThrowsExpected(m.expected(), m.call());
                f.assertUntouched(m.what());
                assertEquals(nativeBytes, Bandlimit.allocatedBytes(), "a failed call changed the library's allocations");
                f.assertStillUsable();
            }
        });
    }

    private static Throwable assertThrowsExpected(Expected e, Executable call) {
        Throwable thrown = assertThrows(e.type(), call, "expected " + e);
        String message = String.valueOf(thrown.getMessage());
        if (thrown instanceof InvalidArgumentException iae && e.status() != null) {
            assertEquals(e.status(), iae.status(), message);
            assertEquals(e.argument(), iae.argument(), message);
        }
        assertTrue(message.contains(e.argument()), "the message names " + e.argument() + ": " + message);
        return thrown;
    }

    /** One shape {@code shape} with axis {@code axis} off by a random nonzero amount (staying >= 1). */
    private static long[] offByOne(PropertyRuns.Try t, long[] shape, int axis) {
        long[] s = shape.clone();
        long delta = t.between(1, 3);
        s[axis] = s[axis] > delta && t.chance(0.5) ? s[axis] - delta : s[axis] + delta;
        return s;
    }

    /** A shape of another rank with the same leading (batch) extent. */
    private static long[] otherRank(PropertyRuns.Try t, long[] shape) {
        long elements = 1;
        for (int i = 1; i < shape.length; i++) elements *= shape[i];
        return t.chance(0.5) ? new long[] {shape[0], elements} : Stream.concat(Arrays.stream(shape).boxed(),
                Stream.of(1L)).mapToLong(Long::longValue).toArray();
    }

    private static long[] withBatch(long[] shape, long n) {
        long[] s = shape.clone();
        s[0] = n;
        return s;
    }

    /** A random mistake in a forward or a backward of the fixture's plan. */
    private static Mistake executeMistake(PropertyRuns.Try t, Fixture f) {
        ConvPlan p = f.plan;
        long n = f.n(), maxBatch = p.maxBatch();
        List<Supplier<Mistake>> all = new ArrayList<>();
        // Shapes and batches of the forward.
        all.add(() -> {
            int axis = t.between(1, p.inputShape(n).length - 1);
            Tensor bad = f.sentinel(offByOne(t, p.inputShape(n), axis));
            return new Mistake("x axis " + axis + " " + Arrays.toString(bad.shape()), Expected.invalid(Status.INVALID_SIZE, "x"),
                    () -> p.forward(bad, f.w, f.bias, f.y, f.saved, f.ws));
        });
        all.add(() -> {
            Tensor bad = f.sentinel(otherRank(t, p.inputShape(n)));
            return new Mistake("x of rank " + bad.rank(), Expected.invalid(Status.INVALID_SIZE, "x"),
                    () -> p.infer(bad, f.w, f.bias, f.y, f.ws));
        });
        all.add(() -> {
            Tensor bad = f.sentinel(p.inputShape(maxBatch + t.between(1, 3)));
            return new Mistake("x batch " + bad.dim(0) + " > maxBatch " + maxBatch,
                    Expected.invalid(Status.INVALID_BATCH, "x"), () -> p.forward(bad, f.w, f.bias, f.y, f.saved, f.ws));
        });
        all.add(() -> {
            int axis = t.between(0, p.weightShape().length - 1);
            Tensor bad = f.sentinel(offByOne(t, p.weightShape(), axis));
            return new Mistake("w " + Arrays.toString(bad.shape()), Expected.invalid(Status.INVALID_SIZE, "w"),
                    () -> p.forward(f.x, bad, f.bias, f.y, f.saved, f.ws));
        });
        all.add(() -> {
            Tensor bad = t.chance(0.5) ? f.sentinel(offByOne(t, p.biasShape(), 0)) : f.sentinel(p.filters(), 1);
            return new Mistake("bias " + Arrays.toString(bad.shape()), Expected.invalid(Status.INVALID_SIZE, "bias"),
                    () -> p.forward(f.x, f.w, bad, f.y, f.saved, f.ws));
        });
        all.add(() -> {
            int axis = t.between(0, p.outputShape(n).length - 1);
            long[] shape = offByOne(t, p.outputShape(n), axis);
            Tensor bad = f.sentinel(shape);
            return new Mistake("y " + Arrays.toString(shape), Expected.invalid(Status.INVALID_SIZE, "y"),
                    () -> p.forward(f.x, f.w, f.bias, bad, f.saved, f.ws));
        });
        // Too-small buffers.
        if (p.workspaceBytes() > 0) {
            all.add(() -> {
                long shortBy = t.between(1, (int) Math.min(64, p.workspaceBytes()));
                Workspace small = Workspace.wrap(f.ws.segment().asSlice(0, p.workspaceBytes() - shortBy));
                return new Mistake("workspace " + shortBy + " bytes short", Expected.invalid(Status.BUFFER_TOO_SMALL, "workspace"),
                        t.chance(0.5) ? () -> p.forward(f.x, f.w, f.bias, f.y, f.saved, small)
                                : () -> p.backward(f.saved, f.w, f.dy, f.dx, f.dw, f.db, small));
            });
        }
        all.add(() -> {
            long shortBy = t.between(1, 64);
            SavedSpectra small = SavedSpectra.wrap(f.saved.segment().asSlice(0, p.savedSpectraBytes() - shortBy));
            return new Mistake("saved " + shortBy + " bytes short", Expected.invalid(Status.BUFFER_TOO_SMALL, "saved"),
                    t.chance(0.5) ? () -> p.forward(f.x, f.w, f.bias, f.y, small, f.ws)
                            : () -> p.backward(small, f.w, f.dy, f.dx, f.dw, f.db, f.ws));
        });
        // Memory the native core cannot take: heap, misaligned, read-only outputs, closed arenas and buffers.
        all.add(() -> {
            String name = t.oneOf("x", "w", "y", "dy", "dx", "dw");
            long[] shape = switch (name) {
                case "x", "dx" -> p.inputShape(n);
                case "w", "dw" -> p.weightShape();
                default -> p.outputShape(n);
            };
            float[] values = new float[(int) Tensor.elementCount(shape)];
            Arrays.fill(values, 1.25f);
            MemorySegment heap = MemorySegment.ofArray(values);
            f.watch(heap);
            Tensor bad = Tensor.wrap(heap, shape);
            return new Mistake("heap " + name, Expected.invalid(Status.INVALID_ARGUMENT, name), call(f, name, bad));
        });
        all.add(() -> {
            String name = t.oneOf("saved", "workspace");
            long bytes = name.equals("saved") ? p.savedSpectraBytes() : Math.max(1, p.workspaceBytes());
            MemorySegment heap = MemorySegment.ofArray(new byte[(int) bytes]);
            f.watch(heap);
            return new Mistake("heap " + name, Expected.invalid(Status.INVALID_ARGUMENT, name), name.equals("saved")
                    ? () -> p.forward(f.x, f.w, f.bias, f.y, SavedSpectra.wrap(heap), f.ws)
                    : () -> p.infer(f.x, f.w, f.bias, f.y, Workspace.wrap(heap)));
        });
        all.add(() -> {
            String name = t.oneOf("x", "w", "y", "dy", "dx", "dw", "db");
            Tensor good = tensorNamed(f, name);
            long offset = t.between(1, 3);
            MemorySegment raw = f.arena.allocate(good.byteSize() + 4, 64);
            TestSupport.fillSentinel(raw);
            f.watch(raw);
            Tensor bad = Tensor.wrap(raw.asSlice(offset, good.byteSize()), good.shape());
            return new Mistake(name + " misaligned by " + offset, Expected.invalid(Status.INVALID_ARGUMENT, name),
                    call(f, name, bad));
        });
        all.add(() -> {
            String name = t.oneOf("y", "dx", "dw", "db");
            Tensor bad = Tensor.wrap(tensorNamed(f, name).segment().asReadOnly(), tensorNamed(f, name).shape());
            return new Mistake("read-only " + name, Expected.invalid(Status.INVALID_ARGUMENT, name), call(f, name, bad));
        });
        all.add(() -> {
            String name = t.oneOf("x", "w", "y", "dy", "dx", "dw", "db", "saved", "workspace");
            Arena gone = t.chance(0.5) ? Arena.ofConfined() : Arena.ofShared();
            Executable e;
            if (name.equals("saved")) {
                SavedSpectra s = p.allocateSavedSpectra(gone);
                e = () -> p.forward(f.x, f.w, f.bias, f.y, s, f.ws);
            } else if (name.equals("workspace")) {
                Workspace ws = p.allocateWorkspace(gone);
                e = () -> p.backward(f.saved, f.w, f.dy, f.dx, f.dw, f.db, ws);
            } else {
                Tensor dead = Tensor.allocate(gone, tensorNamed(f, name).shape());
                e = call(f, name, dead);
            }
            gone.close();
            return new Mistake(name + " in a closed arena", Expected.thrown(IllegalStateException.class, name), e);
        });
        all.add(() -> {
            // A buffer tensor of a CPU context (host memory: the plan takes it while the buffer is open).
            String name = t.oneOf("x", "y", "dx");
            Tensor good = tensorNamed(f, name);
            Executable e;
            try (ExecutionContext cpu = ExecutionContext.builder(Backend.CPU).build()) {
                DeviceBuffer buffer = cpu.allocate(good.byteSize());
                Tensor view = Tensor.wrap(buffer, good.shape());
                buffer.close();
                e = call(f, name, view);
            }
            return new Mistake(name + " over a closed DeviceBuffer", Expected.thrown(IllegalStateException.class, name), e);
        });
        // Overlaps.
        all.add(() -> {
            // y starts inside x: the last 4k bytes of x are the first of y.
            long xBytes = f.x.byteSize(), yBytes = f.y.byteSize();
            long shared = 4L * t.between(1, (int) (Math.min(xBytes, yBytes) / 4));
            MemorySegment both = f.arena.allocate(xBytes + yBytes, 64);
            MemorySegment.copy(f.x.segment(), 0, both, 0, xBytes);
            f.watch(both);
            Tensor xs = Tensor.wrap(both.asSlice(0, xBytes), f.x.shape());
            Tensor ys = Tensor.wrap(both.asSlice(xBytes - shared, yBytes), f.y.shape());
            return new Mistake("y overlapping x", Expected.invalid(Status.INVALID_ARGUMENT, "y"),
                    () -> p.forward(xs, f.w, f.bias, ys, f.saved, f.ws));
        });
        all.add(() -> {
            Tensor overW = Tensor.wrap(f.dw.segment(), f.dw.shape());
            String pair = t.oneOf("dx over dy", "dw over w", "db over saved", "dx over dw");
            return switch (pair) {
                case "dx over dy" -> {
                    MemorySegment both = f.arena.allocate(f.dy.byteSize() + f.dx.byteSize(), 64);
                    MemorySegment.copy(f.dy.segment(), 0, both, 0, f.dy.byteSize());
                    f.watch(both);
                    Tensor dys = Tensor.wrap(both.asSlice(0, f.dy.byteSize()), f.dy.shape());
                    Tensor dxs = Tensor.wrap(both.asSlice(f.dy.byteSize() - 4), f.dx.shape());
                    yield new Mistake(pair, Expected.invalid(Status.INVALID_ARGUMENT, "dx"),
                            () -> p.backward(f.saved, f.w, dys, dxs, f.dw, f.db, f.ws));
                }
                case "dw over w" -> new Mistake(pair, Expected.invalid(Status.INVALID_ARGUMENT, "dw"),
                        () -> p.backward(f.saved, overW, f.dy, f.dx, f.dw, f.db, f.ws));
                case "db over saved" -> new Mistake(pair, Expected.invalid(Status.INVALID_ARGUMENT, "db"),
                        () -> p.backward(f.saved, f.w, f.dy, f.dx, f.dw,
                                Tensor.wrap(f.saved.segment().asSlice(4L * t.between(0, 15)), p.biasShape()), f.ws));
                default -> {
                    MemorySegment both = f.arena.allocate(f.dx.byteSize() + f.dw.byteSize(), 64);
                    f.watch(both);
                    Tensor dxs = Tensor.wrap(both.asSlice(0, f.dx.byteSize()), f.dx.shape());
                    Tensor dws = Tensor.wrap(both.asSlice(f.dx.byteSize() - 4), f.dw.shape());
                    yield new Mistake(pair, Expected.invalid(Status.INVALID_ARGUMENT, "dx"),
                            () -> p.backward(f.saved, f.w, f.dy, dxs, dws, f.db, f.ws));
                }
            };
        });
        // Shapes of the backward.
        all.add(() -> {
            String name = t.oneOf("dy", "dx", "dw", "db");
            long[] good = tensorNamed(f, name).shape();
            int axis = name.equals("db") ? 0 : t.between(name.equals("dy") || name.equals("dx") ? 1 : 0, good.length - 1);
            Tensor bad = f.sentinel(offByOne(t, good, axis));
            return new Mistake(name + " " + Arrays.toString(bad.shape()), Expected.invalid(Status.INVALID_SIZE, name),
                    call(f, name, bad));
        });
        all.add(() -> {
            Tensor bad = f.sentinel(p.outputShape(maxBatch + t.between(1, 2)));
            return new Mistake("dy batch " + bad.dim(0), Expected.invalid(Status.INVALID_BATCH, "dy"),
                    () -> p.backward(f.saved, f.w, bad, null, f.dw, null, f.ws));
        });
        // Saved spectra that no forward of this plan and batch wrote.
        all.add(() -> {
            String kind = t.oneOf("zeros", "random bytes", "a flipped header byte");
            MemorySegment s = f.arena.allocate(p.savedSpectraBytes(), 64);
            switch (kind) {
                case "zeros" -> s.fill((byte) 0);
                case "random bytes" -> {
                    for (long i = 0; i < s.byteSize(); i++) s.set(ValueLayout.JAVA_BYTE, i, (byte) t.random().nextInt());
                }
                default -> {
                    // The header's fields are its first 48 bytes (cpp/core/backend.h SavedHeader); the
                    // rest of its 64-byte slot is padding that nothing reads.
                    MemorySegment.copy(f.saved.segment(), 0, s, 0, s.byteSize());
                    long at = t.between(0, 47);
                    s.set(ValueLayout.JAVA_BYTE, at, (byte) (s.get(ValueLayout.JAVA_BYTE, at) ^ t.between(1, 255)));
                }
            }
            f.watch(s);
            SavedSpectra bad = SavedSpectra.wrap(s);
            return new Mistake("saved: " + kind, Expected.invalid(Status.INVALID_SAVED_SPECTRA, "saved"),
                    t.chance(0.5) ? () -> p.backward(bad, f.w, f.dy, f.dx, f.dw, f.db, f.ws)
                            : () -> p.backwardWeights(bad, f.dy, f.dw, f.db));
        });
        if (maxBatch > 1) {
            all.add(() -> {
                long other = n == 1 ? t.between(2, (int) maxBatch) : n - 1;
                SavedSpectra s = p.allocateSavedSpectra(f.arena);
                Tensor xo = Tensor.allocate(f.arena, p.inputShape(other));
                xo.segment().fill((byte) 0x3f);  // 0x3f3f3f3f = 0.75: finite, any box
                p.forward(xo, f.w, null, Tensor.allocate(f.arena, p.outputShape(other)), s, f.ws);
                f.watch(s.segment());
                return new Mistake("saved of a forward of batch " + other, Expected.invalid(Status.INVALID_SAVED_SPECTRA, "saved"),
                        () -> p.backward(s, f.w, f.dy, f.dx, f.dw, f.db, f.ws));
            });
        }
        all.add(() -> {
            // The other spectra mode: a different plan signature, whatever the compression.
            SpectraMode otherMode = p.spectraMode() == SpectraMode.INPUT_ONLY ? SpectraMode.INPUT_AND_WEIGHT
                    : SpectraMode.INPUT_ONLY;
            ConvPlan other = f.c.geom().builder().compression(f.c.compression()).spectraMode(otherMode).build(f.arena);
            SavedSpectra s = SavedSpectra.wrap(f.arena.allocate(Math.max(other.savedSpectraBytes(), p.savedSpectraBytes()), 64));
            other.forward(f.x, f.w, null, Tensor.allocate(f.arena, other.outputShape(n)), s, other.allocateWorkspace(f.arena));
            f.watch(s.segment());
            return new Mistake("saved of a plan in " + otherMode, Expected.invalid(Status.INVALID_SAVED_SPECTRA, "saved"),
                    () -> p.backward(s, f.w, f.dy, f.dx, f.dw, f.db, f.ws));
        });
        // Nulls.
        all.add(() -> {
            String name = t.oneOf("x", "w", "y", "workspace", "saved", "dy");
            Executable e = switch (name) {
                case "x" -> () -> p.forward(null, f.w, f.bias, f.y, f.saved, f.ws);
                case "w" -> () -> p.infer(f.x, null, f.bias, f.y, f.ws);
                case "y" -> () -> p.forward(f.x, f.w, f.bias, null, f.saved, f.ws);
                case "workspace" -> () -> p.infer(f.x, f.w, f.bias, f.y, null);
                case "saved" -> () -> p.backward(null, f.w, f.dy, f.dx, f.dw, f.db, f.ws);
                default -> () -> p.backward(f.saved, f.w, null, f.dx, f.dw, f.db, f.ws);
            };
            return new Mistake("null " + name, Expected.thrown(NullPointerException.class, name + " must not be null"), e);
        });
        if (p.spectraMode() == SpectraMode.INPUT_ONLY) {
            all.add(() -> new Mistake("INPUT_ONLY dx without w", Expected.thrown(NullPointerException.class, "w must not be null"),
                    () -> p.backward(f.saved, null, f.dy, f.dx, null, null, f.ws)));
        }
        return all.get(t.random().nextInt(all.size())).get();
    }

    private static Tensor tensorNamed(Fixture f, String name) {
        return switch (name) {
            case "x" -> f.x;
            case "w" -> f.w;
            case "y" -> f.y;
            case "dy" -> f.dy;
            case "dx" -> f.dx;
            case "dw" -> f.dw;
            case "db" -> f.db;
            default -> throw new IllegalArgumentException(name);
        };
    }

    /** The call that passes {@code bad} as argument {@code name} and the fixture's buffers as the rest. */
    private static Executable call(Fixture f, String name, Tensor bad) {
        ConvPlan p = f.plan;
        return switch (name) {
            case "x" -> () -> p.forward(bad, f.w, f.bias, f.y, f.saved, f.ws);
            case "w" -> () -> p.infer(f.x, bad, f.bias, f.y, f.ws);
            case "y" -> () -> p.forward(f.x, f.w, f.bias, bad, f.saved, f.ws);
            case "dy" -> () -> p.backward(f.saved, f.w, bad, f.dx, f.dw, f.db, f.ws);
            case "dx" -> () -> p.backward(f.saved, f.w, f.dy, bad, f.dw, f.db, f.ws);
            case "dw" -> () -> p.backward(f.saved, f.w, f.dy, f.dx, bad, f.db, f.ws);
            case "db" -> () -> p.backward(f.saved, f.w, f.dy, f.dx, f.dw, bad, f.ws);
            default -> throw new IllegalArgumentException(name);
        };
    }

    // ----------------------------------------------------------------------------------------
    // Plan creation
    // ----------------------------------------------------------------------------------------

    @TestFactory
    Stream<DynamicTest> aBadPlanIsRefusedAndLeaksNothing() {
        return PropertyRuns.tries("bad plan", 300, t -> {
            Reference.Geom g = ConvCases.geometry(t);
            long nativeBytes = Bandlimit.allocatedBytes();
            List<Supplier<Mistake>> all = new ArrayList<>();
            // A size field of zero or below.
            all.add(() -> {
                long bad = t.oneOf(0L, -1L, -(long) t.between(2, 1000), Long.MIN_VALUE, -t.random().nextLong(1, Long.MAX_VALUE));
                String[] fields = g.is1d() ? new String[] {"max_batch", "channels", "filters", "length", "kernel", "stride"}
                        : new String[] {"max_batch", "channels", "filters", "height", "width", "kernel_height", "kernel_width",
                                "stride_h", "stride_w"};
                String field = t.oneOf(fields);
                return new Mistake(field + " = " + bad, Expected.invalid(Status.INVALID_SIZE, field), () -> {
                    try (Arena a = Arena.ofConfined()) {
                        withField(g.builder(), g, field, bad).build(a);
                    }
                });
            });
            // A kernel larger than the padded input.
            all.add(() -> {
                String field = g.is1d() ? "kernel" : t.oneOf("kernel_height", "kernel_width");
                long padded = field.equals("kernel_height") ? g.Hp() : g.Wp();
                long kernel = padded + t.between(1, 5);
                return new Mistake(field + " = " + kernel + " > padded " + padded, Expected.invalid(Status.INVALID_SIZE, field),
                        () -> {
                            try (Arena a = Arena.ofConfined()) {
                                withField(g.builder(), g, field, kernel).build(a);
                            }
                        });
            });
            // Padding below zero, and vertical padding on a 1D plan.
            all.add(() -> {
                long bad = t.oneOf(-1L, -(long) t.between(2, 100), Long.MIN_VALUE);
                int side = t.between(0, 3);
                return new Mistake("padding side " + side + " = " + bad, Expected.invalid(Status.INVALID_SIZE, "padding"),
                        () -> Padding.of(side == 0 ? bad : 0, side == 1 ? bad : 0, side == 2 ? bad : 0, side == 3 ? bad : 0));
            });
            if (g.is1d()) {
                all.add(() -> new Mistake("1D plan with vertical padding", Expected.invalid(Status.INVALID_SIZE, "padding"), () -> {
                    try (Arena a = Arena.ofConfined()) {
                        g.builder().padding(Padding.of(t.between(0, 2), 1, g.pl(), g.pr())).build(a);
                    }
                }));
            }
            // Rates and fractions: NaN, infinities, out of range.
            all.add(() -> {
                boolean energy = t.chance(0.5);
                double bad = energy
                        ? t.oneOf(0.0, -0.0, -t.random().nextDouble(), 1 + Math.ulp(1.0), 1 + t.random().nextDouble() * 100,
                                Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY)
                        : t.oneOf(1.0, -Double.MIN_VALUE, -t.random().nextDouble(), 1 + t.random().nextDouble() * 100, Double.NaN,
                                Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.MAX_VALUE);
                return new Mistake((energy ? "energy " : "rho ") + bad, Expected.invalid(Status.INVALID_COMPRESSION, "compression"),
                        () -> g.builder().compression(energy ? Compression.energy(bad) : Compression.fixed(bad)));
            });
            // Sizes whose products overflow 64 bits. Powers of two: their FFT lengths are found at once.
            all.add(() -> {
                String which = t.oneOf("padded size", "weight elements", "tensor elements", "spectrum");
                Supplier<ConvPlan.Builder> b = switch (which) {
                    case "padded size" -> () -> g.is1d()
                            ? g.builder().length(Long.MAX_VALUE - t.between(0, 1)).padding(Padding.of1d(2, 1))
                            : g.builder().input(g.H(), Long.MAX_VALUE - t.between(0, 1)).padding(Padding.of(0, 0, 1, 2));
                    case "weight elements" -> () -> {
                        int a = t.between(32, 40);
                        return g.builder().channels(1L << a).filters(1L << (66 - a));
                    };
                    case "tensor elements" -> () -> {
                        int a = t.between(22, 40);
                        return g.builder().maxBatch(1L << a).channels(1L << (66 - a));
                    };
                    default -> () -> g.is1d() ? g.builder().channels(1L << 40).length(1L << 30)
                            : g.builder().input(1L << t.between(32, 40), 1L << t.between(32, 40));
                };
                return new Mistake("overflowing " + which, Expected.invalid(Status.SIZE_OVERFLOW, "overflow"), () -> {
                    try (Arena a = Arena.ofConfined()) {
                        b.get().build(a);
                    }
                });
            });
            // The spatial product where the CPU backend cannot run it.
            if (!ConvCases.spatialAllowed(g)) {
                all.add(() -> new Mistake("SPATIAL product on " + g, Expected.thrown(UnsupportedFeatureException.class,
                        "options.product"), () -> {
                            try (Arena a = Arena.ofConfined()) {
                                g.builder().product(Product.SPATIAL).build(a);
                            }
                        }));
            }
            // The other kind's setters.
            all.add(() -> new Mistake("a " + (g.is1d() ? "2D" : "1D") + " setter", Expected.thrown(IllegalStateException.class,
                    g.is1d() ? "for 2D plans" : "for 1D plans"), () -> {
                        if (g.is1d()) {
                            g.builder().kernel(3, 3);
                        } else {
                            g.builder().length(7);
                        }
                    }));
            Mistake m = all.get(t.random().nextInt(all.size())).get();
            t.note("plan: " + g + "; mistake: " + m.what());
            Throwable thrown = assertThrows(m.expected().type(), m.call(), m.what());
            String message = String.valueOf(thrown.getMessage());
            if (thrown instanceof InvalidArgumentException iae) {
                assertEquals(m.expected().status(), iae.status(), message);
                if (m.expected().status() == Status.SIZE_OVERFLOW) {
                    assertFalse(iae.argument().isBlank(), "an overflow names the argument at fault: " + message);
                } else {
                    assertEquals(m.expected().argument(), iae.argument(), message);
                }
            }
            assertTrue(message.contains(m.expected().argument()), "the message names " + m.expected().argument() + ": " + message);
            assertEquals(nativeBytes, Bandlimit.allocatedBytes(), "a refused plan leaked native memory");
        });
    }

    /** {@code b} with the geometry's size {@code field} replaced by {@code value}. */
    private static ConvPlan.Builder withField(ConvPlan.Builder b, Reference.Geom g, String field, long value) {
        return switch (field) {
            case "max_batch" -> b.maxBatch(value);
            case "channels" -> b.channels(value);
            case "filters" -> b.filters(value);
            case "length" -> b.length(value);
            case "kernel" -> b.kernel(value);
            case "stride" -> b.stride(value);
            case "height" -> b.input(value, g.W());
            case "width" -> b.input(g.H(), value);
            case "kernel_height" -> b.kernel(value, g.KW());
            case "kernel_width" -> b.kernel(g.KH(), value);
            case "stride_h" -> b.stride(value, g.sw());
            case "stride_w" -> b.stride(g.sh(), value);
            default -> throw new IllegalArgumentException(field);
        };
    }

    // ----------------------------------------------------------------------------------------
    // Closed plans
    // ----------------------------------------------------------------------------------------

    @TestFactory
    Stream<DynamicTest> aClosedPlanRefusesEveryCall() {
        return PropertyRuns.tries("closed plan", 60, t -> {
            ConvCases.Case c = ConvCases.of(t, ConvCases.geometry(t), false);
            long nativeBytes = Bandlimit.allocatedBytes();
            try (Fixture f = new Fixture(c)) {
                boolean byArena = t.chance(0.5);
                Arena planArena = Arena.ofShared();
                ConvPlan closed = c.builder().build(planArena);
                Workspace ws = closed.allocateWorkspace(f.arena);
                SavedSpectra saved = closed.allocateSavedSpectra(f.arena);
                closed.forward(f.x, f.w, null, f.y, saved, ws);
                if (t.chance(0.5)) closed.infer(f.x, f.w, null, f.y);  // creates its shared workspace too
                f.watch(saved.segment(), ws.segment());
                if (byArena) planArena.close(); else closed.close();
                t.note("closed by " + (byArena ? "its arena" : "close()"));
                assertTrue(closed.isClosed());
                List<Executable> calls = List.of(
                        () -> closed.forward(f.x, f.w, null, f.y, saved, ws),
                        () -> closed.forward(f.x, f.w, null, f.y, saved),
                        () -> closed.infer(f.x, f.w, null, f.y, ws),
                        () -> closed.infer(f.x, f.w, null, f.y),
                        () -> closed.infer(c.x(), c.w(), null),
                        () -> closed.backward(saved, f.w, f.dy, f.dx, f.dw, f.db, ws),
                        () -> closed.backward(saved, f.w, f.dy, f.dx, f.dw, f.db),
                        () -> closed.backwardData(saved, f.w, f.dy, f.dx),
                        () -> closed.backwardWeights(saved, f.dy, f.dw, f.db),
                        () -> closed.rateOf(closed.box()),
                        () -> closed.flops(Pass.FORWARD, 1),
                        () -> closed.allocateWorkspace(f.arena),
                        () -> closed.allocateSavedSpectra(f.arena));
                int which = t.random().nextInt(calls.size());
                t.note("call #" + which);
                f.snapshot();
                Throwable e = assertThrows(IllegalStateException.class, calls.get(which));
                assertTrue(e.getMessage().contains("closed"), e.getMessage());
                f.assertUntouched("call #" + which + " on a closed plan");
                closed.close();  // harmless again
                if (!byArena) planArena.close();  // the arena's cleanup must not destroy it twice
                f.assertStillUsable();  // another plan of the same layer is unaffected
            }
            assertEquals(nativeBytes, Bandlimit.allocatedBytes(), "the closed plans were not released exactly once");
        });
    }

    // ----------------------------------------------------------------------------------------
    // The DeviceBuffer overloads and tensor views
    // ----------------------------------------------------------------------------------------

    /**
     * The execute overloads on {@link DeviceBuffer}s (here a CPU context's, host memory) and the
     * tensor views of segments and buffers: a batch out of range, a buffer one to 64 bytes short,
     * a missing buffer, a view larger than its memory or at a bad offset each throw naming the
     * argument; no buffer's bytes change and the plan still gives its bits.
     */
    @TestFactory
    Stream<DynamicTest> theBufferOverloadsAndViewsCheckTheirArguments() {
        return PropertyRuns.tries("buffer overloads", 80, t -> {
            ConvCases.Case c = ConvCases.of(t, ConvCases.geometry(t), false);
            try (Fixture f = new Fixture(c); ExecutionContext cpu = ExecutionContext.builder(Backend.CPU).build()) {
                ConvPlan p = f.plan;
                long n = f.n();
                long xBytes = 4 * Tensor.elementCount(p.inputShape(n)), wBytes = 4 * Tensor.elementCount(p.weightShape()),
                        yBytes = 4 * Tensor.elementCount(p.outputShape(n));
                String kind = t.oneOf("short buffer", "batch", "null", "view");
                java.util.Map<String, Long> need = java.util.Map.of("x", xBytes, "w", wBytes, "y", yBytes, "dy", yBytes,
                        "saved", p.savedSpectraBytes(), "workspace", Math.max(1, p.workspaceBytes()));
                // A buffer 1 to 64 bytes short of its need (never below the 1 byte a buffer has).
                String shortName = !kind.equals("short buffer") ? ""
                        : p.workspaceBytes() > 1 ? t.oneOf("x", "w", "y", "saved", "workspace", "dy")
                        : t.oneOf("x", "w", "y", "saved", "dy");
                long shortBy = shortName.isEmpty() ? 0 : Math.min(t.between(1, 64), need.get(shortName) - 1);
                java.util.Map<String, DeviceBuffer> buffers = new java.util.HashMap<>();
                for (var e : need.entrySet()) {
                    long bytes = e.getKey().equals(shortName) ? e.getValue() - shortBy : e.getValue();
                    DeviceBuffer b = cpu.allocate(bytes);
                    byte[] pattern = new byte[(int) bytes];
                    for (int i = 0; i < pattern.length; i++) pattern[i] = (byte) (i * 37 + 11);
                    try (Arena tmp = Arena.ofConfined()) {
                        MemorySegment host = tmp.allocate(bytes);
                        MemorySegment.copy(pattern, 0, host, ValueLayout.JAVA_BYTE, 0, pattern.length);
                        b.copyFrom(host);
                    }
                    buffers.put(e.getKey(), b);
                }
                try {
                    DeviceBuffer x = buffers.get("x"), w = buffers.get("w"), y = buffers.get("y"), dy = buffers.get("dy"),
                            saved = buffers.get("saved"), ws = buffers.get("workspace");
                    t.note("mistake: " + kind + (kind.equals("short buffer") ? " " + shortName + " by " + shortBy : ""));
                    Expected expected;
                    Executable call;
                    switch (kind) {
                        case "short buffer" -> {
                            expected = Expected.invalid(Status.BUFFER_TOO_SMALL, shortName);
                            call = shortName.equals("dy")
                                    ? () -> p.backward(n, saved, w, dy, null, null, null, ws)
                                    : () -> p.forward(n, x, w, null, y, saved, ws);
                        }
                        case "batch" -> {
                            long bad = t.oneOf(0L, -1L, p.maxBatch() + t.between(1, 3), Long.MIN_VALUE);
                            expected = Expected.invalid(Status.INVALID_BATCH, "n");
                            call = t.chance(0.5) ? () -> p.forward(bad, x, w, null, y, null, ws)
                                    : () -> p.backward(bad, saved, w, dy, null, null, null, ws);
                        }
                        case "null" -> {
                            String name = t.oneOf("x", "w", "y", "workspace");
                            expected = Expected.thrown(NullPointerException.class, name + " must not be null");
                            call = switch (name) {
                                case "x" -> () -> p.forward(n, null, w, null, y, null, ws);
                                case "w" -> () -> p.forward(n, x, null, null, y, null, ws);
                                case "y" -> () -> p.forward(n, x, w, null, null, null, ws);
                                default -> () -> p.forward(n, x, w, null, y, null, null);
                            };
                        }
                        default -> {
                            DeviceBuffer b = buffers.get(t.oneOf("x", "y"));
                            if (t.chance(0.5)) {
                                long[] tooBig = {b.bytes() / 4 + t.between(1, 4)};
                                expected = Expected.invalid(Status.BUFFER_TOO_SMALL, "buffer");
                                call = () -> Tensor.wrap(b, tooBig);
                            } else if (t.chance(0.5)) {
                                long offset = t.oneOf(-4L, (long) t.between(1, 3), Long.MIN_VALUE);
                                expected = Expected.invalid(Status.INVALID_ARGUMENT, "byteOffset");
                                call = () -> Tensor.wrapAt(b, offset, 1);
                            } else {
                                MemorySegment seg = f.arena.allocate(b.bytes());
                                long[] tooBig = {seg.byteSize() / 4 + t.between(1, 4)};
                                expected = Expected.invalid(Status.BUFFER_TOO_SMALL, "segment");
                                call = () -> Tensor.wrap(seg, tooBig);
                            }
                        }
                    }
                    java.util.Map<String, float[]> before = new java.util.HashMap<>();
                    for (var e : buffers.entrySet()) before.put(e.getKey(), e.getValue().toFloats((int) (e.getValue().bytes() / 4)));
                    f.snapshot();
                    assertThrowsExpected(expected, call);
                    for (var e : buffers.entrySet()) {
                        assertArrayEquals(before.get(e.getKey()), e.getValue().toFloats((int) (e.getValue().bytes() / 4)),
                                e.getKey() + " was written");
                    }
                    f.assertUntouched(kind);
                    f.assertStillUsable();
                } finally {
                    for (DeviceBuffer b : buffers.values()) b.close();
                }
            }
        });
    }

    // ----------------------------------------------------------------------------------------
    // Memory of another backend
    // ----------------------------------------------------------------------------------------

    /**
     * Device memory where host memory is expected, and host memory for a device plan: only a
     * device context makes the mistake possible (a CPU context's buffers are host memory, which a
     * CPU plan takes), so this runs where CUDA is available and is reported skipped elsewhere.
     */
    @Test
    void deviceMemoryIsRefusedByAHostPlanAndTheReverse() {
        Assumptions.assumeTrue(Backend.CUDA.isAvailable(), () -> "no CUDA device here: " + Backend.CUDA.unavailableReason());
        PropertyRuns.Try t = new PropertyRuns.Try(PropertyRuns.RUN_SEED);
        ConvCases.Case c = ConvCases.of(t, ConvCases.geometry(t), false);
        try (ExecutionContext gpu = ExecutionContext.builder(Backend.CUDA).build(); Fixture f = new Fixture(c);
                DeviceBuffer buffer = gpu.allocate(Math.max(f.x.byteSize(), f.y.byteSize()))) {
            Tensor deviceX = Tensor.wrap(buffer, f.x.shape());
            f.snapshot();
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                    () -> f.plan.forward(deviceX, f.w, null, f.y, f.saved, f.ws));
            assertEquals("x", e.argument(), e.getMessage());
            f.assertUntouched("device x for a host plan");
            try (Arena a = Arena.ofConfined(); ConvPlan onGpu = c.builder().context(gpu).build(a)) {
                DeviceBuffer w = gpu.allocate(f.w.byteSize()), y = gpu.allocate(f.y.byteSize()),
                        ws = gpu.allocate(Math.max(1, onGpu.workspaceBytes()));
                try (w; y; ws) {
                    InvalidArgumentException h = assertThrows(InvalidArgumentException.class,
                            () -> onGpu.infer(f.x, Tensor.wrap(w, f.w.shape()), null, Tensor.wrap(y, f.y.shape()),
                                    Workspace.wrap(ws)));
                    assertEquals("x", h.argument(), h.getMessage());
                }
            }
            f.assertStillUsable();
        }
    }
}
