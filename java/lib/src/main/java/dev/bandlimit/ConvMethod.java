package dev.bandlimit;

import dev.bandlimit.internal.ffm.BandlimitH;

/**
 * Which method a plan computes (bandlimit.h, {@code bl_method}): the library's operator, or the
 * paper's implementation as a baseline for benchmarks.
 */
public enum ConvMethod {
    /** The operator of ALGORITHM.md: 7-smooth FFT lengths >= the padded input, 3-mult products (the default). */
    BANDLIMIT(BandlimitH.BL_METHOD_BANDLIMIT()),
    /**
     * The paper's implementation, for comparisons only: power-of-two FFT lengths >= padded input +
     * kernel - 1, and 4-mult products on the CUDA backend. At rates above 0 its results differ from
     * {@link #BANDLIMIT}'s (the band is cut on a larger grid).
     */
    PAPER_BASELINE(BandlimitH.BL_METHOD_PAPER_BASELINE());

    final int code;

    ConvMethod(int code) {
        this.code = code;
    }
}
