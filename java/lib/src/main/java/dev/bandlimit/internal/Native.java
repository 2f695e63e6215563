package dev.bandlimit.internal;

import dev.bandlimit.BandlimitException;
import dev.bandlimit.InvalidArgumentException;
import dev.bandlimit.PlanTooLargeException;
import dev.bandlimit.Status;
import dev.bandlimit.UnsupportedFeatureException;
import dev.bandlimit.internal.ffm.BandlimitH;
import java.lang.foreign.MemorySegment;

/**
 * The checked layer: every native call's status goes through {@link #check}, which turns it
 * into the exception hierarchy with the native message (read on the same thread, right after
 * the call, as the C ABI keeps it thread-locally). Touching this class loads the library.
 */
public final class Native {
    static {
        NativeLibrary.load();
    }

    private Native() {}

    /** Makes sure the library is loaded (class initialisation does the work). */
    public static void ensureLoaded() {
        // the static initialiser has run
    }

    /** Throws the exception for a non-OK status; {@code call} names the operation for the message. */
    public static void check(int code, String call) {
        if (code == Status.OK.code()) return;
        Status status = Status.of(code);
        String detail = lastErrorMessage();
        String argument = lastErrorArgument();
        String message = call + ": " + detail;
        throw switch (status) {
            case UNSUPPORTED -> new UnsupportedFeatureException(message);
            case TOO_LARGE -> new PlanTooLargeException(argument.isEmpty() ? "unknown" : argument, message);
            case OUT_OF_MEMORY, INTERNAL, OK -> new BandlimitException(status, message);
            default -> new InvalidArgumentException(status, argument.isEmpty() ? "unknown" : argument, message);
        };
    }

    /** The calling thread's last native error text. */
    public static String lastErrorMessage() {
        return string(BandlimitH.bl_last_error_message());
    }

    /** The argument at fault in the calling thread's last native error ("" when none). */
    public static String lastErrorArgument() {
        return string(BandlimitH.bl_last_error_argument());
    }

    /** A NUL-terminated string the library owns (static or thread-local storage). */
    public static String string(MemorySegment text) {
        return text.equals(MemorySegment.NULL) ? "" : text.reinterpret(Long.MAX_VALUE).getString(0);
    }
}
