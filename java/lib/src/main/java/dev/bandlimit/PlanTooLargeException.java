package dev.bandlimit;

/**
 * A plan would exceed a limit ({@link Status#TOO_LARGE}): an FFT length above
 * {@link ConvPlan#MAX_FFT_LENGTH} along an axis ({@link #argument()} names the size or padding
 * that makes it), or more bytes than {@link ConvPlan.Builder#maxBytes} allows ({@code
 * "options.max_bytes"}; the message quotes the tables, workspace and saved-spectra bytes).
 * Refused before anything was allocated.
 */
public final class PlanTooLargeException extends InvalidArgumentException {
    private static final long serialVersionUID = 1L;

    public PlanTooLargeException(String argument, String message) {
        super(Status.TOO_LARGE, argument, message);
    }
}
