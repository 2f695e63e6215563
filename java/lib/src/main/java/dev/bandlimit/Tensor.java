package dev.bandlimit;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A float32 tensor: memory with a shape, row-major (C-contiguous). The memory is the caller's;
 * plans read and write it in place, with no copy.
 *
 * <p>Two kinds of memory: host memory, a {@link MemorySegment} ({@link #segment()}; tensors
 * passed to a plan must be off-heap, allocated in an {@link Arena}; heap-backed tensors are
 * accepted here for convenience and rejected by the plan with an exception naming the
 * argument), and the buffer memory of an {@link ExecutionContext} (device memory for CUDA: a
 * view of a {@link DeviceBuffer} by {@link #wrap(DeviceBuffer, long...)}, or what a device
 * {@code nn} tape allocates). Java cannot address a buffer tensor's memory, so it has no
 * {@link #segment()}: its elements are read and written through copies ({@link #get(long)},
 * {@link #set(long, float)}, {@link #toArray()}, {@link #copyFrom(float[])},
 * {@link #copyFrom(Tensor)}), each of which waits for the work queued in its context.
 */
public final class Tensor {
    static {
        InternalBridge.register();
    }

    /** Host memory, or the native address of buffer memory (never dereferenced by Java then). */
    private final MemorySegment segment;
    /** The context whose buffer memory holds the elements; null for host memory. */
    private final @Nullable ExecutionContext context;
    private final long[] shape;
    private final long elementCount;

    private Tensor(MemorySegment segment, @Nullable ExecutionContext context, long[] shape, long elementCount) {
        this.segment = segment;
        this.context = context;
        this.shape = shape;
        this.elementCount = elementCount;
    }

    private Tensor(MemorySegment segment, long[] shape, long elementCount) {
        this(segment, null, shape, elementCount);
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

    /**
     * A tensor over the start of {@code buffer} (the buffer memory of its context: device memory
     * for CUDA), no copy; valid while the buffer is open.
     */
    public static Tensor wrap(DeviceBuffer buffer, long... shape) {
        return wrapAt(buffer, 0, shape);
    }

    /** A tensor over {@code buffer} from {@code byteOffset} (a multiple of 4), no copy. */
    public static Tensor wrapAt(DeviceBuffer buffer, long byteOffset, long... shape) {
        Objects.requireNonNull(buffer, "buffer must not be null");
        long count = elementCount(shape);
        long need = Math.multiplyExact(count, Float.BYTES);
        if (byteOffset < 0 || byteOffset % Float.BYTES != 0) {
            throw new InvalidArgumentException(Status.INVALID_ARGUMENT, "byteOffset",
                    "byteOffset must be a non-negative multiple of 4, got " + byteOffset);
        }
        if (byteOffset > buffer.bytes() - need) {
            throw new InvalidArgumentException(Status.BUFFER_TOO_SMALL, "buffer",
                    "buffer of " + buffer.bytes() + " bytes is too small for shape " + Arrays.toString(shape) + " ("
                            + need + " bytes) at offset " + byteOffset);
        }
        return new Tensor(buffer.memory(byteOffset, need), buffer.context(), shape.clone(), count);
    }

    /** A buffer tensor over {@code memory} (the address segment of context buffer memory, scoped). */
    static Tensor onBuffer(ExecutionContext context, MemorySegment memory, long... shape) {
        long count = elementCount(shape);
        if (memory.byteSize() < count * Float.BYTES) throw new IllegalArgumentException("memory too small for shape");
        return new Tensor(memory.asSlice(0, count * Float.BYTES), context, shape.clone(), count);
    }

    /**
     * The segment holding the elements (exactly {@code 4 * elementCount()} bytes) of a host
     * tensor.
     *
     * @throws IllegalStateException for a tensor in a context's buffer memory ({@link #context()}
     *     not null), which Java cannot address: copy it with {@link #toArray()} or
     *     {@link #copyFrom(Tensor)}
     */
    public MemorySegment segment() {
        if (context != null) {
            throw new IllegalStateException("this tensor lives in the " + context.bufferMemory()
                    + " buffer memory of " + context + ", which Java does not address: read it with toArray() or"
                    + " copy it into a host tensor with copyFrom(Tensor)");
        }
        return segment;
    }

    /** The context whose buffer memory holds this tensor, or null for host memory. */
    public @Nullable ExecutionContext context() {
        return context;
    }

    /** Whether the elements are in host memory that Java addresses ({@link #segment()} works). */
    public boolean isHost() {
        return context == null;
    }

    /**
     * The same elements with another shape of the same element count (a view, no copy), in the
     * same memory.
     */
    public Tensor reshape(long... newShape) {
        long count = elementCount(newShape);
        if (count != elementCount) {
            throw new InvalidArgumentException(Status.INVALID_SIZE, "shape", "cannot view " + elementCount
                    + " elements of shape " + Arrays.toString(shape) + " as " + Arrays.toString(newShape));
        }
        return new Tensor(segment, context, newShape.clone(), count);
    }

    /** The memory (host, or the address of buffer memory), for the library's native calls only. */
    MemorySegment memory() {
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

    /**
     * Element at flat (row-major) index {@code i}, whatever the rank; for a rank-1 tensor this is
     * also the element at index {@code i} of its one axis.
     *
     * @throws IndexOutOfBoundsException if {@code i} is outside {@code [0, elementCount())}
     */
    public float get(long i) {
        return read(flatIndex(i));
    }

    /**
     * Sets the element at flat (row-major) index {@code i}, whatever the rank (rank 1: index
     * {@code i} of the one axis).
     *
     * @throws IndexOutOfBoundsException if {@code i} is outside {@code [0, elementCount())}
     */
    public void set(long i, float value) {
        write(flatIndex(i), value);
    }

    // Multi-index access. Element (i, j, k, l) of a shape [d0, d1, d2, d3] is at the flat index
    // ((i * d1 + j) * d2 + k) * d3 + l (row-major). The fixed-rank overloads allocate nothing.

    /**
     * Element at {@code index}, one component per axis (row-major: the last axis varies fastest).
     *
     * @throws IllegalArgumentException if {@code index} does not have {@link #rank()} components
     * @throws IndexOutOfBoundsException if a component is outside {@code [0, dim(axis))}; the
     *     message names the axis
     */
    public float get(long... index) {
        return read(flatIndex(index));
    }

    /** Element {@code (i, j)} of a rank-2 tensor; see {@link #get(long...)}. */
    public float get(long i, long j) {
        requireRank(2);
        return read(axis(0, i) * shape[1] + axis(1, j));
    }

    /** Element {@code (i, j, k)} of a rank-3 tensor; see {@link #get(long...)}. */
    public float get(long i, long j, long k) {
        requireRank(3);
        return read((axis(0, i) * shape[1] + axis(1, j)) * shape[2] + axis(2, k));
    }

    /** Element {@code (i, j, k, l)} of a rank-4 tensor (e.g. {@code x[n][c][h][w]}); see {@link #get(long...)}. */
    public float get(long i, long j, long k, long l) {
        requireRank(4);
        return read(((axis(0, i) * shape[1] + axis(1, j)) * shape[2] + axis(2, k)) * shape[3] + axis(3, l));
    }

    /**
     * Sets the element at {@code index}, one component per axis. The value comes first (a
     * varargs index must be last); for a rank-1 tensor {@link #set(long, float)} is the
     * allocation-free form.
     *
     * @throws IllegalArgumentException if {@code index} does not have {@link #rank()} components
     * @throws IndexOutOfBoundsException if a component is outside {@code [0, dim(axis))}; the
     *     message names the axis
     */
    public void set(float value, long... index) {
        write(flatIndex(index), value);
    }

    /** Sets element {@code (i, j)} of a rank-2 tensor; see {@link #set(float, long...)}. */
    public void set(float value, long i, long j) {
        requireRank(2);
        write(axis(0, i) * shape[1] + axis(1, j), value);
    }

    /** Sets element {@code (i, j, k)} of a rank-3 tensor; see {@link #set(float, long...)}. */
    public void set(float value, long i, long j, long k) {
        requireRank(3);
        write((axis(0, i) * shape[1] + axis(1, j)) * shape[2] + axis(2, k), value);
    }

    /** Sets element {@code (i, j, k, l)} of a rank-4 tensor; see {@link #set(float, long...)}. */
    public void set(float value, long i, long j, long k, long l) {
        requireRank(4);
        write(((axis(0, i) * shape[1] + axis(1, j)) * shape[2] + axis(2, k)) * shape[3] + axis(3, l), value);
    }

    private float read(long flat) {
        if (context == null) return segment.getAtIndex(ValueLayout.JAVA_FLOAT, flat);
        try (Arena call = Arena.ofConfined()) {
            MemorySegment host = call.allocate(ValueLayout.JAVA_FLOAT);
            Buffers.copy(context, host, segment.asSlice(flat * Float.BYTES, Float.BYTES), Float.BYTES,
                    Buffers.TO_HOST, "Tensor.get");
            return host.get(ValueLayout.JAVA_FLOAT, 0);
        }
    }

    private void write(long flat, float value) {
        if (context == null) {
            segment.setAtIndex(ValueLayout.JAVA_FLOAT, flat, value);
            return;
        }
        try (Arena call = Arena.ofConfined()) {
            MemorySegment host = call.allocate(ValueLayout.JAVA_FLOAT);
            host.set(ValueLayout.JAVA_FLOAT, 0, value);
            Buffers.copy(context, segment.asSlice(flat * Float.BYTES, Float.BYTES), host, Float.BYTES,
                    Buffers.FROM_HOST, "Tensor.set");
        }
    }

    private long flatIndex(long i) {
        if (i < 0 || i >= elementCount) {
            throw new IndexOutOfBoundsException("flat index " + i + " is outside [0, " + elementCount + ") of the "
                    + elementCount + " elements of shape " + Arrays.toString(shape));
        }
        return i;
    }

    private long flatIndex(long[] index) {
        Objects.requireNonNull(index, "index must not be null");
        requireRank(index.length);
        long flat = 0;
        for (int axis = 0; axis < index.length; axis++) flat = flat * shape[axis] + axis(axis, index[axis]);
        return flat;
    }

    private void requireRank(int components) {
        if (components != shape.length) {
            throw new IllegalArgumentException("the index has " + components + " components, the tensor has rank "
                    + shape.length + " (shape " + Arrays.toString(shape) + ")");
        }
    }

    /** Returns {@code index} if it lies on {@code axis}; throws naming the axis otherwise. */
    private long axis(int axis, long index) {
        if (index < 0 || index >= shape[axis]) {
            throw new IndexOutOfBoundsException("index " + index + " on axis " + axis + " is outside [0, " + shape[axis]
                    + ") of shape " + Arrays.toString(shape));
        }
        return index;
    }

    /** Copies the elements into a new array (copies; from buffer memory after the context's queued work). */
    public float[] toArray() {
        if (context == null) return segment.toArray(ValueLayout.JAVA_FLOAT);
        try (Arena call = Arena.ofConfined()) {
            MemorySegment host = call.allocate(byteSize(), 64);
            Buffers.copy(context, host, segment, byteSize(), Buffers.TO_HOST, "Tensor.toArray");
            return host.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    /** Copies {@code data} into this tensor (copies). */
    public void copyFrom(float[] data) {
        if (data.length != elementCount) {
            throw new InvalidArgumentException(Status.INVALID_SIZE, "data",
                    "data has " + data.length + " elements, the tensor " + elementCount);
        }
        if (context == null) {
            MemorySegment.copy(data, 0, segment, ValueLayout.JAVA_FLOAT, 0, data.length);
            return;
        }
        try (Arena call = Arena.ofConfined()) {
            MemorySegment host = call.allocate(byteSize(), 64);
            MemorySegment.copy(data, 0, host, ValueLayout.JAVA_FLOAT, 0, data.length);
            Buffers.copy(context, segment, host, byteSize(), Buffers.FROM_HOST, "Tensor.copyFrom");
        }
    }

    /**
     * Copies the elements of {@code source} (same element count, any shape) into this tensor,
     * between any two memories: host to host, host to a context's buffer memory and back, or
     * within one context's buffer memory. Buffer tensors of two different contexts go through
     * the host.
     */
    public void copyFrom(Tensor source) {
        Objects.requireNonNull(source, "source must not be null");
        if (source.elementCount != elementCount) {
            throw new InvalidArgumentException(Status.INVALID_SIZE, "source", "source has " + source.elementCount
                    + " elements, the tensor " + elementCount);
        }
        long bytes = byteSize();
        if (context == null && source.context == null) {
            MemorySegment.copy(source.segment, 0, segment, 0, bytes);
        } else if (context == null) {
            requireNative(segment, "this tensor");
            Buffers.copy(source.context, segment, source.segment, bytes, Buffers.TO_HOST, "Tensor.copyFrom");
        } else if (source.context == null) {
            requireNative(source.segment, "source");
            Buffers.copy(context, segment, source.segment, bytes, Buffers.FROM_HOST, "Tensor.copyFrom");
        } else if (source.context == context) {
            Buffers.copy(context, segment, source.segment, bytes, Buffers.WITHIN, "Tensor.copyFrom");
        } else {
            copyFrom(source.toArray());
        }
    }

    private static void requireNative(MemorySegment s, String name) {
        if (!s.isNative()) {
            throw new InvalidArgumentException(Status.INVALID_ARGUMENT, name,
                    name + " is a heap tensor; copies to and from buffer memory need off-heap memory");
        }
    }

    @Override
    public String toString() {
        if (context != null) return "Tensor" + Arrays.toString(shape) + " (" + context.bufferMemory() + " buffer)";
        return "Tensor" + Arrays.toString(shape) + (segment.isNative() ? "" : " (heap)");
    }

    static long elementCount(long @Nullable [] shape) {
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
