package dev.bandlimit.spark;

import dev.bandlimit.Compression;
import dev.bandlimit.nn.models.MnistCnn;
import dev.bandlimit.nn.models.Model;
import dev.bandlimit.nn.models.ResNet18;
import dev.bandlimit.nn.models.TimeSeriesFcn;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * What an executor needs to build a model: the architecture's name (checkpoints carry it), the
 * shape of one item ({@code {1, 28, 28}} for MNIST, {@code {C, L}} for a series), the number of
 * classes, and a serializable factory. The weights travel separately ({@link ModelState}), so a
 * spec is a few hundred bytes in every task's closure.
 *
 * <p>A model of your own: {@code ModelSpec.of("my-cnn", new long[] {3, 32, 32}, 10, MyCnn::new)}
 * with {@code MyCnn(Compression train, Compression eval, long seed)} on the executors' class path
 * (your application jar).
 */
public record ModelSpec(String name, long[] itemShape, int classes, Factory factory) implements Serializable {

    /** Builds the model; serializable so that Spark ships it to the executors. */
    @FunctionalInterface
    public interface Factory extends Serializable {
        Model create(Compression train, Compression eval, long seed);
    }

    public ModelSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(factory, "factory");
        if (name.isBlank()) throw new IllegalArgumentException("name must not be blank");
        if (itemShape.length == 0) throw new IllegalArgumentException("itemShape must not be empty");
        for (long d : itemShape) {
            if (d < 1) throw new IllegalArgumentException("itemShape must be positive, got " + Arrays.toString(itemShape));
        }
        if (classes < 2) throw new IllegalArgumentException("classes must be >= 2, got " + classes);
        itemShape = itemShape.clone();
        if (itemSizeOf(itemShape) > Integer.MAX_VALUE / 4) {
            throw new IllegalArgumentException("an item of " + Arrays.toString(itemShape) + " is too large");
        }
    }

    public static ModelSpec of(String name, long[] itemShape, int classes, Factory factory) {
        return new ModelSpec(name, itemShape, classes, factory);
    }

    /** The MNIST CNN ({@link MnistCnn}) on {@code 1 x 28 x 28} images, 10 classes. */
    public static ModelSpec mnistCnn() {
        return new ModelSpec(MnistCnn.NAME, MnistCnn.ITEM_SHAPE, 10, MnistCnn::new);
    }

    /** The paper's ResNet-18 on {@code 3 x 32 x 32} images; {@code width} filters in its first stage (64 in the paper). */
    public static ModelSpec resnet18(long width, int classes) {
        return new ModelSpec(width == 64 ? "resnet18" : "resnet18-w" + width, new long[] {3, 32, 32}, classes,
                (train, eval, seed) -> ResNet18.builder().inChannels(3).classes(classes).width(width)
                        .compression(train).evalCompression(eval).seed(seed).build());
    }

    /** The FCN of Wang et al. on series of {@code channels x length}. */
    public static ModelSpec fcn(long channels, long length, int classes) {
        return new ModelSpec("fcn", new long[] {channels, length}, classes,
                (train, eval, seed) -> TimeSeriesFcn.builder(channels, classes).compression(train)
                        .evalCompression(eval).seed(seed).build());
    }

    @Override
    public long[] itemShape() {
        return itemShape.clone();
    }

    /** Floats in one item. */
    public int itemSize() {
        return (int) itemSizeOf(itemShape);
    }

    /** The shape of a batch of {@code n} items: {@code [n, itemShape...]}. */
    long[] batchShape(long n) {
        long[] shape = new long[itemShape.length + 1];
        shape[0] = n;
        System.arraycopy(itemShape, 0, shape, 1, itemShape.length);
        return shape;
    }

    /** A fresh model with the given compressions and seed. */
    public Model create(Compression train, Compression eval, long seed) {
        return Objects.requireNonNull(factory.create(train, eval, seed), "the factory of " + name + " returned null");
    }

    private static long itemSizeOf(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelSpec s && s.name.equals(name) && Arrays.equals(s.itemShape, itemShape)
                && s.classes == classes && s.factory == factory;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, Arrays.hashCode(itemShape), classes);
    }

    @Override
    public String toString() {
        return name + " " + Arrays.toString(itemShape) + " -> " + classes + " classes";
    }
}
