package dev.bandlimit.cli.mnist;

/**
 * The MNIST data could not be fetched, verified or read. The message says what went wrong and
 * what to do about it (install npm, put the tarball in the cache folder by hand, run again).
 */
public final class MnistException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public MnistException(String message) {
        super(message);
    }

    public MnistException(String message, Throwable cause) {
        super(message, cause);
    }
}
