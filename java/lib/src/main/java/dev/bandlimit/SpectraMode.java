package dev.bandlimit;

import dev.bandlimit.internal.ffm.BandlimitH;

/** What the forward saves for the backward (docs/ALGORITHM.md section 4.2). */
public enum SpectraMode {
    /** Compact input and weight spectra: the backward transforms only dy. */
    INPUT_AND_WEIGHT(BandlimitH.BL_SPECTRA_INPUT_AND_WEIGHT()),
    /**
     * Only the input spectra; the backward recomputes the weight spectra from w. Less memory
     * when the weight spectra are large (a 3x3 kernel on a 32x32 map: ~150x the weights).
     */
    INPUT_ONLY(BandlimitH.BL_SPECTRA_INPUT_ONLY());

    final int code;

    SpectraMode(int code) {
        this.code = code;
    }
}
