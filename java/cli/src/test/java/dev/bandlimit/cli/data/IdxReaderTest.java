package dev.bandlimit.cli.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * IDX files written here byte by byte (independently of the reader), read back exactly, plain
 * and gzip; every malformed or missing file is a {@link DataException} naming the file and the
 * problem.
 */
class IdxReaderTest {
    @TempDir
    Path dir;

    final Random random = new Random(13);

    @Test
    void imagesAndLabelsReadBackExactly() throws IOException {
        byte[] pixels = randomBytes(7 * 5 * 3);
        Path images = write("imgs", images(7, 5, 3, pixels), false);
        IdxReader.Images read = IdxReader.readImages(images);
        assertEquals(7, read.count());
        assertEquals(5, read.rows());
        assertEquals(3, read.cols());
        assertArrayEquals(pixels, read.pixels());
        int[] labels = randomLabels(9);
        assertArrayEquals(labels, IdxReader.readLabels(write("lbls", labels(labels), false)));
    }

    @Test
    void gzipIsRecognisedByItsContentNotItsName() throws IOException {
        byte[] pixels = randomBytes(4 * 6 * 6);
        int[] labels = randomLabels(4);
        assertArrayEquals(pixels, IdxReader.readImages(write("i.gz", images(4, 6, 6, pixels), true)).pixels());
        assertArrayEquals(labels, IdxReader.readLabels(write("l.gz", labels(labels), true)));
        assertArrayEquals(pixels, IdxReader.readImages(write("unpacked-name", images(4, 6, 6, pixels), true)).pixels());
    }

    @Test
    void loadFindsTheFourFilesAndNormalisesWithTrainingStatistics() throws IOException {
        byte[] trainPixels = randomBytes(6 * 28 * 28), testPixels = randomBytes(3 * 28 * 28);
        int[] trainLabels = randomLabels(6), testLabels = randomLabels(3);
        Path folder = Files.createDirectory(dir.resolve("fashion-mnist"));
        write(folder, "train-images-idx3-ubyte.gz", images(6, 28, 28, trainPixels), true);
        write(folder, "train-labels-idx1-ubyte", labels(trainLabels), false);
        write(folder, "t10k-images.idx3-ubyte", images(3, 28, 28, testPixels), false); // a mirror's spelling
        write(folder, "t10k-labels-idx1-ubyte.gz", labels(testLabels), true);

        TrainTest data = IdxReader.load(folder);
        assertEquals("fashion-mnist/train", data.train().name());
        assertEquals("fashion-mnist/test", data.test().name());
        assertArrayEquals(new long[] {1, 28, 28}, data.train().itemShape());
        assertEquals(10, data.train().classes());
        assertArrayEquals(trainLabels, data.train().labels());
        assertArrayEquals(testLabels, data.test().labels());

        // The MNIST loader's normalisation: (b / 255f - mean) / std, statistics of the training pixels.
        double sum = 0, squares = 0;
        for (byte b : trainPixels) sum += (b & 0xFF) / 255.0;
        double mean = sum / trainPixels.length;
        for (byte b : trainPixels) squares += ((b & 0xFF) / 255.0 - mean) * ((b & 0xFF) / 255.0 - mean);
        float m = (float) mean, s = (float) Math.sqrt(squares / trainPixels.length);
        // The reader sums a histogram, this test the pixels in order: the float statistics may
        // differ by an ulp, which moves values of magnitude below 4 by less than 1e-6.
        assertClose(trainPixels, m, s, data.train().values(), 1e-6f);
        assertClose(testPixels, m, s, data.test().values(), 1e-6f);
        float[] v = data.train().values();
        double vMean = 0, vSquares = 0;
        for (float x : v) vMean += x;
        vMean /= v.length;
        for (float x : v) vSquares += (x - vMean) * (x - vMean);
        assertEquals(0, vMean, 1e-6);
        assertEquals(1, Math.sqrt(vSquares / v.length), 1e-6);
    }

