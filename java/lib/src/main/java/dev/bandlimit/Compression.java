package dev.bandlimit;

/**
 * How much of the spectrum a layer discards (docs/ALGORITHM.md section 3).
 *
 * <ul>
 *   <li>{@link #fixed(double)}: discard a fraction {@code rho} in [0, 1) of the half-spectrum
 *       coefficients; the plan reports the achieved rate ({@code <= rho}).
 *   <li>{@link #energy(double)}: keep the smallest box of the chain that holds a fraction
 *       {@code e} in (0, 1] of the input spectrum's energy, chosen per forward call.
 * </ul>
 */
public sealed interface Compression permits Compression.Fixed, Compression.Energy {

    /** Fixed coefficient compression at rate {@code rho} in [0, 1); 0 is the dense operator. */
    static Compression fixed(double rho) {
        return new Fixed(rho);
    }

    /** Energy compression keeping fraction {@code e} in (0, 1] of the input's spectral energy. */
    static Compression energy(double e) {
        return new Energy(e);
    }

    /** No compression: {@code fixed(0)}. */
    static Compression none() {
        return new Fixed(0.0);
    }

    /** Fixed compression; the value is checked when a plan is built. */
    record Fixed(double rho) implements Compression {
        public Fixed {
            if (!(rho >= 0.0 && rho < 1.0)) {
                throw new InvalidArgumentException(Status.INVALID_COMPRESSION, "compression",
                        "compression rho must be in [0, 1), got " + rho);
            }
        }
    }

    /** Energy compression; the value is checked when a plan is built. */
    record Energy(double fraction) implements Compression {
        public Energy {
            if (!(fraction > 0.0 && fraction <= 1.0)) {
                throw new InvalidArgumentException(Status.INVALID_COMPRESSION, "compression",
                        "compression energy fraction must be in (0, 1], got " + fraction);
            }
        }
    }
}
