package dev.bandlimit.nn.models;

import dev.bandlimit.Padding;
import dev.bandlimit.nn.BatchNorm1d;
import dev.bandlimit.nn.Conv1d;
import dev.bandlimit.nn.Functional;
import dev.bandlimit.nn.Linear;
import dev.bandlimit.nn.Module;
import dev.bandlimit.nn.Tape;
import dev.bandlimit.nn.Var;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The fully convolutional network for time series classification of Wang, Yan and Oates ("Time
 * Series Classification from Scratch with Deep Neural Networks: A Strong Baseline", IJCNN 2017),
 * which the paper's time-series experiments train on the UCR archive with band-limited
 * convolutions (Dziedzic et al., "Band-limited Training and Inference for Convolutional Neural
 * Networks", ICML 2019): three blocks of a 1D convolution (kernels 8, 5, 3 with 128, 256, 128
 * filters by default, stride 1, with bias), batch norm and ReLU, each keeping the length; global
 * average pooling over time; a linear layer to the classes. Input {@code [N, C, L]}, logits
 * {@code [N, classes]}.
 *
 * <p>"Same" padding puts {@code (k - 1) / 2} zeros before and {@code k / 2} after, so the even
 * kernel 8 pads 3 left and 4 right: the convention of Keras's {@code padding='same'} in Wang et
 * al.'s code and of the paper's code (which adds the extra zero on the right). This differs from
 * {@link Padding#same1d}, which puts the extra zero first.
 *
 * <p>Every convolution is band-limited, each with the training and evaluation compression chosen
 * by its name ({@link Builder#compressionByLayer}). The names follow the paper's PyTorch model
 * ({@code FCNNPytorch}): convolutions {@code conv0, conv1, conv2}, batch norms {@code bn0, bn1,
 * bn2}, the linear layer {@code lin}; parameters {@code conv0.weight}, {@code conv0.bias},
 * {@code bn0.weight}, ..., {@code lin.bias}. Initialisation as PyTorch's default, seeded
 * {@code seed + 1, seed + 2, seed + 3} (convolutions) and {@code seed + 4} (linear).
 */
public final class TimeSeriesFcn extends Module implements Model {
    /** The kernel sizes of the three convolutions. */
    public static final List<Long> KERNELS = List.of(8L, 5L, 3L);
    /** The filters of the three convolutions in Wang et al.'s network. */
    public static final List<Long> DEFAULT_WIDTHS = List.of(128L, 256L, 128L);

    private final long inChannels, classes;
    private final List<Long> widths;
    private final List<Conv1d> convolutions;
    private final List<BatchNorm1d> batchNorms;
    private final List<String> convolutionNames;
    private final Linear lin;

    private TimeSeriesFcn(Builder b) {
        this.inChannels = b.inChannels;
        this.classes = b.classes;
        this.widths = b.widths;
        LayerFactory factory = b.layerFactory();
        try {
            List<Conv1d> convs = new ArrayList<>();
            List<BatchNorm1d> norms = new ArrayList<>();
            long channels = inChannels;
            for (int i = 0; i < KERNELS.size(); i++) {
                long k = KERNELS.get(i), out = widths.get(i);
                convs.add(addChild("conv" + i, factory.conv1d("conv" + i, channels, out, k, samePadding(k))));
                norms.add(addChild("bn" + i, new BatchNorm1d(out)));
                channels = out;
            }
            this.convolutions = List.copyOf(convs);
            this.batchNorms = List.copyOf(norms);
            this.convolutionNames = factory.names();
            this.lin = addChild("lin", new Linear(channels, classes, true, factory.nextSeed()));
        } catch (RuntimeException | Error e) {
            for (var layer : factory.layers()) layer.close();
            close();
            throw e;
        }
    }

    /** Settings for a network on {@code inChannels}-channel series with {@code classes} classes. */
    public static Builder builder(long inChannels, long classes) {
        return new Builder(inChannels, classes);
    }

    /** "Same" padding of a stride-1 kernel {@code k}: {@code (k - 1) / 2} before, {@code k / 2} after. */
    public static Padding samePadding(long k) {
        return Padding.of1d((k - 1) / 2, k / 2);
    }

    @Override
    public Var forward(Tape tape, Var input) {
        checkOpen();
        long[] s = input.shape();
        if (s.length != 3 || s[1] != inChannels) {
            throw new IllegalArgumentException("TimeSeriesFcn expects [N, " + inChannels + ", L], got "
                    + Arrays.toString(s));
        }
        Var h = input;
        for (int i = 0; i < convolutions.size(); i++) {
            h = batchNorms.get(i).forward(tape, convolutions.get(i).forward(tape, h), true);
        }
        return lin.forward(tape, Functional.globalAvgPool(tape, h));
    }

    /** This model: it is its own network. */
    @Override
    public Module network() {
        return this;
    }

    /** {@code conv0, conv1, conv2}. */
    @Override
    public List<Conv1d> convolutions() {
        return convolutions;
    }

    @Override
    public List<String> convolutionNames() {
        return convolutionNames;
    }

    /** {@code bn0, bn1, bn2}, each following the convolution of the same index. */
    public List<BatchNorm1d> batchNorms() {
        return batchNorms;
    }

    /** The classifier {@code lin}. */
    public Linear classifier() {
        return lin;
    }

    public long inChannels() {
        return inChannels;
    }

    public long classes() {
        return classes;
    }

    /** The filters of the three convolutions. */
    public List<Long> widths() {
        return widths;
    }

    @Override
    public String toString() {
        return "TimeSeriesFcn(in " + inChannels + ", widths " + widths + ", classes " + classes + ")";
    }

    /**
     * Named settings: {@code TimeSeriesFcn.builder(1, 5).compression(Compression.fixed(0.5)).build()}.
     * Defaults: widths 128, 256, 128, no compression, evaluation with the training compression,
     * seed 0.
     */
    public static final class Builder extends LayerSettings<Builder> {
        private final long inChannels, classes;
        private List<Long> widths = DEFAULT_WIDTHS;

        private Builder(long inChannels, long classes) {
            if (inChannels < 1 || classes < 1) {
                throw new IllegalArgumentException("inChannels and classes must be >= 1, got " + inChannels + ", "
                        + classes);
            }
            this.inChannels = inChannels;
            this.classes = classes;
        }

        /** The filters of the three convolutions (128, 256, 128 in Wang et al.'s network). */
        public Builder widths(long first, long second, long third) {
            for (long w : new long[] {first, second, third}) {
                if (w < 1) throw new IllegalArgumentException("widths must be >= 1, got " + w);
            }
            this.widths = List.of(first, second, third);
            return this;
        }

        public TimeSeriesFcn build() {
            return new TimeSeriesFcn(this);
        }
    }
}
