package dev.bandlimit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@code java -cp bandlimit.jar dev.bandlimit.SelfCheck}: loads the native library from the jar
 * and runs one golden case of the band-limited operator, forward with bias and full backward,
 * against the expected {@code y, dx, dw, db} within the float32 bound of ALGORITHM.md section 5
 * (FFT lengths and box exactly). Prints "bandlimit self-check OK ..." and exits 0, or prints the
 * failure and exits 1.
 *
 * <p>The case is a copy of one case of cpp/tests/data/golden_bandlimited_conv.json bundled as
 * {@code dev/bandlimit/selfcheck-case.txt} in a line format the JDK alone reads (the jar carries
 * no JSON library); scripts/selfcheck_case.py writes it and SelfCheckTest keeps it equal to the
 * golden file. Using a golden case, not a direct sum of its own, keeps the float64 reference of
 * the operator in one place (the tests' {@code Reference}).
 */
public final class SelfCheck {
    private SelfCheck() {}

    static final String CASE_RESOURCE = "selfcheck-case.txt";

    public static void main(String[] args) {
        try {
            String details = run();
            System.out.println("bandlimit self-check OK " + details);
            System.exit(0);
        } catch (Throwable t) {
            System.out.println("bandlimit self-check FAILED: " + t);
            t.printStackTrace(System.out);
            System.exit(1);
        }
    }

    /** One golden case as read from {@link #CASE_RESOURCE}: its name and its numbers by key. */
    record GoldenCase(String name, Map<String, double[]> values) {

        static GoldenCase readBundled() throws IOException {
            try (InputStream in = SelfCheck.class.getResourceAsStream(CASE_RESOURCE)) {
                if (in == null) throw new IOException("resource " + CASE_RESOURCE + " is missing from the jar");
                return read(new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)));
            }
        }

        /** Lines {@code case NAME} and {@code key number ...}; {@code #} starts a comment line. */
        static GoldenCase read(BufferedReader r) throws IOException {
            String name = null;
            Map<String, double[]> values = new HashMap<>();
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.isBlank() || line.startsWith("#")) continue;
                String[] words = line.trim().split("\\s+");
                if (words[0].equals("case")) {
                    name = words[1];
                    continue;
                }
                double[] numbers = new double[words.length - 1];
                for (int i = 0; i < numbers.length; i++) numbers[i] = Double.parseDouble(words[i + 1]);
                values.put(words[0], numbers);
            }
            if (name == null) throw new IOException("no 'case' line");
            return new GoldenCase(name, Map.copyOf(values));
        }

        double[] array(String key) {
            double[] a = values.get(key);
            if (a == null) throw new IllegalStateException(name + ": no '" + key + "'");
            return a.clone();
        }

        long integer(String key, int index) {
            double v = array(key)[index];
            if (v != Math.rint(v)) throw new IllegalStateException(name + ": " + key + " is not an integer: " + v);
            return (long) v;
        }

        long integer(String key) {
            return integer(key, 0);
        }

        /** Inputs are float32 values stored exactly as decimal doubles. */
        float[] floats(String key) {
            double[] a = array(key);
            float[] f = new float[a.length];
            for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
            return f;
        }
    }

    static String run() throws IOException {
        GoldenCase c = GoldenCase.readBundled();
        long n = c.integer("N"), C = c.integer("C"), F = c.integer("F"), KH = c.integer("KH"), KW = c.integer("KW");
        try (Arena arena = Arena.ofConfined();
                ConvPlan plan = ConvPlan.conv2d().maxBatch(n).channels(C).input(c.integer("H"), c.integer("W"))
                        .filters(F).kernel(KH, KW)
                        .padding(Padding.of(c.integer("pad", 0), c.integer("pad", 1), c.integer("pad", 2),
                                c.integer("pad", 3)))
                        .stride(c.integer("stride", 0), c.integer("stride", 1))
                        .compression(Compression.fixed(c.array("rho")[0])).build(arena)) {
            FftLengths lengths = new FftLengths(c.integer("fft_lengths", 0), c.integer("fft_lengths", 1));
            Box box = new Box(c.integer("box", 0), c.integer("box", 1));
            requireEqual(c, "FFT lengths", lengths, plan.fftLengths());
            Tensor x = Tensor.copyOf(arena, c.floats("x"), plan.inputShape(n));
            Tensor w = Tensor.copyOf(arena, c.floats("w"), plan.weightShape());
            Tensor b = Tensor.copyOf(arena, c.floats("b"), plan.biasShape());
            Tensor dy = Tensor.copyOf(arena, c.floats("dy"), plan.outputShape(n));
            Tensor y = Tensor.allocate(arena, plan.outputShape(n));
            Tensor dx = Tensor.allocate(arena, plan.inputShape(n));
            Tensor dw = Tensor.allocate(arena, plan.weightShape());
            Tensor db = Tensor.allocate(arena, plan.biasShape());
            SavedSpectra saved = plan.allocateSavedSpectra(arena);
            requireEqual(c, "box", box, plan.forward(x, w, b, y, saved));
            plan.backward(saved, w, dy, dx, dw, db);
            // Reduction lengths of section 5: y sums over C*KH*KW, dx over F*KH*KW, dw and db over N*Ho*Wo.
            long reductionDw = n * plan.outputHeight() * plan.outputWidth();
            double worst = 0;
            worst = Math.max(worst, requireWithinBound(c, "y", y, errorBound(lengths, C * KH * KW)));
            worst = Math.max(worst, requireWithinBound(c, "dx", dx, errorBound(lengths, F * KH * KW)));
            worst = Math.max(worst, requireWithinBound(c, "dw", dw, errorBound(lengths, reductionDw)));
            worst = Math.max(worst, requireWithinBound(c, "db", db, errorBound(lengths, reductionDw)));
            return String.format(Locale.ROOT, "(native %s from %s, golden case %s, worst err/bound %.3f)",
                    Bandlimit.nativeVersion(), Bandlimit.nativeLibraryLocation(), c.name(), worst);
        }
    }

    /** ALGORITHM.md section 5: {@code 16 * 2^-24 * log2(LH * LW * R)}, R the reduction length. */
    private static double errorBound(FftLengths l, long reduction) {
        return 16 * Math.scalb(1.0, -24) * (Math.log((double) l.height() * l.width() * reduction) / Math.log(2));
    }

    private static void requireEqual(GoldenCase c, String what, Object expected, Object actual) {
        if (!expected.equals(actual)) throw new AssertionError(c.name() + ": " + what + " " + actual + ", expected " + expected);
    }

    /** Relative L2 error of {@code out} against the case's {@code key}; returns err / bound. */
    private static double requireWithinBound(GoldenCase c, String key, Tensor out, double bound) {
        double[] expected = c.array(key);
        if (out.elementCount() != expected.length) {
            throw new AssertionError(c.name() + ": " + key + " has " + out.elementCount() + " elements, expected " + expected.length);
        }
        double diff = 0, norm = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = out.get(i) - expected[i];
            diff += d * d;
            norm += expected[i] * expected[i];
        }
        double err = Math.sqrt(diff / norm);
        if (!(err <= bound)) {
            throw new AssertionError(String.format(Locale.ROOT, "%s: %s relative L2 error %.3e > bound %.3e",
                    c.name(), key, err, bound));
        }
        return err / bound;
    }
}