    @Test
    void wrongMagicNamesTheFileAndWhatItIs() throws IOException {
        Path labels = write("train-labels-idx1-ubyte", labels(randomLabels(3)), false);
        String m = message(() -> IdxReader.readImages(labels));
        assertTrue(m.startsWith(labels + ": wrong magic number 0x00000801 (an IDX label file) at byte 0, expected 0x00000803"), m);
        assertTrue(m.contains("pass the images file"), m);

        Path images = write("i", images(2, 2, 2, randomBytes(8)), false);
        m = message(() -> IdxReader.readLabels(images));
        assertTrue(m.startsWith(images + ": wrong magic number 0x00000803 (an IDX image file) at byte 0, expected 0x00000801"), m);

        Path text = dir.resolve("readme.txt");
        Files.writeString(text, "this is not an IDX file");
        m = message(() -> IdxReader.readImages(text));
        assertTrue(m.startsWith(text + ": wrong magic number 0x74686973 at byte 0"), m);
    }

    @Test
    void truncatedFileSaysExpectedAndActualBytes() throws IOException {
        byte[] whole = images(5, 4, 4, randomBytes(80));
        Path cut = write("cut", Arrays.copyOf(whole, whole.length - 10), false);
        String m = message(() -> IdxReader.readImages(cut));
        assertTrue(m.startsWith(cut + ": truncated: the header promises 5 images of 4×4, 96 bytes in all, but the file has 86 bytes;"), m);
        assertTrue(m.endsWith("Download it again"), m);

        Path cutGz = write("cut.gz", Arrays.copyOf(whole, whole.length - 10), true);
        m = message(() -> IdxReader.readImages(cutGz));
        assertTrue(m.contains("96 bytes in all, but the file has 86 bytes (after gunzip)"), m);

        Path labelsCut = write("lcut", Arrays.copyOf(labels(randomLabels(20)), 15), false);
        m = message(() -> IdxReader.readLabels(labelsCut));
        assertTrue(m.startsWith(labelsCut + ": truncated: the header promises 20 labels, 28 bytes in all, but the file has 15 bytes"), m);

        Path header = write("header", Arrays.copyOf(whole, 10), false);
        m = message(() -> IdxReader.readImages(header));
        assertTrue(m.startsWith(header + ": truncated: 10 bytes, shorter than the 16-byte header"), m);

        Path tiny = write("tiny", new byte[] {0, 0}, false);
        assertTrue(message(() -> IdxReader.readLabels(tiny)).startsWith(tiny + ": truncated: 2 bytes, too short for an IDX magic"));

        byte[] longer = Arrays.copyOf(whole, whole.length + 3);
        Path extended = write("longer", longer, false);
        m = message(() -> IdxReader.readImages(extended));
        assertTrue(m.startsWith(extended + ": longer than its header says: the header promises 5 images of 4×4, 96 bytes in all,"
                + " but the file has 99 bytes"), m);
    }

    @Test
    void brokenGzipStreamSaysDownloadAgain() throws IOException {
        Path whole = write("whole.gz", images(50, 8, 8, randomBytes(50 * 64)), true);
        byte[] compressed = Files.readAllBytes(whole);
        Path cut = dir.resolve("broken.gz");
        Files.write(cut, Arrays.copyOf(compressed, compressed.length / 2));
        String m = message(() -> IdxReader.readImages(cut));
        assertTrue(m.startsWith(cut + ": cannot read it ("), m);
        assertTrue(m.endsWith("the gzip stream is truncated or corrupt; download the file again"), m);
    }

    @Test
    void labelOutOfRangeNamesItsItemAndByte() throws IOException {
        int[] labels = {1, 2, 3, 10, 4};
        Path file = write("l", labels(labels), false);
        String m = message(() -> IdxReader.readLabels(file));
        assertTrue(m.startsWith(file + ": label 10 of item 3 (at byte 11) is not a class 0..9"), m);
    }

    @Test
    void labelAndImageCountsMustAgree() throws IOException {
        Path folder = fourFiles(6, 5, 3, 3, 28);
        String m = message(() -> IdxReader.load(folder));
        assertTrue(m.startsWith(folder.resolve("train-labels-idx1-ubyte") + ": 5 labels, but " + folder.resolve("train-images-idx3-ubyte")
                + " holds 6 images; the two files do not belong together"), m);
    }

