package dev.bandlimit;

/**
 * Counted floating-point operations of one pass (docs/ALGORITHM.md section 5).
 *
 * @param nominal what an unpruned FFT convolution does (2.5 L log2 L per real transform, 8 per
 *     complex multiply-add on the kept coefficients): comparable across libraries
 * @param executed what this backend actually does (pruned transforms, 3-mult products)
 * @param denseEquivalent {@code 2 N F C Ho Wo KH KW}: the direct convolution's count
 */
public record Flops(double nominal, double executed, double denseEquivalent) {}
