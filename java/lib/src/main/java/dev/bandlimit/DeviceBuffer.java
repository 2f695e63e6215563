package dev.bandlimit;

import dev.bandlimit.internal.Native;
import dev.bandlimit.internal.ffm.BandlimitH;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A buffer in the memory of an execution context's backend ({@code bl_buffer_alloc}): device
 * memory of the context's device for CUDA, aligned host memory for the CPU. Its contents are not
 * addressable from Java (a device pointer read as host memory would take the JVM down), so data
 * moves through explicit copies: {@link #copyFrom(MemorySegment)}, {@link #copyTo(MemorySegment)}
 * and {@link #copyFrom(DeviceBuffer)}, each of which returns when the copy is complete and runs
 * after the work already queued in the context.
 *
 * <pre>{@code
 * try (ExecutionContext gpu = ExecutionContext.builder(Backend.CUDA).build();
 *      DeviceBuffer x = gpu.allocate(bytes)) {
 *     x.copyFrom(hostSegment);
 *     ...
 * }
 * }</pre>
 *
 * <p>Closing frees the memory (idempotent); any use after that throws
 * {@link IllegalStateException}. A buffer is not thread-safe: one thread at a time.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final ExecutionContext context;
    private final BufferMemory memory;  // the context's, read once: execute calls check it per buffer
    private final long bytes;
    // The native pointer, as a zero-length segment; null once closed (volatile, and close() is
    // synchronized: two threads closing one buffer free it once).
    private volatile MemorySegment address;
    /** Scopes the tensors that view this buffer: closed with it, so they cannot outlive the memory. */
    private final Arena views = Arena.ofShared();

    private DeviceBuffer(ExecutionContext context, BufferMemory memory, long bytes, MemorySegment address) {
        this.context = context;
        this.memory = memory;
        this.bytes = bytes;
        this.address = address;
    }

    /** Allocates {@code bytes} ({@code >= 1}) in the context's memory. */
    static DeviceBuffer allocate(ExecutionContext context, long bytes) {
        if (bytes < 1) throw new IllegalArgumentException("bytes must be >= 1, got " + bytes);
        Native.ensureLoaded();
        BufferMemory memory = context.bufferMemory();  // before allocating: nothing to leak if it throws
        // The buffer holds its context until it is closed: its memory is freed in that context,
        // and closing the context meanwhile must not free the handle under it.
        context.hold();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment out = call.allocate(ValueLayout.ADDRESS);
            context.callHeld(h -> BandlimitH.bl_buffer_alloc(h, bytes, out), "DeviceBuffer.allocate");
            return new DeviceBuffer(context, memory, bytes, out.get(ValueLayout.ADDRESS, 0));
        } catch (RuntimeException | Error e) {
            context.release();
            throw e;
        }
    }

    /** The buffer's size in bytes. */
    public long bytes() {
        return bytes;
    }

    /** Where the buffer lives. */
    public BufferMemory memory() {
        return memory;
    }

    /** Copies all of {@code host} (a native segment of at most {@link #bytes()}) to the start of this buffer. */
    public void copyFrom(MemorySegment host) {
        checkHost(host, "host");
        MemorySegment to = address();
        context.callHeld(h -> BandlimitH.bl_buffer_copy(h, to, host, host.byteSize(), BandlimitH.BL_COPY_HOST_TO_BUFFER()),
                "DeviceBuffer.copyFrom");
    }

    /** Copies {@code values} to the start of this buffer (through a temporary native segment). */
    public void copyFrom(float[] values) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment host = call.allocate(ValueLayout.JAVA_FLOAT, values.length);
            MemorySegment.copy(values, 0, host, ValueLayout.JAVA_FLOAT, 0, values.length);
            copyFrom(host);
        }
    }

    /** Fills all of {@code host} (a native segment of at most {@link #bytes()}) from the start of this buffer. */
    public void copyTo(MemorySegment host) {
        checkHost(host, "host");
        MemorySegment from = address();
        context.callHeld(h -> BandlimitH.bl_buffer_copy(h, host, from, host.byteSize(), BandlimitH.BL_COPY_BUFFER_TO_HOST()),
                "DeviceBuffer.copyTo");
    }

    /** The first {@code count} floats of this buffer. */
    public float[] toFloats(int count) {
        if (count < 0 || 4L * count > bytes) {
            throw new IllegalArgumentException("count must be in [0, " + bytes / 4 + "], got " + count);
        }
        try (Arena call = Arena.ofConfined()) {
            MemorySegment host = call.allocate(ValueLayout.JAVA_FLOAT, Math.max(1, count));
            if (count > 0) copyTo(host.asSlice(0, 4L * count));
            return host.asSlice(0, 4L * count).toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    /** Copies all of {@code source} (same context, at most {@link #bytes()}) to the start of this buffer. */
    public void copyFrom(DeviceBuffer source) {
        if (source == null) throw new NullPointerException("source");
        if (source.context != context) throw new IllegalArgumentException("source belongs to another ExecutionContext");
        if (source.bytes > bytes) {
            throw new IllegalArgumentException("source has " + source.bytes + " bytes, this buffer " + bytes);
        }
        MemorySegment to = address(), from = source.address();
        context.callHeld(h -> BandlimitH.bl_buffer_copy(h, to, from, source.bytes, BandlimitH.BL_COPY_BUFFER_TO_BUFFER()),
                "DeviceBuffer.copyFrom");
    }

    /** The context whose memory this is. */
    public ExecutionContext context() {
        return context;
    }

    /**
     * {@code length} bytes from {@code offset} as an address segment scoped to this buffer (for
     * buffer tensors: passed to native calls, never dereferenced by Java).
     */
    MemorySegment memory(long offset, long length) {
        return address().reinterpret(bytes, views, null).asSlice(offset, length);
    }

    /** The native pointer, for execute calls (never dereferenced on the Java side). */
    MemorySegment address() {
        if (address == null) throw new IllegalStateException("DeviceBuffer is closed");
        return address;
    }

    /** Frees the memory; idempotent. */
    @Override
    public synchronized void close() {
        if (address == null) return;
        MemorySegment p = address;
        address = null;
        views.close();
        try {
            context.callHeld(h -> BandlimitH.bl_buffer_free(h, p), "DeviceBuffer.close");
        } finally {
            context.release();
        }
    }

    @Override
    public String toString() {
        return "DeviceBuffer[" + bytes + " bytes" + (address == null ? ", closed" : "") + "]";
    }

    private void checkHost(MemorySegment host, String name) {
        if (host == null) throw new NullPointerException(name);
        address();  // open?
        if (!host.isNative()) {
            throw new IllegalArgumentException(name + " must be a native (off-heap) segment, got a heap segment");
        }
        if (host.byteSize() > bytes) {
            throw new IllegalArgumentException(name + " has " + host.byteSize() + " bytes, the buffer " + bytes);
        }
    }
}
