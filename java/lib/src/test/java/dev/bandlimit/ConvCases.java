package dev.bandlimit;

import java.util.ArrayList;
import java.util.List;

/**
 * Random valid convolution cases for the property tests: a geometry (1D or 2D, with awkward
 * sizes as likely as typical ones), a batch, data, a compression with the box the float64
 * reference says it keeps, a spectra mode and a product. Sizes stay small (maps up to 12 x 12,
 * 1D lengths up to 40, at most three channels and filters), because the reference's naive DFT is
 * quadratic per axis.
 */
final class ConvCases {
    private ConvCases() {}

    /** A case: the layer, the batch of its calls, what the plan is built with, the box it must keep, the data. */
    record Case(Reference.Geom geom, int n, Compression compression, Box box, SpectraMode mode, Product product,
            float[] x, float[] w, float @org.jspecify.annotations.Nullable [] bias, float[] dy) {
        boolean denseBox() {
            return box.equals(Reference.fullBox(geom.LH(), geom.LW()));
        }

        ConvPlan.Builder builder() {
            return geom.builder().compression(compression).spectraMode(mode).product(product);
        }

        @Override
        public String toString() {
            return geom + " n=" + n + " " + compression + " box=" + box + " " + mode + " " + product
                    + (bias == null ? " no bias" : " bias");
        }
    }

    /** A random geometry of a plan that builds. */
    static Reference.Geom geometry(PropertyRuns.Try t) {
        int maxBatch = t.between(1, 3), channels = t.between(1, 3), filters = t.between(1, 3);
        if (t.chance(0.3)) {
            int length = t.oneOf(1, 2, t.between(1, 40), t.between(1, 40));
            int left = t.between(0, 3), right = t.between(0, 3);
            int kernel = t.chance(0.1) ? length + left + right : Math.min(t.between(1, 9), length + left + right);
            return Reference.Geom.conv1d(maxBatch, channels, length, filters, kernel, left, right, t.between(1, 3));
        }
        int height = t.oneOf(1, t.between(1, 12), t.between(1, 12)), width = t.oneOf(1, t.between(1, 12), t.between(1, 12));
        int top = t.between(0, 2), bottom = t.between(0, 2), left = t.between(0, 2), right = t.between(0, 2);
        int kh, kw;
        if (t.chance(0.1)) {  // the kernel covers the padded input: one output per plane
            kh = height + top + bottom;
            kw = width + left + right;
        } else {
            kh = Math.min(t.between(1, 5), height + top + bottom);
            kw = Math.min(t.between(1, 5), width + left + right);
        }
        return Reference.Geom.conv2d(maxBatch, channels, height, width, filters, kh, kw, top, bottom, left, right,
                t.between(1, 3), t.between(1, 3));
    }

    /** Whether the CPU backend runs the spatial product for this geometry (cpu::spatial_allowed). */
    static boolean spatialAllowed(Reference.Geom g) {
        return g.sh() == 1 && g.sw() == 1 && g.KH() * g.KW() <= 49;
    }

    /** A random case of {@code g}; energy compression where the data allow an unambiguous box. */
    static Case of(PropertyRuns.Try t, Reference.Geom g, boolean withBias) {
        int n = t.between(1, g.maxBatch());
        float[] x = Reference.randomFloats(t.random(), g.xSize(n));
        float[] w = Reference.randomFloats(t.random(), g.wSize());
        float[] bias = withBias ? Reference.randomFloats(t.random(), g.F()) : null;
        float[] dy = Reference.randomFloats(t.random(), g.ySize(n));
        long lh = g.LH(), lw = g.LW();
        Compression compression;
        Box box;
        double kind = t.random().nextDouble();
        Double energy = kind < 0.4 ? energyWithAMargin(t, Reference.energyFractions(g, n, Reference.toDouble(x))) : null;
        if (energy != null) {
            compression = Compression.energy(energy);
            box = Reference.energyBox(g, n, Reference.toDouble(x), energy);
        } else if (kind < 0.6) {
            compression = Compression.none();
            box = Reference.fullBox(lh, lw);
        } else {
            // Three decimals: a rate the report can print exactly.
            double rho = Math.floor(t.random().nextDouble() * 950) / 1000;
            compression = Compression.fixed(rho);
            box = Reference.fixedBox(lh, lw, rho);
        }
        SpectraMode mode = t.oneOf(SpectraMode.values());
        Product product = spatialAllowed(g) ? t.oneOf(Product.values()) : t.oneOf(Product.AUTO, Product.SPECTRAL);
        Case c = new Case(g, n, compression, box, mode, product, x, w, bias, dy);
        t.note("case: " + c);
        return c;
    }

    /**
     * An energy fraction E for which the reference's box rule picks a box that float32
     * rounding cannot change: E lies between two neighbouring chain fractions and at least 1e-3
     * from every fraction (the library sums its energies from float32 spectra). Null when the
     * chain has a single box or no fraction gap is wide enough.
     */
    static Double energyWithAMargin(PropertyRuns.Try t, double[] fractions) {
        List<Integer> gaps = new ArrayList<>();
        for (int k = 1; k < fractions.length; k++) gaps.add(k);
        while (!gaps.isEmpty()) {
            int k = gaps.remove(t.random().nextInt(gaps.size()));
            double e = fractions[k - 1] + (0.2 + 0.6 * t.random().nextDouble()) * (fractions[k] - fractions[k - 1]);
            boolean far = e > 0 && e <= 1;
            for (double f : fractions) far &= Math.abs(f - e) >= 1e-3;
            if (far) return e;
        }
        return null;
    }
}
