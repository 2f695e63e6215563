package dev.bandlimit.cli.mnist;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.stream.Stream;

/**
 * What the fetch and the binary cache do to files in the cache folder: SHA-256 sums, atomic
 * moves into place (so concurrent first loads are safe), best-effort clean-up, one-line logs.
 */
final class CacheFiles {
    static final HexFormat HEX = HexFormat.of();

    private CacheFiles() {}

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    /** The SHA-256 of a file's bytes, in lower-case hex. */
    static String sha256Hex(Path file) {
        MessageDigest digest = sha256();
        try (InputStream in = Files.newInputStream(file)) {
            in.transferTo(new DigestOutputStream(OutputStream.nullOutputStream(), digest));
        } catch (IOException e) {
            throw new MnistException("cannot read " + file + " (" + e + ")", e);
        }
        return HEX.formatHex(digest.digest());
    }

    static void moveAtomically(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // best effort: a leftover is rebuilt or re-checked on the next load
        }
    }

    static void deleteTreeQuietly(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(CacheFiles::deleteQuietly);
        } catch (IOException | UncheckedIOException ignored) {
            // best effort, as above
        }
    }

    /** One line on {@code log}; {@code null} is silence. */
    static void log(PrintStream log, String message) {
        if (log != null) log.println(message);
    }
}
