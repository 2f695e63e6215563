package dev.bandlimit.nn;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.bandlimit.Tensor;
import dev.bandlimit.internal.LayerKernels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The ops, usable without modules. Each computes its output at once in the tape's arena and,
 * when the output needs a gradient, records a hand-written backward that adds into the inputs'
 * gradients. Each records its time in {@link OpTimers} under {@code "<op>.forward"} and
 * {@code "<op>.backward"}.
 *
 * <p>Shapes are row-major: images {@code [N][C][H][W]}, sequences {@code [N][C][L]}, features
 * {@code [N][F]}. Everything runs on the calling thread in a fixed order (bitwise reproducible).
 */
public final class Functional {
    private Functional() {}

    // ------------------------------------------------------------------------------------
    // Element-wise
    // ------------------------------------------------------------------------------------

    /** {@code max(x, 0)}; the gradient at 0 is taken as 0. */
    public static Var relu(Tape tape, Var x) {
        tape.checkInput(x, "x");
        long start = System.nanoTime();
        MemorySegment xs = m(x.value());
        long count = x.value().elementCount();
        Tensor y = tape.allocateUninitialized(x.shape());
        LayerKernels.reluForward(tape.kernelContext(), count, xs, m(y));
        Var out = tape.result(y, x);
        tape.onBackward(out, "relu.backward", () -> {
            Tensor fresh = x.freshGrad();
            LayerKernels.reluBackward(tape.kernelContext(), count, xs, m(out.grad()), m(x.grad()), fresh == null);
        });
        OpTimers.record("relu.forward", System.nanoTime() - start);
        return out;
    }

    /** {@code a + b}, same shapes (no broadcasting). */
    public static Var add(Tape tape, Var a, Var b) {
        tape.checkInput(a, "a");
        tape.checkInput(b, "b");
        if (!Arrays.equals(a.value().shape(), b.value().shape())) {
            throw new IllegalArgumentException("add: shapes differ: " + Arrays.toString(a.shape()) + " and "
                    + Arrays.toString(b.shape()));
        }
        long start = System.nanoTime();
        long count = a.value().elementCount();
        Tensor y = tape.allocateUninitialized(a.shape());
        y.copyFrom(a.value());
        LayerKernels.addInto(tape.kernelContext(), count, m(y), m(b.value()));
        Var out = tape.result(y, a, b);
        tape.onBackward(out, "add.backward", () -> {
            if (a.requiresGrad()) Kernels.accumulate(a, out.grad());
            if (b.requiresGrad()) Kernels.accumulate(b, out.grad());
        });
        OpTimers.record("add.forward", System.nanoTime() - start);
        return out;
    }

    /**
     * Inverted dropout: in a training tape each element is zeroed with probability {@code p} and
     * the rest scaled by {@code 1 / (1 - p)}; the mask is a pure function of {@code maskSeed}
     * (the same seed gives the same mask). In an evaluation tape, or with {@code p = 0}, returns
     * {@code x} itself.
     */
    public static Var dropout(Tape tape, Var x, double p, long maskSeed) {
        tape.checkInput(x, "x");
        if (!(p >= 0.0 && p < 1.0)) throw new IllegalArgumentException("dropout p must be in [0, 1), got " + p);
        if (!tape.training() || p == 0.0) return x;
        long start = System.nanoTime();
        long count = x.value().elementCount();
        MemorySegment keep = tape.allocateBytesUninitialized(count);
        Tensor y = tape.allocateUninitialized(x.shape());
        LayerKernels.dropoutForward(tape.kernelContext(), count, p, maskSeed, m(x.value()), m(y), keep);
        Var out = tape.result(y, x);
        tape.onBackward(out, "dropout.backward", () -> {
            Tensor fresh = x.freshGrad();
            LayerKernels.dropoutBackward(tape.kernelContext(), count, p, keep, m(out.grad()), m(x.grad()), fresh == null);
        });
        OpTimers.record("dropout.forward", System.nanoTime() - start);
        return out;
    }

    // ------------------------------------------------------------------------------------
    // Pooling and reshaping
    // ------------------------------------------------------------------------------------

