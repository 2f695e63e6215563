package dev.bandlimit.cli.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The binary version of CIFAR-10 ({@code cifar-10-binary.tar.gz} from
 * https://www.cs.toronto.edu/~kriz/cifar.html, extracted).
 *
 * <h2>Format</h2>
 * Six files, {@code data_batch_1.bin} … {@code data_batch_5.bin} (training) and
 * {@code test_batch.bin} (test), each a sequence of 3,073-byte records (10,000 per file): one
 * label byte ({@code 0..9}, see {@link #CLASS_NAMES}), then 3,072 pixel bytes, the 32×32 red
 * plane, then green, then blue, each row-major. That is already the {@code {3, 32, 32}}
 * channel-major layout of a {@link LabeledSet} item, so no pixel moves.
 *
 * <h2>Normalisation</h2>
 * Per channel {@code c}: {@code (b / 255f - MEAN[c]) / STD[c]} in float arithmetic, with the
 * usual CIFAR-10 training-set statistics {@code MEAN = (0.4914, 0.4822, 0.4465)},
 * {@code STD = (0.2470, 0.2435, 0.2616)} (fixed constants, not recomputed: a reduced set made
 * with a {@code limit} is normalised like the full one).
 */
public final class Cifar10Reader {
    public static final int CHANNELS = 3;
    public static final int ROWS = 32;
    public static final int COLS = 32;
    /** Pixel bytes per image. */
    public static final int PIXELS = CHANNELS * ROWS * COLS;
    /** Bytes per record: the label byte and the pixels. */
    public static final int RECORD_BYTES = 1 + PIXELS;
    public static final int CLASSES = 10;
    /** Class {@code c}'s name. */
    public static final List<String> CLASS_NAMES =
            List.of("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck");
    /** The training files, read in this order. */
    public static final List<String> TRAIN_FILES =
            List.of("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin");
    public static final String TEST_FILE = "test_batch.bin";
    /** The folder the tarball extracts to; {@link #load} also looks inside it. */
    public static final String SUBFOLDER = "cifar-10-batches-bin";

    private static final float[] MEAN = {0.4914f, 0.4822f, 0.4465f};
    private static final float[] STD = {0.2470f, 0.2435f, 0.2616f};
    private static final String TARBALL = "cifar-10-binary.tar.gz";

    private Cifar10Reader() {}

    /** The per-channel means used for normalising (R, G, B; a copy). */
    public static float[] mean() {
        return MEAN.clone();
    }

    /** The per-channel standard deviations used for normalising (R, G, B; a copy). */
    public static float[] std() {
        return STD.clone();
    }

    /**
     * The records of one batch file, raw.
     *
     * @param pixels {@code count() * PIXELS} bytes, each image as its R, G and B planes
     * @param labels one label {@code 0..9} per image
     */
    public record Batch(byte[] pixels, int[] labels) {
        public int count() {
            return labels.length;
        }
    }

    /**
     * Reads the first {@code limit} records of a batch file (all when it holds fewer).
     *
     * @throws DataException naming the file when it cannot be read, is empty, is not a whole
     *     number of records, or holds a label above 9 (with its record and byte offset)
     * @throws IllegalArgumentException if {@code limit < 0}
     */
    public static Batch readBatch(Path file, int limit) {
        Objects.requireNonNull(file, "file");
        if (limit < 0) throw new IllegalArgumentException("limit = " + limit + ", expected at least 0");
        long size;
        try {
            size = Files.size(file);
        } catch (IOException e) {
            throw DataFiles.cannotRead(file, e);
        }
        if (size == 0) throw new DataException(file + ": is empty" + whatToDo());
        if (size % RECORD_BYTES != 0) {
            throw new DataException(file + ": " + size + " bytes is not a whole number of " + RECORD_BYTES
                    + "-byte records (1 label byte + 3,072 pixel bytes): " + size / RECORD_BYTES + " records and " + size % RECORD_BYTES
                    + " bytes more. Is it the CIFAR-10 binary version (CIFAR-100's records have 2 label bytes, the python version is"
                    + " pickled)? Otherwise it is truncated" + whatToDo());
        }
        long records64 = Math.min(limit, size / RECORD_BYTES);
        if (records64 * RECORD_BYTES > Integer.MAX_VALUE - 16) {
            throw new DataException(file + ": " + records64 + " records are more than one read can hold (2 GiB); pass a smaller limit");
        }
        int count = (int) records64;
        byte[] records;
        try (InputStream in = Files.newInputStream(file)) {
            records = in.readNBytes(count * RECORD_BYTES);
        } catch (IOException e) {
            throw DataFiles.cannotRead(file, e);
        }
        if (records.length != count * RECORD_BYTES) {
            throw new DataException(file + ": shrank while being read (expected " + count * RECORD_BYTES + " bytes, got " + records.length + ")");
        }
        byte[] pixels = new byte[count * PIXELS];
        int[] labels = new int[count];
        for (int r = 0; r < count; r++) {
            int offset = r * RECORD_BYTES;
            labels[r] = records[offset] & 0xFF;
            if (labels[r] >= CLASSES) {
                throw new DataException(file + ": label " + labels[r] + " in record " + r + " (at byte " + offset + ") is not a class 0.."
                        + (CLASSES - 1) + "; is it the CIFAR-10 binary version?" + whatToDo());
            }
            System.arraycopy(records, offset + 1, pixels, r * PIXELS, PIXELS);
        }
        return new Batch(pixels, labels);
    }

    /** As {@link #load(Path, int)} with no limit: 50,000 training and 10,000 test images. */
    public static TrainTest load(Path folder) {
        return load(folder, Integer.MAX_VALUE);
    }

    /**
     * Reads and normalises CIFAR-10 from {@code folder} or, when the batch files are not there,
     * from its subfolder {@code cifar-10-batches-bin}. All six files must be present.
     *
     * @param limit at most this many training images (the first ones, batch files in order) and
     *     at most this many test images; {@link Integer#MAX_VALUE} for all
     * @return sets {@code "cifar-10/train"} and {@code "cifar-10/test"}, item shape
     *     {@code {3, 32, 32}}, 10 classes
     * @throws DataException when a file is missing (naming each missing one), unreadable or
     *     malformed
     * @throws IllegalArgumentException if {@code limit < 1}
     */
    public static TrainTest load(Path folder, int limit) {
        Objects.requireNonNull(folder, "folder");
        if (limit < 1) throw new IllegalArgumentException("limit = " + limit + ", expected at least 1");
        DataFiles.requireFolder(folder, "the CIFAR-10 binary batches (data_batch_1.bin … test_batch.bin)");
        Path dir = folder;
        if (!Files.exists(folder.resolve(TRAIN_FILES.get(0))) && Files.isDirectory(folder.resolve(SUBFOLDER))) dir = folder.resolve(SUBFOLDER);
        List<String> missing = new ArrayList<>();
        for (String name : allFiles()) {
            if (!Files.isRegularFile(dir.resolve(name))) missing.add(name);
        }
        if (!missing.isEmpty()) {
            String where = dir.equals(folder) ? folder + " (nor in its subfolder " + SUBFOLDER + ")" : dir.toString();
            String extract = Files.isRegularFile(folder.resolve(TARBALL))
                    ? "extract it: tar xzf " + folder.resolve(TARBALL) + " -C " + folder
                    : "download " + TARBALL + " from https://www.cs.toronto.edu/~kriz/cifar.html and extract it into " + folder;
            throw new DataException(folder + ": missing " + String.join(", ", missing) + " in " + where + "; " + extract);
        }
        List<Batch> train = new ArrayList<>();
        int left = limit;
        for (String name : TRAIN_FILES) {
            if (left == 0) break;
            Batch batch = readBatch(dir.resolve(name), left);
            train.add(batch);
            left -= batch.count();
        }
        Batch test = readBatch(dir.resolve(TEST_FILE), limit);
        return new TrainTest(normalized("cifar-10/train", concat(train)), normalized("cifar-10/test", test));
    }

    private static List<String> allFiles() {
        List<String> all = new ArrayList<>(TRAIN_FILES);
        all.add(TEST_FILE);
        return all;
    }

    private static Batch concat(List<Batch> batches) {
        if (batches.size() == 1) return batches.get(0);
        int count = batches.stream().mapToInt(Batch::count).sum();
        byte[] pixels = new byte[count * PIXELS];
        int[] labels = new int[count];
        int filled = 0;
        for (Batch b : batches) {
            System.arraycopy(b.pixels(), 0, pixels, filled * PIXELS, b.pixels().length);
            System.arraycopy(b.labels(), 0, labels, filled, b.count());
            filled += b.count();
        }
        return new Batch(pixels, labels);
    }

    private static LabeledSet normalized(String name, Batch batch) {
        float[] values = Pixels.standardize(batch.pixels(), ROWS * COLS, MEAN, STD);
        return new LabeledSet(name, new long[] {CHANNELS, ROWS, COLS}, values, batch.labels(), CLASSES);
    }

    private static String whatToDo() {
        return "; extract " + TARBALL + " again";
    }
}
