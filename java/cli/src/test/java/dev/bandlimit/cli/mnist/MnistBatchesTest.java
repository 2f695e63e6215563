package dev.bandlimit.cli.mnist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The split, the normalisation constants and the batch iterator, on a small synthetic data set
 * whose images carry their own identity: pixel 0 and 1 hold the image's position in its class
 * file (low, high byte), pixel 2 its class.
 */
class MnistBatchesTest {
    /** Awkward class sizes: 0 and 4 (no test image), 5 (one), 9, 10, 11 and a larger one. */
    static final int[] COUNTS = {4, 5, 9, 10, 11, 0, 1, 37, 6, 300};

    static byte[][] classes() {
        byte[][] classes = new byte[COUNTS.length][];
        for (int c = 0; c < COUNTS.length; c++) {
            classes[c] = new byte[COUNTS[c] * 784];
            for (int k = 0; k < COUNTS[c]; k++) {
                classes[c][k * 784] = (byte) k;
                classes[c][k * 784 + 1] = (byte) (k >> 8);
                classes[c][k * 784 + 2] = (byte) c;
                classes[c][k * 784 + 100 + k % 600] = (byte) (17 * k + c); // some spread for the statistics
            }
        }
        return classes;
    }

    static final MnistDataset DATA = MnistDataset.split(classes());

    /** The identity {@code class * 1000 + position in class} of image {@code i} in a flat float array. */
    static int id(float[] images, int i) {
        int k = Math.round(images[i * 784] * 255) + 256 * Math.round(images[i * 784 + 1] * 255);
        return Math.round(images[i * 784 + 2] * 255) * 1000 + k;
    }

    @Test
    void lastFifthOfEachClassIsTheTestSet() {
        List<Integer> wantTrain = new ArrayList<>(), wantTest = new ArrayList<>();
        for (int c = 0; c < COUNTS.length; c++) {
            int test = COUNTS[c] / 5; // floor
            for (int k = 0; k < COUNTS[c]; k++) (k < COUNTS[c] - test ? wantTrain : wantTest).add(c * 1000 + k);
        }
        assertEquals(wantTrain.size(), DATA.trainSize());
        assertEquals(wantTest.size(), DATA.testSize());
        float[] train = DATA.trainImages(), test = DATA.testImages();
        int[] trainLabels = DATA.trainLabels(), testLabels = DATA.testLabels();
        for (int i = 0; i < train.length / 784; i++) {
            assertEquals(wantTrain.get(i), id(train, i));
            assertEquals(wantTrain.get(i) / 1000, trainLabels[i]);
        }
        for (int i = 0; i < test.length / 784; i++) {
            assertEquals(wantTest.get(i), id(test, i));
            assertEquals(wantTest.get(i) / 1000, testLabels[i]);
        }
    }

    @Test
    void meanAndStdAreThoseOfTheTrainingPixels() {
        float[] train = DATA.trainImages();
        double sum = 0, squares = 0;
        for (float v : train) sum += v;
        double mean = sum / train.length;
        for (float v : train) squares += (v - mean) * (v - mean);
        assertEquals(mean, DATA.trainMean(), 1e-7);
        assertEquals(Math.sqrt(squares / train.length), DATA.trainStd(), 1e-7);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 32, 300, 321, 1000})
    void everyImageExactlyOncePerEpochLastBatchPartial(int batchSize) {
        for (boolean train : new boolean[] {true, false}) {
            float[] all = train ? DATA.trainImages() : DATA.testImages();
            int n = all.length / 784;
            int[] want = new int[n];
            for (int i = 0; i < n; i++) want[i] = id(all, i);
            Arrays.sort(want);
            BatchIterator it = DATA.batches(train, batchSize, 42);
            assertEquals(n, it.examples());
            assertEquals((n + batchSize - 1) / batchSize, it.batchesPerEpoch());
            for (int epoch = 0; epoch < 3; epoch++) {
                assertEquals(epoch, it.epoch());
                int[] seen = new int[n];
                int count = 0, batches = 0;
                while (it.hasNext()) {
                    Batch b = it.next();
                    batches++;
                    int expectedSize = Math.min(batchSize, n - count);
                    assertEquals(expectedSize, b.size());
                    assertEquals(b.size() * 784, b.images().length);
                    assertEquals(b.size(), b.labels().length);
                    for (int k = 0; k < b.size(); k++) {
                        int id = id(b.images(), k);
                        assertEquals(id / 1000, b.labels()[k], "label travels with its image");
                        seen[count++] = id;
                    }
                }
                assertEquals(it.batchesPerEpoch(), batches);
                Arrays.sort(seen);
                assertArrayEquals(want, seen, "epoch " + epoch + " covers every image exactly once");
                assertThrows(NoSuchElementException.class, it::next);
                it.nextEpoch();
            }
        }
    }

    @Test
    void orderDependsOnlyOnTheSeed() {
        List<Integer> a = order(DATA.batches(true, 32, 7), 3), b = order(DATA.batches(true, 32, 7), 3);
        assertEquals(a, b, "same seed, same batches over three epochs");
        List<Integer> c = order(DATA.batches(true, 32, 8), 3);
        assertFalse(a.equals(c), "another seed, another order");
        int n = DATA.trainSize();
        assertFalse(a.subList(0, n).equals(a.subList(n, 2 * n)), "each epoch is reshuffled");
        List<Integer> sorted = new ArrayList<>(a.subList(0, n));
        sorted.sort(null);
        assertFalse(sorted.equals(a.subList(0, n)), "shuffled, not in file order");
        // Batch size does not change the order, only how it is cut.
        assertEquals(a, order(DATA.batches(true, 5, 7), 3));
    }

    @Test
    void badBatchSizeIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DATA.batches(true, 0, 1));
        assertTrue(e.getMessage().contains("batchSize"), e.getMessage());
    }

    static List<Integer> order(BatchIterator it, int epochs) {
        List<Integer> ids = new ArrayList<>();
        for (int e = 0; e < epochs; e++) {
            while (it.hasNext()) {
                Batch b = it.next();
                for (int k = 0; k < b.size(); k++) ids.add(id(b.images(), k));
            }
            it.nextEpoch();
        }
        return ids;
    }
}
