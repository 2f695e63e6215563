package dev.bandlimit;

/**
 * How much of the spectrum a layer discards (docs/ALGORITHM.md section 3; {@code bl_compression}
 * in {@code include/bandlimit.h}). Both kinds pick a box from the plan's chain of low-frequency
 * boxes of the half spectrum (see {@link Box}):
 *
 * <ul>
 *   <li>{@link #fixed(double)}: the box that discards the most of the half-spectrum
 *       coefficients without discarding more than the requested fraction {@code rho} in [0, 1).
 *       It is fixed when the plan is built; {@link ConvPlan#achievedRate()} reports the rate
 *       achieved ({@code <= rho}; on small maps the achievable rates are coarse). {@code rho = 0}
 *       keeps the full box: the dense operator.
 *   <li>{@link #energy(double)}: per forward call, the smallest box that keeps at least a
 *       fraction {@code e} in (0, 1] of the energy of the input spectrum, summed over the whole
 *       batch and all channels, so the box is shared by the batch. The forward returns the box
 *       it chose and saves it for the backward, which reuses it. The plan's own
 *       {@link ConvPlan#box()} is then the full box (achieved rate 0), and its saved-spectra
 *       buffer is sized for the full box. A total energy that is not finite and positive (a NaN
 *       or infinity in the input, an all-zero batch) selects the full box.
 * </ul>
 */
public sealed interface Compression permits Compression.Fixed, Compression.Energy {

    /**
     * Fixed coefficient compression discarding at most a fraction {@code rho} in [0, 1) of the
     * half-spectrum coefficients; 0 is the dense operator.
     *
     * @throws InvalidArgumentException if {@code rho} is outside [0, 1) or NaN
     */
    static Compression fixed(double rho) {
        return new Fixed(rho);
    }

    /**
     * Energy compression keeping at least fraction {@code e} in (0, 1] of the input's spectral
     * energy, with the box chosen per forward call.
     *
     * @throws InvalidArgumentException if {@code e} is outside (0, 1] or NaN
     */
    static Compression energy(double e) {
        return new Energy(e);
    }

    /** No compression: {@code fixed(0)}. */
    static Compression none() {
        return new Fixed(0.0);
    }

    /**
     * Fixed compression. The rate is checked here, when the value is made (the native core checks
     * it again when a plan is built).
     *
     * @param rho the requested fraction of half-spectrum coefficients to discard, in [0, 1)
     */
    record Fixed(double rho) implements Compression {
        /** @throws InvalidArgumentException if {@code rho} is outside [0, 1) or NaN */
        public Fixed {
            if (!(rho >= 0.0 && rho < 1.0)) {
                throw new InvalidArgumentException(Status.INVALID_COMPRESSION, "compression",
                        "compression rho must be in [0, 1), got " + rho);
            }
        }
    }

    /**
     * Energy compression. The fraction is checked here, when the value is made (the native core
     * checks it again when a plan is built).
     *
     * @param fraction the fraction E of the input spectrum's energy to keep, in (0, 1]
     */
    record Energy(double fraction) implements Compression {
        /** @throws InvalidArgumentException if {@code fraction} is outside (0, 1] or NaN */
        public Energy {
            if (!(fraction > 0.0 && fraction <= 1.0)) {
                throw new InvalidArgumentException(Status.INVALID_COMPRESSION, "compression",
                        "compression energy fraction must be in (0, 1], got " + fraction);
            }
        }
    }
}
