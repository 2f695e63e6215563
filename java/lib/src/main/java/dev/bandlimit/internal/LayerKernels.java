package dev.bandlimit.internal;

import static java.lang.foreign.MemorySegment.NULL;

import dev.bandlimit.internal.ffm.BandlimitH;
import dev.bandlimit.internal.ffm.bl_adam_desc;
import dev.bandlimit.internal.ffm.bl_batchnorm_desc;
import dev.bandlimit.internal.ffm.bl_param_slot;
import dev.bandlimit.internal.ffm.bl_pool2d_desc;
import dev.bandlimit.internal.ffm.bl_sgd_desc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The native layer kernels (bandlimit.h, "Layer kernels") for the {@code nn} ops: batch norm,
 * ReLU, max pooling, linear, add and the optimizer steps, on a context's threads (or device).
 *
 * <p>The native side validates sizes and flags; what it cannot see is the caller's memory, so
 * every segment goes through {@link MemoryChecks} first (alive, off-heap, aligned, writable
 * outputs, at least the bytes the call reads or writes). Nullable arguments are passed as
 * {@code NULL}. Each takes the context to run on first ({@code NULL}: the default CPU context);
 * the segments are in its buffer memory (on CUDA, address segments of device memory, which the
 * native side checks and Java never dereferences).
 */
public final class LayerKernels {
    static {
        Native.ensureLoaded();
    }

    private LayerKernels() {}

    private static final long FLOAT = Float.BYTES, DOUBLE = Double.BYTES, INT = Integer.BYTES;

    /** Per-channel batch-norm shape and settings (bl_batchnorm_desc). */
    public record BatchNormShape(long batch, long channels, long spatial, boolean training, boolean relu,
            double momentum, double eps) {
        long elements() {
            return batch * channels * spatial;
        }

        MemorySegment write(Arena arena) {
            MemorySegment d = bl_batchnorm_desc.allocate(arena);
            bl_batchnorm_desc.batch(d, batch);
            bl_batchnorm_desc.channels(d, channels);
            bl_batchnorm_desc.spatial(d, spatial);
            bl_batchnorm_desc.training(d, training ? 1 : 0);
            bl_batchnorm_desc.relu(d, relu ? 1 : 0);
            bl_batchnorm_desc.momentum(d, momentum);
            bl_batchnorm_desc.eps(d, eps);
            return d;
        }
    }

    /** Max-pooling geometry (bl_pool2d_desc): planes of height x width, windows, strides. */
    public record PoolShape(long planes, long height, long width, long kernelH, long kernelW, long strideH,
            long strideW) {
        public long outHeight() {
            return (height - kernelH) / strideH + 1;
        }

        public long outWidth() {
            return (width - kernelW) / strideW + 1;
        }

        MemorySegment write(Arena arena) {
            MemorySegment d = bl_pool2d_desc.allocate(arena);
            bl_pool2d_desc.planes(d, planes);
            bl_pool2d_desc.height(d, height);
            bl_pool2d_desc.width(d, width);
            bl_pool2d_desc.kernel_h(d, kernelH);
            bl_pool2d_desc.kernel_w(d, kernelW);
            bl_pool2d_desc.stride_h(d, strideH);
            bl_pool2d_desc.stride_w(d, strideW);
            return d;
        }
    }

    /** One parameter of an optimizer step: its data, gradient and up to two state buffers, of {@code count} floats. */
    public record ParamSlot(MemorySegment data, MemorySegment grad, @Nullable MemorySegment state0,
            @Nullable MemorySegment state1, long count) {}

