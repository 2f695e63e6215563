package dev.bandlimit.cli.train;

import dev.bandlimit.Compression;
import dev.bandlimit.nn.ConvLayer;
import dev.bandlimit.nn.Module;
import dev.bandlimit.nn.Tape;
import dev.bandlimit.nn.Var;
import dev.bandlimit.nn.models.MnistCnn;
import dev.bandlimit.nn.models.ResNet18;
import dev.bandlimit.nn.models.TimeSeriesFcn;
import java.util.List;

/** The library's models ({@code dev.bandlimit.nn.models}) as {@link Model}s with their checkpoint names. */
public final class Models {
    private Models() {}

    public static final String RESNET18 = "resnet18", FCN = "fcn";

    /** A library model under an architecture name. */
    private record Named(String name, dev.bandlimit.nn.models.Model model) implements Model {
        @Override
        public Module network() {
            return model.network();
        }

        @Override
        public Var forward(Tape tape, Var items) {
            return model.forward(tape, items);
        }

        @Override
        public List<? extends ConvLayer> convolutions() {
            return model.convolutions();
        }

        @Override
        public List<String> convolutionNames() {
            return model.convolutionNames();
        }

        @Override
        public void close() {
            model.close();
        }
    }

    /** The MNIST CNN ({@link MnistCnn}) for {@code 1 x 28 x 28} images, the CLI's default model. */
    public static Model.Factory mnistCnn() {
        return (train, eval, seed) -> new Named(MnistCnn.NAME, new MnistCnn(train, eval, seed));
    }

    /**
     * The paper's ResNet-18 for CIFAR-sized {@code 3 x 32 x 32} inputs, 10 classes; {@code width}
     * filters in the first stage (64 in the paper; smaller for quick runs).
     */
    public static Model.Factory resnet18(long width) {
        return (train, eval, seed) -> new Named(width == 64 ? RESNET18 : RESNET18 + "-w" + width,
                ResNet18.builder().inChannels(3).classes(10).width(width).compression(train).evalCompression(eval)
                        .seed(seed).build());
    }

    /** The FCN of Wang et al. for series of {@code channels} x L, {@code classes} classes, widths as given. */
    public static Model.Factory fcn(long channels, long classes, long w1, long w2, long w3) {
        String name = w1 == 128 && w2 == 256 && w3 == 128 ? FCN : FCN + "-" + w1 + "-" + w2 + "-" + w3;
        return (train, eval, seed) -> new Named(name, TimeSeriesFcn.builder(channels, classes).widths(w1, w2, w3)
                .compression(train).evalCompression(eval).seed(seed).build());
    }

}
