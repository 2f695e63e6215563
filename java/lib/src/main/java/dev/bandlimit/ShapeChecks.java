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
    static long forward(ConvGeometry g, BufferMemory memory, long savedSpectraBytes, long workspaceBytes, @Nullable Tensor x,
            @Nullable Tensor w, @Nullable Tensor bias, @Nullable Tensor y, @Nullable SavedSpectra saved,
            @Nullable Workspace workspace) {
        long n = batchOf(g, x, "x");
        Tensor input = tensor(memory, "x", x, g.inputShape(n), false);
        Tensor weights = tensor(memory, "w", w, g.weightShape(), false);
        if (bias != null) tensor(memory, "bias", bias, g.biasShape(), false);
        Tensor output = tensor(memory, "y", y, g.outputShape(n), true);
        disjoint("y", output.memory(), "x", input.memory());
        disjoint("y", output.memory(), "w", weights.memory());
        if (bias != null) disjoint("y", output.memory(), "bias", bias.memory());
        if (saved != null) {
            located(memory, "saved", saved.context());
            MemorySegment s = buffer("saved", saved.memory(), savedSpectraBytes);
            disjoint("saved", s, "x", input.memory());
            disjoint("saved", s, "w", weights.memory());
            disjoint("saved", s, "y", output.memory());
        }
        workspace(memory, workspace, workspaceBytes);
        return n;
    }

    /**
     * Checks a backward's arguments; {@code w} is required when {@code dx} is wanted and
     * {@code weightsNeededForDx} (the plan saved only the input spectra). Returns the batch.
     */
    static long backward(ConvGeometry g, BufferMemory memory, long savedSpectraBytes, long workspaceBytes,
            boolean weightsNeededForDx,
            @Nullable SavedSpectra saved, @Nullable Tensor w, @Nullable Tensor dy, @Nullable Tensor dx,
            @Nullable Tensor dw, @Nullable Tensor db, @Nullable Workspace workspace) {
        Objects.requireNonNull(saved, "saved must not be null");
        long n = batchOf(g, dy, "dy");
        Tensor outputGradient = tensor(memory, "dy", dy, g.outputShape(n), false);
        if (dx != null && weightsNeededForDx) {
            Objects.requireNonNull(w, "w must not be null: SpectraMode.INPUT_ONLY recomputes its spectra");
        }
        if (w != null) tensor(memory, "w", w, g.weightShape(), false);
        if (dx != null) tensor(memory, "dx", dx, g.inputShape(n), true);
        if (dw != null) tensor(memory, "dw", dw, g.weightShape(), true);
        if (db != null) tensor(memory, "db", db, g.biasShape(), true);
        located(memory, "saved", saved.context());
        MemorySegment savedSegment = buffer("saved", saved.memory(), savedSpectraBytes);
        workspace(memory, workspace, workspaceBytes);
        @Nullable Tensor[] outputs = {dx, dw, db};
        String[] outputNames = {"dx", "dw", "db"};
        for (int i = 0; i < outputs.length; i++) {
            Tensor out = outputs[i];
            if (out == null) continue;
            MemorySegment o = out.memory();
            disjoint(outputNames[i], o, "dy", outputGradient.memory());
            disjoint(outputNames[i], o, "saved", savedSegment);
            if (w != null) disjoint(outputNames[i], o, "w", w.memory());
            for (int j = i + 1; j < outputs.length; j++) {
                Tensor other = outputs[j];
                if (other != null) disjoint(outputNames[i], o, outputNames[j], other.memory());
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

    private static Tensor tensor(BufferMemory memory, String name, @Nullable Tensor t, long[] expected, boolean output) {
        Objects.requireNonNull(t, name + " must not be null");
        located(memory, name, t.context());
        segment(name, t.memory(), output);
        if (!Arrays.equals(t.shape(), expected)) {
            throw new InvalidArgumentException(Status.INVALID_SIZE, name,
                    name + " has shape " + Arrays.toString(t.shape()) + ", the plan expects " + Arrays.toString(expected));
        }
        return t;
    }

    /**
     * The argument lives in the memory the plan's backend executes on: a device pointer handed to
     * the CPU backend would be read as host memory, a host pointer is refused by the CUDA one.
     * Host tensors count as HOST memory, buffer tensors as their context's.
     */
    private static void located(BufferMemory memory, String name, @Nullable ExecutionContext context) {
        BufferMemory where = context == null ? BufferMemory.HOST : context.bufferMemory();
        if (where != memory) {
            throw new InvalidArgumentException(Status.INVALID_ARGUMENT, name, name + " is in " + where
                    + " memory; this plan executes on " + memory + " memory"
                    + (memory == BufferMemory.DEVICE ? " (Tensor.wrap(DeviceBuffer, ...), or a Tape on the plan's context)"
                            : ""));
        }
    }

    private static void segment(String name, MemorySegment s, boolean output) {
        MemoryChecks.segment(name, s, output);
    }

    private static MemorySegment buffer(String name, MemorySegment s, long need) {
        return MemoryChecks.buffer(name, s, need, true);
    }

    private static void workspace(BufferMemory memory, @Nullable Workspace workspace, long need) {
        Objects.requireNonNull(workspace, "workspace must not be null");
        located(memory, "workspace", workspace.context());
        buffer("workspace", workspace.memory(), need);
    }

    private static void disjoint(String outName, MemorySegment out, String inName, MemorySegment in) {
        if (out.asOverlappingSlice(in).isPresent()) {
            throw new InvalidArgumentException(Status.INVALID_ARGUMENT, outName,
                    outName + " overlaps " + inName + "; outputs must not share memory with other arguments");
        }
    }
}
