package dev.bandlimit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bandlimit.Compression;
import dev.bandlimit.Tensor;
import dev.bandlimit.nn.models.MnistCnn;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints against the safetensors specification (https://huggingface.co/docs/safetensors,
 * "Format"), read and written here by code that shares nothing with {@link Checkpoint}: the
 * header length as 8 little-endian bytes, the header parsed by the small JSON reader below, the
 * tensors decoded byte by byte. Then the ways a file can be broken, each of which must be one
 * clear error naming the file and the byte where it goes wrong.
 */
class SafetensorsFormatTest {

    @Test
    void aCheckpointIsASafetensorsFileByTheSpecification(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("model.safetensors");
        try (MnistCnn model = new MnistCnn(Compression.fixed(0.5), Compression.fixed(0.5), 17)) {
            Map<String, Tensor> state = Checkpoint.state(model.network());
            // Batch-norm statistics other than the initial 0 / 1, so that a swap would show.
            SplittableRandom random = new SplittableRandom(3);
            for (Map.Entry<String, Tensor> e : state.entrySet()) {
                if (e.getKey().contains("running")) {
                    float[] v = new float[(int) e.getValue().elementCount()];
                    for (int i = 0; i < v.length; i++) v[i] = (float) random.nextDouble(0.5, 2);
                    e.getValue().copyFrom(v);
                }
            }
            Checkpoint.save(file, model.network(), MnistCnn.NAME, Compression.energy(0.95), -42);

            byte[] bytes = Files.readAllBytes(file);
            long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, (8 + n) % 8, "the byte buffer starts 8-byte aligned");
            String headerText = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
            @SuppressWarnings("unchecked")
            Map<String, Object> header = (Map<String, Object>) new Json(headerText).value();
            @SuppressWarnings("unchecked")
            Map<String, Object> meta = (Map<String, Object>) header.remove("__metadata__");
            assertEquals(Map.of("format", "bandlimit", "model", "mnist-cnn", "train_compression", "energy:0.95",
                    "seed", "-42"), meta);
            assertEquals(state.keySet(), header.keySet());
            assertTrue(state.keySet().stream().anyMatch(k -> k.endsWith(".running_mean")), state.keySet().toString());

            long dataStart = 8 + n, covered = 0;
            for (Map.Entry<String, Object> entry : header.entrySet()) {
                @SuppressWarnings("unchecked")
                Map<String, Object> t = (Map<String, Object>) entry.getValue();
                assertEquals("F32", t.get("dtype"));
                Tensor expected = state.get(entry.getKey());
                @SuppressWarnings("unchecked")
                List<Long> shape = (List<Long>) t.get("shape");
                assertArrayEquals(expected.shape(), shape.stream().mapToLong(Long::longValue).toArray());
                @SuppressWarnings("unchecked")
                List<Long> off = (List<Long>) t.get("data_offsets");
                float[] want = expected.toArray();
                assertEquals(4L * want.length, off.get(1) - off.get(0), entry.getKey());
                for (int i = 0; i < want.length; i++) {
                    int at = (int) (dataStart + off.get(0) + 4L * i);
                    int bits = (bytes[at] & 0xff) | (bytes[at + 1] & 0xff) << 8 | (bytes[at + 2] & 0xff) << 16
                            | (bytes[at + 3] & 0xff) << 24;
                    assertEquals(Float.floatToRawIntBits(want[i]), bits, entry.getKey() + "[" + i + "]");
                }
                covered += off.get(1) - off.get(0);
            }
            assertEquals(bytes.length - dataStart, covered, "the tensors cover the byte buffer");
            assertFalse(Files.exists(dir.resolve("model.safetensors.tmp")), "the temporary file is gone");
        }
    }

    /** A file written here from the specification (tensors in another order) restores a model. */
    @Test
    void readsAFileWrittenFromTheSpecification(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("spec.safetensors");
        SplittableRandom random = new SplittableRandom(5);
        try (MnistCnn source = new MnistCnn(Compression.fixed(0.25), Compression.fixed(0.25), 1);
                MnistCnn target = new MnistCnn(Compression.fixed(0.25), Compression.fixed(0.25), 2)) {
            Map<String, float[]> values = new LinkedHashMap<>();
            Map<String, long[]> shapes = new LinkedHashMap<>();
            List<String> names = new ArrayList<>(Checkpoint.state(source.network()).keySet());
            java.util.Collections.reverse(names);  // JSON objects are unordered: offsets decide
            for (String name : names) {
                Tensor t = Checkpoint.state(source.network()).get(name);
                float[] v = new float[(int) t.elementCount()];
                for (int i = 0; i < v.length; i++) v[i] = (float) random.nextDouble(-1, 1);
                values.put(name, v);
                shapes.put(name, t.shape());
            }
            writeSpec(file, values, shapes, "{\"format\":\"bandlimit\",\"model\":\"mnist-cnn\","
                    + "\"train_compression\":\"fixed:0.25\",\"seed\":\"9\"}", "F32", 0);
            Checkpoint.Contents loaded = Checkpoint.load(file);
            assertEquals(Compression.fixed(0.25), loaded.trainCompression());
            assertEquals(9, loaded.seed());
            Checkpoint.restore(loaded, target.network(), MnistCnn.NAME);
            Map<String, Tensor> restored = Checkpoint.state(target.network());
            for (String name : names) assertArrayEquals(values.get(name), restored.get(name).toArray(), name);
        }
    }

    @Test
    void brokenFilesAreOneClearErrorNamingFileAndByte(@TempDir Path dir) throws Exception {
        Path good = dir.resolve("good.safetensors");
        try (MnistCnn model = new MnistCnn(Compression.fixed(0.0), Compression.fixed(0.0), 4)) {
            Checkpoint.save(good, model.network(), MnistCnn.NAME, Compression.fixed(0.0), 4);
        }
        byte[] bytes = Files.readAllBytes(good);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();

        // Truncated anywhere: in the length, in the header, in the tensors.
        for (long cut : new long[] {0, 5, 8, 8 + n / 2, 8 + n + 3, bytes.length - 1}) {
            Path f = dir.resolve("cut" + cut + ".safetensors");
            Files.write(f, java.util.Arrays.copyOf(bytes, (int) cut));
            corrupt(f, "cut at " + cut);
        }
        // Trailing bytes after the last tensor.
        Path longer = dir.resolve("longer.safetensors");
        Files.write(longer, java.util.Arrays.copyOf(bytes, bytes.length + 4));
        assertTrue(corrupt(longer, "trailing").contains("4 bytes after the last tensor"));
        // A header length larger than the file (e.g. another format).
        byte[] wrongLength = bytes.clone();
        ByteBuffer.wrap(wrongLength).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
        Path huge = dir.resolve("huge.safetensors");
        Files.write(huge, wrongLength);
        assertTrue(corrupt(huge, "header length").contains("at byte 0"));
        // A header that is not JSON.
        byte[] garbled = bytes.clone();
        garbled[8 + 16] = '#';  // the '{' that opens __metadata__'s value
        Path bad = dir.resolve("garbled.safetensors");
        Files.write(bad, garbled);
        assertTrue(corrupt(bad, "garbled").contains("does not parse"));

        Map<String, float[]> one = Map.of("conv1.weight", new float[] {1, 2, 3, 4});
        Map<String, long[]> shape = Map.of("conv1.weight", new long[] {2, 2});
        String meta = "{\"format\":\"bandlimit\",\"model\":\"mnist-cnn\",\"train_compression\":\"fixed:0\"}";
        Path f16 = dir.resolve("f16.safetensors");
        writeSpec(f16, one, shape, meta, "F16", 0);
        assertTrue(corrupt(f16, "dtype").contains("dtype F16"));
        Path gap = dir.resolve("gap.safetensors");
        writeSpec(gap, one, shape, meta, "F32", 4);
        assertTrue(corrupt(gap, "offsets").contains("data_offsets"));
        Path shapeTooBig = dir.resolve("shape.safetensors");
        writeSpec(shapeTooBig, one, Map.of("conv1.weight", new long[] {3, 2}), meta, "F32", 0);
        assertTrue(corrupt(shapeTooBig, "shape").contains("conv1.weight"));
        Path foreign = dir.resolve("foreign.safetensors");
        writeSpec(foreign, one, shape, "{\"format\":\"pt\"}", "F32", 0);
        assertTrue(corrupt(foreign, "foreign").contains("not a bandlimit checkpoint"));
        Path duplicate = dir.resolve("duplicate.safetensors");
        String dupHeader = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        writeRaw(duplicate, dupHeader, new byte[8]);
        assertTrue(corrupt(duplicate, "duplicate").contains("does not parse"));

        // A well-formed file of another architecture or with a wrong shape: restore says which.
        Path partial = dir.resolve("partial.safetensors");
        writeSpec(partial, one, shape, meta, "F32", 0);
        Checkpoint.Contents loaded = Checkpoint.load(partial);
        try (MnistCnn model = new MnistCnn(Compression.fixed(0.0), Compression.fixed(0.0), 4)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Checkpoint.restore(loaded, model.network(), MnistCnn.NAME));
            assertTrue(e.getMessage().contains("checkpoint holds tensors [conv1.weight]"), e.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> Checkpoint.restore(loaded, model.network(), "resnet18"));
        }
    }

    private static String corrupt(Path file, String what) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(file), what);
        String m = e.getMessage();
        assertTrue(m.startsWith("checkpoint " + file + " is corrupt at byte "), what + ": " + m);
        assertFalse(m.contains("\n"), what + ": one line");
        return m;
    }

    /** Writes tensors in map order, {@code gap} spare bytes before the first one. */
    private static void writeSpec(Path file, Map<String, float[]> values, Map<String, long[]> shapes, String meta,
            String dtype, int gap) throws Exception {
        StringBuilder h = new StringBuilder("{\"__metadata__\":").append(meta);
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        data.write(new byte[gap]);
        for (Map.Entry<String, float[]> e : values.entrySet()) {
            long start = data.size();
            for (float f : e.getValue()) {
                int bits = Float.floatToRawIntBits(f);
                for (int k = 0; k < 4; k++) data.write(bits >>> (8 * k));
            }
            h.append(",\"").append(e.getKey()).append("\":{\"dtype\":\"").append(dtype).append("\",\"shape\":[");
            long[] s = shapes.get(e.getKey());
            for (int i = 0; i < s.length; i++) h.append(i > 0 ? "," : "").append(s[i]);
            h.append("],\"data_offsets\":[").append(start).append(',').append(data.size()).append("]}");
        }
        writeRaw(file, h.append('}').toString(), data.toByteArray());
    }

    private static void writeRaw(Path file, String header, byte[] data) throws Exception {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json).put(data);
        Files.write(file, b.array());
    }

    /** Just enough JSON for a safetensors header: objects, arrays, strings, integers. */
    private static final class Json {
        private final String s;
        private int at;

        Json(String s) {
            this.s = s;
        }

        Object value() {
            skipSpace();
            char c = s.charAt(at);
            if (c == '{') {
                Map<String, Object> m = new LinkedHashMap<>();
                at++;
                skipSpace();
                if (s.charAt(at) == '}') {
                    at++;
                    return m;
                }
                while (true) {
                    skipSpace();
                    String key = (String) value();
                    skipSpace();
                    expect(':');
                    m.put(key, value());
                    skipSpace();
                    if (s.charAt(at++) == '}') return m;
                }
            }
            if (c == '[') {
                List<Object> l = new ArrayList<>();
                at++;
                skipSpace();
                if (s.charAt(at) == ']') {
                    at++;
                    return l;
                }
                while (true) {
                    l.add(value());
                    skipSpace();
                    if (s.charAt(at++) == ']') return l;
                }
            }
            if (c == '"') {
                StringBuilder b = new StringBuilder();
                at++;
                while (s.charAt(at) != '"') {
                    char d = s.charAt(at++);
                    if (d == '\\') {
                        char e = s.charAt(at++);
                        b.append(switch (e) {
                            case 'n' -> '\n';
                            case 't' -> '\t';
                            case 'u' -> {
                                char u = (char) Integer.parseInt(s.substring(at, at + 4), 16);
                                at += 4;
                                yield u;
                            }
                            default -> e;
                        });
                    } else {
                        b.append(d);
                    }
                }
                at++;
                return b.toString();
            }
            int start = at;
            while (at < s.length() && (s.charAt(at) == '-' || Character.isDigit(s.charAt(at)))) at++;
            return Long.parseLong(s.substring(start, at));
        }

        private void expect(char c) {
            if (s.charAt(at++) != c) throw new IllegalStateException("expected " + c + " at " + (at - 1));
        }

        private void skipSpace() {
            while (at < s.length() && Character.isWhitespace(s.charAt(at))) at++;
        }
    }
}
