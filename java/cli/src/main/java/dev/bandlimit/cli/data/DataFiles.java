package dev.bandlimit.cli.data;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;

/** What the readers share about files: opening (gzip or plain), finding one of several names, failing. */
final class DataFiles {
    private static final int GZIP_MAGIC_0 = 0x1f, GZIP_MAGIC_1 = 0x8b;

    private DataFiles() {}

    /**
     * A buffered stream of the file's bytes, decompressed when the file starts with the gzip magic
     * bytes (whatever its name: a browser may have unpacked a {@code .gz} and kept the name, or not).
     */
    static InputStream open(Path file) throws IOException {
        BufferedInputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        in.mark(2);
        int b0 = in.read(), b1 = in.read();
        in.reset();
        if (b0 == GZIP_MAGIC_0 && b1 == GZIP_MAGIC_1) return new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
        return in;
    }

    /** Whether {@link #open} decompresses this file (for messages: byte offsets are then after gunzip). */
    static boolean isGzip(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return in.read() == GZIP_MAGIC_0 && in.read() == GZIP_MAGIC_1;
        } catch (IOException e) {
            return false;
        }
    }

    /** The first of {@code names} that is a regular file in {@code folder}, or {@code null}. */
    static Path firstExisting(Path folder, List<String> names) {
        for (String name : names) {
            Path file = folder.resolve(name);
            if (Files.isRegularFile(file)) return file;
        }
        return null;
    }

    /** Fails unless {@code folder} is a directory. */
    static void requireFolder(Path folder, String whatBelongsThere) {
        if (!Files.isDirectory(folder)) {
            throw new DataException(folder + ": " + (Files.exists(folder) ? "is not a folder" : "does not exist")
                    + "; pass the folder that holds " + whatBelongsThere);
        }
    }

    /** The reader's failure for an I/O error on {@code file}. */
    static DataException cannotRead(Path file, IOException e) {
        String hint = e instanceof java.util.zip.ZipException || e instanceof java.io.EOFException
                ? "the gzip stream is truncated or corrupt; download the file again"
                : "check that it exists and is readable";
        return new DataException(file + ": cannot read it (" + e + "); " + hint, e);
    }
}
