package dev.bandlimit.spark;

import dev.bandlimit.Compression;
import dev.bandlimit.Tensor;
import dev.bandlimit.nn.Checkpoint;
import dev.bandlimit.nn.Optimizer;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * An optimizer's state (momentum buffers or Adam's moments, {@link Optimizer#namedState()}) and
 * step count, on-heap and serializable, so that a restarted job continues exactly where its last
 * checkpoint left it. Saved beside the model as a safetensors file whose metadata names the
 * optimizer ({@code model = "optimizer:<kind>"}) and whose seed field holds the step count.
 */
public final class OptimizerState implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final String PREFIX = "optimizer:";

    private final String kind;
    private final long steps;
    private final String[] names;
    private final long[][] shapes;
    private final float[][] values;

    private OptimizerState(String kind, long steps, String[] names, long[][] shapes, float[][] values) {
        this.kind = kind;
        this.steps = steps;
        this.names = names;
        this.shapes = shapes;
        this.values = values;
    }

    /** The state of a fresh optimizer of {@code kind}: no tensors (they start at zero), no steps. */
    static OptimizerState initial(String kind) {
        return new OptimizerState(kind, 0, new String[0], new long[0][], new float[0][]);
    }

    /** A copy of {@code optimizer}'s state. */
    static OptimizerState snapshot(String kind, Optimizer optimizer) {
        Map<String, Tensor> state = optimizer.namedState();
        List<String> names = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        List<float[]> values = new ArrayList<>();
        state.forEach((name, t) -> {
            names.add(name);
            shapes.add(t.shape());
            values.add(t.toArray());
        });
        return new OptimizerState(kind, optimizer.stepCount(), names.toArray(String[]::new),
                shapes.toArray(long[][]::new), values.toArray(float[][]::new));
    }

    /** Copies this state into {@code optimizer} (of the same kind, over the same parameters). */
    void restoreInto(String expectedKind, Optimizer optimizer) {
        if (!kind.equals(expectedKind)) {
            throw new IllegalArgumentException("the saved optimizer state is " + kind + ", this training uses " + expectedKind);
        }
        Map<String, Tensor> state = optimizer.namedState();
        if (names.length == 0) {  // a fresh optimizer: zero buffers, as built
            optimizer.setStepCount(steps);
            return;
        }
        if (!state.keySet().equals(new java.util.LinkedHashSet<>(Arrays.asList(names)))) {
            throw new IllegalArgumentException("the saved optimizer state holds " + Arrays.toString(names)
                    + ", the optimizer " + state.keySet());
        }
        for (int i = 0; i < names.length; i++) {
            Tensor t = state.get(names[i]);
            if (!Arrays.equals(t.shape(), shapes[i])) {
                throw new IllegalArgumentException("saved optimizer tensor " + names[i] + " has shape "
                        + Arrays.toString(shapes[i]) + ", the optimizer's " + Arrays.toString(t.shape()));
            }
            t.copyFrom(values[i]);
        }
        optimizer.setStepCount(steps);
    }

    public String kind() {
        return kind;
    }

    public long steps() {
        return steps;
    }

    public void save(Path file) {
        Checkpoint.save(file, new Checkpoint.Contents(PREFIX + kind, Compression.none(), steps, List.of(names),
                List.of(shapes), List.of(values)));
    }

    public static OptimizerState load(Path file) {
        Checkpoint.Contents c = Checkpoint.load(file);
        if (!c.model().startsWith(PREFIX)) {
            throw new IllegalArgumentException(file + " holds a " + c.model() + ", not an optimizer's state");
        }
        return new OptimizerState(c.model().substring(PREFIX.length()), c.seed(), c.names().toArray(String[]::new),
                c.shapes().toArray(long[][]::new), c.values().toArray(float[][]::new));
    }
}
