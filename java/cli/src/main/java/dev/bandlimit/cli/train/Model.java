package dev.bandlimit.cli.train;

import dev.bandlimit.Compression;
import dev.bandlimit.nn.ConvLayer;
import dev.bandlimit.nn.Module;
import dev.bandlimit.nn.Tape;
import dev.bandlimit.nn.Var;
import java.util.List;

/**
 * A classifier that {@link Trainer} can train: its network, its band-limited convolutions (whose
 * boxes, rates, saved spectra and FLOPs the reports show) and the architecture name its
 * checkpoints carry.
 */
public interface Model extends AutoCloseable {
    /** The architecture, as checkpoints name it ({@code mnist-cnn}, {@code resnet18}, {@code fcn}). */
    String name();

    /** The whole network (for parameters and state). */
    Module network();

    /** Logits {@code [N, classes]} for a batch of items. */
    default Var forward(Tape tape, Var items) {
        return network().forward(tape, items);
    }

    /** The band-limited layers, in order. */
    List<? extends ConvLayer> convolutions();

    /** Their names for reports, in the same order. */
    List<String> convolutionNames();

    /** Sets the compression of every convolution's evaluation forwards (it may differ from training). */
    default void setEvalCompression(Compression eval) {
        for (ConvLayer c : convolutions()) c.setEvalCompression(eval);
    }

    @Override
    default void close() {
        network().close();
    }

    /** Builds a model with the given training and evaluation compression and seed. */
    @FunctionalInterface
    interface Factory {
        Model create(Compression train, Compression eval, long seed);
    }
}
