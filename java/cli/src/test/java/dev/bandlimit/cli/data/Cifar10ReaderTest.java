package dev.bandlimit.cli.data;

import static dev.bandlimit.cli.data.IdxReaderTest.message;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Small CIFAR-10 batch files (3 records per training file, 4 in the test file) written here
 * record by record, read back exactly; the errors name the file and the problem.
 */
class Cifar10ReaderTest {
    static final int TRAIN_PER_FILE = 3, TEST_RECORDS = 4;

    @TempDir
    Path dir;

    Path batches;
    final Random random = new Random(10);
    /** Per file: the labels and pixels written. */
    final int[][] labels = new int[6][];
    final byte[][] pixels = new byte[6][];

    @BeforeEach
    void writeBatches() throws IOException {
        batches = Files.createDirectory(dir.resolve(Cifar10Reader.SUBFOLDER));
        for (int f = 0; f < 6; f++) {
            int n = f < 5 ? TRAIN_PER_FILE : TEST_RECORDS;
            labels[f] = random.ints(n, 0, 10).toArray();
            pixels[f] = new byte[n * 3072];
            random.nextBytes(pixels[f]);
            Files.write(batches.resolve(fileName(f)), records(labels[f], pixels[f]));
        }
    }

    @Test
    void batchReadsBackExactlyAndStopsAtTheLimit() {
        Cifar10Reader.Batch b = Cifar10Reader.readBatch(batches.resolve("data_batch_2.bin"), Integer.MAX_VALUE);
        assertArrayEquals(labels[1], b.labels());
        assertArrayEquals(pixels[1], b.pixels());
        Cifar10Reader.Batch first = Cifar10Reader.readBatch(batches.resolve("data_batch_2.bin"), 2);
        assertEquals(2, first.count());
        assertArrayEquals(Arrays.copyOf(pixels[1], 2 * 3072), first.pixels());
    }

    @Test
    void loadLooksInTheExtractedSubfolderAndNormalisesPerChannel() {
        TrainTest data = Cifar10Reader.load(dir);
        assertEquals("cifar-10/train", data.train().name());
        assertArrayEquals(new long[] {3, 32, 32}, data.train().itemShape());
        assertEquals(10, data.train().classes());
        assertEquals(5 * TRAIN_PER_FILE, data.train().count());
        assertEquals(TEST_RECORDS, data.test().count());
        int[] trainLabels = new int[0];
        byte[] trainPixels = new byte[0];
        for (int f = 0; f < 5; f++) {
            trainLabels = concat(trainLabels, labels[f]);
            trainPixels = concat(trainPixels, pixels[f]);
        }
        assertArrayEquals(trainLabels, data.train().labels());
        assertArrayEquals(normalised(trainPixels), data.train().values());
        assertArrayEquals(labels[5], data.test().labels());
        assertArrayEquals(normalised(pixels[5]), data.test().values());
        // The folder itself works as well.
        assertArrayEquals(data.test().values(), Cifar10Reader.load(batches).test().values());
    }

    @Test
    void limitTakesTheFirstItemsOfEachSet() {
        TrainTest data = Cifar10Reader.load(dir, 4); // all of batch 1 and the first record of batch 2
        assertEquals(4, data.train().count());
        assertArrayEquals(new int[] {labels[0][0], labels[0][1], labels[0][2], labels[1][0]}, data.train().labels());
        assertArrayEquals(normalised(concat(pixels[0], Arrays.copyOf(pixels[1], 3072))), data.train().values());
        assertEquals(4, data.test().count());
        assertEquals(2, Cifar10Reader.load(dir, 2).test().count());
        assertThrows(IllegalArgumentException.class, () -> Cifar10Reader.load(dir, 0));
    }

    @Test
    void sizeNotAMultipleOfTheRecordIsRefused() throws IOException {
        Path file = batches.resolve("data_batch_3.bin");
        Files.write(file, new byte[5], StandardOpenOption.APPEND);
        String m = message(() -> Cifar10Reader.load(dir));
        assertTrue(m.startsWith(file + ": 9224 bytes is not a whole number of 3073-byte records (1 label byte + 3,072 pixel bytes):"
                + " 3 records and 5 bytes more."), m);
        assertTrue(m.contains("CIFAR-100's records have 2 label bytes"), m);
        Files.write(file, new byte[0]);
        assertTrue(message(() -> Cifar10Reader.load(dir)).startsWith(file + ": is empty"));
    }

    @Test
    void labelAboveNineNamesItsRecordAndByte() throws IOException {
        Path file = batches.resolve(Cifar10Reader.TEST_FILE);
        byte[] bytes = Files.readAllBytes(file);
        bytes[2 * 3073] = 10;
        Files.write(file, bytes);
        String m = message(() -> Cifar10Reader.load(dir));
        assertTrue(m.startsWith(file + ": label 10 in record 2 (at byte 6146) is not a class 0..9"), m);
    }

    @Test
    void missingFilesAreNamed() throws IOException {
        Files.delete(batches.resolve("data_batch_4.bin"));
        Files.delete(batches.resolve("test_batch.bin"));
        String m = message(() -> Cifar10Reader.load(dir));
        assertTrue(m.startsWith(dir + ": missing data_batch_4.bin, test_batch.bin in " + batches + "; download cifar-10-binary.tar.gz"), m);

        Path empty = Files.createDirectory(dir.resolve("empty"));
        Files.write(empty.resolve("cifar-10-binary.tar.gz"), new byte[1]);
        m = message(() -> Cifar10Reader.load(empty));
        assertTrue(m.startsWith(empty + ": missing data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin,"
                + " data_batch_5.bin, test_batch.bin in " + empty + " (nor in its subfolder cifar-10-batches-bin); extract it: tar xzf"), m);
    }

    // --- writing and normalising, independently of the reader ---

    static String fileName(int f) {
        return f < 5 ? "data_batch_" + (f + 1) + ".bin" : "test_batch.bin";
    }

    static byte[] records(int[] labels, byte[] pixels) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int r = 0; r < labels.length; r++) {
            out.write(labels[r]);
            out.write(pixels, r * 3072, 3072);
        }
        return out.toByteArray();
    }

    /** {@code (b / 255f - mean[c]) / std[c]}, with channel {@code c} the 1024-byte plane a byte lies in. */
    static float[] normalised(byte[] pixels) {
        float[] mean = {0.4914f, 0.4822f, 0.4465f}, std = {0.2470f, 0.2435f, 0.2616f};
        float[] out = new float[pixels.length];
        for (int i = 0; i < pixels.length; i++) {
            int c = i % 3072 / 1024;
            out[i] = ((pixels[i] & 0xFF) / 255f - mean[c]) / std[c];
        }
        return out;
    }

    static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
