/**
 * bandlimit: band-limited FFT convolution for CNNs, calling a native core zero-copy through
 * the FFM API. Only the facade package is exported; the generated bindings and the checked
 * layer stay internal. Run with {@code --enable-native-access=dev.bandlimit} (module path) or
 * {@code --enable-native-access=ALL-UNNAMED} (class path).
 */
module dev.bandlimit {
    requires static org.jspecify;

    exports dev.bandlimit;
    exports dev.bandlimit.nn;
}
