package dev.bandlimit.cli.data;

/** 8-bit pixels to standardised floats, {@code (b / 255f - mean) / std}, per channel plane. */
public final class Pixels {
    /** {@code b / 255f} for every byte {@code b}, as {@code MnistDataset} computes it. */
    private static final float[] UNIT = new float[256];

    static {
        for (int b = 0; b < 256; b++) UNIT[b] = b / 255f;
    }

    private Pixels() {}

    /**
     * The mean and population standard deviation of {@code b / 255} over all bytes, exact in
     * float64 from a histogram, then rounded to float: {@code {mean, std}}. MNIST-10k's training
     * statistics come from here too, so an IDX MNIST set is normalised the same way.
     */
    public static float[] meanAndStd(byte[] pixels) {
        long[] histogram = new long[256];
        for (byte b : pixels) histogram[b & 0xFF]++;
        double n = pixels.length, mean = 0, variance = 0;
        for (int b = 0; b < 256; b++) mean += histogram[b] * (b / 255.0);
        mean /= n;
        for (int b = 0; b < 256; b++) variance += histogram[b] * (b / 255.0 - mean) * (b / 255.0 - mean);
        return new float[] {(float) mean, (float) Math.sqrt(variance / n)};
    }

    /**
     * {@code (b / 255f - mean[c]) / std[c]} in float arithmetic for every byte, where {@code c} is
     * the channel of the byte: items of {@code mean.length} planes of {@code planeSize} bytes each.
     */
    static float[] standardize(byte[] pixels, int planeSize, float[] mean, float[] std) {
        int channels = mean.length;
        // One table per channel: the same float operations as computing each pixel directly.
        float[][] table = new float[channels][256];
        for (int c = 0; c < channels; c++) {
            for (int b = 0; b < 256; b++) table[c][b] = (UNIT[b] - mean[c]) / std[c];
        }
        float[] out = new float[pixels.length];
        for (int plane = 0, p = 0; p < pixels.length; plane++) {
            float[] t = table[plane % channels];
            for (int end = p + planeSize; p < end; p++) out[p] = t[pixels[p] & 0xFF];
        }
        return out;
    }
}
