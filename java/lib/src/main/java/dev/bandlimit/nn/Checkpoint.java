package dev.bandlimit.nn;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.bandlimit.Compression;
import dev.bandlimit.Tensor;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A trained model's parameters and batch-norm statistics, with the compression it was trained
 * at, as a <a href="https://huggingface.co/docs/safetensors">safetensors</a> file (readable by
 * Python's {@code safetensors}, PyTorch, JAX, ...): an 8-byte little-endian header length, a
 * JSON header (per tensor: dtype {@code F32}, shape, {@code data_offsets} into the byte buffer;
 * {@code __metadata__}: format, model, train compression, seed), padded with spaces to a
 * multiple of 8, then the tensors' little-endian bytes, contiguous, in header order. Tensor
 * names are the model's ({@code conv1.weight}, {@code bn1.running_mean}, ...), as in a PyTorch
 * state dict. Written atomically (a temporary file renamed over the target).
 *
 * <p>Beyond a model's own state, {@link #save(Path, Contents)} writes any named float32 tensors
 * under a model name (the Spark trainer keeps its optimizer's state that way, beside the model).
 */
public final class Checkpoint {
    static final String FORMAT = "bandlimit";
    /** Bigger headers are refused before being read (the spec's own readers cap them at 100 MB). */
    private static final long MAX_HEADER_BYTES = 100L << 20;
    /** Duplicate names are refused: one of two tensors of the same name would be dropped silently. */
    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private Checkpoint() {}

    /**
     * What a checkpoint holds: {@code model} names the architecture it was written from; the
     * tensors in file order, {@code names}, {@code shapes} and {@code values} index for index.
     */
    public record Contents(String model, Compression trainCompression, long seed, List<String> names,
            List<long[]> shapes, List<float[]> values) {
        public Contents {
            java.util.Objects.requireNonNull(model, "model");
            java.util.Objects.requireNonNull(trainCompression, "trainCompression");
            names = List.copyOf(names);
            shapes = List.copyOf(shapes);
            values = List.copyOf(values);
            if (names.size() != shapes.size() || names.size() != values.size()) {
                throw new IllegalArgumentException("contents hold " + names.size() + " names, " + shapes.size()
                        + " shapes and " + values.size() + " value arrays");
            }
            if (new java.util.HashSet<>(names).size() != names.size()) {
                throw new IllegalArgumentException("contents repeat a tensor name: " + names);
            }
            for (int i = 0; i < names.size(); i++) {
                long count = 1;
                for (long d : shapes.get(i)) {
                    if (d < 0) throw new IllegalArgumentException("tensor " + names.get(i) + " has a negative dimension");
                    count *= d;
                }
                if (count != values.get(i).length) {
                    throw new IllegalArgumentException("tensor " + names.get(i) + " has shape "
                            + Arrays.toString(shapes.get(i)) + " but " + values.get(i).length + " values");
                }
            }
        }

        /** The values of tensor {@code name}. */
        public float[] values(String name) {
            int i = names.indexOf(name);
            if (i < 0) throw new IllegalArgumentException("no tensor named " + name + " in " + names);
            return values.get(i);
        }
    }

    /** Every tensor that defines the trained function, by name: parameters, then state buffers. */
    public static Map<String, Tensor> state(Module network) {
        Map<String, Tensor> all = new LinkedHashMap<>();
        network.namedParameters().forEach((name, p) -> all.put(name, p.data()));
        network.namedBuffers().forEach(all::put);
        return all;
    }

    /** {@code fixed:<rho>} or {@code energy:<fraction>}, as the metadata writes a compression. */
    public static String describe(Compression c) {
        return switch (c) {
            case Compression.Fixed f -> "fixed:" + f.rho();
            case Compression.Energy e -> "energy:" + e.fraction();
        };
    }

    /** The inverse of {@link #describe}; {@code file} is named in the error. */
    public static Compression parseCompression(String s, Path file) {
        int colon = s.indexOf(':');
        try {
            double v = Double.parseDouble(s.substring(colon + 1));
            if (s.startsWith("fixed:")) return Compression.fixed(v);
            if (s.startsWith("energy:")) return Compression.energy(v);
        } catch (RuntimeException e) {
            // falls through to the error below
        }
        throw new IllegalArgumentException(file + ": __metadata__.train_compression is \"" + s
                + "\", expected fixed:<rho> or energy:<fraction>");
    }

    /**
     * Writes {@code network}'s parameters and buffers under the architecture name {@code model}
     * (checked again by {@link #restore(Contents, Module, String)}).
     */
    public static void save(Path file, Module network, String model, Compression train, long seed) {
        save(file, snapshot(network, model, train, seed));
    }

    /** A copy of {@code network}'s parameters and buffers (on-heap), as {@link #save} would write them. */
    public static Contents snapshot(Module network, String model, Compression train, long seed) {
        List<String> names = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        List<float[]> values = new ArrayList<>();
        state(network).forEach((name, t) -> {
            names.add(name);
            shapes.add(t.shape());
            values.add(t.toArray());
        });
        return new Contents(model, train, seed, names, shapes, values);
    }

    /** Writes {@code contents} as a safetensors file, atomically. */
    public static void save(Path file, Contents contents) {
        String model = contents.model();
        Compression train = contents.trainCompression();
        long seed = contents.seed();
        List<float[]> values = contents.values();
        try {
            ByteArrayOutputStream headerBytes = new ByteArrayOutputStream();
            try (JsonGenerator g = JSON.createGenerator(headerBytes)) {
                g.writeStartObject();
                g.writeObjectFieldStart("__metadata__");
                g.writeStringField("format", FORMAT);
                g.writeStringField("model", model);
                g.writeStringField("train_compression", describe(train));
                g.writeStringField("seed", Long.toString(seed));
                g.writeEndObject();
                long offset = 0;
                for (int i = 0; i < values.size(); i++) {
                    float[] v = values.get(i);
                    g.writeObjectFieldStart(contents.names().get(i));
                    g.writeStringField("dtype", "F32");
                    g.writeArrayFieldStart("shape");
                    for (long d : contents.shapes().get(i)) g.writeNumber(d);
                    g.writeEndArray();
                    g.writeArrayFieldStart("data_offsets");
                    g.writeNumber(offset);
                    offset += 4L * v.length;
                    g.writeNumber(offset);
                    g.writeEndArray();
                    g.writeEndObject();
                }
                g.writeEndObject();
            }
            byte[] header = headerBytes.toByteArray();
            int padded = (header.length + 7) / 8 * 8;  // the byte buffer starts 8-byte aligned
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            try {
                writeFile(tmp, padded, header, values);
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(tmp);
                throw e;
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + file + ": " + e.getMessage(), e);
        }
    }

    private static void writeFile(Path tmp, int padded, byte[] header, List<float[]> values) throws IOException {
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp))) {
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(length.array());
            out.write(header);
            for (int i = header.length; i < padded; i++) out.write(' ');
            for (float[] v : values) {
                ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(v);
                out.write(b.array());
            }
        }
    }

    public static Contents load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("no checkpoint at " + file + " (no such file)");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw corrupt(file, 0, "the file has " + size + " bytes, fewer than the 8 of the header length");
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lengthBytes, 0);
            long headerLength = lengthBytes.flip().getLong();
            if (headerLength < 2 || headerLength > MAX_HEADER_BYTES || headerLength > size - 8) {
                throw corrupt(file, 0, "header length " + headerLength + " does not fit a file of " + size
                        + " bytes (not a safetensors file, or truncated)");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            readFully(ch, header, 8);
            Header h = parseHeader(file, new String(header.array(), StandardCharsets.UTF_8));
            long dataStart = 8 + headerLength, dataBytes = size - dataStart;
            List<String> names = new ArrayList<>();
            List<long[]> shapes = new ArrayList<>();
            List<float[]> values = new ArrayList<>();
            long expected = 0;
            for (Entry entry : h.entries()) {
                long[] off = entry.offsets();
                long count = elements(file, entry.name(), entry.shape());
                if (off[0] != expected || off[1] - off[0] != 4 * count) {
                    throw corrupt(file, dataStart + off[0], "tensor " + entry.name() + ": data_offsets "
                            + Arrays.toString(off) + " do not hold " + count + " float32 values contiguously after "
                            + expected);
                }
                if (off[1] > dataBytes) {
                    throw corrupt(file, dataStart + off[0], "tensor " + entry.name() + " ends at byte "
                            + (dataStart + off[1]) + ", the file at " + size + " (truncated)");
                }
                ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(4 * count)).order(ByteOrder.LITTLE_ENDIAN);
                readFully(ch, b, dataStart + off[0]);
                float[] v = new float[(int) count];
                b.flip().asFloatBuffer().get(v);
                names.add(entry.name());
                shapes.add(entry.shape());
                values.add(v);
                expected = off[1];
            }
            if (expected != dataBytes) {
                throw corrupt(file, dataStart + expected, (dataBytes - expected) + " bytes after the last tensor");
            }
            return new Contents(h.model(), h.compression(), h.seed(), names, shapes, values);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read checkpoint " + file + ": " + e.getMessage(), e);
        }
    }

    /** One tensor's header entry: its name, shape and {@code data_offsets} (begin, end). */
    private record Entry(String name, long[] shape, long[] offsets) {}

    private record Header(String model, Compression compression, long seed, List<Entry> entries) {}

    /** The header's tensors in file order (sorted by offset) and the metadata this tool writes. */
    private static Header parseHeader(Path file, String json) throws IOException {
        List<Entry> entries = new ArrayList<>();
        Map<String, String> meta = new LinkedHashMap<>();
        try (JsonParser p = JSON.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw corrupt(file, 8, "the header is not a JSON object");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                if (p.nextToken() != JsonToken.START_OBJECT) throw corrupt(file, 8, "header entry " + name + " is not an object");
                if (name.equals("__metadata__")) {
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String key = p.currentName();
                        if (p.nextToken() != JsonToken.VALUE_STRING) throw corrupt(file, 8, "__metadata__." + key + " is not a string");
                        meta.put(key, p.getText());
                    }
                    continue;
                }
                String dtype = null;
                long[] shape = null, off = null;
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    p.nextToken();
                    switch (key) {
                        case "dtype" -> dtype = p.getText();
                        case "shape" -> shape = longs(p, file, name + ".shape");
                        case "data_offsets" -> off = longs(p, file, name + ".data_offsets");
                        default -> p.skipChildren();
                    }
                }
                if (!"F32".equals(dtype)) throw corrupt(file, 8, "tensor " + name + " has dtype " + dtype + ", this model reads F32");
                if (shape == null || off == null || off.length != 2) {
                    throw corrupt(file, 8, "tensor " + name + " lacks a shape or two data_offsets");
                }
                for (long d : shape) if (d < 0) throw corrupt(file, 8, "tensor " + name + " has a negative dimension");
                entries.add(new Entry(name, shape, off));
            }
        } catch (com.fasterxml.jackson.core.JsonParseException e) {
            throw corrupt(file, 8 + e.getLocation().getCharOffset(), "the JSON header does not parse: "
                    + e.getOriginalMessage());
        }
        // Tensors in the order of their bytes (JSON objects are unordered; this writer keeps them sorted anyway).
        entries.sort(java.util.Comparator.comparingLong(e -> e.offsets()[0]));
        String compression = meta.get("train_compression");
        String model = meta.get("model");
        if (!FORMAT.equals(meta.get("format")) || compression == null || model == null) {
            throw corrupt(file, 8, "not a bandlimit checkpoint (its __metadata__ lacks format = bandlimit,"
                    + " model and train_compression)");
        }
        long seed;
        try {
            seed = Long.parseLong(meta.getOrDefault("seed", "0"));
        } catch (NumberFormatException e) {
            throw corrupt(file, 8, "__metadata__.seed is not an integer");
        }
        return new Header(model, parseCompression(compression, file), seed, entries);
    }

    private static long[] longs(JsonParser p, Path file, String what) throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) throw corrupt(file, 8, what + " is not an array");
        List<Long> out = new ArrayList<>();
        while (p.nextToken() != JsonToken.END_ARRAY) {
            if (p.currentToken() != JsonToken.VALUE_NUMBER_INT) throw corrupt(file, 8, what + " holds a non-integer");
            out.add(p.getLongValue());
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    /** The element count of a shape, refused when it overflows or cannot fit one Java array. */
    private static long elements(Path file, String name, long[] shape) {
        long count = 1;
        try {
            for (long d : shape) count = Math.multiplyExact(count, d);
        } catch (ArithmeticException e) {
            count = Long.MAX_VALUE;
        }
        if (count > Integer.MAX_VALUE / 4) {
            throw corrupt(file, 8, "tensor " + name + " has shape " + Arrays.toString(shape) + ", too large to read");
        }
        return count;
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        long at = position;
        while (b.hasRemaining()) {
            int n = ch.read(b, at);
            if (n < 0) throw new EOFException("end of file at byte " + at);
            at += n;
        }
    }

    private static IllegalArgumentException corrupt(Path file, long offset, String what) {
        return new IllegalArgumentException("checkpoint " + file + " is corrupt at byte " + offset + ": " + what);
    }

    /** Copies the loaded tensors into {@code network} of architecture {@code model}, checking names and shapes. */
    public static void restore(Contents loaded, Module network, String model) {
        if (!loaded.model().equals(model)) {
            throw new IllegalArgumentException("the checkpoint holds a " + loaded.model() + ", not a " + model);
        }
        Map<String, Tensor> state = state(network);
        Map<String, Integer> index = new LinkedHashMap<>();
        for (int i = 0; i < loaded.names().size(); i++) index.put(loaded.names().get(i), i);
        if (!index.keySet().equals(state.keySet())) {
            throw new IllegalArgumentException("checkpoint holds tensors " + index.keySet() + ", the model "
                    + state.keySet());
        }
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            int i = index.get(e.getKey());
            if (!Arrays.equals(e.getValue().shape(), loaded.shapes().get(i))) {
                throw new IllegalArgumentException("checkpoint tensor " + e.getKey() + " has shape "
                        + Arrays.toString(loaded.shapes().get(i)) + ", the model " + Arrays.toString(e.getValue().shape()));
            }
            e.getValue().copyFrom(loaded.values().get(i));
        }
    }
}
