package dev.bandlimit.cli.train;

import dev.bandlimit.cli.mnist.MnistDataset;
import java.io.PrintStream;
import java.nio.file.Path;

/** MNIST images normalised with the training set's mean and standard deviation. */
public record Data(float[] trainImages, int[] trainLabels, float[] testImages, int[] testLabels) {

    /** Loads (fetching on first use) and normalises MNIST. */
    public static Data load(Path cacheDir, PrintStream log) {
        MnistDataset mnist = MnistDataset.load(cacheDir == null ? MnistDataset.defaultCacheDir() : cacheDir, log);
        float mean = mnist.trainMean(), std = mnist.trainStd();
        return new Data(normalise(mnist.trainImages(), mean, std), mnist.trainLabels(),
                normalise(mnist.testImages(), mean, std), mnist.testLabels());
    }

    private static float[] normalise(float[] images, float mean, float std) {
        for (int i = 0; i < images.length; i++) images[i] = (images[i] - mean) / std;
        return images;
    }
}
