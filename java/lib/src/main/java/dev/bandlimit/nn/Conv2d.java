package dev.bandlimit.nn;

import dev.bandlimit.Compression;
import dev.bandlimit.Padding;

/**
 * 2D convolution through the native band-limited operator (docs/ALGORITHM.md): input
 * {@code [N,C,H,W]}, weight {@code [F,C,KH,KW]}, optional bias {@code [F]}, output
 * {@code [N,F,Ho,Wo]}. See {@link ConvLayer} for the compressions, the plan cache and the
 * reports of the last forward.
 */
public final class Conv2d extends ConvLayer {
    private final long kernelH, kernelW;

    /**
     * @param trainCompression compression of training forwards and backwards
     * @param evalCompression compression of evaluation forwards (may differ; see {@link #setEvalCompression})
     * @param seed seeds the Kaiming-uniform initialisation (PyTorch's default)
     */
    public Conv2d(long inChannels, long outChannels, long kernelH, long kernelW, Padding padding, long stride,
            boolean bias, Compression trainCompression, Compression evalCompression, long seed) {
        super(false, inChannels, outChannels, kernelH, kernelW, padding, stride, bias, trainCompression,
                evalCompression, seed);
        this.kernelH = kernelH;
        this.kernelW = kernelW;
    }

    /** Named settings instead of positional ones: {@code Conv2d.builder(in, out).kernel(...).build()}. */
    public static ConvBuilder<Conv2d> builder(long inChannels, long outChannels) {
        return new ConvBuilder<>(false, inChannels, outChannels);
    }

    public long kernelH() {
        return kernelH;
    }

    public long kernelW() {
        return kernelW;
    }

    @Override
    String kernelText() {
        return kernelH + "x" + kernelW;
    }
}
