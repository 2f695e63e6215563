package dev.bandlimit;

/** The native library's status codes ({@code bl_status} in {@code include/bandlimit.h}). */
public enum Status {
    OK(0),
    NULL_POINTER(1),
    INVALID_SIZE(2),
    INVALID_COMPRESSION(3),
    INVALID_BATCH(4),
    SIZE_OVERFLOW(5),
    BUFFER_TOO_SMALL(6),
    INVALID_SAVED_SPECTRA(7),
    INVALID_ARGUMENT(8),
    UNSUPPORTED(9),
    OUT_OF_MEMORY(10),
    INTERNAL(11);

    private final int code;

    Status(int code) {
        this.code = code;
    }

    /** The numeric value of the C enum. */
    public int code() {
        return code;
    }

    /** The status of a numeric code; {@link #INTERNAL} for a code this version does not know. */
    public static Status of(int code) {
        for (Status s : values()) if (s.code == code) return s;
        return INTERNAL;
    }
}
