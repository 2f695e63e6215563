package dev.bandlimit.cli.train;

import dev.bandlimit.Compression;
import dev.bandlimit.Tensor;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A trained model's parameters and batch-norm statistics, with the compression it was trained
 * at. Format: "BLCKPT01", compression kind and value, seed, then per tensor its name, shape and
 * float32 values (big-endian, as DataOutputStream writes them).
 */
public final class Checkpoint {
    private static final String MAGIC = "BLCKPT01";

    private Checkpoint() {}

    /** A checkpoint read from disk. */
    public record Loaded(Compression trainCompression, long seed, List<String> names, List<long[]> shapes,
            List<float[]> values) {}

    /** Every tensor that defines the trained function, by name: parameters, then state buffers. */
    static Map<String, Tensor> state(MnistCnn model) {
        Map<String, Tensor> all = new LinkedHashMap<>();
        model.network().namedParameters().forEach((name, p) -> all.put(name, p.data()));
        model.network().namedBuffers().forEach((name, b) -> all.put("buffer:" + name, b));
        return all;
    }

    public static void save(Path file, MnistCnn model, Compression train, long seed) {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp)))) {
            out.writeBytes(MAGIC);
            switch (train) {
                case Compression.Fixed f -> {
                    out.writeInt(0);
                    out.writeDouble(f.rho());
                }
                case Compression.Energy e -> {
                    out.writeInt(1);
                    out.writeDouble(e.fraction());
                }
            }
            out.writeLong(seed);
            Map<String, Tensor> state = state(model);
            out.writeInt(state.size());
            for (Map.Entry<String, Tensor> e : state.entrySet()) {
                out.writeUTF(e.getKey());
                long[] shape = e.getValue().shape();
                out.writeInt(shape.length);
                for (long d : shape) out.writeLong(d);
                for (float v : e.getValue().toArray()) out.writeFloat(v);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + file, e);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + file, e);
        }
    }

    public static Loaded load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("no checkpoint at " + file + ": run `./bandlimit train --out "
                    + (file.getParent() == null ? "." : file.getParent()) + "` first");
        }
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            byte[] magic = new byte[MAGIC.length()];
            in.readFully(magic);
            if (!MAGIC.equals(new String(magic, java.nio.charset.StandardCharsets.US_ASCII))) {
                throw new IllegalArgumentException(file + " is not a bandlimit checkpoint");
            }
            int kind = in.readInt();
            double value = in.readDouble();
            Compression c = kind == 1 ? Compression.energy(value) : Compression.fixed(value);
            long seed = in.readLong();
            int count = in.readInt();
            List<String> names = new ArrayList<>();
            List<long[]> shapes = new ArrayList<>();
            List<float[]> values = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                names.add(in.readUTF());
                long[] shape = new long[in.readInt()];
                long n = 1;
                for (int d = 0; d < shape.length; d++) {
                    shape[d] = in.readLong();
                    n *= shape[d];
                }
                float[] v = new float[Math.toIntExact(n)];
                for (int j = 0; j < v.length; j++) v[j] = in.readFloat();
                shapes.add(shape);
                values.add(v);
            }
            return new Loaded(c, seed, names, shapes, values);
        } catch (EOFException e) {
            throw new IllegalArgumentException("checkpoint " + file + " is truncated", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read checkpoint " + file, e);
        }
    }

    /** Copies the loaded tensors into {@code model}, checking names and shapes. */
    public static void restore(Loaded loaded, MnistCnn model) {
        List<Map.Entry<String, Tensor>> state = new ArrayList<>(state(model).entrySet());
        if (state.size() != loaded.names().size()) {
            throw new IllegalArgumentException("checkpoint holds " + loaded.names().size() + " tensors, the model "
                    + state.size());
        }
        for (int i = 0; i < state.size(); i++) {
            String name = state.get(i).getKey();
            Tensor data = state.get(i).getValue();
            if (!name.equals(loaded.names().get(i)) || !Arrays.equals(data.shape(), loaded.shapes().get(i))) {
                throw new IllegalArgumentException("checkpoint tensor " + i + " is " + loaded.names().get(i)
                        + Arrays.toString(loaded.shapes().get(i)) + ", the model has " + name
                        + Arrays.toString(data.shape()));
            }
            data.copyFrom(loaded.values().get(i));
        }
    }
}
