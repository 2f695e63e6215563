package dev.bandlimit.nn;

/** Max pooling over windows of {@code kernel} of {@code [N,C,L]}, no padding. */
public final class MaxPool1d extends Module {
    private final long kernel, stride;

    public MaxPool1d(long kernel, long stride) {
        if (kernel < 1 || stride < 1) {
            throw new IllegalArgumentException("kernel and stride must be >= 1, got " + kernel + ", " + stride);
        }
        this.kernel = kernel;
        this.stride = stride;
    }

    @Override
    public Var forward(Tape tape, Var x) {
        return Functional.maxPool1d(tape, x, kernel, stride);
    }

    public long kernel() {
        return kernel;
    }

    public long stride() {
        return stride;
    }

    @Override
    public String toString() {
        return "MaxPool1d(" + kernel + ", " + stride + ")";
    }
}
