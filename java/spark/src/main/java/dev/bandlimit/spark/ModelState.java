package dev.bandlimit.spark;

import dev.bandlimit.Compression;
import dev.bandlimit.nn.Checkpoint;
import dev.bandlimit.nn.Module;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A model's weights and batch-norm statistics, on-heap and serializable: what the driver
 * broadcasts to the executors and what training returns. The same tensors, names and metadata
 * as a {@link Checkpoint} (safetensors) file: {@link #save}, {@link #load}.
 */
public final class ModelState implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String model;
    private final String trainCompression;
    private final long seed;
    private final String[] names;
    private final long[][] shapes;
    private final float[][] values;

    private ModelState(Checkpoint.Contents c) {
        this.model = c.model();
        this.trainCompression = Checkpoint.describe(c.trainCompression());
        this.seed = c.seed();
        this.names = c.names().toArray(String[]::new);
        this.shapes = c.shapes().toArray(long[][]::new);
        this.values = c.values().toArray(float[][]::new);
    }

    public static ModelState of(Checkpoint.Contents contents) {
        return new ModelState(contents);
    }

    /** A copy of {@code network}'s parameters and buffers, under the architecture name {@code model}. */
    public static ModelState snapshot(Module network, String model, Compression train, long seed) {
        return new ModelState(Checkpoint.snapshot(network, model, train, seed));
    }

    /** A checkpoint file written by {@link #save}, {@code bandlimit train} or {@link Checkpoint#save}. */
    public static ModelState load(Path file) {
        return new ModelState(Checkpoint.load(file));
    }

    /** Writes a safetensors checkpoint (atomically). */
    public void save(Path file) {
        Checkpoint.save(file, contents());
    }

    public Checkpoint.Contents contents() {
        return new Checkpoint.Contents(model, trainCompression(), seed, List.of(names), List.of(shapes), List.of(values));
    }

    /** Copies the tensors into {@code network}, checking the architecture name, tensor names and shapes. */
    public void restoreInto(Module network) {
        Checkpoint.restore(contents(), network, model);
    }

    public String model() {
        return model;
    }

    public Compression trainCompression() {
        return Checkpoint.parseCompression(trainCompression, Path.of("<model state>"));
    }

    public long seed() {
        return seed;
    }

    /** The values of tensor {@code name} (a copy). */
    public float[] values(String name) {
        int i = Arrays.asList(names).indexOf(name);
        if (i < 0) throw new IllegalArgumentException("no tensor named " + name + " in " + Arrays.toString(names));
        return values[i].clone();
    }

    /** Tensor names, in file order. */
    public List<String> names() {
        return List.of(names);
    }

    /** Bytes of tensor data. */
    public long byteSize() {
        long bytes = 0;
        for (float[] v : values) bytes += 4L * v.length;
        return bytes;
    }

    /** Whether both hold the same tensors bit for bit (names, shapes, values; the metadata aside). */
    public boolean sameTensors(ModelState other) {
        if (!Arrays.equals(names, other.names) || !Arrays.deepEquals(shapes, other.shapes)) return false;
        for (int i = 0; i < values.length; i++) {
            if (!Arrays.equals(values[i], other.values[i])) return false;  // Arrays.equals on floats compares bits
        }
        return true;
    }

    @Override
    public String toString() {
        return model + " (" + names.length + " tensors, " + byteSize() + " bytes, trained at " + trainCompression + ")";
    }
}
