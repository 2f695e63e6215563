package dev.bandlimit;

import dev.bandlimit.internal.ffm.BandlimitH;

/**
 * How the forward and the weight gradient compute their per-frequency product (bandlimit.h,
 * {@code bl_product}). Both give the same band-limited operator (to float32 rounding); they differ
 * in cost.
 */
public enum Product {
    /** The backend's cost model picks per pass and batch (the default). */
    AUTO(BandlimitH.BL_PRODUCT_AUTO()),
    /** Products of spectra, then inverse transforms of the outputs. */
    SPECTRAL(BandlimitH.BL_PRODUCT_SPECTRAL()),
    /**
     * Direct sums over the band-limited input (the CPU backend; stride 1, at most 49 kernel taps):
     * cheaper for few input channels and small kernels, such as a CNN's first layer. The data
     * gradient stays spectral.
     */
    SPATIAL(BandlimitH.BL_PRODUCT_SPATIAL());

    final int code;

    Product(int code) {
        this.code = code;
    }
}
