package dev.bandlimit.cli;

import java.util.SplittableRandom;

/** Synthetic inputs with an image-like (decaying) spectrum. */
final class Images {
    private Images() {}

    /**
     * Gaussian noise blurred twice by a separable binomial [1 4 6 4 1] / 16 filter (clamped
     * edges): natural images keep most energy at low frequencies, white noise does not.
     */
    static float[] smoothNoise(SplittableRandom random, int planes, int h, int w) {
        float[] data = new float[planes * h * w];
        for (int i = 0; i < data.length; i++) data[i] = (float) random.nextGaussian();
        float[] tap = {1 / 16f, 4 / 16f, 6 / 16f, 4 / 16f, 1 / 16f};
        float[] tmp = new float[h * w];
        for (int pass = 0; pass < 2; pass++) {
            for (int p = 0; p < planes; p++) {
                int base = p * h * w;
                for (int i = 0; i < h; i++) {
                    for (int j = 0; j < w; j++) {
                        float s = 0;
                        for (int t = -2; t <= 2; t++) s += tap[t + 2] * data[base + i * w + Math.clamp(j + t, 0, w - 1)];
                        tmp[i * w + j] = s;
                    }
                }
                for (int i = 0; i < h; i++) {
                    for (int j = 0; j < w; j++) {
                        float s = 0;
                        for (int t = -2; t <= 2; t++) s += tap[t + 2] * tmp[Math.clamp(i + t, 0, h - 1) * w + j];
                        data[base + i * w + j] = s;
                    }
                }
            }
        }
        return data;
    }
}
