package dev.bandlimit.nn.models;

import dev.bandlimit.Compression;
import dev.bandlimit.nn.ConvLayer;
import dev.bandlimit.nn.Module;
import dev.bandlimit.nn.Tape;
import dev.bandlimit.nn.Var;
import java.util.List;
import java.util.function.Function;

/**
 * What a trainer needs of a classifier with band-limited layers: the forward to logits
 * {@code [N, classes]}, the network holding parameters and state, and the band-limited layers by
 * name for per-layer reports and compressions.
 */
public interface Model extends AutoCloseable {

    /** Logits {@code [N, classes]} of {@code input}, recorded on {@code tape}. */
    Var forward(Tape tape, Var input);

    /** The module holding every parameter and buffer (for optimizers, checkpoints, {@link Module#to}). */
    Module network();

    /** The band-limited layers, in forward order. */
    List<? extends ConvLayer> convolutions();

    /**
     * The names of {@link #convolutions()}, index for index: each layer's dotted path in
     * {@link #network()} (its weight is {@code name + ".weight"} in {@link Module#namedParameters()}).
     */
    List<String> convolutionNames();

    /** Sets the compression of later evaluation forwards of every band-limited layer. */
    default void setEvalCompression(Compression eval) {
        for (ConvLayer layer : convolutions()) layer.setEvalCompression(eval);
    }

    /**
     * Sets the evaluation compression of each band-limited layer to {@code evalByName} of its
     * name ({@link #convolutionNames()}).
     *
     * @throws NullPointerException if the function gives null for a name (no layer is changed then)
     */
    default void setEvalCompressionByLayer(Function<String, Compression> evalByName) {
        List<? extends ConvLayer> layers = convolutions();
        List<String> names = convolutionNames();
        Compression[] chosen = new Compression[layers.size()];
        for (int i = 0; i < chosen.length; i++) chosen[i] = LayerFactory.apply(evalByName, names.get(i), "eval");
        for (int i = 0; i < chosen.length; i++) layers.get(i).setEvalCompression(chosen[i]);
    }

    /** Releases the network's parameters, buffers and native plans. Idempotent. */
    @Override
    void close();

    /**
     * A model that is {@code network} itself (its forward is the network's; closing it closes the
     * network), with {@code convolutions} named {@code convolutionNames}, index for index.
     */
    static Model of(Module network, List<? extends ConvLayer> convolutions, List<String> convolutionNames) {
        java.util.Objects.requireNonNull(network, "network");
        if (convolutions.size() != convolutionNames.size()) {
            throw new IllegalArgumentException(convolutions.size() + " convolutions, " + convolutionNames.size() + " names");
        }
        List<? extends ConvLayer> layers = List.copyOf(convolutions);
        List<String> names = List.copyOf(convolutionNames);
        return new Model() {
            @Override
            public Var forward(Tape tape, Var input) {
                return network.forward(tape, input);
            }

            @Override
            public Module network() {
                return network;
            }

            @Override
            public List<? extends ConvLayer> convolutions() {
                return layers;
            }

            @Override
            public List<String> convolutionNames() {
                return names;
            }

            @Override
            public void close() {
                network.close();
            }
        };
    }
}
