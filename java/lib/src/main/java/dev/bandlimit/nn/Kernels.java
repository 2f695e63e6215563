package dev.bandlimit.nn;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.bandlimit.Tensor;
import java.lang.foreign.MemorySegment;
import org.jspecify.annotations.Nullable;

/**
 * The dense loops the ops share, over float32 {@link MemorySegment}s read and written in place
 * with {@code getAtIndex}/{@code setAtIndex}. All are sequential with a fixed summation order,
 * so results are bitwise reproducible.
 *
 * <p>Segments or {@code float[]} copies? Measured on the MNIST shapes (JDK 25, C2; the figures
 * are in docs/TRAINING.md, "Measurements behind the nn code"): element-wise loops that read
 * segments and write one other segment run about as fast as a copy to an array and back would
 * take, so they stay on segments; the same loop as a read-modify-write of a third segment is
 * several times slower (C2 can tell heap arrays apart; off-heap segments might overlap), which
 * is why gradients are written, not added, on first use ({@link Var#freshGrad}). The
 * register-blocked dot product of {@link #linearForward} beats both heap copies and an i-k-j
 * loop over a transposed copy (the output width, 10, is too short to vectorise). Max pooling is
 * the exception: it copies each plane to an array ({@link Functional#maxPool2d}).
 */
final class Kernels {
    private Kernels() {}

    /** {@code dst[i] += src[i]}. */
    static void addInto(MemorySegment dst, MemorySegment src, long n) {
        for (long i = 0; i < n; i++) {
            dst.setAtIndex(JAVA_FLOAT, i, dst.getAtIndex(JAVA_FLOAT, i) + src.getAtIndex(JAVA_FLOAT, i));
        }
    }

    /** {@code v.grad += delta}: a plain copy when {@code v} has no gradient yet. */
    static void accumulate(Var v, MemorySegment delta) {
        Tensor fresh = v.freshGrad();
        if (fresh != null) {
            MemorySegment.copy(delta, 0, fresh.segment(), 0, fresh.byteSize());
        } else {
            addInto(v.grad().segment(), delta, v.grad().elementCount());
        }
    }

    /** {@code dst[dstOff + i] += a * src[srcOff + i]} for {@code i < n}. */
    static void axpy(MemorySegment dst, long dstOff, float a, MemorySegment src, long srcOff, long n) {
        for (long i = 0; i < n; i++) {
            dst.setAtIndex(JAVA_FLOAT, dstOff + i,
                    dst.getAtIndex(JAVA_FLOAT, dstOff + i) + a * src.getAtIndex(JAVA_FLOAT, srcOff + i));
        }
    }

    /**
     * {@code y[n][o] = b[o] + sum_i x[n][i] w[o][i]} with {@code w} stored {@code [out][in]} as in
     * PyTorch. Both operands of each dot product are contiguous rows; four outputs share one pass
     * over the row of {@code x} (register blocking), and each output still sums over {@code i} in
     * increasing order, so the result equals the plain loop bit for bit.
     */
    static void linearForward(MemorySegment x, MemorySegment w, @Nullable MemorySegment b, MemorySegment y,
            long batch, long in, long out) {
        for (long n = 0; n < batch; n++) {
            long xRow = n * in;
            long yRow = n * out;
            long o = 0;
            for (; o + 3 < out; o += 4) {
                long w0 = o * in, w1 = w0 + in, w2 = w1 + in, w3 = w2 + in;
                float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                for (long i = 0; i < in; i++) {
                    float xv = x.getAtIndex(JAVA_FLOAT, xRow + i);
                    s0 += xv * w.getAtIndex(JAVA_FLOAT, w0 + i);
                    s1 += xv * w.getAtIndex(JAVA_FLOAT, w1 + i);
                    s2 += xv * w.getAtIndex(JAVA_FLOAT, w2 + i);
                    s3 += xv * w.getAtIndex(JAVA_FLOAT, w3 + i);
                }
                y.setAtIndex(JAVA_FLOAT, yRow + o, s0);
                y.setAtIndex(JAVA_FLOAT, yRow + o + 1, s1);
                y.setAtIndex(JAVA_FLOAT, yRow + o + 2, s2);
                y.setAtIndex(JAVA_FLOAT, yRow + o + 3, s3);
            }
            for (; o < out; o++) {
                long wRow = o * in;
                float s = 0;
                for (long i = 0; i < in; i++) {
                    s += x.getAtIndex(JAVA_FLOAT, xRow + i) * w.getAtIndex(JAVA_FLOAT, wRow + i);
                }
                y.setAtIndex(JAVA_FLOAT, yRow + o, s);
            }
            if (b != null) {
                for (o = 0; o < out; o++) {
                    y.setAtIndex(JAVA_FLOAT, yRow + o, y.getAtIndex(JAVA_FLOAT, yRow + o) + b.getAtIndex(JAVA_FLOAT, o));
                }
            }
        }
    }

