package dev.bandlimit.cli.data;

import java.util.Arrays;
import java.util.Objects;

/**
 * Labelled items of one shape, ready for a model: {@code count()} items of
 * {@code itemShape} (e.g. {@code {1, 28, 28}} for MNIST, {@code {3, 32, 32}} for CIFAR-10,
 * {@code {1, L}} for a time series), all values in one row-major array, one label per item.
 *
 * <p>The constructor checks that the arrays agree and that every label lies in
 * {@code 0 .. classes-1}. {@code values} and {@code labels} are held, not copied (a training set
 * is tens of megabytes): treat them as read-only.
 *
 * @param name what the set is, for messages and logs (e.g. {@code "fashion-mnist/train"})
 * @param itemShape the shape of one item, every dimension at least 1
 * @param values {@code count() * itemSize()} values, item-major, then row-major within an item
 * @param labels the class of each item, in {@code 0 .. classes-1}
 * @param classes the number of classes (at least 1)
 */
public record LabeledSet(String name, long[] itemShape, float[] values, int[] labels, int classes) {

    public LabeledSet {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(values, "values");
        Objects.requireNonNull(labels, "labels");
        itemShape = Objects.requireNonNull(itemShape, "itemShape").clone();
        if (itemShape.length == 0) throw new IllegalArgumentException(name + ": itemShape is empty");
        long itemSize = 1;
        for (long d : itemShape) {
            if (d < 1) throw new IllegalArgumentException(name + ": itemShape " + Arrays.toString(itemShape) + " has a dimension < 1");
            itemSize = Math.multiplyExact(itemSize, d);
        }
        if (classes < 1) throw new IllegalArgumentException(name + ": classes = " + classes + ", expected at least 1");
        if ((long) labels.length * itemSize != values.length) {
            throw new IllegalArgumentException(name + ": " + values.length + " values for " + labels.length + " items of shape "
                    + Arrays.toString(itemShape) + " (expected " + (long) labels.length * itemSize + ")");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException(name + ": label " + labels[i] + " of item " + i + " is not in 0.." + (classes - 1));
            }
        }
    }

    /** The number of items. */
    public int count() {
        return labels.length;
    }

    /** Values per item: the product of {@link #itemShape()}. */
    public int itemSize() {
        return Math.toIntExact(Arrays.stream(itemShape).reduce(1, Math::multiplyExact));
    }

    /** The shape of one item (a copy). */
    @Override
    public long[] itemShape() {
        return itemShape.clone();
    }

    /** Items per class: element {@code c} counts the items labelled {@code c}. */
    public int[] classCounts() {
        int[] counts = new int[classes];
        for (int label : labels) counts[label]++;
        return counts;
    }

    @Override
    public String toString() {
        return name + ": " + count() + " items of shape " + Arrays.toString(itemShape) + ", " + classes + " classes";
    }
}
