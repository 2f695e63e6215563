package dev.bandlimit;

import dev.bandlimit.internal.ffm.BandlimitH;

/**
 * The native library's status codes ({@code bl_status} in {@code include/bandlimit.h}). The
 * numeric values come from the generated bindings, the one owner of the C enums.
 */
public enum Status {
    OK(BandlimitH.BL_OK()),
    NULL_POINTER(BandlimitH.BL_ERR_NULL_POINTER()),
    INVALID_SIZE(BandlimitH.BL_ERR_INVALID_SIZE()),
    INVALID_COMPRESSION(BandlimitH.BL_ERR_INVALID_COMPRESSION()),
    INVALID_BATCH(BandlimitH.BL_ERR_INVALID_BATCH()),
    SIZE_OVERFLOW(BandlimitH.BL_ERR_SIZE_OVERFLOW()),
    BUFFER_TOO_SMALL(BandlimitH.BL_ERR_BUFFER_TOO_SMALL()),
    INVALID_SAVED_SPECTRA(BandlimitH.BL_ERR_INVALID_SAVED_SPECTRA()),
    INVALID_ARGUMENT(BandlimitH.BL_ERR_INVALID_ARGUMENT()),
    UNSUPPORTED(BandlimitH.BL_ERR_UNSUPPORTED()),
    OUT_OF_MEMORY(BandlimitH.BL_ERR_OUT_OF_MEMORY()),
    INTERNAL(BandlimitH.BL_ERR_INTERNAL()),
    TOO_LARGE(BandlimitH.BL_ERR_TOO_LARGE());

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