    /**
     * Backward of {@link #linearForward}, in i-k-j order so every inner loop is a contiguous axpy:
     * {@code dx[n][:] += dy[n][o] * w[o][:]}, {@code dw[o][:] += dy[n][o] * x[n][:]},
     * {@code db[o] += dy[n][o]}. Any of {@code dx}, {@code dw}, {@code db} may be null.
     */
    static void linearBackward(MemorySegment x, MemorySegment w, MemorySegment dy, @Nullable MemorySegment dx,
            @Nullable MemorySegment dw, @Nullable MemorySegment db, long batch, long in, long out) {
        for (long n = 0; n < batch; n++) {
            for (long o = 0; o < out; o++) {
                float g = dy.getAtIndex(JAVA_FLOAT, n * out + o);
                if (dx != null) axpy(dx, n * in, g, w, o * in, in);
                if (dw != null) axpy(dw, o * in, g, x, n * in, in);
                if (db != null) db.setAtIndex(JAVA_FLOAT, o, db.getAtIndex(JAVA_FLOAT, o) + g);
            }
        }
    }

    /*
     * Reductions in float64 with interleaved partial sums combined in a fixed order (bitwise
     * reproducible): independent dependency chains instead of one, since a floating-point add has
     * a latency of several cycles but a throughput of one or two a cycle. With this, one pass for
     * both moments and the element-wise passes below, the MNIST model's batch-norm forwards got
     * faster than with single sums and two passes (figures in
     * docs/TRAINING.md, "Measurements behind the nn code").
     */