    public static void batchNormForward(MemorySegment context, BatchNormShape s, MemorySegment x, MemorySegment gamma, MemorySegment beta,
            MemorySegment runningMean, MemorySegment runningVar, MemorySegment y, MemorySegment mean,
            MemorySegment invStd) {
        long n = s.elements(), c = s.channels();
        require(x, n * FLOAT, "x", false);
        require(gamma, c * FLOAT, "gamma", false);
        require(beta, c * FLOAT, "beta", false);
        require(runningMean, c * FLOAT, "runningMean", true);
        require(runningVar, c * FLOAT, "runningVar", true);
        require(y, n * FLOAT, "y", true);
        require(mean, c * DOUBLE, "mean", true);
        require(invStd, c * DOUBLE, "invStd", true);
        try (Arena arena = Arena.ofConfined()) {
            Native.check(BandlimitH.bl_batchnorm_forward(context, s.write(arena), x, gamma, beta, runningMean, runningVar,
                    y, mean, invStd), "bl_batchnorm_forward");
        }
    }

    /** {@code y} is read only with a fused ReLU (may be null otherwise); dx, dGamma, dBeta may be null. */
    public static void batchNormBackward(MemorySegment context, BatchNormShape s, MemorySegment x, @Nullable MemorySegment y,
            MemorySegment dy, MemorySegment gamma, MemorySegment mean, MemorySegment invStd,
            @Nullable MemorySegment dx, boolean dxAccumulate, @Nullable MemorySegment dGamma,
            @Nullable MemorySegment dBeta) {
        long n = s.elements(), c = s.channels();
        require(x, n * FLOAT, "x", false);
        if (s.relu()) require(y, n * FLOAT, "y", false);
        require(dy, n * FLOAT, "dy", false);
        require(gamma, c * FLOAT, "gamma", false);
        require(mean, c * DOUBLE, "mean", false);
        require(invStd, c * DOUBLE, "invStd", false);
        optional(dx, n * FLOAT, "dx", true);
        optional(dGamma, c * FLOAT, "dGamma", true);
        optional(dBeta, c * FLOAT, "dBeta", true);
        try (Arena arena = Arena.ofConfined()) {
            Native.check(BandlimitH.bl_batchnorm_backward(context, s.write(arena), x, orNull(y), dy, gamma, mean, invStd,
                    orNull(dx), dxAccumulate ? 1 : 0, orNull(dGamma), orNull(dBeta)), "bl_batchnorm_backward");
        }
    }

    public static void reluForward(MemorySegment context, long count, MemorySegment x, MemorySegment y) {
        require(x, count * FLOAT, "x", false);
        require(y, count * FLOAT, "y", true);
        Native.check(BandlimitH.bl_relu_forward(context, count, x, y), "bl_relu_forward");
    }

    public static void reluBackward(MemorySegment context, long count, MemorySegment x, MemorySegment dy, MemorySegment dx,
            boolean accumulate) {
        require(x, count * FLOAT, "x", false);
        require(dy, count * FLOAT, "dy", false);
        require(dx, count * FLOAT, "dx", true);
        Native.check(BandlimitH.bl_relu_backward(context, count, x, dy, dx, accumulate ? 1 : 0), "bl_relu_backward");
    }

    /** {@code winners} (int32 per output) may be null. */
    public static void maxPoolForward(MemorySegment context, PoolShape s, MemorySegment x, MemorySegment y, @Nullable MemorySegment winners) {
        long out = s.planes() * s.outHeight() * s.outWidth();
        require(x, s.planes() * s.height() * s.width() * FLOAT, "x", false);
        require(y, out * FLOAT, "y", true);
        optional(winners, out * INT, "winners", true);
        try (Arena arena = Arena.ofConfined()) {
            Native.check(BandlimitH.bl_maxpool2d_forward(context, s.write(arena), x, y, orNull(winners)),
                    "bl_maxpool2d_forward");
        }
    }

    public static void maxPoolBackward(MemorySegment context, PoolShape s, MemorySegment winners, MemorySegment dy, MemorySegment dx,
            boolean accumulate) {
        long out = s.planes() * s.outHeight() * s.outWidth();
        require(winners, out * INT, "winners", false);
        require(dy, out * FLOAT, "dy", false);
        require(dx, s.planes() * s.height() * s.width() * FLOAT, "dx", true);
        try (Arena arena = Arena.ofConfined()) {
            Native.check(BandlimitH.bl_maxpool2d_backward(context, s.write(arena), winners, dy, dx, accumulate ? 1 : 0),
                    "bl_maxpool2d_backward");
        }
    }

