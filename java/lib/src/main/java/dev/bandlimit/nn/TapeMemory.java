package dev.bandlimit.nn;

import dev.bandlimit.DeviceBuffer;
import dev.bandlimit.ExecutionContext;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Memory that successive tapes reuse (a caching allocator, like PyTorch's), so that a training
 * loop does not ask the system for fresh pages every step: a freshly allocated activation pays
 * first-touch page faults on its first write, reused memory does not. The gain grows with
 * activation sizes and with allocator pressure (figures in
 * docs/TRAINING.md, "Measurements behind the nn code").
 *
 * <p>A tape carves its allocations out of this memory with a bump pointer and gives each one the
 * scope of its own confined arena, so a tensor of a closed tape still cannot be read (it throws
 * {@link IllegalStateException}, as with unpooled memory). When the tape closes, the memory is
 * free for the next tape; if the tape needed more than one block, the blocks are merged into one
 * of the total size, so from the second step on a step of the same shapes allocates nothing.
 *
 * <p>One tape at a time: a tape opened while another holds this memory allocates on its own.
 * {@link Tape#Tape(boolean)} uses a per-thread instance ({@link #ofCurrentThread()}), which keeps
 * its memory until {@link #close()}; pass your own to {@link Tape#Tape(boolean, TapeMemory)} to
 * control it.
 */
public final class TapeMemory implements AutoCloseable {
    private static final long ALIGNMENT = 64;
    private static final long MIN_BLOCK_BYTES = 1 << 20;
    private static final ThreadLocal<TapeMemory> PER_THREAD = ThreadLocal.withInitial(TapeMemory::new);

    /** A host block (its arena) or a block of a context's buffer memory (its buffer). */
    private record Block(@Nullable Arena arena, @Nullable DeviceBuffer buffer, MemorySegment segment) {
        void free() {
            if (arena != null) arena.close();
            if (buffer != null) buffer.close();
        }
    }

    /** Null: host memory; else the context whose buffer memory the blocks are. */
    private final @Nullable ExecutionContext device;
    private final List<Block> blocks = new ArrayList<>();
    private long offsetInLast;
    private long usedBytes;
    private Tape holder;
    private boolean closed;

    /** An empty pool of host memory; blocks are allocated as tapes need them. */
    public TapeMemory() {
        this.device = null;
    }

    /**
     * An empty pool of {@code device}'s buffer memory (device memory for CUDA), for
     * {@link Tape#on(ExecutionContext, boolean, TapeMemory)}: a device allocation is costly
     * (cudaMalloc synchronises the device), so keep one per training loop and close it before the
     * context.
     */
    public TapeMemory(ExecutionContext device) {
        this.device = Objects.requireNonNull(device, "device must not be null");
    }

    /** The context whose buffer memory this pool holds, or null for host memory. */
    public @Nullable ExecutionContext device() {
        return device;
    }

    /** The calling thread's pool, used by {@link Tape#Tape(boolean)}. */
    public static TapeMemory ofCurrentThread() {
        TapeMemory m = PER_THREAD.get();
        if (m.closed) {
            m = new TapeMemory();
            PER_THREAD.set(m);
        }
        return m;
    }

    /** Bytes held (free or in use). */
    public synchronized long reservedBytes() {
        long total = 0;
        for (Block b : blocks) total += b.segment().byteSize();
        return total;
    }

    /** Returns the memory to the system. Refused while a tape holds it. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) return;
        if (holder != null) throw new IllegalStateException("a tape still uses this memory; close the tape first");
        closed = true;
        for (Block b : blocks) b.free();
        blocks.clear();
    }

    /** Gives the memory to {@code tape} if nobody holds it; false otherwise. */
    synchronized boolean acquire(Tape tape) {
        if (closed || holder != null) return false;
        holder = tape;
        offsetInLast = 0;
        usedBytes = 0;
        return true;
    }

    /** {@code bytes} of memory (not zeroed) scoped to {@code scope}, 64-byte aligned. */
    synchronized MemorySegment allocate(long bytes, Arena scope) {
        long rounded = (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        Block last = blocks.isEmpty() ? null : blocks.get(blocks.size() - 1);
        if (last == null || offsetInLast + rounded > last.segment().byteSize()) {
            // Only the last block is bumped; earlier ones are full for this tape.
            long size = Math.max(Math.max(rounded, MIN_BLOCK_BYTES), last == null ? 0 : 2 * last.segment().byteSize());
            if (last != null && usedBytes == 0) {
                // Nothing handed out yet: replace rather than chain.
                last.free();
                blocks.clear();
            }
            blocks.add(newBlock(size));
            offsetInLast = 0;
            last = blocks.get(blocks.size() - 1);
        }
        MemorySegment slice = last.segment().asSlice(offsetInLast, bytes);
        offsetInLast += rounded;
        usedBytes += rounded;
        return slice.reinterpret(scope, null);
    }

    private Block newBlock(long size) {
        if (device == null) {
            Arena arena = Arena.ofShared();
            return new Block(arena, null, arena.allocate(size, ALIGNMENT));
        }
        DeviceBuffer buffer = device.allocate(size);  // aligned to 256 bytes by the CUDA allocator, 64 on the CPU
        return new Block(null, buffer, DeviceMemory.of(buffer));
    }

    /** The tape is done: the memory is free again; several blocks become one of their total size. */
    synchronized void release(Tape tape) {
        if (holder != tape) return;
        holder = null;
        if (blocks.size() > 1) {
            long total = 0;
            for (Block b : blocks) {
                total += b.segment().byteSize();
                b.free();
            }
            blocks.clear();
            blocks.add(newBlock(total));
        }
        offsetInLast = 0;
        usedBytes = 0;
    }
}