    /** {@code sum_i s[off + i]} for {@code i < n}. */
    static double sum(MemorySegment s, long off, long n) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        long i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += s.getAtIndex(JAVA_FLOAT, off + i);
            s1 += s.getAtIndex(JAVA_FLOAT, off + i + 1);
            s2 += s.getAtIndex(JAVA_FLOAT, off + i + 2);
            s3 += s.getAtIndex(JAVA_FLOAT, off + i + 3);
        }
        for (; i < n; i++) s0 += s.getAtIndex(JAVA_FLOAT, off + i);
        return (s0 + s1) + (s2 + s3);
    }

    /**
     * One pass for the mean and the sum of squared deviations of {@code s[off..off+n)}, added into
     * {@code out[0]} (sum of {@code x - shift}) and {@code out[1]} (sum of {@code (x - shift)^2}).
     * With a shift near the mean (the caller uses the channel's first value) the float64 sums lose
     * nothing to cancellation at any realistic mean/spread ratio.
     */
    static void shiftedMoments(MemorySegment s, long off, long n, double shift, double[] out) {
        double a0 = 0, a1 = 0, a2 = 0, a3 = 0, q0 = 0, q1 = 0, q2 = 0, q3 = 0;
        long i = 0;
        for (; i + 3 < n; i += 4) {
            double d0 = s.getAtIndex(JAVA_FLOAT, off + i) - shift;
            double d1 = s.getAtIndex(JAVA_FLOAT, off + i + 1) - shift;
            double d2 = s.getAtIndex(JAVA_FLOAT, off + i + 2) - shift;
            double d3 = s.getAtIndex(JAVA_FLOAT, off + i + 3) - shift;
            a0 += d0;
            a1 += d1;
            a2 += d2;
            a3 += d3;
            q0 += d0 * d0;
            q1 += d1 * d1;
            q2 += d2 * d2;
            q3 += d3 * d3;
        }
        for (; i < n; i++) {
            double d = s.getAtIndex(JAVA_FLOAT, off + i) - shift;
            a0 += d;
            q0 += d * d;
        }
        out[0] += (a0 + a1) + (a2 + a3);
        out[1] += (q0 + q1) + (q2 + q3);
    }

    /**
     * One pass for the batch-norm backward's two sums over {@code [off, off+n)}: {@code out[0] +=
     * sum dy}, {@code out[1] += sum dy * (x - mean)}.
     */
    static void gradientMoments(MemorySegment dy, MemorySegment x, long off, long n, double mean, double[] out) {
        double a0 = 0, a1 = 0, a2 = 0, a3 = 0, p0 = 0, p1 = 0, p2 = 0, p3 = 0;
        long i = 0;
        for (; i + 3 < n; i += 4) {
            double g0 = dy.getAtIndex(JAVA_FLOAT, off + i), g1 = dy.getAtIndex(JAVA_FLOAT, off + i + 1);
            double g2 = dy.getAtIndex(JAVA_FLOAT, off + i + 2), g3 = dy.getAtIndex(JAVA_FLOAT, off + i + 3);
            a0 += g0;
            a1 += g1;
            a2 += g2;
            a3 += g3;
            p0 += g0 * (x.getAtIndex(JAVA_FLOAT, off + i) - mean);
            p1 += g1 * (x.getAtIndex(JAVA_FLOAT, off + i + 1) - mean);
            p2 += g2 * (x.getAtIndex(JAVA_FLOAT, off + i + 2) - mean);
            p3 += g3 * (x.getAtIndex(JAVA_FLOAT, off + i + 3) - mean);
        }
        for (; i < n; i++) {
            double g = dy.getAtIndex(JAVA_FLOAT, off + i);
            a0 += g;
            p0 += g * (x.getAtIndex(JAVA_FLOAT, off + i) - mean);
        }
        out[0] += (a0 + a1) + (a2 + a3);
        out[1] += (p0 + p1) + (p2 + p3);
    }

    /*
     * Batch norm's element-wise passes, one (sample, channel) run of contiguous positions per
     * call: small methods that C2 compiles once and for all, instead of loops nested in the op
     * (whose on-stack-replacement compilations varied between runs, some several times slower:
     * docs/TRAINING.md, "Measurements behind the nn code").
     */

    /** {@code y = (x - mean) * scale + shift} over {@code [off, off+n)}. */
    static void normalize(MemorySegment x, MemorySegment y, long off, long n, float mean, float scale, float shift) {
        for (long i = off; i < off + n; i++) {
            y.setAtIndex(JAVA_FLOAT, i, (x.getAtIndex(JAVA_FLOAT, i) - mean) * scale + shift);
        }
    }

    /**
     * {@code dx (=|+=) a * (dy - meanDy - xhat * meanDyXhat)} with {@code xhat = (x - mean) * invStd}
     * over {@code [off, off+n)}; writes when {@code write}, else adds.
     */
    static void batchNormInputGradient(MemorySegment dy, MemorySegment x, MemorySegment dx, long off, long n,
            boolean write, float a, float meanDy, float mean, float invStd, float meanDyXhat) {
        if (write) {
            for (long i = off; i < off + n; i++) {
                float xhat = (x.getAtIndex(JAVA_FLOAT, i) - mean) * invStd;
                dx.setAtIndex(JAVA_FLOAT, i, a * (dy.getAtIndex(JAVA_FLOAT, i) - meanDy - xhat * meanDyXhat));
            }
        } else {
            for (long i = off; i < off + n; i++) {
                float xhat = (x.getAtIndex(JAVA_FLOAT, i) - mean) * invStd;
                dx.setAtIndex(JAVA_FLOAT, i,
                        dx.getAtIndex(JAVA_FLOAT, i) + a * (dy.getAtIndex(JAVA_FLOAT, i) - meanDy - xhat * meanDyXhat));
            }
        }
    }
}
