package dev.bandlimit.nn;

/**
 * Batch normalisation of {@code [N,C,H,W]} over every axis but the channels, as PyTorch's
 * {@code BatchNorm2d} (affine, momentum 0.1, eps 1e-5 by default). See {@link BatchNorm}.
 */
public final class BatchNorm2d extends BatchNorm {

    /** Momentum 0.1, eps 1e-5. */
    public BatchNorm2d(long channels) {
        this(channels, 0.1, 1e-5);
    }

    public BatchNorm2d(long channels, double momentum, double eps) {
        super(channels, momentum, eps);
    }

    @Override
    boolean acceptsRank(int rank) {
        return rank == 4;
    }

    @Override
    String expectedShape() {
        return "[N, C, H, W]";
    }
}
