package dev.bandlimit;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.jspecify.annotations.Nullable;

/**
 * Scratch memory for execute calls (the native core allocates nothing while executing). One
 * workspace per concurrent caller: two threads may run one plan at once with two workspaces.
 * Allocate one with {@link ConvPlan#allocateWorkspace(Arena)}.
 */
public final class Workspace {
    private final MemorySegment segment;
    /** The context whose buffer memory holds it; null for host memory. */
    private final @Nullable ExecutionContext context;

    private Workspace(MemorySegment segment) {
        this(segment, null);
    }

    private Workspace(MemorySegment segment, @Nullable ExecutionContext context) {
        this.segment = segment;
        this.context = context;
    }

    /** workspace in {@code buffer} (a context's buffer memory: device memory for CUDA), no copy. */
    public static Workspace wrap(DeviceBuffer buffer) {
        if (buffer == null) throw new NullPointerException("buffer must not be null");
        return new Workspace(buffer.memory(0, buffer.bytes()), buffer.context());
    }

    /** Over the address segment of context buffer memory (the nn package's device tapes). */
    static Workspace onBuffer(ExecutionContext context, MemorySegment memory) {
        return new Workspace(memory, context);
    }

    /** The context whose buffer memory holds it, or null for host memory. */
    public @Nullable ExecutionContext context() {
        return context;
    }

    /** The memory (host, or the address of buffer memory), for native calls. */
    MemorySegment memory() {
        return segment;
    }

    /** Uses {@code segment} (off-heap, at least the plan's workspace bytes) as the workspace. */
    public static Workspace wrap(MemorySegment segment) {
        if (segment == null) throw new NullPointerException("segment must not be null");
        return new Workspace(segment);
    }

    static Workspace allocate(Arena arena, long bytes) {
        return new Workspace(arena.allocate(bytes, 64));
    }

    /** The memory. */
    public MemorySegment segment() {
        if (context != null) {
            throw new IllegalStateException("these workspace live in the buffer memory of " + context
                    + ", which Java does not address");
        }
        return segment;
    }

    /** Size in bytes. */
    public long byteSize() {
        return segment.byteSize();
    }
}
