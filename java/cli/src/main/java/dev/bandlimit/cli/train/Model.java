package dev.bandlimit.cli.train;

import dev.bandlimit.Compression;
import dev.bandlimit.nn.Tape;
import dev.bandlimit.nn.Var;

/**
 * A classifier that {@link Trainer} can train: a library {@link dev.bandlimit.nn.models.Model}
 * (network, band-limited convolutions by name) with the architecture name its checkpoints carry.
 */
public interface Model extends dev.bandlimit.nn.models.Model {
    /** The architecture, as checkpoints name it ({@code mnist-cnn}, {@code resnet18}, {@code fcn}). */
    String name();

    @Override
    default Var forward(Tape tape, Var items) {
        return network().forward(tape, items);
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