    /** Max pooling over {@code kernel x kernel} windows every {@code stride}, no padding: {@code [N,C,H,W] -> [N,C,Ho,Wo]}. */
    public static Var maxPool2d(Tape tape, Var x, long kernel, long stride) {
        tape.checkInput(x, "x");
        long[] s = requireRank(x, 4, "maxPool2d");
        return maxPool(tape, x, s[0] * s[1], s[2], s[3], kernel, kernel, stride, stride,
                new long[] {s[0], s[1], pooledSize(s[2], kernel, stride, "maxPool2d"), pooledSize(s[3], kernel, stride, "maxPool2d")});
    }

    /** Max pooling over windows of {@code kernel} every {@code stride}, no padding: {@code [N,C,L] -> [N,C,Lo]}. */
    public static Var maxPool1d(Tape tape, Var x, long kernel, long stride) {
        tape.checkInput(x, "x");
        long[] s = requireRank(x, 3, "maxPool1d");
        return maxPool(tape, x, s[0] * s[1], 1, s[2], 1, kernel, 1, stride,
                new long[] {s[0], s[1], pooledSize(s[2], kernel, stride, "maxPool1d")});
    }

    /**
     * Max pooling of {@code planes} planes of {@code h x w}; remembers the winner of each window
     * (the first maximum, as PyTorch) so the backward routes the gradient there.
     */
    private static Var maxPool(Tape tape, Var x, long planes, long h, long w, long kh, long kw, long sh, long sw,
            long[] outShape) {
        long start = System.nanoTime();
        LayerKernels.PoolShape shape = new LayerKernels.PoolShape(planes, h, w, kh, kw, sh, sw);
        Tensor y = tape.allocateUninitialized(outShape);
        boolean record = tape.training() && x.requiresGrad();
        MemorySegment winners = record ? tape.allocateBytesUninitialized(y.elementCount() * Integer.BYTES) : null;
        LayerKernels.maxPoolForward(tape.kernelContext(), shape, m(x.value()), m(y), winners);
        Var out = tape.result(y, x);
        tape.onBackward(out, "maxpool.backward", () -> {
            Tensor fresh = x.freshGrad(); // the kernel zeroes a fresh gradient before scattering
            LayerKernels.maxPoolBackward(tape.kernelContext(), shape, winners, m(out.grad()), m(x.grad()), fresh == null);
        });
        OpTimers.record("maxpool.forward", System.nanoTime() - start);
        return out;
    }

    /** Average pooling over {@code kernel x kernel} windows every {@code stride}, no padding. */
    public static Var avgPool2d(Tape tape, Var x, long kernel, long stride) {
        tape.checkInput(x, "x");
        long[] s = requireRank(x, 4, "avgPool2d");
        long ho = pooledSize(s[2], kernel, stride, "avgPool2d"), wo = pooledSize(s[3], kernel, stride, "avgPool2d");
        return avgPool(tape, x, new LayerKernels.PoolShape(s[0] * s[1], s[2], s[3], kernel, kernel, stride, stride),
                new long[] {s[0], s[1], ho, wo}, "avgpool");
    }

    /** Mean over all positions: {@code [N,C,H,W]} or {@code [N,C,L]} (any rank >= 3) to {@code [N,C]}. */
    public static Var globalAvgPool(Tape tape, Var x) {
        tape.checkInput(x, "x");
        long[] s = x.value().shape();
        if (s.length < 3) throw new IllegalArgumentException("globalAvgPool needs [N,C,...] of rank >= 3, got " + Arrays.toString(s));
        long planes = s[0] * s[1];
        long size = x.value().elementCount() / planes;
        // One window over each plane, seen as a row of `size` (the kernel sums in float64).
        return avgPool(tape, x, new LayerKernels.PoolShape(planes, 1, size, 1, size, 1, size), new long[] {s[0], s[1]},
                "globalavgpool");
    }

    private static Var avgPool(Tape tape, Var x, LayerKernels.PoolShape shape, long[] outShape, String op) {
        long start = System.nanoTime();
        Tensor y = tape.allocateUninitialized(outShape);
        LayerKernels.avgPoolForward(tape.kernelContext(), shape, m(x.value()), m(y));
        Var out = tape.result(y, x);
        tape.onBackward(out, op + ".backward", () -> {
            Tensor fresh = x.freshGrad();
            LayerKernels.avgPoolBackward(tape.kernelContext(), shape, m(out.grad()), m(x.grad()), fresh == null);
        });
        OpTimers.record(op + ".forward", System.nanoTime() - start);
        return out;
    }

