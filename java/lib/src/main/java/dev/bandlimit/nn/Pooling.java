package dev.bandlimit.nn;

/**
 * What the pooling layers share: a window of {@code kernel} (per spatial axis) moved by
 * {@code stride}, no padding, both checked here; the subclasses say which op
 * ({@link Functional}) runs over which rank.
 */
public abstract sealed class Pooling extends Module permits AvgPool2d, MaxPool1d, MaxPool2d {
    private final long kernel, stride;

    Pooling(long kernel, long stride) {
        if (kernel < 1 || stride < 1) {
            throw new IllegalArgumentException("kernel and stride must be >= 1, got " + kernel + ", " + stride);
        }
        this.kernel = kernel;
        this.stride = stride;
    }

    public final long kernel() {
        return kernel;
    }

    public final long stride() {
        return stride;
    }

    @Override
    public final String toString() {
        return getClass().getSimpleName() + "(" + kernel + ", " + stride + ")";
    }
}
