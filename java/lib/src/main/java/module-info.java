/**
 * bandlimit: band-limited FFT convolution for CNNs, calling a native core zero-copy through
 * the FFM API. Only the facade packages are exported; the generated bindings and the checked
 * layer stay internal. Run with {@code --enable-native-access=dev.bandlimit} (module path) or
 * {@code --enable-native-access=ALL-UNNAMED} (class path).
 *
 * <p>The exported packages are {@code @NullMarked} (JSpecify): nothing is null unless marked
 * {@code @Nullable}. {@code org.jspecify} is required {@code static} (the jar runs alone, without
 * the annotations) and {@code transitive} (modules that read this one read the annotations too,
 * so their compilers see the nullness of this API). {@code com.fasterxml.jackson.core} (the JSON
 * header of {@link dev.bandlimit.nn.Checkpoint}'s safetensors files) is required {@code static}
 * too, so that the jar still runs alone: on the class path Maven and Gradle bring it as a
 * dependency; on the module path a program that saves or loads checkpoints resolves it (a module
 * of its own that requires it, or {@code --add-modules com.fasterxml.jackson.core}).
 */
module dev.bandlimit {
    requires static transitive org.jspecify;
    requires static com.fasterxml.jackson.core;

    exports dev.bandlimit;
    exports dev.bandlimit.nn;
    exports dev.bandlimit.nn.models;
}