    /** {@code [N, ...] -> [N, prod(...)]}; the output shares the input's memory (no copy). */
    public static Var flatten(Tape tape, Var x) {
        tape.checkInput(x, "x");
        long start = System.nanoTime();
        Tensor xd = x.value();
        long n = xd.dim(0);
        Tensor y = xd.reshape(n, xd.elementCount() / n);
        Var out = tape.result(y, x);
        tape.onBackward(out, "flatten.backward", () -> Kernels.accumulate(x, out.grad()));
        OpTimers.record("flatten.forward", System.nanoTime() - start);
        return out;
    }

    // ------------------------------------------------------------------------------------
    // Linear
    // ------------------------------------------------------------------------------------

    /** {@code y = x w^T + b} with {@code x [N,in]}, {@code w [out,in]}, {@code b [out]} (nullable). */
    public static Var linear(Tape tape, Var x, Parameter w, @Nullable Parameter b) {
        Objects.requireNonNull(w, "w must not be null");
        return linear(tape, x, tape.param(w), b == null ? null : tape.param(b));
    }

    /** {@link #linear(Tape, Var, Parameter, Parameter)} on vars (any of them may need a gradient). */
    public static Var linear(Tape tape, Var x, Var w, @Nullable Var b) {
        tape.checkInput(x, "x");
        tape.checkInput(w, "w");
        if (b != null) tape.checkInput(b, "b");
        long[] xs = requireRank(x, 2, "linear x");
        long[] ws = requireRank(w, 2, "linear w");
        long batch = xs[0], in = xs[1], outF = ws[0];
        if (ws[1] != in) {
            throw new IllegalArgumentException("linear: x has " + in + " features, w expects " + ws[1]);
        }
        if (b != null && !Arrays.equals(b.value().shape(), new long[] {outF})) {
            throw new IllegalArgumentException("linear: b has shape " + Arrays.toString(b.shape()) + ", expected [" + outF + "]");
        }
        long start = System.nanoTime();
        Tensor y = tape.allocateUninitialized(batch, outF);
        LayerKernels.linearForward(tape.kernelContext(), batch, in, outF, m(x.value()), m(w.value()),
                b == null ? null : m(b.value()), m(y));
        Var out = tape.result(y, x, w, b);
        tape.onBackward(out, "linear.backward", () -> LayerKernels.linearBackward(tape.kernelContext(), batch, in, outF,
                m(x.value()), m(w.value()), m(out.grad()),
                x.requiresGrad() ? m(x.gradAccumulator()) : null,
                w.requiresGrad() ? m(w.gradAccumulator()) : null,
                b != null && b.requiresGrad() ? m(b.gradAccumulator()) : null));
        OpTimers.record("linear.forward", System.nanoTime() - start);
        return out;
    }

    // ------------------------------------------------------------------------------------
    // Batch normalisation
    // ------------------------------------------------------------------------------------

    /**
     * Batch normalisation over every axis but the channel axis 1 of {@code x} ({@code [N,C]},
     * {@code [N,C,L]} or {@code [N,C,H,W]}), with affine {@code gamma}, {@code beta} of shape
     * {@code [C]}. Training tape: normalises with the batch mean and biased variance and updates
     * the running statistics in place as PyTorch does ({@code r = (1 - momentum) r + momentum s},
     * with the unbiased variance for {@code runningVar}). Evaluation tape: uses the running
     * statistics. Statistics are summed in float64.
     */
    public static Var batchNorm(Tape tape, Var x, Var gamma, Var beta, Tensor runningMean, Tensor runningVar,
            double momentum, double eps) {
        return batchNorm(tape, x, gamma, beta, runningMean, runningVar, momentum, eps, false);
    }

    /**
     * {@code relu(batchNorm(...))} as one op: the same values and gradients as the two ops in
     * turn, bit for bit, with one pass over the activations fewer each way and no intermediate
     * tensor ({@link Sequential} uses it for a BatchNorm followed by a ReLU).
     */
    public static Var batchNormRelu(Tape tape, Var x, Var gamma, Var beta, Tensor runningMean, Tensor runningVar,
            double momentum, double eps) {
        return batchNorm(tape, x, gamma, beta, runningMean, runningVar, momentum, eps, true);
    }

