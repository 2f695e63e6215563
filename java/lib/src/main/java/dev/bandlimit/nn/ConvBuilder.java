package dev.bandlimit.nn;

import dev.bandlimit.Compression;
import dev.bandlimit.Padding;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Named settings for {@link Conv2d} and {@link Conv1d}, so that callers (Kotlin and Scala ones
 * especially, whose named arguments do not reach Java constructors) need not remember ten
 * positional arguments:
 *
 * <pre>{@code
 * Conv2d conv = Conv2d.builder(1, 16).kernel(5, 5).padding(Padding.symmetric(2))
 *         .compression(Compression.fixed(0.5)).seed(1).build();
 * }</pre>
 *
 * Defaults: 3x3 (2D) or 3 (1D) kernel, no padding, stride 1, with bias, no compression, the
 * evaluation compression equal to the training one, seed 0, a plan cache of
 * {@value ConvCore#DEFAULT_CAPACITY} plans ({@link ConvLayer#setPlanCacheCapacity}).
 *
 * @param <L> the layer it builds
 */
public final class ConvBuilder<L extends ConvLayer> {
    private final boolean conv1d;
    private final long inChannels, outChannels;
    private long kernelH, kernelW;
    private Padding padding = Padding.none();
    private long stride = 1;
    private boolean bias = true;
    private Compression train = Compression.none();
    private @Nullable Compression eval;
    private long seed;
    private int planCacheCapacity = ConvCore.DEFAULT_CAPACITY;
    private long maxPlanBytes = 0;

    ConvBuilder(boolean conv1d, long inChannels, long outChannels) {
        this.conv1d = conv1d;
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernelH = conv1d ? 1 : 3;
        this.kernelW = 3;
    }

    /** 2D kernel size KH x KW. */
    public ConvBuilder<L> kernel(long kh, long kw) {
        if (conv1d) throw new IllegalStateException("kernel(kh, kw) is for Conv2d; use kernel(k)");
        this.kernelH = kh;
        this.kernelW = kw;
        return this;
    }

    /** Kernel size: K for Conv1d, K x K for Conv2d. */
    public ConvBuilder<L> kernel(long k) {
        if (!conv1d) this.kernelH = k;
        this.kernelW = k;
        return this;
    }

    public ConvBuilder<L> padding(Padding p) {
        this.padding = Objects.requireNonNull(p, "padding must not be null");
        return this;
    }

    public ConvBuilder<L> stride(long s) {
        this.stride = s;
        return this;
    }

    public ConvBuilder<L> bias(boolean withBias) {
        this.bias = withBias;
        return this;
    }

    /** The compression of training and (unless {@link #evalCompression} is set) of evaluation. */
    public ConvBuilder<L> compression(Compression c) {
        this.train = Objects.requireNonNull(c, "compression must not be null");
        return this;
    }

    /** A different compression for evaluation forwards. */
    public ConvBuilder<L> evalCompression(Compression c) {
        this.eval = Objects.requireNonNull(c, "evalCompression must not be null");
        return this;
    }

    /** Seeds the Kaiming-uniform initialisation. */
    public ConvBuilder<L> seed(long s) {
        this.seed = s;
        return this;
    }

    /** The most native plans the layer caches (>= 1); see {@link ConvLayer#setPlanCacheCapacity}. */
    public ConvBuilder<L> planCacheCapacity(int capacity) {
        if (capacity < 1) throw new IllegalArgumentException("plan cache capacity must be >= 1, got " + capacity);
        this.planCacheCapacity = capacity;
        return this;
    }

    /** The byte limit of the layer's plans (0: the library's 16 GiB); see {@link ConvLayer#setMaxPlanBytes}. */
    public ConvBuilder<L> maxPlanBytes(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("maxPlanBytes must be >= 0 (0: the default limit), got " + bytes);
        this.maxPlanBytes = bytes;
        return this;
    }

    @SuppressWarnings("unchecked")
    public L build() {
        Compression evalOrTrain = eval == null ? train : eval;
        ConvLayer layer = conv1d
                ? new Conv1d(inChannels, outChannels, kernelW, padding, stride, bias, train, evalOrTrain, seed)
                : new Conv2d(inChannels, outChannels, kernelH, kernelW, padding, stride, bias, train, evalOrTrain,
                        seed);
        layer.setPlanCacheCapacity(planCacheCapacity);
        layer.setMaxPlanBytes(maxPlanBytes);
        return (L) layer;
    }
}
