package dev.bandlimit.nn.models;

import dev.bandlimit.Compression;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * What every model's builder sets alike: the training and evaluation compression of each
 * band-limited layer (one for all, or a function of the layer's name) and the seed of the
 * initialisation. {@code B} is the builder itself, so that the settings chain.
 */
public abstract class LayerSettings<B extends LayerSettings<B>> {
    private Function<String, Compression> train = name -> Compression.none();
    private @Nullable Function<String, Compression> eval;
    private long seed;

    LayerSettings() {}

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    /** The training compression of every convolution (and, unless set apart, the evaluation one). */
    public B compression(Compression c) {
        Objects.requireNonNull(c, "compression must not be null");
        this.train = name -> c;
        return self();
    }

    /** The evaluation compression of every convolution. */
    public B evalCompression(Compression c) {
        Objects.requireNonNull(c, "evalCompression must not be null");
        this.eval = name -> c;
        return self();
    }

    /**
     * Each convolution's training compression (and, unless set apart, evaluation one) as
     * {@code byName} of its name (the model's {@code convolutionNames()}); it must not give null.
     */
    public B compressionByLayer(Function<String, Compression> byName) {
        this.train = Objects.requireNonNull(byName, "compression function must not be null");
        return self();
    }

    /** Each convolution's evaluation compression as {@code byName} of its name. */
    public B evalCompressionByLayer(Function<String, Compression> byName) {
        this.eval = Objects.requireNonNull(byName, "evalCompression function must not be null");
        return self();
    }

    public B seed(long s) {
        this.seed = s;
        return self();
    }

    /** The factory of the model's layers under these settings. */
    LayerFactory layerFactory() {
        return new LayerFactory(train, eval == null ? train : eval, seed);
    }
}