    private static Var batchNorm(Tape tape, Var x, Var gamma, Var beta, Tensor runningMean, Tensor runningVar,
            double momentum, double eps, boolean relu) {
        tape.checkInput(x, "x");
        tape.checkInput(gamma, "gamma");
        tape.checkInput(beta, "beta");
        long[] s = x.value().shape();
        if (s.length < 2) throw new IllegalArgumentException("batchNorm needs [N,C,...], got " + Arrays.toString(s));
        long batch = s[0], channels = s[1];
        long spatial = x.value().elementCount() / (batch * channels);
        long[] perChannel = {channels};
        for (Tensor t : new Tensor[] {gamma.value(), beta.value(), runningMean, runningVar}) {
            if (!Arrays.equals(t.shape(), perChannel)) {
                throw new IllegalArgumentException("batchNorm: per-channel tensors must have shape [" + channels
                        + "], got " + Arrays.toString(t.shape()));
            }
        }
        requireTapeMemory(tape, runningMean, "runningMean");
        requireTapeMemory(tape, runningVar, "runningVar");
        long perChannelCount = batch * spatial;
        boolean training = tape.training();
        if (training && perChannelCount < 2) {
            throw new IllegalArgumentException("batchNorm in training needs more than one value per channel, got shape "
                    + Arrays.toString(s));
        }
        long start = System.nanoTime();
        LayerKernels.BatchNormShape shape = new LayerKernels.BatchNormShape(batch, channels, spatial, training, relu,
                momentum, eps);
        String op = relu ? "batchnorm_relu" : "batchnorm";
        MemorySegment xs = m(x.value()), gs = m(gamma.value());
        Tensor y = tape.allocateUninitialized(s);
        // The statistics the forward used (float64 per channel), for the backward.
        MemorySegment mean = tape.allocateBytesUninitialized(channels * Double.BYTES);
        MemorySegment invStd = tape.allocateBytesUninitialized(channels * Double.BYTES);
        LayerKernels.batchNormForward(tape.kernelContext(), shape, xs, gs, m(beta.value()), m(runningMean),
                m(runningVar), m(y), mean, invStd);
        Var out = tape.result(y, x, gamma, beta);
        // Recorded only in training (a training tape's outputs need gradients): the batch
        // statistics' backward.
        MemorySegment ys = m(y);
        tape.onBackward(out, op + ".backward", () -> {
            MemorySegment dx = null;
            boolean accumulate = false;
            if (x.requiresGrad()) {
                accumulate = x.freshGrad() == null;
                dx = m(x.grad());
            }
            // With the ReLU fused, its mask is read from the output (y > 0).
            LayerKernels.batchNormBackward(tape.kernelContext(), shape, xs, relu ? ys : null, m(out.grad()), gs, mean, invStd, dx,
                    accumulate,
                    gamma.requiresGrad() ? m(gamma.gradAccumulator()) : null,
                    beta.requiresGrad() ? m(beta.gradAccumulator()) : null);
        });
        OpTimers.record(op + ".forward", System.nanoTime() - start);
        return out;
    }

    // ------------------------------------------------------------------------------------
    // Losses and reductions
    // ------------------------------------------------------------------------------------

    /**
     * Mean softmax cross-entropy of {@code logits [N,K]} against class indices {@code labels}
     * (length N, each in [0, K)): {@code mean_n (logsumexp(z_n) - z_n[label_n])}, a scalar
     * {@code [1]}. Log-sum-exp subtracts the row maximum and is evaluated in float64, so large
     * logits neither overflow nor lose the small terms.
     */
    public static Var softmaxCrossEntropy(Tape tape, Var logits, int[] labels) {
        tape.checkInput(logits, "logits");
        Objects.requireNonNull(labels, "labels must not be null");
        long[] s = requireRank(logits, 2, "softmaxCrossEntropy logits");
        int batch = Math.toIntExact(s[0]), classes = Math.toIntExact(s[1]);
        if (labels.length != batch) {
            throw new IllegalArgumentException("softmaxCrossEntropy: " + labels.length + " labels for a batch of " + batch);
        }
        for (int label : labels) {
            if (label < 0 || label >= classes) {
                throw new IllegalArgumentException("softmaxCrossEntropy: label " + label + " outside [0, " + classes + ")");
            }
        }
        long start = System.nanoTime();
        // The labels go to the tape's memory (the kernels read them there); probs keep the
        // softmax for the backward.
        MemorySegment labelMemory = tape.allocateBytesUninitialized((long) batch * Integer.BYTES);
        try (Arena call = Arena.ofConfined()) {
            tape.copyFromHost(labelMemory, call.allocateFrom(JAVA_INT, labels));
        }
        boolean record = tape.training() && logits.requiresGrad();
        Tensor probs = record ? tape.allocateUninitialized(batch, classes) : null;
        Tensor loss = tape.allocateUninitialized(1);
        LayerKernels.softmaxXentForward(tape.kernelContext(), batch, classes, m(logits.value()), labelMemory, m(loss),
                probs == null ? null : m(probs));
        Var out = tape.result(loss, logits);
        tape.onBackward(out, "softmax_cross_entropy.backward", () -> {
            Tensor fresh = logits.freshGrad();
            LayerKernels.softmaxXentBackward(tape.kernelContext(), batch, classes, m(probs), labelMemory, m(out.grad()),
                    m(logits.grad()), fresh == null);
        });
        OpTimers.record("softmax_cross_entropy.forward", System.nanoTime() - start);
        return out;
    }

