package dev.bandlimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Tensor's element access: flat and multi-index, row-major, rank- and bounds-checked. */
class TensorTest {

    /** Awkward extents: 1s, primes, a rank of each fixed-rank overload and one beyond (varargs only). */
    static List<long[]> shapes() {
        return List.of(new long[] {7}, new long[] {1, 1}, new long[] {3, 5}, new long[] {2, 1, 7},
                new long[] {2, 3, 5, 7}, new long[] {1, 3, 1, 2}, new long[] {2, 3, 1, 2, 3});
    }

    /** A tensor of {@code shape} holding 0, 1, 2, ... in flat order. */
    private static Tensor iota(Arena arena, long... shape) {
        Tensor t = Tensor.allocate(arena, shape);
        for (long i = 0; i < t.elementCount(); i++) t.set(i, i);
        return t;
    }

    /** Calls {@code visit} with every multi-index of {@code shape} in row-major order. */
    private static void forEachIndex(long[] shape, Consumer<long[]> visit) {
        long[] index = new long[shape.length];
        while (true) {
            visit.accept(index.clone());
            int axis = shape.length - 1;
            while (axis >= 0 && ++index[axis] == shape[axis]) index[axis--] = 0;
            if (axis < 0) return;
        }
    }

    /** The fixed-rank overload of {@code get} for the index's rank (rank 1: the flat get). */
    private static float getFixed(Tensor t, long[] i) {
        return switch (i.length) {
            case 1 -> t.get(i[0]);
            case 2 -> t.get(i[0], i[1]);
            case 3 -> t.get(i[0], i[1], i[2]);
            case 4 -> t.get(i[0], i[1], i[2], i[3]);
            default -> t.get(i);
        };
    }

    private static void setFixed(Tensor t, float value, long[] i) {
        switch (i.length) {
            case 1 -> t.set(i[0], value);
            case 2 -> t.set(value, i[0], i[1]);
            case 3 -> t.set(value, i[0], i[1], i[2]);
            case 4 -> t.set(value, i[0], i[1], i[2], i[3]);
            default -> t.set(value, i);
        }
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void multiIndexIsRowMajorAndMatchesTheFlatIndex(long[] shape) {
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = iota(arena, shape);
            long[] expectedFlat = {0};
            forEachIndex(shape, index -> {
                float flat = expectedFlat[0]++;
                assertEquals(flat, t.get(index), () -> "get(long...) at " + Arrays.toString(index));
                assertEquals(flat, getFixed(t, index), () -> "fixed-rank get at " + Arrays.toString(index));
            });
            assertEquals(t.elementCount(), expectedFlat[0], "every index visited once");
        }
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void setWritesTheElementThatTheFlatIndexNames(long[] shape) {
        try (Arena arena = Arena.ofConfined()) {
            Tensor byVarargs = Tensor.allocate(arena, shape);
            Tensor byFixed = Tensor.allocate(arena, shape);
            long[] flat = {0};
            forEachIndex(shape, index -> {
                float value = 0.5f + flat[0]++;
                byVarargs.set(value, index);
                setFixed(byFixed, value, index);
            });
            for (long i = 0; i < byVarargs.elementCount(); i++) {
                assertEquals(0.5f + i, byVarargs.get(i), "set(float, long...) at flat " + i);
                assertEquals(0.5f + i, byFixed.get(i), "fixed-rank set at flat " + i);
            }
        }
    }

    @Test
    void theRank4OverloadsReadAndWriteNchw() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor x = Tensor.allocate(arena, 2, 3, 4, 5);
            x.set(9f, 1, 2, 3, 4);
            assertEquals(9f, x.get(x.elementCount() - 1), "the last element");
            x.set(7f, 1, 0, 2, 1);
            assertEquals(7f, x.get(((1 * 3 + 0) * 4 + 2) * 5 + 1));
            assertEquals(7f, x.get(1, 0, 2, 1));
            assertEquals(7f, x.get(new long[] {1, 0, 2, 1}));
        }
    }

    @Test
    void anIndexOfTheWrongRankIsRejected() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Tensor.allocate(arena, 2, 3, 4);
            for (Runnable call : List.<Runnable>of(() -> t.get(0, 0), () -> t.get(0, 0, 0, 0), () -> t.get(new long[0]),
                    () -> t.get(0, 0, 0, 0, 0), () -> t.set(1f, 0, 0), () -> t.set(1f, 0, 0, 0, 0),
                    () -> t.set(1f, new long[] {0}), () -> t.set(1f, 0, 0, 0, 0, 0))) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
                assertTrue(e.getMessage().contains("rank 3"), e.getMessage());
                assertTrue(e.getMessage().contains("[2, 3, 4]"), e.getMessage());
            }
        }
    }

    @Test
    void anIndexBeyondAnAxisIsRejectedNamingTheAxis() {
        try (Arena arena = Arena.ofConfined()) {
            long[] shape = {2, 3, 4, 5};
            Tensor t = iota(arena, shape);
            for (int axis = 0; axis < shape.length; axis++) {
                for (long bad : new long[] {shape[axis], shape[axis] + 10, Long.MAX_VALUE}) {
                    long[] index = {1, 2, 3, 4};
                    index[axis] = bad;
                    expectOutOfRange(axis, bad, () -> t.get(index));
                    expectOutOfRange(axis, bad, () -> t.get(index[0], index[1], index[2], index[3]));
                    expectOutOfRange(axis, bad, () -> t.set(0f, index));
                    expectOutOfRange(axis, bad, () -> t.set(0f, index[0], index[1], index[2], index[3]));
                }
            }
            // The checks come before any write: nothing changed.
            for (long i = 0; i < t.elementCount(); i++) assertEquals((float) i, t.get(i));
        }
    }

    @Test
    void aNegativeIndexIsRejectedOnEveryAxis() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor t2 = Tensor.allocate(arena, 3, 5);
            Tensor t3 = Tensor.allocate(arena, 2, 1, 7);
            expectOutOfRange(0, -1, () -> t2.get(-1, 0));
            expectOutOfRange(1, -1, () -> t2.get(0, -1));
            expectOutOfRange(1, Long.MIN_VALUE, () -> t2.set(1f, 0, Long.MIN_VALUE));
            expectOutOfRange(0, -2, () -> t3.get(-2, 0, 0));
            expectOutOfRange(1, -1, () -> t3.set(1f, 0, -1, 0));
            expectOutOfRange(2, -7, () -> t3.get(new long[] {1, 0, -7}));
        }
    }

    @Test
    void theFlatIndexIsBoundsChecked() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Tensor.allocate(arena, 3, 5);
            for (long bad : new long[] {-1, 15, Long.MAX_VALUE}) {
                IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> t.get(bad));
                assertTrue(e.getMessage().contains("flat index " + bad) && e.getMessage().contains("[0, 15)"),
                        e.getMessage());
                assertThrows(IndexOutOfBoundsException.class, () -> t.set(bad, 1f));
            }
            // Rank 1: the flat index is the index of the one axis.
            Tensor v = iota(arena, 7);
            assertEquals(6f, v.get(6));
            assertEquals(6f, v.get(new long[] {6}));
            expectOutOfRange(0, 7, () -> v.get(new long[] {7}));
        }
    }

    private static void expectOutOfRange(int axis, long index, Runnable call) {
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, call::run);
        assertTrue(e.getMessage().contains("index " + index + " on axis " + axis), e.getMessage());
    }
}