    /** {@code y = x w^T + b}; {@code b} may be null. */
    public static void linearForward(MemorySegment context, long batch, long in, long out, MemorySegment x, MemorySegment w,
            @Nullable MemorySegment b, MemorySegment y) {
        require(x, batch * in * FLOAT, "x", false);
        require(w, out * in * FLOAT, "w", false);
        optional(b, out * FLOAT, "b", false);
        require(y, batch * out * FLOAT, "y", true);
        Native.check(BandlimitH.bl_linear_forward(context, batch, in, out, x, w, orNull(b), y), "bl_linear_forward");
    }

    /** Adds into each of dx, dw, db that is not null. */
    public static void linearBackward(MemorySegment context, long batch, long in, long out, MemorySegment x, MemorySegment w,
            MemorySegment dy, @Nullable MemorySegment dx, @Nullable MemorySegment dw, @Nullable MemorySegment db) {
        require(x, batch * in * FLOAT, "x", false);
        require(w, out * in * FLOAT, "w", false);
        require(dy, batch * out * FLOAT, "dy", false);
        optional(dx, batch * in * FLOAT, "dx", true);
        optional(dw, out * in * FLOAT, "dw", true);
        optional(db, out * FLOAT, "db", true);
        Native.check(BandlimitH.bl_linear_backward(context, batch, in, out, x, w, dy, orNull(dx), orNull(dw), orNull(db)),
                "bl_linear_backward");
    }

    /** {@code dst[i] += src[i]}. */
    public static void addInto(MemorySegment context, long count, MemorySegment dst, MemorySegment src) {
        require(dst, count * FLOAT, "dst", true);
        require(src, count * FLOAT, "src", false);
        Native.check(BandlimitH.bl_add_into(context, count, dst, src), "bl_add_into");
    }

