package dev.bandlimit;

import java.util.List;

/** Test geometries: a name, the layer and the batch n of the calls (n <= maxBatch). */
final class Geometries {
    private Geometries() {}

    record Case(String name, Reference.Geom geom, int n) {
        @Override
        public String toString() {
            return name + " [" + geom + ", n=" + n + "]";
        }
    }

    private static Case c2(String name, int n, int maxBatch, int C, int H, int W, int F, int KH, int KW, int pt, int pb,
            int pl, int pr, int sh, int sw) {
        return new Case(name, Reference.Geom.conv2d(maxBatch, C, H, W, F, KH, KW, pt, pb, pl, pr, sh, sw), n);
    }

    private static Case c1(String name, int n, int maxBatch, int C, int L, int F, int K, int pl, int pr, int s) {
        return new Case(name, Reference.Geom.conv1d(maxBatch, C, L, F, K, pl, pr, s), n);
    }

    /** The dense-agreement set (>= 20): odd/prime sizes, 1x1, kernel = padded input, padding, strides, 1D. */
    static List<Case> dense() {
        return List.of(
                c2("3x3 pad1", 2, 2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1),
                c2("odd 7x11 k3x5", 1, 1, 2, 7, 11, 3, 3, 5, 1, 1, 2, 2, 1, 1),
                c2("prime 13x7 k2x3", 2, 2, 2, 13, 7, 2, 2, 3, 0, 1, 1, 1, 1, 1),
                c2("prime 17x17 even k4 same", 1, 1, 2, 17, 17, 2, 4, 4, 2, 1, 2, 1, 1, 1),
                c2("1x1 kernel C=F=1", 3, 3, 1, 5, 5, 1, 1, 1, 0, 0, 0, 0, 1, 1),
                c2("1x1 kernel 6x6", 2, 2, 4, 6, 6, 3, 1, 1, 0, 0, 0, 0, 1, 1),
                c2("kernel = padded input", 1, 1, 2, 5, 5, 2, 7, 7, 1, 1, 1, 1, 1, 1),
                c2("kernel = input no pad", 2, 2, 3, 4, 6, 2, 4, 6, 0, 0, 0, 0, 1, 1),
                c2("unequal padding", 2, 2, 3, 9, 6, 2, 3, 3, 2, 0, 0, 3, 1, 1),
                c2("padding > kernel half", 1, 1, 2, 6, 6, 2, 3, 3, 3, 3, 4, 4, 1, 1),
                c2("stride 2", 2, 2, 2, 8, 8, 3, 3, 3, 1, 1, 1, 1, 2, 2),
                c2("stride 3 x 1 asym pad", 1, 1, 3, 10, 7, 2, 3, 2, 2, 0, 0, 3, 3, 1),
                c2("stride 3 both, unreached rows", 2, 2, 2, 11, 11, 2, 5, 5, 0, 0, 0, 0, 3, 3),
                c2("stride > kernel", 1, 1, 2, 9, 9, 2, 2, 2, 0, 0, 0, 0, 3, 3),
                c2("1x1 kernel stride 2", 2, 2, 2, 8, 8, 2, 1, 1, 0, 0, 0, 0, 2, 2),
                c2("N=C=F=1", 1, 1, 1, 11, 13, 1, 3, 3, 1, 1, 1, 1, 1, 1),
                c2("1x1 input in padding", 2, 2, 2, 1, 1, 2, 3, 3, 1, 1, 1, 1, 1, 1),
                c2("rectangular kernel 5x1", 2, 2, 3, 12, 5, 4, 5, 1, 2, 2, 0, 0, 1, 1),
                c2("n < maxBatch", 2, 5, 2, 6, 9, 3, 3, 3, 1, 1, 1, 1, 1, 1),
                c2("16x16 C4 F8", 2, 2, 4, 16, 16, 8, 3, 3, 1, 1, 1, 1, 1, 1),
                c1("1D even k8 same", 2, 2, 2, 40, 2, 8, 4, 3, 1),
                c1("1D k5 pad2", 1, 1, 3, 31, 2, 5, 2, 2, 1),
                c1("1D stride 2", 2, 2, 2, 29, 3, 4, 1, 2, 2),
                c1("1D stride 3", 1, 1, 2, 23, 2, 3, 0, 0, 3),
                c1("1D K=1 C=F=1", 2, 2, 1, 17, 1, 1, 0, 0, 1),
                c1("1D kernel = padded input", 1, 1, 2, 6, 2, 8, 1, 1, 1),
                c1("1D n < maxBatch", 1, 4, 2, 19, 3, 3, 1, 1, 1));
    }

    /** A smaller set for the band-limited, adjoint and concurrency tests (naive DFT is O(L^2)). */
    static List<Case> bandLimited() {
        return List.of(
                c2("3x3 pad1 8x8", 2, 2, 3, 8, 8, 2, 3, 3, 1, 1, 1, 1, 1, 1),
                c2("odd 9x11 k3x5", 1, 1, 2, 9, 11, 3, 3, 5, 1, 1, 2, 2, 1, 1),
                c2("prime 13x7 unequal pad", 2, 2, 2, 13, 7, 2, 2, 3, 0, 1, 1, 1, 1, 1),
                c2("1x1 kernel", 2, 2, 3, 6, 6, 2, 1, 1, 0, 0, 0, 0, 1, 1),
                c2("stride 2", 2, 2, 2, 10, 10, 2, 3, 3, 1, 1, 1, 1, 2, 2),
                c2("stride 3 x 1 asym pad", 1, 1, 3, 10, 7, 2, 3, 2, 2, 0, 0, 3, 3, 1),
                c2("n < maxBatch 12x12", 2, 4, 2, 12, 12, 3, 3, 3, 1, 1, 1, 1, 1, 1),
                c2("L = 35 x 18", 1, 1, 2, 33, 16, 2, 3, 3, 1, 1, 1, 1, 1, 1),
                c1("1D even k8 same", 2, 2, 2, 40, 2, 8, 4, 3, 1),
                c1("1D stride 2", 2, 3, 2, 33, 2, 5, 2, 2, 2));
    }
}
