package dev.bandlimit.cli.mnist;

import static dev.bandlimit.cli.mnist.MnistDataset.PIXELS;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * Mini-batches of one epoch in a shuffled order; {@link #nextEpoch()} draws a new order and
 * starts again. Each batch is a fresh pair of arrays. Not thread-safe.
 *
 * <p>One epoch covers every image exactly once, the last batch partial when the batch size does
 * not divide the set's size. Each epoch's order is a Fisher–Yates shuffle drawn from one
 * {@code SplittableRandom(seed)}, so the sequence of batches over all epochs depends on the seed
 * only (the batch size only cuts it).
 */
public final class BatchIterator implements Iterator<Batch> {
    private final byte[] pixels;
    private final int[] labels;
    private final int batchSize;
    private final SplittableRandom random;
    private final int[] order;
    private int position;
    private int epoch;

    BatchIterator(byte[] pixels, int[] labels, int batchSize, long seed) {
        if (batchSize < 1) throw new IllegalArgumentException("batchSize must be at least 1, got " + batchSize);
        this.pixels = pixels;
        this.labels = labels;
        this.batchSize = batchSize;
        this.random = new SplittableRandom(seed);
        this.order = new int[labels.length];
        shuffle();
    }

    @Override
    public boolean hasNext() {
        return position < order.length;
    }

    @Override
    public Batch next() {
        if (!hasNext()) throw new NoSuchElementException("epoch " + epoch + " is over; call nextEpoch() for another");
        int size = Math.min(batchSize, order.length - position);
        float[] images = new float[size * PIXELS];
        int[] batchLabels = new int[size];
        for (int k = 0; k < size; k++) {
            int index = order[position + k];
            MnistDataset.toUnit(pixels, index * PIXELS, images, k * PIXELS, PIXELS);
            batchLabels[k] = labels[index];
        }
        position += size;
        return new Batch(images, batchLabels, size);
    }

    /** Starts the next epoch with a new shuffled order (whether or not this one was finished). */
    public void nextEpoch() {
        epoch++;
        shuffle();
    }

    /** The current epoch, counting from 0. */
    public int epoch() {
        return epoch;
    }

    /** Batches per epoch: {@code ceil(examples / batchSize)}. */
    public int batchesPerEpoch() {
        return (order.length + batchSize - 1) / batchSize;
    }

    /** Images per epoch. */
    public int examples() {
        return order.length;
    }

    private void shuffle() {
        for (int i = 0; i < order.length; i++) order[i] = i;
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        position = 0;
    }
}
