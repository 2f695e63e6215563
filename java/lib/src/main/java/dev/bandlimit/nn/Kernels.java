package dev.bandlimit.nn;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.bandlimit.Tensor;
import dev.bandlimit.internal.LayerKernels;
import java.lang.foreign.MemorySegment;

/**
 * The Java loops the remaining Java ops share (dropout, add, average pooling, dot), over
 * float32 {@link MemorySegment}s read and written in place with {@code getAtIndex} /
 * {@code setAtIndex}; sequential with a fixed summation order, so results are bitwise
 * reproducible. The ops of a CNN's training step (batch norm, ReLU, max pooling, linear, the
 * optimizer steps, gradient adds) run natively instead ({@link LayerKernels}): measured on the
 * MNIST model they were several times faster there (docs/TRAINING.md, "Layer kernels").
 *
 * <p>Element-wise loops that read segments and write one other segment run about as fast as
 * a copy to an array and back; the same loop as a read-modify-write of a third segment is
 * several times slower (C2 can tell heap arrays apart; off-heap segments might overlap), which
 * is why gradients are written, not added, on first use ({@link Var#freshGrad}).
 */
final class Kernels {
    private Kernels() {}

    /** {@code dst[i] += src[i]} (natively: bl_add_into). */
    static void addInto(MemorySegment dst, MemorySegment src, long n) {
        LayerKernels.addInto(n, dst, src);
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
     * {@code sum_i s[off + i]} for {@code i < n} in float64, with interleaved partial sums
     * combined in a fixed order: independent dependency chains instead of one, since an add has a
     * latency of several cycles but a throughput of one or two a cycle.
     */
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
}
