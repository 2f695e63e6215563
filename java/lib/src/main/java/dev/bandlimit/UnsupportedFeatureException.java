package dev.bandlimit;

/** The requested backend or CPU code path is not available in this build or on this machine. */
public class UnsupportedFeatureException extends BandlimitException {
    private static final long serialVersionUID = 1L;

    public UnsupportedFeatureException(String message) {
        super(Status.UNSUPPORTED, message);
    }
}
