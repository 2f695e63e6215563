package dev.bandlimit.nn.models;

import dev.bandlimit.Compression;
import dev.bandlimit.Padding;
import dev.bandlimit.nn.Conv1d;
import dev.bandlimit.nn.Conv2d;
import dev.bandlimit.nn.ConvLayer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * Builds a model's band-limited layers: each under its dotted name, with the training and
 * evaluation compressions the model's functions give that name, and seeds {@code seed + 1},
 * {@code seed + 2}, ... in build order (shared with the model's other seeded layers through
 * {@link #nextSeed()}); it keeps the layers and names in that order for {@link Model#convolutions()}.
 */
final class LayerFactory {
    private final Function<String, Compression> train;
    private final Function<String, Compression> eval;
    private final long seed;
    private long seeded;
    private final List<ConvLayer> layers = new ArrayList<>();
    private final List<String> names = new ArrayList<>();

    LayerFactory(Function<String, Compression> train, Function<String, Compression> eval, long seed) {
        this.train = Objects.requireNonNull(train, "train compression must not be null");
        this.eval = Objects.requireNonNull(eval, "eval compression must not be null");
        this.seed = seed;
    }

    /** Every layer trains with {@code train} and evaluates with {@code eval}. */
    static LayerFactory uniform(Compression train, Compression eval, long seed) {
        Objects.requireNonNull(train, "compression must not be null");
        Objects.requireNonNull(eval, "evalCompression must not be null");
        return new LayerFactory(name -> train, name -> eval, seed);
    }

    /** A square-kernel 2D convolution without bias (batch norm follows it), padded symmetrically. */
    Conv2d conv2d(String name, long in, long out, long kernel, long stride, long padding) {
        Compression t = apply(train, name, "train"), e = apply(eval, name, "eval");
        return add(name, Conv2d.builder(in, out).kernel(kernel, kernel).padding(Padding.symmetric(padding))
                .stride(stride).bias(false).compression(t).evalCompression(e).seed(nextSeed()).build());
    }

    /** A stride-1 1D convolution with bias. */
    Conv1d conv1d(String name, long in, long out, long kernel, Padding padding) {
        Compression t = apply(train, name, "train"), e = apply(eval, name, "eval");
        return add(name, Conv1d.builder(in, out).kernel(kernel).padding(padding).bias(true)
                .compression(t).evalCompression(e).seed(nextSeed()).build());
    }

    /** The seed of the next seeded layer, a convolution or not. */
    long nextSeed() {
        return seed + 1 + seeded++;
    }

    /** The layers built so far, in order. */
    List<ConvLayer> layers() {
        return Collections.unmodifiableList(layers);
    }

    /** Their names, in order. */
    List<String> names() {
        return List.copyOf(names);
    }

    private <L extends ConvLayer> L add(String name, L layer) {
        layers.add(layer);
        names.add(name);
        return layer;
    }

    /** {@code byName.apply(name)}, refusing null with a message naming the layer. */
    static Compression apply(Function<String, Compression> byName, String name, String which) {
        Compression c = byName.apply(name);
        if (c == null) throw new NullPointerException(which + " compression for layer " + name + " is null");
        return c;
    }
}