    /**
     * {@code sum_i x_i r_i}, a scalar {@code [1]} summed in float64; {@code r} has the shape of
     * {@code x} and gets no gradient. A testing aid (gradient checks) that runs in Java: host
     * tapes and host tensors only.
     */
    public static Var dot(Tape tape, Var x, Tensor r) {
        tape.checkInput(x, "x");
        if (tape.device() != null) throw new IllegalArgumentException("dot runs on host tapes only (a Java loop)");
        Objects.requireNonNull(r, "r must not be null");
        if (!Arrays.equals(x.value().shape(), r.shape())) {
            throw new IllegalArgumentException("dot: shapes differ: " + Arrays.toString(x.shape()) + " and "
                    + Arrays.toString(r.shape()));
        }
        long start = System.nanoTime();
        long count = r.elementCount();
        MemorySegment xs = m(x.value()), rs = r.segment();
        double sum = 0;
        for (long i = 0; i < count; i++) sum += (double) xs.getAtIndex(JAVA_FLOAT, i) * rs.getAtIndex(JAVA_FLOAT, i);
        Tensor y = tape.allocateUninitialized(1);
        y.set(0, (float) sum);
        Var out = tape.result(y, x);
        tape.onBackward(out, "dot.backward", () ->
                Kernels.axpy(m(x.gradAccumulator()), 0, out.grad().get(0), rs, 0, count));
        OpTimers.record("dot.forward", System.nanoTime() - start);
        return out;
    }

    /** Index of the largest logit per row of {@code [N,K]} (the first on ties); records nothing. */
    public static int[] argmax(Var logits) {
        long[] s = requireRank(logits, 2, "argmax");
        float[] zs = logits.data().toArray();  // one copy from a device tape
        int batch = Math.toIntExact(s[0]), classes = Math.toIntExact(s[1]);
        int[] out = new int[batch];
        for (int n = 0; n < batch; n++) {
            int row = n * classes;
            int best = 0;
            float bestValue = zs[row];
            for (int k = 1; k < classes; k++) {
                float v = zs[row + k];
                if (v > bestValue) {
                    bestValue = v;
                    best = k;
                }
            }
            out[n] = best;
        }
        return out;
    }

    // ------------------------------------------------------------------------------------

    /** The memory behind {@code t}, for the native kernels (never read from Java). */
    private static MemorySegment m(Tensor t) {
        return DeviceMemory.of(t);
    }

    /** A tensor an op takes besides its vars (batch-norm statistics) must live where the tape's do. */
    private static void requireTapeMemory(Tape tape, Tensor t, String name) {
        if (t.context() != tape.device()) {
            throw new IllegalArgumentException(name + " lives in " + (t.context() == null ? "host memory"
                    : "the buffer memory of " + t.context()) + ", the tape in " + (tape.device() == null ? "host memory"
                    : "the buffer memory of " + tape.device()) + " (Module.to moves a model's buffers)");
        }
    }

    private static long[] requireRank(Var v, int rank, String what) {
        long[] s = v.data().shape();
        if (s.length != rank) {
            throw new IllegalArgumentException(what + " needs rank " + rank + ", got shape " + Arrays.toString(s));
        }
        return s;
    }

    private static long pooledSize(long size, long kernel, long stride, String what) {
        if (kernel < 1 || stride < 1) {
            throw new IllegalArgumentException(what + ": kernel and stride must be >= 1, got " + kernel + ", " + stride);
        }
        if (size < kernel) throw new IllegalArgumentException(what + ": input size " + size + " < kernel " + kernel);
        return (size - kernel) / stride + 1;
    }
}
