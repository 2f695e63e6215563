package dev.bandlimit;

/**
 * Zero padding per side, in elements. 1D layers use {@link #left} and {@link #right} only.
 *
 * @param top rows of zeros above the input ({@code >= 0})
 * @param bottom rows of zeros below the input ({@code >= 0})
 * @param left columns of zeros before the input ({@code >= 0})
 * @param right columns of zeros after the input ({@code >= 0})
 */
public record Padding(long top, long bottom, long left, long right) {
    public Padding {
        check("top", top);
        check("bottom", bottom);
        check("left", left);
        check("right", right);
    }

    /** The same padding on all four sides (PyTorch's {@code padding=p}). */
    public static Padding symmetric(long p) {
        return new Padding(p, p, p, p);
    }

    /** PyTorch's {@code padding=(ph, pw)}: {@code ph} above and below, {@code pw} left and right. */
    public static Padding symmetric(long ph, long pw) {
        return new Padding(ph, ph, pw, pw);
    }

    /** Per side: top, bottom, left, right. */
    public static Padding of(long top, long bottom, long left, long right) {
        return new Padding(top, bottom, left, right);
    }

    /** 1D padding: left and right. */
    public static Padding of1d(long left, long right) {
        return new Padding(0, 0, left, right);
    }

    /** No padding. */
    public static Padding none() {
        return new Padding(0, 0, 0, 0);
    }

    /**
     * "Same" padding for a stride-1 kernel: {@code k/2} before and {@code (k-1)/2} after on each
     * axis, so an even kernel gets the extra element before (docs/ALGORITHM.md; PyTorch's
     * {@code padding="same"} puts it after: pass {@link #of} for that).
     */
    public static Padding same(long kernelHeight, long kernelWidth) {
        return new Padding(kernelHeight / 2, (kernelHeight - 1) / 2, kernelWidth / 2, (kernelWidth - 1) / 2);
    }

    /** 1D "same" padding for a kernel of size {@code k}: k/2 left, (k-1)/2 right. */
    public static Padding same1d(long k) {
        return new Padding(0, 0, k / 2, (k - 1) / 2);
    }

    private static void check(String side, long value) {
        if (value < 0) {
            throw new InvalidArgumentException(Status.INVALID_SIZE, "padding",
                    "padding " + side + " must be >= 0, got " + value);
        }
    }
}
