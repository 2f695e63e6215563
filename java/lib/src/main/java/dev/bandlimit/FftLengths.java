package dev.bandlimit;

/** The FFT lengths of a plan: the smallest 2^a 3^b 5^c 7^d at least the padded size (1D: height 1). */
public record FftLengths(long height, long width) {}
