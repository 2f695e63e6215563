package dev.bandlimit.nn.models;

import dev.bandlimit.nn.BatchNorm2d;
import dev.bandlimit.nn.Conv2d;
import dev.bandlimit.nn.Functional;
import dev.bandlimit.nn.Linear;
import dev.bandlimit.nn.Module;
import dev.bandlimit.nn.Sequential;
import dev.bandlimit.nn.Tape;
import dev.bandlimit.nn.Var;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * ResNet-18 (He et al., "Deep Residual Learning for Image Recognition", CVPR 2016) for CIFAR-10,
 * as the paper's image experiments train it with band-limited convolutions (Dziedzic et al.,
 * "Band-limited Training and Inference for Convolutional Neural Networks", ICML 2019), in the
 * form of kuangliu/pytorch-cifar: a 3x3 stem convolution (padding 1, no bias, no max pooling),
 * batch norm, ReLU; four stages of two {@link BasicBlock}s with {@code w, 2w, 4w, 8w} filters and
 * strides 1, 2, 2, 2 (a 1x1 projection shortcut where a block changes the shape); global average
 * pooling; a linear layer {@code 8w -> classes}. The defaults ({@code w = 64}, 3 input channels, 10
 * classes) give the CIFAR ResNet-18 of 11,173,962 parameters; input {@code [N, 3, 32, 32]} (any
 * size works: plans are built per input size) to logits {@code [N, 10]}.
 *
 * <p>Every convolution is band-limited, the 1x1 projections too: there the band limit low-passes
 * the input before the stride subsamples it. (The ResNet of the paper's repository, {@code
 * resnet2d.py}, builds its 1x1 convolutions dense; {@code compressionByLayer(name ->
 * name.contains("shortcut") ? Compression.none() : c)} does the same here.) Each layer's training
 * and evaluation compressions are chosen by name when the model is built ({@link
 * Builder#compressionByLayer}); evaluation ones can change later ({@link #setEvalCompression},
 * {@link #setEvalCompressionByLayer}). The names are the layers' paths, as PyTorch's {@code
 * state_dict} of kuangliu's model has them: {@code conv1}, {@code layer1.0.conv1}, {@code
 * layer1.0.conv2}, ..., {@code layer2.0.shortcut.0}, ... (20 in all; {@link #convolutionNames()});
 * the parameters are {@code conv1.weight}, {@code bn1.weight}, {@code layer2.0.shortcut.1.bias},
 * {@code linear.weight} and so on, the buffers {@code bn1.running_mean} and so on.
 *
 * <p>Initialisation as PyTorch's default (Kaiming-uniform for convolutions and the linear layer,
 * batch norm scale 1 and shift 0), seeded: the convolutions with {@code seed + 1, seed + 2, ...}
 * in the order of {@link #convolutionNames()}, the linear layer with {@code seed + 21}.
 */
public final class ResNet18 extends Module implements Model {
    /** Blocks per stage. */
    private static final int BLOCKS = 2;
    private static final long[] WIDTH_MULTIPLES = {1, 2, 4, 8};
    private static final long[] STRIDES = {1, 2, 2, 2};

    private final long inChannels, classes, width;
    private final Conv2d conv1;
    private final BatchNorm2d bn1;
    private final List<Sequential> stages;
    private final List<BasicBlock> blocks;
    private final Linear linear;
    private final List<Conv2d> convolutions;
    private final List<String> convolutionNames;

    private ResNet18(Builder b) {
        this.inChannels = b.inChannels;
        this.classes = b.classes;
        this.width = b.width;
        LayerFactory factory = b.layerFactory();
        List<BasicBlock> blockList = new ArrayList<>();
        try {
            this.conv1 = addChild("conv1", factory.conv2d("conv1", inChannels, width, 3, 1, 1));
            this.bn1 = addChild("bn1", new BatchNorm2d(width));
            List<Sequential> stageList = new ArrayList<>();
            long channels = width;
            for (int stage = 0; stage < WIDTH_MULTIPLES.length; stage++) {
                String stageName = "layer" + (stage + 1);
                long out = width * WIDTH_MULTIPLES[stage];
                BasicBlock[] stageBlocks = new BasicBlock[BLOCKS];
                for (int i = 0; i < BLOCKS; i++) {
                    stageBlocks[i] = new BasicBlock(factory, stageName + "." + i + ".", channels, out,
                            i == 0 ? STRIDES[stage] : 1);
                    blockList.add(stageBlocks[i]);
                    channels = out;
                }
                stageList.add(addChild(stageName, new Sequential(stageBlocks)));
            }
            this.stages = List.copyOf(stageList);
            this.blocks = List.copyOf(blockList);
            this.linear = addChild("linear", new Linear(channels, classes, true, factory.nextSeed()));
            List<Conv2d> convs = new ArrayList<>();
            for (var layer : factory.layers()) convs.add((Conv2d) layer);
            this.convolutions = List.copyOf(convs);
            this.convolutionNames = factory.names();
        } catch (RuntimeException | Error e) {
            // What was built but perhaps not yet registered as a child (close is idempotent).
            for (var layer : factory.layers()) layer.close();
            for (BasicBlock block : blockList) block.close();
            close();
            throw e;
        }
    }

    /** Settings for a {@link ResNet18}; the defaults give the CIFAR-10 model without compression. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public Var forward(Tape tape, Var input) {
        checkOpen();
        long[] s = input.shape();
        if (s.length != 4 || s[1] != inChannels) {
            throw new IllegalArgumentException("ResNet18 expects [N, " + inChannels + ", H, W], got "
                    + Arrays.toString(s));
        }
        Var h = bn1.forward(tape, conv1.forward(tape, input), true);
        for (Sequential stage : stages) h = stage.forward(tape, h);
        return linear.forward(tape, Functional.globalAvgPool(tape, h));
    }

    /** This model: it is its own network. */
    @Override
    public Module network() {
        return this;
    }

    /** The 20 band-limited layers: the stem, then each block's conv1, conv2 and projection. */
    @Override
    public List<Conv2d> convolutions() {
        return convolutions;
    }

    @Override
    public List<String> convolutionNames() {
        return convolutionNames;
    }

    /** The eight residual blocks, stage by stage. */
    public List<BasicBlock> blocks() {
        return blocks;
    }

    public long inChannels() {
        return inChannels;
    }

    public long classes() {
        return classes;
    }

    /** Filters of the stem and of the first stage ({@code w}; 64 for the paper's model). */
    public long width() {
        return width;
    }

    @Override
    public String toString() {
        return "ResNet18(in " + inChannels + ", width " + width + ", classes " + classes + ")";
    }

    /**
     * Named settings: {@code ResNet18.builder().classes(100).compression(Compression.fixed(0.5)).seed(1).build()}.
     * Defaults: 3 input channels, 10 classes, width 64, no compression, evaluation with the
     * training compression, seed 0.
     */
    public static final class Builder extends LayerSettings<Builder> {
        private long inChannels = 3, classes = 10, width = 64;

        private Builder() {}

        public Builder inChannels(long c) {
            this.inChannels = positive(c, "inChannels");
            return this;
        }

        public Builder classes(long n) {
            this.classes = positive(n, "classes");
            return this;
        }

        /** Filters of the first stage; the stages have {@code w, 2w, 4w, 8w}. */
        public Builder width(long w) {
            this.width = positive(w, "width");
            return this;
        }

        public ResNet18 build() {
            return new ResNet18(this);
        }

        private static long positive(long value, String what) {
            if (value < 1) throw new IllegalArgumentException(what + " must be >= 1, got " + value);
            return value;
        }
    }
}
