package dev.bandlimit;

import java.util.Objects;

/**
 * The shapes of a convolution layer as its native plan reports them ({@link ConvPlan#geometry()}):
 * the input, kernel, padding and stride it was built for, and the output size they give. A 1D
 * layer is the 2D one with {@code height = kernelHeight = strideH = 1} and no vertical padding;
 * its tensors drop those axes.
 *
 * <p>Shapes: 2D {@code x[n][C][H][W]}, {@code w[F][C][KH][KW]}, {@code bias[F]},
 * {@code y[n][F][Ho][Wo]}; 1D {@code x[n][C][L]}, {@code w[F][C][K]}, {@code y[n][F][Lo]}.
 *
 * @param conv1d whether this is a 1D layer
 * @param maxBatch the largest batch an execute call may pass
 * @param channels input channels C
 * @param height input height H (1 for 1D layers)
 * @param width input width W (the length L for 1D layers)
 * @param filters output channels F
 * @param kernelHeight kernel height KH (1 for 1D layers)
 * @param kernelWidth kernel width KW (K for 1D layers)
 * @param padding zero padding per side (1D layers: left and right only)
 * @param strideH vertical stride (1 for 1D layers)
 * @param strideW horizontal stride (the stride for 1D layers)
 * @param outputHeight output height Ho (1 for 1D layers)
 * @param outputWidth output width Wo (the output length for 1D layers)
 */
public record ConvGeometry(boolean conv1d, long maxBatch, long channels, long height, long width, long filters,
        long kernelHeight, long kernelWidth, Padding padding, long strideH, long strideW, long outputHeight,
        long outputWidth) {

    /** Checks only that {@code padding} is given; the sizes are the native plan's to check. */
    public ConvGeometry {
        Objects.requireNonNull(padding, "padding must not be null");
    }

    /** Shape of the input for batch {@code n}. */
    public long[] inputShape(long n) {
        return conv1d ? new long[] {n, channels, width} : new long[] {n, channels, height, width};
    }

    /** Shape of the weights. */
    public long[] weightShape() {
        return conv1d ? new long[] {filters, channels, kernelWidth}
                : new long[] {filters, channels, kernelHeight, kernelWidth};
    }

    /** Shape of the bias. */
    public long[] biasShape() {
        return new long[] {filters};
    }

    /** Shape of the output for batch {@code n}. */
    public long[] outputShape(long n) {
        return conv1d ? new long[] {n, filters, outputWidth} : new long[] {n, filters, outputHeight, outputWidth};
    }

    /** Elements of one input sample: {@code C H W} (1D: {@code C L}). */
    public long inputElementsPerSample() {
        return channels * height * width;
    }

    /**
     * A short description, e.g. {@code conv2d C=3 32x32 F=16 3x3 pad 1,1,1,1 stride 1x1 -> 32x32} or
     * {@code conv1d C=2 L=100 F=4 K=5 pad 2,2 stride 1 -> 100}.
     */
    @Override
    public String toString() {
        return conv1d
                ? "conv1d C=" + channels + " L=" + width + " F=" + filters + " K=" + kernelWidth + " pad "
                        + padding.left() + "," + padding.right() + " stride " + strideW + " -> " + outputWidth
                : "conv2d C=" + channels + " " + height + "x" + width + " F=" + filters + " " + kernelHeight + "x"
                        + kernelWidth + " pad " + padding.top() + "," + padding.bottom() + "," + padding.left() + ","
                        + padding.right() + " stride " + strideH + "x" + strideW + " -> " + outputHeight + "x"
                        + outputWidth;
    }
}
