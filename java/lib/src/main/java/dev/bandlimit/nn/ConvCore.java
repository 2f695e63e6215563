package dev.bandlimit.nn;

import dev.bandlimit.Box;
import dev.bandlimit.Compression;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What {@link Conv2d} and {@link Conv1d} share: the cache of native plans and the op that runs
 * one, with its backward.
 *
 * <p>A plan fixes the input size, the compression and the largest batch, none of which the
 * layer knows when it is built, so plans are made on first use, one per (compression, input
 * size, training or evaluation), each in its own shared arena together with its workspace. A batch larger than the
 * cached plan's gets a new plan sized for it; the old one is retired, not closed, because a
 * tape still open may hold spectra saved by it for its backward. Retired plans are released
 * with the layer.
 */
final class ConvCore {
    /**
     * Training and evaluation plans are kept apart even at the same compression: an evaluation
     * batch (often much larger) must not grow the training plan, whose saved-spectra buffer, which
     * every training step allocates, is sized for the plan's batch bound.
     */
    private record PlanKey(Compression compression, long height, long width, boolean training) {}

    private record CachedPlan(Arena arena, ConvPlan plan, Workspace workspace) {}

    private final boolean conv1d;
    private final long inChannels, outChannels, kernelH, kernelW, stride;
    private final Padding padding;
    private final Map<PlanKey, CachedPlan> plans = new HashMap<>();
    private final List<CachedPlan> retired = new ArrayList<>();

    private ConvPlan lastPlan;
    private Box lastBox;
    private long lastBatch;
    private long lastSavedSpectraBytes;

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
    Var forward(Tape tape, Var x, Var w, Var b, Compression compression) {
        tape.checkInput(x, "x");
        long[] s = x.value().shape();
        int rank = conv1d ? 3 : 4;
        if (s.length != rank || s[1] != inChannels) {
            throw new IllegalArgumentException((conv1d ? "Conv1d" : "Conv2d") + " expects input [N, " + inChannels
                    + (conv1d ? ", L]" : ", H, W]") + ", got " + Arrays.toString(s));
        }
        long start = System.nanoTime();
        long batch = s[0];
        CachedPlan cached = planFor(compression, conv1d ? 1 : s[2], s[rank - 1], batch, tape.training());
        ConvPlan plan = cached.plan();
        Tensor y = tape.allocateUninitialized(plan.outputShape(batch)); // the native forward writes all of it
        Tensor bias = b == null ? null : b.value();
        Var out = tape.result(y, x, w, b);
        Box box;
        if (out.requiresGrad()) {
            // The forward writes the whole buffer (header, then spectra): no need to zero it.
            SavedSpectra saved = SavedSpectra.wrap(tape.allocateBytesUninitialized(plan.savedSpectraBytes()));
            box = plan.forward(x.value(), w.value(), bias, y, saved, cached.workspace());
            lastSavedSpectraBytes = saved.byteSize();
            tape.onBackward(out, "conv.backward", () -> {
                Tensor dx = x.overwriteTarget();
                Tensor dw = w.overwriteTarget();
                Tensor db = b == null ? null : b.overwriteTarget();
                plan.backward(saved, w.value(), out.grad(), dx, dw, db, cached.workspace());
                x.finishOverwrite(dx);
                w.finishOverwrite(dw);
                if (b != null) b.finishOverwrite(db);
            });
        } else {
            box = plan.infer(x.value(), w.value(), bias, y, cached.workspace());
            lastSavedSpectraBytes = 0;
        }
        lastPlan = plan;
        lastBox = box;
        lastBatch = batch;
        OpTimers.record("conv.forward", System.nanoTime() - start);
        return out;
    }

    private CachedPlan planFor(Compression compression, long height, long width, long batch, boolean training) {
        PlanKey key = new PlanKey(compression, height, width, training);
        CachedPlan cached = plans.get(key);
        if (cached != null && cached.plan().maxBatch() >= batch) return cached;
        if (cached != null) retired.add(cached);
        Arena arena = Arena.ofShared();
        try {
            ConvPlan.Builder builder = conv1d
                    ? ConvPlan.conv1d().length(width).kernel(kernelW)
                    : ConvPlan.conv2d().input(height, width).kernel(kernelH, kernelW);
            ConvPlan plan = builder.maxBatch(batch).channels(inChannels).filters(outChannels).padding(padding)
                    .stride(stride).compression(compression).build(arena);
            CachedPlan fresh = new CachedPlan(arena, plan, plan.allocateWorkspace(arena));
            plans.put(key, fresh);
            return fresh;
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    Box lastBox() {
        return lastBox;
    }

    double lastAchievedRate() {
        if (lastPlan == null) throw new IllegalStateException("no forward has run yet");
        return lastPlan.rateOf(lastBox);
    }

    long lastSavedSpectraBytes() {
        return lastSavedSpectraBytes;
    }

    Flops lastFlops(Pass pass) {
        if (lastPlan == null) throw new IllegalStateException("no forward has run yet");
        return lastPlan.flops(pass, lastBatch, lastBox);
    }

    /** The plan the last forward used (null before the first). */
    ConvPlan lastPlan() {
        return lastPlan;
    }

    void close() {
        for (CachedPlan c : plans.values()) c.arena().close();
        for (CachedPlan c : retired) c.arena().close();
        plans.clear();
        retired.clear();
        lastPlan = null;
    }
}
