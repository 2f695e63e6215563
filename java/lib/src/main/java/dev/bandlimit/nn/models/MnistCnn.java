package dev.bandlimit.nn.models;

import dev.bandlimit.Compression;
import dev.bandlimit.Padding;
import dev.bandlimit.nn.BatchNorm2d;
import dev.bandlimit.nn.Conv2d;
import dev.bandlimit.nn.Flatten;
import dev.bandlimit.nn.Linear;
import dev.bandlimit.nn.MaxPool2d;
import dev.bandlimit.nn.Module;
import dev.bandlimit.nn.ReLU;
import dev.bandlimit.nn.Sequential;
import dev.bandlimit.nn.Tape;
import dev.bandlimit.nn.Var;
import java.util.List;

/**
 * The small MNIST CNN: two band-limited 5x5 convolution blocks (conv, batch norm, ReLU, 2x2 max
 * pooling), then a linear layer: 1x28x28 -> 16x14x14 -> 32x7x7 -> 10 logits. Each convolution
 * has its own compression for training and for evaluation. The CLI's {@code train}, {@code eval}
 * and {@code demo} model; checkpoints name it {@value #NAME}.
 */
public final class MnistCnn implements Model {
    public static final String NAME = "mnist-cnn";

    private final Conv2d conv1;
    private final Conv2d conv2;
    private final Sequential net;

    public MnistCnn(Compression train, Compression eval, long seed) {
        conv1 = Conv2d.builder(1, 16).kernel(5, 5).padding(Padding.symmetric(2))
                .compression(train).evalCompression(eval).seed(seed + 1).build();
        conv2 = Conv2d.builder(16, 32).kernel(5, 5).padding(Padding.symmetric(2))
                .compression(train).evalCompression(eval).seed(seed + 2).build();
        net = new Sequential(
                conv1, new BatchNorm2d(16), new ReLU(), new MaxPool2d(2, 2),
                conv2, new BatchNorm2d(32), new ReLU(), new MaxPool2d(2, 2),
                new Flatten(), new Linear(32 * 7 * 7, 10, true, seed + 3));
    }

    /** One item: 1 x 28 x 28. */
    public static final long[] ITEM_SHAPE = {1, 28, 28};

    @Override
    public Var forward(Tape tape, Var input) {
        return net.forward(tape, input);
    }

    @Override
    public Module network() {
        return net;
    }

    @Override
    public List<Conv2d> convolutions() {
        return List.of(conv1, conv2);
    }

    @Override
    public List<String> convolutionNames() {
        // The names the CLI's reports and metrics have always used (the layers sit at "0" and "4"
        // of the Sequential, whose parameters are named "0.weight", "4.weight").
        return List.of("conv1", "conv2");
    }

    @Override
    public void close() {
        net.close();
    }
}