    @Test
    void trainingAndTestImagesMustHaveOneSize() throws IOException {
        Path folder = fourFiles(2, 2, 2, 2, 28);
        write(folder, "t10k-images-idx3-ubyte", images(2, 32, 32, randomBytes(2 * 32 * 32)), false);
        String m = message(() -> IdxReader.load(folder));
        assertTrue(m.startsWith(folder.resolve("t10k-images-idx3-ubyte") + ": images of 32×32, but the training images in "), m);
    }

    @Test
    void missingFilesAreListedWithEveryNameLookedFor() throws IOException {
        Path folder = fourFiles(2, 2, 2, 2, 28);
        Files.delete(folder.resolve("train-labels-idx1-ubyte"));
        Files.delete(folder.resolve("t10k-images-idx3-ubyte"));
        String m = message(() -> IdxReader.load(folder));
        assertTrue(m.startsWith(folder + ": missing 2 of the 4 IDX files; looked for train-labels-idx1-ubyte / train-labels-idx1-ubyte.gz"
                + " / train-labels.idx1-ubyte / train-labels.idx1-ubyte.gz; t10k-images-idx3-ubyte / "), m);
        assertFalse(m.contains("train-images-idx3-ubyte /"), m);
        assertTrue(m.endsWith("in this folder"), m);

        Path nowhere = dir.resolve("nowhere");
        m = message(() -> IdxReader.load(nowhere));
        assertTrue(m.startsWith(nowhere + ": does not exist; pass the folder that holds the IDX files"), m);
    }

    @Test
    void constantTrainingPixelsCannotBeNormalised() throws IOException {
        Path folder = fourFiles(2, 2, 2, 2, 4);
        write(folder, "train-images-idx3-ubyte", images(2, 4, 4, new byte[32]), false);
        String m = message(() -> IdxReader.load(folder));
        assertTrue(m.startsWith(folder.resolve("train-images-idx3-ubyte") + ": every training pixel has the same value"), m);
    }

    // --- writing IDX files, independently of the reader ---

    /** A folder with the four files under their standard names, plain. */
    Path fourFiles(int trainImages, int trainLabels, int testImages, int testLabels, int side) throws IOException {
        Path folder = Files.createDirectories(dir.resolve("set"));
        write(folder, "train-images-idx3-ubyte", images(trainImages, side, side, randomBytes(trainImages * side * side)), false);
        write(folder, "train-labels-idx1-ubyte", labels(randomLabels(trainLabels)), false);
        write(folder, "t10k-images-idx3-ubyte", images(testImages, side, side, randomBytes(testImages * side * side)), false);
        write(folder, "t10k-labels-idx1-ubyte", labels(randomLabels(testLabels)), false);
        return folder;
    }

    static byte[] images(int count, int rows, int cols, byte[] pixels) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) { // big-endian, as IDX
            out.writeInt(0x00000803);
            out.writeInt(count);
            out.writeInt(rows);
            out.writeInt(cols);
            out.write(pixels);
        }
        return bytes.toByteArray();
    }

    static byte[] labels(int[] labels) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(0x00000801);
            out.writeInt(labels.length);
            for (int label : labels) out.writeByte(label);
        }
        return bytes.toByteArray();
    }

    Path write(String name, byte[] data, boolean gzip) throws IOException {
        return write(dir, name, data, gzip);
    }

    static Path write(Path folder, String name, byte[] data, boolean gzip) throws IOException {
        Path file = folder.resolve(name);
        try (OutputStream out = gzip ? new GZIPOutputStream(Files.newOutputStream(file)) : Files.newOutputStream(file)) {
            out.write(data);
        }
        return file;
    }

    byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    int[] randomLabels(int n) {
        return random.ints(n, 0, 10).toArray();
    }

    static void assertClose(byte[] pixels, float mean, float std, float[] actual, float tolerance) {
        assertEquals(pixels.length, actual.length);
        for (int i = 0; i < pixels.length; i++) {
            float expected = ((pixels[i] & 0xFF) / 255f - mean) / std;
            assertEquals(expected, actual[i], tolerance, "pixel " + i);
        }
    }

    static String message(org.junit.jupiter.api.function.Executable call) {
        return assertThrows(DataException.class, call).getMessage();
    }
}
