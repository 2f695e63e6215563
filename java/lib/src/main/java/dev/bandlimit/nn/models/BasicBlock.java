package dev.bandlimit.nn.models;

import dev.bandlimit.Compression;
import dev.bandlimit.nn.BatchNorm2d;
import dev.bandlimit.nn.Conv2d;
import dev.bandlimit.nn.Functional;
import dev.bandlimit.nn.Module;
import dev.bandlimit.nn.Sequential;
import dev.bandlimit.nn.Tape;
import dev.bandlimit.nn.Var;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The basic residual block of ResNet-18 (He et al., "Deep Residual Learning for Image
 * Recognition", CVPR 2016), in the CIFAR form the paper's experiments train (Dziedzic et al.,
 * ICML 2019): {@code relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))}, where conv1 is a 3x3
 * convolution of stride {@code s} and conv2 a 3x3 convolution of stride 1, both padded by 1 and
 * without bias (batch norm follows each). The shortcut is the identity when the block keeps the
 * shape ({@code s = 1} and as many output channels as input ones); otherwise it is a projection,
 * a 1x1 convolution of stride {@code s} without bias, then batch norm (He et al.'s option B).
 * Input {@code [N, in, H, W]}, output {@code [N, out, (H - 1) / s + 1, (W - 1) / s + 1]}.
 *
 * <p>All three convolutions are band-limited ({@link Conv2d}), the 1x1 projection included:
 * there the band limit low-passes the input before the stride subsamples it. The children are
 * named as in the CIFAR ResNet of kuangliu/pytorch-cifar, which the paper's code follows:
 * {@code conv1}, {@code bn1}, {@code conv2}, {@code bn2} and, with a projection,
 * {@code shortcut} ({@code shortcut.0} the convolution, {@code shortcut.1} its batch norm).
 */
public final class BasicBlock extends Module {
    private final long inChannels, outChannels, stride;
    private final Conv2d conv1, conv2;
    private final BatchNorm2d bn1, bn2;
    private final @Nullable Sequential shortcut;
    private final List<Conv2d> convolutions;

    /**
     * A block whose convolutions all train with {@code train} and evaluate with {@code eval},
     * seeded {@code seed + 1} (conv1), {@code seed + 2} (conv2), {@code seed + 3} (projection).
     */
    public BasicBlock(long inChannels, long outChannels, long stride, Compression train, Compression eval,
            long seed) {
        this(LayerFactory.uniform(train, eval, seed), "", inChannels, outChannels, stride);
    }

    /** A block whose layers {@code factory} builds, named {@code prefix + "conv1"} and so on. */
    BasicBlock(LayerFactory factory, String prefix, long inChannels, long outChannels, long stride) {
        if (inChannels < 1 || outChannels < 1) {
            throw new IllegalArgumentException("channels must be >= 1, got " + inChannels + ", " + outChannels);
        }
        if (stride < 1) throw new IllegalArgumentException("stride must be >= 1, got " + stride);
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.stride = stride;
        try {
            this.conv1 = addChild("conv1", factory.conv2d(prefix + "conv1", inChannels, outChannels, 3, stride, 1));
            this.bn1 = addChild("bn1", new BatchNorm2d(outChannels));
            this.conv2 = addChild("conv2", factory.conv2d(prefix + "conv2", outChannels, outChannels, 3, 1, 1));
            this.bn2 = addChild("bn2", new BatchNorm2d(outChannels));
            if (stride != 1 || inChannels != outChannels) {
                Conv2d projection = factory.conv2d(prefix + "shortcut.0", inChannels, outChannels, 1, stride, 0);
                this.shortcut = addChild("shortcut", new Sequential(projection, new BatchNorm2d(outChannels)));
                this.convolutions = List.of(conv1, conv2, projection);
            } else {
                this.shortcut = null;
                this.convolutions = List.of(conv1, conv2);
            }
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    @Override
    public Var forward(Tape tape, Var x) {
        checkOpen();
        long[] s = x.shape();
        if (s.length != 4 || s[1] != inChannels) {
            throw new IllegalArgumentException("BasicBlock(" + inChannels + " -> " + outChannels + ") expects [N, "
                    + inChannels + ", H, W], got " + Arrays.toString(s));
        }
        Var h = bn1.forward(tape, conv1.forward(tape, x), true);
        h = bn2.forward(tape, conv2.forward(tape, h));
        Var skip = shortcut == null ? x : shortcut.forward(tape, x);
        return Functional.relu(tape, Functional.add(tape, h, skip));
    }

    public Conv2d conv1() {
        return conv1;
    }

    public BatchNorm2d bn1() {
        return bn1;
    }

    public Conv2d conv2() {
        return conv2;
    }

    public BatchNorm2d bn2() {
        return bn2;
    }

    /** The projection (1x1 convolution, batch norm), or null when the shortcut is the identity. */
    public @Nullable Sequential shortcut() {
        return shortcut;
    }

    /** The band-limited layers: conv1, conv2 and, with a projection, its convolution. */
    public List<Conv2d> convolutions() {
        return convolutions;
    }

    /** The names of {@link #convolutions()} within this block: {@code conv1}, {@code conv2}, {@code shortcut.0}. */
    public List<String> convolutionNames() {
        return shortcut == null ? List.of("conv1", "conv2") : List.of("conv1", "conv2", "shortcut.0");
    }

    public long inChannels() {
        return inChannels;
    }

    public long outChannels() {
        return outChannels;
    }

    public long stride() {
        return stride;
    }

    @Override
    public String toString() {
        return "BasicBlock(" + inChannels + " -> " + outChannels + ", stride " + stride
                + (shortcut == null ? ", identity shortcut)" : ", projection shortcut)");
    }
}
