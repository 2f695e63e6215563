package dev.bandlimit;

import dev.bandlimit.internal.MemoryChecks;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The checks a plan runs on the arguments of an execute call before the native call, so that a
 * mistake is reported with the Java name of the argument and nothing is written: presence,
 * batch, shapes against the plan's {@link ConvGeometry}, off-heap and 4-byte-aligned memory that
 * is still alive, writable outputs, buffers large enough, and outputs that share memory with no
 * other argument. (The geometry itself is the native core's to check, when the plan is built.)
 */
final class ShapeChecks {
    private ShapeChecks() {}

    /** Checks a forward's arguments ({@code saved} null: inference); returns the batch. */
    static long forward(ConvGeometry g, long savedSpectraBytes, long workspaceBytes, @Nullable Tensor x,
            @Nullable Tensor w, @Nullable Tensor bias, @Nullable Tensor y, @Nullable SavedSpectra saved,
            @Nullable Workspace workspace) {
        long n = batchOf(g, x, "x");
        Tensor input = tensor("x", x, g.inputShape(n), false);
        Tensor weights = tensor("w", w, g.weightShape(), false);
        if (bias != null) tensor("bias", bias, g.biasShape(), false);
        Tensor output = tensor("y", y, g.outputShape(n), true);
        disjoint("y", output.segment(), "x", input.segment());
        disjoint("y", output.segment(), "w", weights.segment());
        if (bias != null) disjoint("y", output.segment(), "bias", bias.segment());
        if (saved != null) {
            MemorySegment s = buffer("saved", saved.segment(), savedSpectraBytes);
            disjoint("saved", s, "x", input.segment());
            disjoint("saved", s, "w", weights.segment());
            disjoint("saved", s, "y", output.segment());
        }
        workspace(workspace, workspaceBytes);
        return n;
    }

    /**
     * Checks a backward's arguments; {@code w} is required when {@code dx} is wanted and
     * {@code weightsNeededForDx} (the plan saved only the input spectra). Returns the batch.
     */
    static long backward(ConvGeometry g, long savedSpectraBytes, long workspaceBytes, boolean weightsNeededForDx,
            @Nullable SavedSpectra saved, @Nullable Tensor w, @Nullable Tensor dy, @Nullable Tensor dx,
            @Nullable Tensor dw, @Nullable Tensor db, @Nullable Workspace workspace) {
        Objects.requireNonNull(saved, "saved must not be null");
        long n = batchOf(g, dy, "dy");
        Tensor outputGradient = tensor("dy", dy, g.outputShape(n), false);
        if (dx != null && weightsNeededForDx) {
            Objects.requireNonNull(w, "w must not be null: SpectraMode.INPUT_ONLY recomputes its spectra");
        }
        if (w != null) tensor("w", w, g.weightShape(), false);
        if (dx != null) tensor("dx", dx, g.inputShape(n), true);
        if (dw != null) tensor("dw", dw, g.weightShape(), true);
        if (db != null) tensor("db", db, g.biasShape(), true);
        MemorySegment savedSegment = buffer("saved", saved.segment(), savedSpectraBytes);
        workspace(workspace, workspaceBytes);
        @Nullable Tensor[] outputs = {dx, dw, db};
        String[] outputNames = {"dx", "dw", "db"};
        for (int i = 0; i < outputs.length; i++) {
            Tensor out = outputs[i];
            if (out == null) continue;
            MemorySegment o = out.segment();
            disjoint(outputNames[i], o, "dy", outputGradient.segment());
            disjoint(outputNames[i], o, "saved", savedSegment);
            if (w != null) disjoint(outputNames[i], o, "w", w.segment());
            for (int j = i + 1; j < outputs.length; j++) {
                Tensor other = outputs[j];
                if (other != null) disjoint(outputNames[i], o, outputNames[j], other.segment());
            }
        }
        return n;
    }

    private static long batchOf(ConvGeometry g, @Nullable Tensor t, String name) {
        Objects.requireNonNull(t, name + " must not be null");
        long n = t.dim(0);
        if (n < 1 || n > g.maxBatch()) {
            throw new InvalidArgumentException(Status.INVALID_BATCH, name,
                    name + " has batch " + n + ", the plan allows 1.." + g.maxBatch());
        }
        return n;
    }

    private static Tensor tensor(String name, @Nullable Tensor t, long[] expected, boolean output) {
        Objects.requireNonNull(t, name + " must not be null");
        segment(name, t.segment(), output);
        if (!Arrays.equals(t.shape(), expected)) {
            throw new InvalidArgumentException(Status.INVALID_SIZE, name,
                    name + " has shape " + Arrays.toString(t.shape()) + ", the plan expects " + Arrays.toString(expected));
        }
        return t;
    }

    private static void segment(String name, MemorySegment s, boolean output) {
        MemoryChecks.segment(name, s, output);
    }

    private static MemorySegment buffer(String name, MemorySegment s, long need) {
        return MemoryChecks.buffer(name, s, need, true);
    }

    private static void workspace(@Nullable Workspace workspace, long need) {
        Objects.requireNonNull(workspace, "workspace must not be null");
        buffer("workspace", workspace.segment(), need);
    }

    private static void disjoint(String outName, MemorySegment out, String inName, MemorySegment in) {
        if (out.asOverlappingSlice(in).isPresent()) {
            throw new InvalidArgumentException(Status.INVALID_ARGUMENT, outName,
                    outName + " overlaps " + inName + "; outputs must not share memory with other arguments");
        }
    }
}