    /** One Adam step over all {@code params} (state0 = first moments, state1 = second). */
    public static void adamStep(MemorySegment context, double lr, double beta1, double beta2, double eps, double weightDecay, long step,
            List<ParamSlot> params) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment d = bl_adam_desc.allocate(arena);
            bl_adam_desc.lr(d, lr);
            bl_adam_desc.beta1(d, beta1);
            bl_adam_desc.beta2(d, beta2);
            bl_adam_desc.eps(d, eps);
            bl_adam_desc.weight_decay(d, weightDecay);
            bl_adam_desc.step(d, step);
            MemorySegment slots = slots(params, arena);
            Native.check(BandlimitH.bl_adam_step(context, d, slots, params.size()), "bl_adam_step");
        }
    }

    /** One SGD step over all {@code params} (state0 = momentum buffer, null without momentum). */
    public static void sgdStep(MemorySegment context, double lr, double momentum, double weightDecay, List<ParamSlot> params) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment d = bl_sgd_desc.allocate(arena);
            bl_sgd_desc.lr(d, lr);
            bl_sgd_desc.momentum(d, momentum);
            bl_sgd_desc.weight_decay(d, weightDecay);
            MemorySegment slots = slots(params, arena);
            Native.check(BandlimitH.bl_sgd_step(context, d, slots, params.size()), "bl_sgd_step");
        }
    }

    public static void avgPoolForward(MemorySegment context, PoolShape s, MemorySegment x, MemorySegment y) {
        require(x, s.planes() * s.height() * s.width() * FLOAT, "x", false);
        require(y, s.planes() * s.outHeight() * s.outWidth() * FLOAT, "y", true);
        try (Arena arena = Arena.ofConfined()) {
            Native.check(BandlimitH.bl_avgpool2d_forward(context, s.write(arena), x, y), "bl_avgpool2d_forward");
        }
    }

    public static void avgPoolBackward(MemorySegment context, PoolShape s, MemorySegment dy, MemorySegment dx,
            boolean accumulate) {
        require(dy, s.planes() * s.outHeight() * s.outWidth() * FLOAT, "dy", false);
        require(dx, s.planes() * s.height() * s.width() * FLOAT, "dx", true);
        try (Arena arena = Arena.ofConfined()) {
            Native.check(BandlimitH.bl_avgpool2d_backward(context, s.write(arena), dy, dx, accumulate ? 1 : 0),
                    "bl_avgpool2d_backward");
        }
    }

    /** {@code mask} (one byte per element) may be null. */
    public static void dropoutForward(MemorySegment context, long count, double p, long seed, MemorySegment x,
            MemorySegment y, @Nullable MemorySegment mask) {
        require(x, count * FLOAT, "x", false);
        require(y, count * FLOAT, "y", true);
        if (mask != null) MemoryChecks.bytes("mask", mask, count, true);
        Native.check(BandlimitH.bl_dropout_forward(context, count, p, seed, x, y, orNull(mask)), "bl_dropout_forward");
    }

    public static void dropoutBackward(MemorySegment context, long count, double p, MemorySegment mask,
            MemorySegment dy, MemorySegment dx, boolean accumulate) {
        MemoryChecks.bytes("mask", mask, count, false);
        require(dy, count * FLOAT, "dy", false);
        require(dx, count * FLOAT, "dx", true);
        Native.check(BandlimitH.bl_dropout_backward(context, count, p, mask, dy, dx, accumulate ? 1 : 0),
                "bl_dropout_backward");
    }

    /** {@code labels}: int32 per row; {@code probs} may be null. */
    public static void softmaxXentForward(MemorySegment context, long batch, long classes, MemorySegment logits,
            MemorySegment labels, MemorySegment loss, @Nullable MemorySegment probs) {
        require(logits, batch * classes * FLOAT, "logits", false);
        require(labels, batch * INT, "labels", false);
        require(loss, FLOAT, "loss", true);
        optional(probs, batch * classes * FLOAT, "probs", true);
        Native.check(BandlimitH.bl_softmax_xent_forward(context, batch, classes, logits, labels, loss, orNull(probs)),
                "bl_softmax_xent_forward");
    }

    public static void softmaxXentBackward(MemorySegment context, long batch, long classes, MemorySegment probs,
            MemorySegment labels, MemorySegment dloss, MemorySegment dlogits, boolean accumulate) {
        require(probs, batch * classes * FLOAT, "probs", false);
        require(labels, batch * INT, "labels", false);
        require(dloss, FLOAT, "dloss", false);
        require(dlogits, batch * classes * FLOAT, "dlogits", true);
        Native.check(BandlimitH.bl_softmax_xent_backward(context, batch, classes, probs, labels, dloss, dlogits,
                accumulate ? 1 : 0), "bl_softmax_xent_backward");
    }

    private static MemorySegment slots(List<ParamSlot> params, Arena arena) {
        MemorySegment slots = bl_param_slot.allocateArray(Math.max(1, params.size()), arena);
        for (int k = 0; k < params.size(); k++) {
            ParamSlot p = params.get(k);
            String at = "params[" + k + "]";
            require(p.data(), p.count() * FLOAT, at + ".data", true);
            require(p.grad(), p.count() * FLOAT, at + ".grad", false);
            optional(p.state0(), p.count() * FLOAT, at + ".state0", true);
            optional(p.state1(), p.count() * FLOAT, at + ".state1", true);
            MemorySegment s = bl_param_slot.asSlice(slots, k);
            bl_param_slot.data(s, p.data());
            bl_param_slot.grad(s, p.grad());
            bl_param_slot.state0(s, orNull(p.state0()));
            bl_param_slot.state1(s, orNull(p.state1()));
            bl_param_slot.count(s, p.count());
        }
        return slots;
    }

    private static MemorySegment orNull(@Nullable MemorySegment s) {
        return s == null ? NULL : s;
    }

    private static void optional(@Nullable MemorySegment s, long bytes, String name, boolean output) {
        if (s != null) require(s, bytes, name, output);
    }

    private static void require(@Nullable MemorySegment s, long bytes, String name, boolean output) {
        if (s == null) throw new NullPointerException(name + " must not be null");
        MemoryChecks.buffer(name, s, bytes, output);
    }
}
