package dev.bandlimit;

/**
 * An argument was rejected: a size, shape, compression rate, batch, buffer or segment. The
 * message names the argument; {@link #argument()} returns its name. Nothing was written.
 */
public class InvalidArgumentException extends BandlimitException {
    private static final long serialVersionUID = 1L;
    private final String argument;

    public InvalidArgumentException(Status status, String argument, String message) {
        super(status, message);
        this.argument = argument;
    }

    /** The name of the argument at fault (e.g. "x", "compression", "workspace"). */
    public String argument() {
        return argument;
    }
}
