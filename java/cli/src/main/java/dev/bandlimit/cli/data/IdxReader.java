package dev.bandlimit.cli.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The IDX files of MNIST and Fashion-MNIST (and of any drop-in replacement with 10 classes and
 * 8-bit images), plain or gzip-compressed.
 *
 * <h2>Format</h2>
 * Big-endian throughout. An image file starts with the magic number {@code 0x00000803} (unsigned
 * bytes, 3 dimensions), then the image count, rows and columns (4-byte ints), then
 * {@code count * rows * cols} pixel bytes, row-major. A label file starts with
 * {@code 0x00000801} (unsigned bytes, 1 dimension), then the count, then one byte per label. A
 * file that begins with the gzip magic bytes is decompressed first, whatever its name; byte
 * offsets in messages are then offsets in the decompressed bytes.
 *
 * <h2>Normalisation ({@link #load})</h2>
 * Pixels {@code b} become {@code x = b / 255f} in {@code [0, 1]}, then
 * {@code (x - mean) / std} with the mean and population standard deviation of {@code b / 255}
 * over <b>all training pixels</b> (computed exactly in float64 from a byte histogram, rounded to
 * float), applied to the training and the test set alike. This is what the built-in MNIST-10k
 * loader does ({@code MnistDataset.trainMean()/trainStd()} as applied by the training commands),
 * so a model sees the same input statistics from either source. For the full MNIST training set
 * this gives mean ≈ 0.1307, std ≈ 0.3081; for Fashion-MNIST ≈ 0.2860, 0.3530.
 */
public final class IdxReader {
    /** Magic number of an IDX file of unsigned bytes with 3 dimensions (images). */
    public static final int IMAGES_MAGIC = 0x00000803;
    /** Magic number of an IDX file of unsigned bytes with 1 dimension (labels). */
    public static final int LABELS_MAGIC = 0x00000801;
    /** Classes of MNIST and Fashion-MNIST: labels are 0 to 9. */
    public static final int CLASSES = 10;

    private static final int IMAGES_HEADER_BYTES = 16;
    private static final int LABELS_HEADER_BYTES = 8;

    private IdxReader() {}

    /**
     * The images of one IDX image file.
     *
     * @param count number of images
     * @param rows image height
     * @param cols image width
     * @param pixels {@code count * rows * cols} unsigned bytes, image-major, then row-major
     */
    public record Images(int count, int rows, int cols, byte[] pixels) {}

    /**
     * Reads an IDX image file (plain or gzip).
     *
     * @throws DataException naming the file when it cannot be read, has the wrong magic number,
     *     implausible dimensions, or fewer or more bytes than its header promises
     */
    public static Images readImages(Path file) {
        Objects.requireNonNull(file, "file");
        try (InputStream in = DataFiles.open(file)) {
            ByteBuffer header = readHeader(in, file, IMAGES_HEADER_BYTES, IMAGES_MAGIC, "images");
            int count = dimension(header, file, "image count", 4);
            int rows = dimension(header, file, "row count", 8);
            int cols = dimension(header, file, "column count", 12);
            if (count == 0 || rows == 0 || cols == 0) {
                throw new DataException(file + ": holds no pixels (" + count + " images of " + rows + "×" + cols + ")" + whatToDo(file));
            }
            long bodyBytes = (long) count * rows * cols;
            if (bodyBytes > Integer.MAX_VALUE - 16) {
                throw new DataException(file + ": " + count + " images of " + rows + "×" + cols + " is more than "
                        + "fits one Java array (2 GiB)" + whatToDo(file));
            }
            byte[] pixels = readBody(in, file, IMAGES_HEADER_BYTES, (int) bodyBytes,
                    count + " images of " + rows + "×" + cols);
            return new Images(count, rows, cols, pixels);
        } catch (IOException e) {
            throw DataFiles.cannotRead(file, e);
        }
    }

    /**
     * Reads an IDX label file (plain or gzip); every label must be a class {@code 0..9}.
     *
     * @throws DataException naming the file when it cannot be read, has the wrong magic number,
     *     fewer or more bytes than its header promises, or a label outside {@code 0..9} (with its
     *     byte offset)
     */
    public static int[] readLabels(Path file) {
        Objects.requireNonNull(file, "file");
        try (InputStream in = DataFiles.open(file)) {
            ByteBuffer header = readHeader(in, file, LABELS_HEADER_BYTES, LABELS_MAGIC, "labels");
            int count = dimension(header, file, "label count", 4);
            byte[] bytes = readBody(in, file, LABELS_HEADER_BYTES, count, count + " labels");
            int[] labels = new int[count];
            for (int i = 0; i < count; i++) {
                labels[i] = bytes[i] & 0xFF;
                if (labels[i] >= CLASSES) {
                    throw new DataException(file + ": label " + labels[i] + " of item " + i + " (at byte " + (LABELS_HEADER_BYTES + i)
                            + ") is not a class 0.." + (CLASSES - 1) + "; only 10-class sets (MNIST, Fashion-MNIST) are supported"
                            + whatToDo(file));
                }
            }
            return labels;
        } catch (IOException e) {
            throw DataFiles.cannotRead(file, e);
        }
    }

    /** As {@link #load(Path, String)}, the sets named after the folder (e.g. {@code "fashion-mnist/train"}). */
    public static TrainTest load(Path folder) {
        Objects.requireNonNull(folder, "folder");
        Path name = folder.toAbsolutePath().normalize().getFileName();
        return load(folder, name == null ? "idx" : name.toString());
    }

    /**
     * Reads the four IDX files of MNIST or Fashion-MNIST from {@code folder} and normalises them
     * (see the class comment). Each file is looked for under its standard name, then with
     * {@code .gz}, then in the dotted spelling of some mirrors: {@code train-images-idx3-ubyte},
     * {@code train-images-idx3-ubyte.gz}, {@code train-images.idx3-ubyte},
     * {@code train-images.idx3-ubyte.gz}; likewise {@code train-labels-idx1-ubyte},
     * {@code t10k-images-idx3-ubyte}, {@code t10k-labels-idx1-ubyte}.
     *
     * @param name the sets are called {@code name + "/train"} and {@code name + "/test"}
     * @return item shape {@code {1, rows, cols}}, 10 classes
     * @throws DataException when a file is missing (listing every name looked for), unreadable or
     *     malformed, when a label file's count differs from its image file's, when the training
     *     and test images differ in size, or when all training pixels are equal
     */
    public static TrainTest load(Path folder, String name) {
        Objects.requireNonNull(folder, "folder");
        Objects.requireNonNull(name, "name");
        DataFiles.requireFolder(folder, "the IDX files of MNIST or Fashion-MNIST");
        String[] stems = {"train-images", "idx3", "train-labels", "idx1", "t10k-images", "idx3", "t10k-labels", "idx1"};
        Path[] files = new Path[4];
        List<String> missing = new ArrayList<>();
        for (int f = 0; f < 4; f++) {
            List<String> names = candidates(stems[2 * f], stems[2 * f + 1]);
            files[f] = DataFiles.firstExisting(folder, names);
            if (files[f] == null) missing.add(String.join(" / ", names));
        }
        if (!missing.isEmpty()) {
            throw new DataException(folder + ": missing " + missing.size() + " of the 4 IDX files; looked for " + String.join("; ", missing)
                    + ". Put train-images, train-labels, t10k-images and t10k-labels of MNIST or Fashion-MNIST"
                    + " (plain or .gz, as downloaded) in this folder");
        }
        Images trainImages = readImages(files[0]);
        int[] trainLabels = readLabels(files[1]);
        Images testImages = readImages(files[2]);
        int[] testLabels = readLabels(files[3]);
        checkPair(files[0], trainImages, files[1], trainLabels);
        checkPair(files[2], testImages, files[3], testLabels);
        if (trainImages.rows() != testImages.rows() || trainImages.cols() != testImages.cols()) {
            throw new DataException(files[2] + ": images of " + testImages.rows() + "×" + testImages.cols() + ", but the training images in "
                    + files[0] + " are " + trainImages.rows() + "×" + trainImages.cols() + "; the two files come from different data sets");
        }
        float[] meanAndStd = Pixels.meanAndStd(trainImages.pixels());
        if (!(meanAndStd[1] > 0)) {
            throw new DataException(files[0] + ": every training pixel has the same value, so the pixels cannot be normalised"
                    + whatToDo(files[0]));
        }
        float[] mean = {meanAndStd[0]}, std = {meanAndStd[1]};
        long[] shape = {1, trainImages.rows(), trainImages.cols()};
        int plane = trainImages.rows() * trainImages.cols();
        return new TrainTest(
                new LabeledSet(name + "/train", shape, Pixels.standardize(trainImages.pixels(), plane, mean, std), trainLabels, CLASSES),
                new LabeledSet(name + "/test", shape, Pixels.standardize(testImages.pixels(), plane, mean, std), testLabels, CLASSES));
    }

    private static List<String> candidates(String stem, String kind) {
        String standard = stem + "-" + kind + "-ubyte", dotted = stem + "." + kind + "-ubyte";
        return List.of(standard, standard + ".gz", dotted, dotted + ".gz");
    }

    private static void checkPair(Path imagesFile, Images images, Path labelsFile, int[] labels) {
        if (images.count() != labels.length) {
            throw new DataException(labelsFile + ": " + labels.length + " labels, but " + imagesFile + " holds " + images.count()
                    + " images; the two files do not belong together (download both again from the same source)");
        }
    }

    /** Reads and checks the header; {@code kind} ("images" or "labels") is what the file should hold. */
    private static ByteBuffer readHeader(InputStream in, Path file, int headerBytes, int magic, String kind) throws IOException {
        byte[] header = in.readNBytes(headerBytes);
        if (header.length < 4) {
            throw new DataException(file + ": truncated: " + header.length + " bytes" + afterGunzip(file)
                    + ", too short for an IDX magic number (4 bytes)" + whatToDo(file));
        }
        ByteBuffer b = ByteBuffer.wrap(header); // big-endian by default, as IDX is
        int actual = b.getInt(0);
        if (actual != magic) {
            String otherKind = actual == LABELS_MAGIC ? " (an IDX label file)" : actual == IMAGES_MAGIC ? " (an IDX image file)" : "";
            throw new DataException(file + ": wrong magic number " + hex(actual) + otherKind + " at byte 0, expected " + hex(magic)
                    + " (IDX " + kind + ": unsigned bytes, " + (magic & 0xFF) + (magic == IMAGES_MAGIC ? " dimensions" : " dimension")
                    + "); pass the " + kind + " file of MNIST or Fashion-MNIST");
        }
        if (header.length < headerBytes) {
            throw new DataException(file + ": truncated: " + header.length + " bytes" + afterGunzip(file) + ", shorter than the "
                    + headerBytes + "-byte header of an IDX " + kind + " file" + whatToDo(file));
        }
        return b;
    }

    /** A dimension of the header at {@code offset}: IDX stores them unsigned, so a negative int is too large. */
    private static int dimension(ByteBuffer header, Path file, String what, int offset) {
        int d = header.getInt(offset);
        if (d < 0) {
            throw new DataException(file + ": implausible " + what + " " + Integer.toUnsignedString(d) + " (at byte " + offset + ")"
                    + whatToDo(file));
        }
        return d;
    }

    /** Exactly {@code bodyBytes} bytes after the header, and nothing after them. */
    private static byte[] readBody(InputStream in, Path file, int headerBytes, int bodyBytes, String contents) throws IOException {
        byte[] body = in.readNBytes(bodyBytes);
        long trailing = body.length < bodyBytes ? 0 : in.transferTo(OutputStream.nullOutputStream());
        if (body.length < bodyBytes || trailing > 0) {
            long expected = (long) headerBytes + bodyBytes, actual = (long) headerBytes + body.length + trailing;
            throw new DataException(file + ": " + (trailing > 0 ? "longer than its header says" : "truncated") + ": the header promises "
                    + contents + ", " + expected + " bytes in all, but the file has " + actual + " bytes" + afterGunzip(file)
                    + whatToDo(file));
        }
        return body;
    }

    private static String afterGunzip(Path file) {
        return DataFiles.isGzip(file) ? " (after gunzip)" : "";
    }

    private static String whatToDo(Path file) {
        return "; is " + file.getFileName() + " an MNIST-style IDX file? Download it again";
    }

    private static String hex(int value) {
        return String.format(Locale.ROOT, "0x%08X", value);
    }
}
