package dev.bandlimit.nn;

/**
 * Batch normalisation of {@code [N,C]} or {@code [N,C,L]} over every axis but the channels, as
 * PyTorch's {@code BatchNorm1d} (affine, momentum 0.1, eps 1e-5 by default). See {@link BatchNorm}.
 */
public final class BatchNorm1d extends BatchNorm {

    /** Momentum 0.1, eps 1e-5. */
    public BatchNorm1d(long channels) {
        this(channels, 0.1, 1e-5);
    }

    public BatchNorm1d(long channels, double momentum, double eps) {
        super(channels, momentum, eps);
    }

    @Override
    boolean acceptsRank(int rank) {
        return rank == 2 || rank == 3;
    }

    @Override
    String expectedShape() {
        return "[N, C] or [N, C, L]";
    }
}
