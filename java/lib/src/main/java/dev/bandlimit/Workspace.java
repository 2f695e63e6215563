package dev.bandlimit;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Scratch memory for execute calls (the native core allocates nothing while executing). One
 * workspace per concurrent caller: two threads may run one plan at once with two workspaces.
 * Allocate one with {@link ConvPlan#allocateWorkspace(Arena)}.
 */
public final class Workspace {
    private final MemorySegment segment;

    private Workspace(MemorySegment segment) {
        this.segment = segment;
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
        return segment;
    }

    /** Size in bytes. */
    public long byteSize() {
        return segment.byteSize();
    }
}
