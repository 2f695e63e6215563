package dev.bandlimit.nn;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.bandlimit.Tensor;
import dev.bandlimit.internal.LayerKernels;
import java.lang.foreign.MemorySegment;

/**
 * What the ops share to move gradients: adds ({@code bl_add_into}) and copies, on the tape's
 * context and in its memory (host or a context's buffer memory alike). The one Java loop left,
 * {@link #axpy}, serves {@link Functional#dot}, a host-only testing aid; every op of a training
 * step runs natively ({@link LayerKernels}): measured on the MNIST model the native kernels were
 * several times faster than Java loops (docs/TRAINING.md, "Layer kernels"), and they are what
 * lets a device tape run without host round trips.
 */
final class Kernels {
    private Kernels() {}

    /** {@code dst[i] += src[i]} over all of {@code dst} (natively: bl_add_into on the tape's context). */
    static void addInto(Tape tape, Tensor dst, Tensor src) {
        LayerKernels.addInto(tape.kernelContext(), dst.elementCount(), DeviceMemory.of(dst), DeviceMemory.of(src));
    }

    /** {@code v.grad += delta}: a plain copy when {@code v} has no gradient yet. */
    static void accumulate(Var v, Tensor delta) {
        Tensor fresh = v.freshGrad();
        if (fresh != null) {
            fresh.copyFrom(delta);
        } else {
            addInto(v.tape(), v.grad(), delta);
        }
    }

    /** {@code dst[dstOff + i] += a * src[srcOff + i]} for {@code i < n}, host memory. */
    static void axpy(MemorySegment dst, long dstOff, float a, MemorySegment src, long srcOff, long n) {
        for (long i = 0; i < n; i++) {
            dst.setAtIndex(JAVA_FLOAT, dstOff + i,
                    dst.getAtIndex(JAVA_FLOAT, dstOff + i) + a * src.getAtIndex(JAVA_FLOAT, srcOff + i));
        }
    }
}
