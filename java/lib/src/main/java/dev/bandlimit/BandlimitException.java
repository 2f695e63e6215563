package dev.bandlimit;

/**
 * Base of every exception this library throws for a failed operation. {@link #status()} is the
 * native status (or the one the Java checks assign); the message says what went wrong.
 */
public class BandlimitException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final Status status;

    public BandlimitException(Status status, String message) {
        super(message);
        this.status = status;
    }

    /** The status code behind this exception. */
    public Status status() {
        return status;
    }
}
