package dev.bandlimit;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The golden file tests/data/golden_bandlimited_conv.json (system property bandlimit.test.golden). */
final class Golden {
    private Golden() {}

    /** One case. {@code rho} is NaN for energy cases, {@code energy} NaN for fixed ones. */
    record Case(String name, Reference.Geom geom, int n, double rho, double energy, long[] fftLengths, Box box,
            double achievedRate, long[] yShape, double[] x, double[] w, double[] b, double[] dy, double[] y,
            double[] dx, double[] dw, double[] db) {

        boolean isEnergy() {
            return !Double.isNaN(energy);
        }

        Compression compression() {
            return isEnergy() ? Compression.energy(energy) : Compression.fixed(rho);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Path path() {
        String p = System.getProperty("bandlimit.test.golden");
        if (p == null) throw new IllegalStateException("system property bandlimit.test.golden is not set");
        return Path.of(p);
    }

    private static List<Case> cached;

    static synchronized List<Case> cases() {
        if (cached != null) return cached;
        JsonObject root;
        try (Reader r = Files.newBufferedReader(path(), StandardCharsets.UTF_8)) {
            root = JsonParser.parseReader(r).getAsJsonObject();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        List<Case> out = new ArrayList<>();
        for (Map.Entry<String, com.google.gson.JsonElement> e : root.getAsJsonObject("cases").entrySet()) {
            JsonObject c = e.getValue().getAsJsonObject();
            JsonObject ge = c.getAsJsonObject("geometry");
            int N = ge.get("N").getAsInt(), C = ge.get("C").getAsInt(), H = ge.get("H").getAsInt(),
                    W = ge.get("W").getAsInt(), F = ge.get("F").getAsInt(), KH = ge.get("KH").getAsInt(),
                    KW = ge.get("KW").getAsInt();
            long[] pad = longs(ge.getAsJsonArray("pad"));
            long[] stride = longs(ge.getAsJsonArray("stride"));
            boolean is1d = H == 1 && KH == 1;
            Reference.Geom g = is1d
                    ? Reference.Geom.conv1d(N, C, W, F, KW, (int) pad[2], (int) pad[3], (int) stride[1])
                    : Reference.Geom.conv2d(N, C, H, W, F, KH, KW, (int) pad[0], (int) pad[1], (int) pad[2],
                            (int) pad[3], (int) stride[0], (int) stride[1]);
            if (is1d && (pad[0] != 0 || pad[1] != 0 || stride[0] != 1)) {
                throw new IllegalStateException(e.getKey() + ": H = KH = 1 with vertical padding or stride");
            }
            double rho = ge.has("rho") ? ge.get("rho").getAsDouble() : Double.NaN;
            double energy = ge.has("E") ? ge.get("E").getAsDouble() : Double.NaN;
            long[] box = longs(c.getAsJsonArray("box"));
            out.add(new Case(e.getKey(), g, N, rho, energy, longs(c.getAsJsonArray("fft_lengths")),
                    new Box(box[0], box[1]), c.get("achieved_rate").getAsDouble(), longs(c.getAsJsonArray("y_shape")),
                    doubles(c, "x"), doubles(c, "w"), doubles(c, "b"), doubles(c, "dy"), doubles(c, "y"),
                    doubles(c, "dx"), doubles(c, "dw"), doubles(c, "db")));
        }
        cached = List.copyOf(out);
        return cached;
    }

    private static long[] longs(JsonArray a) {
        long[] r = new long[a.size()];
        for (int i = 0; i < r.length; i++) r[i] = a.get(i).getAsLong();
        return r;
    }

    private static double[] doubles(JsonObject c, String key) {
        JsonArray a = c.getAsJsonArray(key);
        double[] r = new double[a.size()];
        for (int i = 0; i < r.length; i++) r[i] = a.get(i).getAsDouble();
        return r;
    }

    /** Golden inputs are float32 values stored exactly as decimal doubles. */
    static float[] toFloats(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
            if (f[i] != a[i]) throw new IllegalStateException("golden input " + a[i] + " is not a float32 value");
        }
        return f;
    }
}
