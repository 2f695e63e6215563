package dev.bandlimit.nn;

import dev.bandlimit.Box;
import dev.bandlimit.Compression;
import dev.bandlimit.DeviceBuffer;
import dev.bandlimit.ExecutionContext;
import dev.bandlimit.ConvPlan;
import dev.bandlimit.Flops;
import dev.bandlimit.Padding;
import dev.bandlimit.Pass;
import dev.bandlimit.SavedSpectra;
import dev.bandlimit.Tensor;
import dev.bandlimit.Workspace;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What {@link Conv2d} and {@link Conv1d} share below {@link ConvLayer}: the cache of native plans
 * and the op that runs one, with its backward.
 *
 * <p>A plan fixes the input size, the compression and the largest batch, none of which the
 * layer knows when it is built, so plans are made on first use, one per (compression, input
 * size, training or evaluation), each in its own shared arena together with its workspace. A
 * batch larger than the cached plan's gets a new plan sized for it, which replaces the old one.
 *
 * <p>The cache is bounded (like PyTorch's cuFFT plan cache): at most {@link #capacity()} plans,
 * least recently used first out; a plan replaced by a larger batch leaves the same way. Leaving
 * the cache is not always the end of a plan: a training forward records a backward that runs
 * the plan later, on the saved spectra (and with the workspace) of that forward, and the tape
 * may meanwhile run other forwards of this layer that evict the plan (another input size, a
 * larger batch, in the same step). So every training forward pins its plan until its tape
 * closes, the last forward's plan is pinned for {@link #lastPlan}, {@link #lastFlops} and
 * {@link #lastAchievedRate}, and an evicted plan's arena is closed when its last pin goes: at
 * once when nothing holds it, else when the last tape that used it closes (or when the layer
 * closes, which ends everything).
 *
 * <p>Concurrency: evaluation forwards of one layer may run on several threads at once (the
 * package documentation's contract); training is one thread at a time. The cache, the pins and
 * what the last forward reports are guarded by this object's monitor, held only to look a plan up
 * (and to build one on a miss) and to release it, never during a native call. While a call runs,
 * its plan is held by a {@code running} count that neither eviction nor {@link #close()} closes
 * under it (the plan is closed when the count falls to zero). The cached workspace serves one
 * call at a time; a call that finds it taken runs with a workspace of its own for that call, so
 * the single-threaded path allocates nothing new and concurrent ones never share scratch memory.
 */
final class ConvCore {
    /**
     * Plans a layer keeps by default. A layer needs one per input size and mode it sees (a
     * fixed-size training loop with evaluation: two), so this leaves room for a few input sizes
     * while bounding the memory a variable-size workload pins (each plan holds its tables and a
     * workspace sized for its batch).
     */
    static final int DEFAULT_CAPACITY = 8;

    /**
     * Training and evaluation plans are kept apart even at the same compression: an evaluation
     * batch (often much larger) must not grow the training plan, whose saved-spectra buffer, which
     * every training step allocates, is sized for the plan's batch bound.
     */
    private record PlanKey(Compression compression, long height, long width, boolean training,
            @Nullable ExecutionContext device) {}

    /**
     * A plan, its workspace and the arena holding both; closed once evicted (or the layer closed)
     * and neither pinned nor running. Its counters and flags are guarded by the ConvCore's monitor.
     */
    private static final class CachedPlan {
        final Arena arena;
        final ConvPlan plan;
        final Workspace workspace;
        /** The workspace's buffer on a device tape's context; null on the host (it is in the arena). */
        final @Nullable DeviceBuffer workspaceBuffer;
        /** Holders that need the plan open: tapes with a recorded backward, and "last forward". */
        int pins;
        /** Native calls on the plan in progress, on any thread. */
        int running;
        /** Whether a running call has the cached workspace. */
        boolean workspaceTaken;
        boolean evicted;
        /** The layer was closed: close as soon as nothing runs, pinned or not. */
        boolean closeRequested;
        boolean closed;

        CachedPlan(Arena arena, ConvPlan plan, Workspace workspace, @Nullable DeviceBuffer workspaceBuffer) {
            this.arena = arena;
            this.plan = plan;
            this.workspace = workspace;
            this.workspaceBuffer = workspaceBuffer;
        }

        void closeNow() {
            if (closed) return;
            closed = true;
            if (workspaceBuffer != null) workspaceBuffer.close();
            arena.close();
        }
    }

    private final boolean conv1d;
    private final long inChannels, outChannels, kernelH, kernelW, stride;
    private final Padding padding;
    /** Access-ordered: the first entry is the least recently used. */
    private final LinkedHashMap<PlanKey, CachedPlan> plans = new LinkedHashMap<>(16, 0.75f, true);
    /** Evicted plans that are still pinned, closed by their last unpin or by {@link #close()}. */
    private final Set<CachedPlan> draining = Collections.newSetFromMap(new IdentityHashMap<>());
    private int capacity = DEFAULT_CAPACITY;
    private long maxPlanBytes = 0;  // ConvPlan.Builder.maxBytes: 0 is the library's default limit

    private @Nullable CachedPlan last;
    private @Nullable Box lastBox;
    private long lastBatch;
    private long lastSavedSpectraBytes;
    private boolean closed;

    ConvCore(boolean conv1d, long inChannels, long outChannels, long kernelH, long kernelW, Padding padding,
            long stride) {
        if (inChannels < 1 || outChannels < 1 || kernelH < 1 || kernelW < 1 || stride < 1) {
            throw new IllegalArgumentException("channels, kernel and stride must be >= 1");
        }
        this.conv1d = conv1d;
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernelH = kernelH;
        this.kernelW = kernelW;
        this.padding = Objects.requireNonNull(padding, "padding must not be null");
        this.stride = stride;
        if (conv1d && (padding.top() != 0 || padding.bottom() != 0)) {
            throw new IllegalArgumentException("a 1D convolution takes left/right padding only, got " + padding);
        }
    }

    /**
     * Runs the band-limited convolution of {@code x} with {@code w} (+ {@code b}) at
     * {@code compression}. Training tape: saves the compact spectra in the tape's arena and
     * records the backward, which computes dx only if {@code x} needs a gradient. Evaluation
     * tape: {@code infer}, nothing saved.
     */
    Var forward(Tape tape, Var x, Var w, @Nullable Var b, Compression compression) {
        tape.checkInput(x, "x");
        long[] s = x.value().shape();
        int rank = conv1d ? 3 : 4;
        if (s.length != rank || s[1] != inChannels) {
            throw new IllegalArgumentException((conv1d ? "Conv1d" : "Conv2d") + " expects input [N, " + inChannels
                    + (conv1d ? ", L]" : ", H, W]") + ", got " + Arrays.toString(s));
        }
        long start = System.nanoTime();
        long batch = s[0];
        CachedPlan cached;
        boolean cachedWorkspace;
        synchronized (this) {
            if (closed) throw new IllegalStateException("the convolution layer is closed");
            cached = planFor(compression, conv1d ? 1 : s[2], s[rank - 1], batch, tape.training(), tape.device());
            cachedWorkspace = begin(cached);
        }
        ConvPlan plan = cached.plan;
        Box box;
        long savedBytes;
        Var out;
        try {
            Tensor y = tape.allocateUninitialized(plan.outputShape(batch)); // the native forward writes all of it
            Tensor bias = b == null ? null : b.value();
            out = tape.result(y, x, w, b);
            if (out.requiresGrad()) {
                // The backward runs the plan: keep it open until the tape is done with it.
                tape.onClose(() -> unpin(cached));
                synchronized (this) {
                    cached.pins++;
                }
                // The forward writes the whole buffer (header, then spectra): no need to zero it.
                SavedSpectra saved = DeviceMemory.saved(tape.device(),
                        tape.allocateBytesUninitialized(plan.savedSpectraBytes()));
                box = runWithWorkspace(cached, cachedWorkspace, tape,
                        ws -> plan.forward(x.value(), w.value(), bias, y, saved, ws));
                savedBytes = saved.byteSize();
                tape.onBackward(out, "conv.backward", () -> backward(tape, cached, saved, x, w, b, out));
            } else {
                box = runWithWorkspace(cached, cachedWorkspace, tape, ws -> plan.infer(x.value(), w.value(), bias, y, ws));
                savedBytes = 0;
            }
        } catch (RuntimeException | Error e) {
            // A pin taken above is the tape's to drop when it closes.
            synchronized (this) {
                end(cached, cachedWorkspace);
            }
            throw e;
        }
        synchronized (this) {
            // Pinned as the last plan before this call lets go of it: an eviction by another
            // thread meanwhile must not close what lastPlan() returns. A layer closed meanwhile
            // keeps no last plan.
            if (!closed) {
                setLast(cached);
                lastBox = box;
                lastBatch = batch;
                lastSavedSpectraBytes = savedBytes;
            }
            end(cached, cachedWorkspace);
        }
        OpTimers.record("conv.forward", System.nanoTime() - start);
        return out;
    }

    /** The recorded backward of a training forward: runs the plan that forward pinned. */
    private void backward(Tape tape, CachedPlan cached, SavedSpectra saved, Var x, Var w, @Nullable Var b, Var out) {
        boolean cachedWorkspace;
        synchronized (this) {
            if (cached.closed || cached.closeRequested) {
                throw new IllegalStateException("the convolution layer was closed before the backward of its forward ran");
            }
            cachedWorkspace = begin(cached);
        }
        try {
            Tensor dx = x.overwriteTarget();
            Tensor dw = w.overwriteTarget();
            Tensor db = b == null ? null : b.overwriteTarget();
            runWithWorkspace(cached, cachedWorkspace, tape, ws -> {
                cached.plan.backward(saved, w.value(), out.grad(), dx, dw, db, ws);
                return null;
            });
            x.finishOverwrite(dx);
            w.finishOverwrite(dw);
            if (b != null) b.finishOverwrite(db);
        } finally {
            synchronized (this) {
                end(cached, cachedWorkspace);
            }
        }
    }

    private interface PlanCall<T> {
        @Nullable T run(Workspace workspace);
    }

    /**
     * Runs {@code call} with the cached workspace when {@link #begin} gave it to this call, else with
     * one of its own: host memory in a confined arena, or a buffer of the tape's context, freed
     * after the call (only calls that overlap another call of the same plan pay for it).
     */
    private static <T> @Nullable T runWithWorkspace(CachedPlan cached, boolean cachedWorkspace, Tape tape,
            PlanCall<T> call) {
        if (cachedWorkspace) return call.run(cached.workspace);
        long bytes = Math.max(1, cached.plan.workspaceBytes());
        ExecutionContext device = tape.device();
        if (device == null) {
            try (Arena scratch = Arena.ofConfined()) {
                return call.run(Workspace.wrap(scratch.allocate(bytes, 64)));
            }
        }
        try (DeviceBuffer scratch = device.allocate(bytes)) {
            return call.run(Workspace.wrap(scratch));
        }
    }

    /** A call starts on {@code c} (under the monitor): holds it open; true when it takes the cached workspace. */
    private static boolean begin(CachedPlan c) {
        c.running++;
        if (c.workspaceTaken) return false;
        c.workspaceTaken = true;
        return true;
    }

    /** The call that {@link #begin} started is done (under the monitor). */
    private void end(CachedPlan c, boolean hadWorkspace) {
        if (hadWorkspace) c.workspaceTaken = false;
        c.running--;
        closeIfDone(c);
    }

    private CachedPlan planFor(Compression compression, long height, long width, long batch, boolean training,
            @Nullable ExecutionContext device) {
        PlanKey key = new PlanKey(compression, height, width, training, device);
        CachedPlan cached = plans.get(key); // a hit makes it the most recently used
        if (cached != null && cached.plan.maxBatch() >= batch) return cached;
        Arena arena = Arena.ofShared();
        CachedPlan fresh;
        try {
            ConvPlan.Builder builder = conv1d
                    ? ConvPlan.conv1d().length(width).kernel(kernelW)
                    : ConvPlan.conv2d().input(height, width).kernel(kernelH, kernelW);
            if (device != null) builder.context(device);  // a device tape: the plan runs where its tensors are
            ConvPlan plan = builder.maxBatch(batch).channels(inChannels).filters(outChannels).padding(padding)
                    .stride(stride).compression(compression).maxBytes(maxPlanBytes).build(arena);
            if (device == null) {
                fresh = new CachedPlan(arena, plan, plan.allocateWorkspace(arena), null);
            } else {
                DeviceBuffer ws = device.allocate(Math.max(1, plan.workspaceBytes()));
                fresh = new CachedPlan(arena, plan, Workspace.wrap(ws), ws);
            }
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
        CachedPlan replaced = plans.put(key, fresh);
        if (replaced != null) evict(replaced); // too small a batch bound
        trimTo(capacity);
        return fresh;
    }

    /** Evicts least recently used plans until at most {@code size} remain. */
    private void trimTo(int size) {
        Iterator<CachedPlan> it = plans.values().iterator();
        while (plans.size() > size && it.hasNext()) {
            CachedPlan eldest = it.next();
            it.remove();
            evict(eldest);
        }
    }

    private void evict(CachedPlan c) {
        c.evicted = true;
        draining.add(c);
        closeIfDone(c);
    }

    private synchronized void unpin(CachedPlan c) {
        c.pins--;
        closeIfDone(c);
    }

    /** Closes {@code c} once nothing runs it and it is evicted and unpinned, or the layer was closed. */
    private void closeIfDone(CachedPlan c) {
        if (c.closed || c.running > 0) return;
        if (c.closeRequested || (c.evicted && c.pins == 0)) {
            draining.remove(c);
            c.closeNow();
        }
    }

    private void setLast(CachedPlan c) {
        if (last == c) return;
        c.pins++;
        CachedPlan previous = last;
        last = c;
        if (previous != null) unpin(previous);
    }

    /** The most plans kept; see {@link #DEFAULT_CAPACITY}. */
    synchronized int capacity() {
        return capacity;
    }

    /** Sets the bound, evicting least recently used plans beyond it (closed once no tape needs them). */
    synchronized void setCapacity(int newCapacity) {
        if (newCapacity < 1) throw new IllegalArgumentException("plan cache capacity must be >= 1, got " + newCapacity);
        capacity = newCapacity;
        trimTo(newCapacity);
    }

    /** The byte limit of the plans built from now on ({@link dev.bandlimit.ConvPlan.Builder#maxBytes}). */
    synchronized long maxPlanBytes() {
        return maxPlanBytes;
    }

    synchronized void setMaxPlanBytes(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("maxPlanBytes must be >= 0 (0: the default limit), got " + bytes);
        maxPlanBytes = bytes;
    }

    /** Plans in the cache now (not counting evicted ones that a pending backward still holds). */
    synchronized int size() {
        return plans.size();
    }

    synchronized @Nullable Box lastBox() {
        return lastBox;
    }

    synchronized double lastAchievedRate() {
        return requireLast().plan.rateOf(lastBox);
    }

    synchronized long lastSavedSpectraBytes() {
        return lastSavedSpectraBytes;
    }

    synchronized Flops lastFlops(Pass pass) {
        return requireLast().plan.flops(pass, lastBatch, lastBox);
    }

    /** The plan the last forward used. */
    synchronized ConvPlan lastPlan() {
        return requireLast().plan;
    }

    private CachedPlan requireLast() {
        if (last == null) throw new IllegalStateException("no forward has run yet (or the layer is closed)");
        return last;
    }

    /**
     * Closes every plan, cached or draining, at once, or, for a plan that a call on another
     * thread is running, when that call ends; a tape closed later finds nothing left to release.
     */
    synchronized void close() {
        closed = true;
        List<CachedPlan> all = new ArrayList<>(plans.values());
        all.addAll(draining);
        plans.clear();
        draining.clear();
        for (CachedPlan c : all) {
            c.closeRequested = true;
            draining.add(c);
            closeIfDone(c);
        }
        last = null;
    }
}
