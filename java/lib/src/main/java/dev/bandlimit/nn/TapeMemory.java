package dev.bandlimit.nn;

import dev.bandlimit.DeviceBuffer;
import dev.bandlimit.ExecutionContext;
import java.lang.foreign.Arena;
import java.lang.ref.Cleaner;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
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
 * <p>One tape at a time: a tape opened while another holds this memory allocates on its own, so
 * one instance may be shared by threads (its methods are thread-safe). {@link Tape#Tape(boolean)}
 * uses a per-thread instance ({@link #ofCurrentThread()}), which keeps its memory until
 * {@link #close()} or until its thread has ended and the instance is garbage-collected (threads of
 * a pool that come and go leave no memory behind); pass your own to
 * {@link Tape#Tape(boolean, TapeMemory)} to control it (close it yourself: an instance of your
 * own is never freed by the garbage collector, as a tensor of one of its tapes may still be read).
 */
public final class TapeMemory implements AutoCloseable {
    private static final long ALIGNMENT = 64;
    private static final long MIN_BLOCK_BYTES = 1 << 20;
    private static final ThreadLocal<TapeMemory> PER_THREAD = ThreadLocal.withInitial(TapeMemory::perThread);
    /** Frees the blocks of per-thread pools whose thread has ended (see {@link #perThread}). */
    private static final Cleaner CLEANER = Cleaner.create();
    /** Bytes held by the live per-thread pools of all threads, for the tests. */
    private static final AtomicLong PER_THREAD_BYTES = new AtomicLong();

    /** A host block (its arena) or a block of a context's buffer memory (its buffer). */
    private record Block(@Nullable Arena arena, @Nullable DeviceBuffer buffer, MemorySegment segment) {
        void free() {
            if (arena != null) arena.close();
            if (buffer != null) buffer.close();
        }
    }

    /**
     * The blocks, apart from the pool so that the cleaner of a per-thread pool can free them
     * without reaching the pool (which must be unreachable for the cleaner to run). Its monitor
     * guards the pool's state too.
     */
    private static final class Blocks implements Runnable {
        final List<Block> list = new ArrayList<>();
        final boolean perThread;

        Blocks(boolean perThread) {
            this.perThread = perThread;
        }

        void add(Block b) {
            list.add(b);
            if (perThread) PER_THREAD_BYTES.addAndGet(b.segment().byteSize());
        }

        void freeAll() {
            for (Block b : list) {
                if (perThread) PER_THREAD_BYTES.addAndGet(-b.segment().byteSize());
                b.free();
            }
            list.clear();
        }

        /** The cleaner's action (or close()'s): frees every block. */
        @Override
        public synchronized void run() {
            freeAll();
        }
    }

    /** Null: host memory; else the context whose buffer memory the blocks are. */
    private final @Nullable ExecutionContext device;
    private final Blocks blocks;
    /** Frees the blocks of a per-thread pool once unreachable; null for the others. */
    private final Cleaner.@Nullable Cleanable cleanable;
    private long offsetInLast;
    private long usedBytes;
    private @Nullable Tape holder;
    private boolean closed;

    /** An empty pool of host memory; blocks are allocated as tapes need them. */
    public TapeMemory() {
        this(false);
    }

    private TapeMemory(boolean perThread) {
        this.device = null;
        this.blocks = new Blocks(perThread);
        // Only a per-thread pool may be freed by the collector: while its thread lives, the
        // thread-local keeps it reachable, and once the thread has ended no other thread can read
        // the memory of its tapes (their arenas are confined to it). A pool of the caller's could
        // be dropped while a tape of a live thread still reads it.
        this.cleanable = perThread ? CLEANER.register(this, blocks) : null;
    }

    private static TapeMemory perThread() {
        return new TapeMemory(true);
    }

    /** Bytes held by the per-thread pools ({@link #ofCurrentThread()}) of all threads: for the tests. */
    static long perThreadReservedBytes() {
        return PER_THREAD_BYTES.get();
    }

    /**
     * An empty pool of {@code device}'s buffer memory (device memory for CUDA), for
     * {@link Tape#on(ExecutionContext, boolean, TapeMemory)}: a device allocation is costly
     * (cudaMalloc synchronises the device), so keep one per training loop and close it before the
     * context.
     */
    public TapeMemory(ExecutionContext device) {
        this.device = Objects.requireNonNull(device, "device must not be null");
        this.blocks = new Blocks(false);
        this.cleanable = null;
    }

    /** The context whose buffer memory this pool holds, or null for host memory. */
    public @Nullable ExecutionContext device() {
        return device;
    }

    /** The calling thread's pool, used by {@link Tape#Tape(boolean)}. */
    public static TapeMemory ofCurrentThread() {
        TapeMemory m = PER_THREAD.get();
        if (m.isClosed()) {
            m = perThread();
            PER_THREAD.set(m);
        }
        return m;
    }

    private boolean isClosed() {
        synchronized (blocks) {
            return closed;
        }
    }

    /** Bytes held (free or in use). */
    public long reservedBytes() {
        synchronized (blocks) {
            long total = 0;
            for (Block b : blocks.list) total += b.segment().byteSize();
            return total;
        }
    }

    /** Returns the memory to the system. Refused while a tape holds it. Idempotent. */
    @Override
    public void close() {
        synchronized (blocks) {
            if (closed) return;
            if (holder != null) throw new IllegalStateException("a tape still uses this memory; close the tape first");
            closed = true;
            if (cleanable != null) {
                cleanable.clean();  // frees the blocks, once: the cleaner will not run again
            } else {
                blocks.freeAll();
            }
        }
    }

    /** Gives the memory to {@code tape} if nobody holds it; false otherwise. */
    boolean acquire(Tape tape) {
        synchronized (blocks) {
            if (closed || holder != null) return false;
            holder = tape;
            offsetInLast = 0;
            usedBytes = 0;
            return true;
        }
    }

    /** {@code bytes} of memory (not zeroed) scoped to {@code scope}, 64-byte aligned. */
    MemorySegment allocate(long bytes, Arena scope) {
        synchronized (blocks) {
            List<Block> list = blocks.list;
            long rounded = (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
            Block last = list.isEmpty() ? null : list.get(list.size() - 1);
            if (last == null || offsetInLast + rounded > last.segment().byteSize()) {
                // Only the last block is bumped; earlier ones are full for this tape.
                long size = Math.max(Math.max(rounded, MIN_BLOCK_BYTES), last == null ? 0 : 2 * last.segment().byteSize());
                if (last != null && usedBytes == 0) {
                    // Nothing handed out yet: replace rather than chain.
                    blocks.freeAll();
                }
                blocks.add(newBlock(size));
                offsetInLast = 0;
                last = list.get(list.size() - 1);
            }
            MemorySegment slice = last.segment().asSlice(offsetInLast, bytes);
            offsetInLast += rounded;
            usedBytes += rounded;
            return slice.reinterpret(scope, null);
        }
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
    void release(Tape tape) {
        synchronized (blocks) {
            if (holder != tape) return;
            holder = null;
            if (blocks.list.size() > 1) {
                long total = 0;
                for (Block b : blocks.list) total += b.segment().byteSize();
                blocks.freeAll();
                blocks.add(newBlock(total));
            }
            offsetInLast = 0;
            usedBytes = 0;
        }
    }
}
