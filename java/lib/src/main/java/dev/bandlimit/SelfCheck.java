package dev.bandlimit;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

/**
 * {@code java -cp bandlimit.jar dev.bandlimit.SelfCheck}: loads the native library from the jar
 * and checks one small band-limited forward (rho = 0) and its bias gradient against a float64
 * direct sum. Prints "bandlimit self-check OK ..." and exits 0, or prints the failure and exits 1.
 */
public final class SelfCheck {
    private SelfCheck() {}

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

    static String run() {
        final int n = 2, c = 3, h = 7, w = 9, f = 4, k = 3;
        SplittableRandom random = new SplittableRandom(20261125);
        try (Arena arena = Arena.ofConfined();
                ConvPlan plan = ConvPlan.conv2d().maxBatch(n).channels(c).input(h, w).filters(f).kernel(k, k)
                        .padding(Padding.symmetric(1)).compression(Compression.fixed(0.0)).build(arena)) {
            float[] xs = new float[n * c * h * w], ws = new float[f * c * k * k], bs = new float[f];
            for (int i = 0; i < xs.length; i++) xs[i] = (float) random.nextGaussian();
            for (int i = 0; i < ws.length; i++) ws[i] = (float) random.nextGaussian();
            for (int i = 0; i < bs.length; i++) bs[i] = (float) random.nextGaussian();
            Tensor x = Tensor.copyOf(arena, xs, plan.inputShape(n));
            Tensor wt = Tensor.copyOf(arena, ws, plan.weightShape());
            Tensor b = Tensor.copyOf(arena, bs, plan.biasShape());
            Tensor y = Tensor.allocate(arena, plan.outputShape(n));
            SavedSpectra saved = plan.allocateSavedSpectra(arena);
            plan.forward(x, wt, b, y, saved);
            double num = 0, den = 0;
            for (int s = 0; s < n; s++) {
                for (int o = 0; o < f; o++) {
                    for (int i = 0; i < h; i++) {
                        for (int j = 0; j < w; j++) {
                            double acc = bs[o];
                            for (int ch = 0; ch < c; ch++) {
                                for (int u = 0; u < k; u++) {
                                    for (int v = 0; v < k; v++) {
                                        int r = i + u - 1, q = j + v - 1;
                                        if (r < 0 || r >= h || q < 0 || q >= w) continue;
                                        acc += (double) xs[((s * c + ch) * h + r) * w + q] * ws[((o * c + ch) * k + u) * k + v];
                                    }
                                }
                            }
                            double d = y.get(((long) (s * f + o) * h + i) * w + j) - acc;
                            num += d * d;
                            den += acc * acc;
                        }
                    }
                }
            }
            double err = Math.sqrt(num / den);
            if (!(err < 1e-5)) throw new AssertionError("forward relative error " + err + " >= 1e-5");
            Tensor dy = Tensor.allocate(arena, plan.outputShape(n));
            for (long i = 0; i < dy.elementCount(); i++) dy.set(i, (float) random.nextGaussian());
            Tensor db = Tensor.allocate(arena, plan.biasShape());
            Tensor dw = Tensor.allocate(arena, plan.weightShape());
            plan.backwardWeights(saved, dy, dw, db);
            for (int o = 0; o < f; o++) {
                double sum = 0;
                for (int s = 0; s < n; s++) {
                    for (int i = 0; i < h * w; i++) sum += dy.get((long) (s * f + o) * h * w + i);
                }
                if (Math.abs(db.get(o) - sum) > 1e-5 * Math.max(1, Math.abs(sum))) {
                    throw new AssertionError("db[" + o + "] = " + db.get(o) + ", expected " + sum);
                }
            }
            return String.format(java.util.Locale.ROOT, "(native %s from %s, forward rel err %.2e)",
                    Bandlimit.nativeVersion(), Bandlimit.nativeLibraryLocation(), err);
        }
    }
}
