package dev.bandlimit;

/**
 * The FFT lengths of a plan: the smallest 2^a 3^b 5^c 7^d at least the padded size (1D: height 1).
 *
 * @param height LH, the transform length along the height
 * @param width LW, the transform length along the width
 */
public record FftLengths(long height, long width) {}
