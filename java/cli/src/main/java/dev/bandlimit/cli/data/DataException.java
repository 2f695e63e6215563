package dev.bandlimit.cli.data;

/**
 * A data file or folder could not be read. The message starts with the file or folder at fault,
 * then says what is wrong in it (with the byte offset or line number where that helps) and what to
 * do: {@code "FILE: what is wrong (at byte N); what to do"}.
 */
public final class DataException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DataException(String message) {
        super(message);
    }

    public DataException(String message, Throwable cause) {
        super(message, cause);
    }
}
