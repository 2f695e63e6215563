package dev.bandlimit;

/** What the forward saves for the backward (docs/ALGORITHM.md section 4.2). */
public enum SpectraMode {
    /** Compact input and weight spectra: the backward transforms only dy. */
    INPUT_AND_WEIGHT(0),
    /**
     * Only the input spectra; the backward recomputes the weight spectra from w. Less memory
     * when the weight spectra are large (a 3x3 kernel on a 32x32 map: ~150x the weights).
     */
    INPUT_ONLY(1);

    final int code;

    SpectraMode(int code) {
        this.code = code;
    }
}
