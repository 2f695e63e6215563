package dev.bandlimit;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A float32 tensor: a {@link MemorySegment} with a shape, row-major (C-contiguous). The segment
 * is the caller's; plans read and write it in place, with no copy. Tensors passed to a plan
 * must be off-heap (allocated in an {@link Arena}); heap-backed tensors are accepted here for
 * convenience and rejected by the plan with an exception naming the argument.
 */
public final class Tensor {
    private final MemorySegment segment;
    private final long[] shape;
    private final long elementCount;

    private Tensor(MemorySegment segment, long[] shape, long elementCount) {
        this.segment = segment;
        this.shape = shape;
        this.elementCount = elementCount;
    }

    /** A zero-filled tensor of the given shape, allocated (64-byte aligned) in {@code arena}. */
    public static Tensor allocate(Arena arena, long... shape) {
        long count = elementCount(shape);
        MemorySegment segment = arena.allocate(Math.multiplyExact(count, Float.BYTES), 64);
        return new Tensor(segment, shape.clone(), count);
    }

    /** A tensor in {@code arena} holding a copy of {@code data} (copies: use it at the edges of a program). */
    public static Tensor copyOf(Arena arena, float[] data, long... shape) {
        long count = elementCount(shape);
        if (data.length != count) {
            throw new InvalidArgumentException(Status.INVALID_SIZE, "data",
                    "data has " + data.length + " elements, shape " + Arrays.toString(shape) + " needs " + count);
        }
        Tensor t = allocate(arena, shape);
        MemorySegment.copy(data, 0, t.segment, ValueLayout.JAVA_FLOAT, 0, data.length);
        return t;
    }

    /**
     * Views {@code segment} as a float32 tensor of {@code shape} (no copy). The segment must hold
     * at least {@code 4 * elements} bytes; extra bytes are ignored.
     */
    public static Tensor wrap(MemorySegment segment, long... shape) {
        return wrap(segment, ValueLayout.JAVA_FLOAT, shape);
    }

    /**
     * Views {@code segment} as a tensor whose elements have {@code layout}, which must be
     * {@code ValueLayout.JAVA_FLOAT} in the native byte order (the native core reads float32).
     */
    public static Tensor wrap(MemorySegment segment, ValueLayout layout, long... shape) {
        if (segment == null) throw new NullPointerException("segment must not be null");
        if (!(layout instanceof ValueLayout.OfFloat) || layout.order() != ByteOrder.nativeOrder()) {
            throw new InvalidArgumentException(Status.INVALID_ARGUMENT, "layout",
                    "layout must be ValueLayout.JAVA_FLOAT in native byte order, got " + layout);
        }
        long count = elementCount(shape);
        long need = Math.multiplyExact(count, Float.BYTES);
        if (segment.byteSize() < need) {
            throw new InvalidArgumentException(Status.BUFFER_TOO_SMALL, "segment",
                    "segment of " + segment.byteSize() + " bytes is too small for shape " + Arrays.toString(shape)
                            + " (" + need + " bytes)");
        }
        return new Tensor(segment.asSlice(0, need), shape.clone(), count);
    }

    /** The segment holding the elements (exactly {@code 4 * elementCount()} bytes). */
    public MemorySegment segment() {
        return segment;
    }

    /** A copy of the shape. */
    public long[] shape() {
        return shape.clone();
    }

    /** Extent of dimension {@code d}. */
    public long dim(int d) {
        return shape[d];
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** Number of elements (the product of the shape). */
    public long elementCount() {
        return elementCount;
    }

    /** Bytes of the elements. */
    public long byteSize() {
        return elementCount * Float.BYTES;
    }

    /** Element at flat (row-major) index {@code i}. */
    public float get(long i) {
        return segment.getAtIndex(ValueLayout.JAVA_FLOAT, i);
    }

    /** Sets the element at flat (row-major) index {@code i}. */
    public void set(long i, float value) {
        segment.setAtIndex(ValueLayout.JAVA_FLOAT, i, value);
    }

    /** Copies the elements into a new array (copies). */
    public float[] toArray() {
        return segment.toArray(ValueLayout.JAVA_FLOAT);
    }

    /** Copies {@code data} into this tensor (copies). */
    public void copyFrom(float[] data) {
        if (data.length != elementCount) {
            throw new InvalidArgumentException(Status.INVALID_SIZE, "data",
                    "data has " + data.length + " elements, the tensor " + elementCount);
        }
        MemorySegment.copy(data, 0, segment, ValueLayout.JAVA_FLOAT, 0, data.length);
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape) + (segment.isNative() ? "" : " (heap)");
    }

    static long elementCount(long[] shape) {
        if (shape == null || shape.length == 0) {
            throw new InvalidArgumentException(Status.INVALID_SIZE, "shape", "shape must have at least one dimension");
        }
        long count = 1;
        for (long d : shape) {
            if (d < 1) {
                throw new InvalidArgumentException(Status.INVALID_SIZE, "shape",
                        "shape " + Arrays.toString(shape) + " has a dimension < 1");
            }
            try {
                count = Math.multiplyExact(count, d);
                Math.multiplyExact(count, (long) Float.BYTES);
            } catch (ArithmeticException e) {
                throw new InvalidArgumentException(Status.SIZE_OVERFLOW, "shape",
                        "shape " + Arrays.toString(shape) + " overflows 64 bits");
            }
        }
        return count;
    }
}
