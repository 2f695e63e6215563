package dev.bandlimit.nn;

import dev.bandlimit.Compression;
import dev.bandlimit.Padding;

/**
 * 1D convolution through the native band-limited operator (docs/ALGORITHM.md, the case
 * {@code H = KH = 1}): input {@code [N,C,L]}, weight {@code [F,C,K]}, optional bias {@code [F]},
 * output {@code [N,F,Lo]}; padding uses left and right only. See {@link ConvLayer} for the
 * compressions, the plan cache and the reports of the last forward.
 */
public final class Conv1d extends ConvLayer {
    private final long kernel;

    /**
     * @param trainCompression compression of training forwards and backwards
     * @param evalCompression compression of evaluation forwards (may differ; see {@link #setEvalCompression})
     * @param seed seeds the Kaiming-uniform initialisation (PyTorch's default)
     */
    public Conv1d(long inChannels, long outChannels, long kernel, Padding padding, long stride,
            boolean bias, Compression trainCompression, Compression evalCompression, long seed) {
        super(true, inChannels, outChannels, 1, kernel, padding, stride, bias, trainCompression, evalCompression,
                seed);
        this.kernel = kernel;
    }

    /** Named settings instead of positional ones: {@code Conv1d.builder(in, out).kernel(...).build()}. */
    public static ConvBuilder<Conv1d> builder(long inChannels, long outChannels) {
        return new ConvBuilder<>(true, inChannels, outChannels);
    }

    public long kernel() {
        return kernel;
    }

    @Override
    String kernelText() {
        return Long.toString(kernel);
    }
}
