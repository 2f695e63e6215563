package dev.bandlimit.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Loads the native library once, before any generated binding is used.
 *
 * <p>Order: the system property {@value #PATH_PROPERTY} naming a file; then the jar resource
 * {@code native/<os>-<arch>/libbandlimit.so}, extracted once to a per-user cache folder whose
 * name holds the content hash (so jars of different versions never share a file and a
 * half-written file is never loaded); then {@code System.loadLibrary("bandlimit")} on
 * {@code java.library.path}.
 *
 * <p>The CUDA backend, {@code libbandlimit_cuda.so}, is extracted beside the library when the
 * jar carries it: the native core loads it from there only when a CUDA context is asked for.
 * It needs cuFFT 12 ({@code libcufft.so.12}) on the library path, or the system property
 * {@value #CUFFT_PROPERTY} naming the folder that holds it (the {@code lib} folder of NVIDIA's
 * {@code nvidia-cufft} pip wheel, say), which is loaded first when set.
 */
public final class NativeLibrary {
    /** System property naming the native library file to load instead of the bundled one. */
    public static final String PATH_PROPERTY = "bandlimit.library.path";

    /** System property naming the folder (or the file) of cuFFT's libcufft.so.12 for the CUDA backend. */
    public static final String CUFFT_PROPERTY = "bandlimit.cufft.path";

    private static final String LIBRARY_FILE = "libbandlimit.so";
    private static final String CUDA_FILE = "libbandlimit_cuda.so";
    private static final String CUFFT_FILE = "libcufft.so.12";
    private static volatile String loadedFrom;

    private NativeLibrary() {}

    /** Loads the library if it is not loaded yet; throws {@link UnsatisfiedLinkError} with a clear message otherwise. */
    public static void load() {
        if (loadedFrom != null) return;
        synchronized (NativeLibrary.class) {
            if (loadedFrom != null) return;
            loadedFrom = doLoad();
        }
    }

    /** Where the library was loaded from (a path, or "java.library.path"); null before loading. */
    public static String loadedFrom() {
        return loadedFrom;
    }

    /** The platform folder name of this machine ("linux-x86_64"), or null where no library is built. */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (os.startsWith("linux") && (arch.equals("amd64") || arch.equals("x86_64"))) return "linux-x86_64";
        return null;
    }

    private static String doLoad() {
        preloadCufft();
        String explicit = System.getProperty(PATH_PROPERTY);
        if (explicit != null && !explicit.isBlank()) {
            Path file = Path.of(explicit).toAbsolutePath();
            if (!Files.isRegularFile(file)) {
                throw new UnsatisfiedLinkError(
                        "-D" + PATH_PROPERTY + "=" + explicit + " does not name a file");
            }
            System.load(file.toString());
            return file.toString();
        }
        String platform = platform();
        if (platform != null) {
            String resource = "/native/" + platform + "/" + LIBRARY_FILE;
            try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
                if (in != null) {
                    byte[] library = in.readAllBytes();
                    byte[] cuda = null;
                    try (InputStream c = NativeLibrary.class.getResourceAsStream("/native/" + platform + "/" + CUDA_FILE)) {
                        if (c != null) cuda = c.readAllBytes();
                    }
                    Path file = extract(library, cuda);
                    System.load(file.toString());
                    return file.toString();
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot extract the bandlimit native library " + resource, e);
            }
        }
        try {
            System.loadLibrary("bandlimit");
            return "java.library.path";
        } catch (UnsatisfiedLinkError e) {
            String where = System.getProperty("os.name") + "/" + System.getProperty("os.arch");
            UnsatisfiedLinkError error = new UnsatisfiedLinkError(
                    "bandlimit has no native library for " + where
                            + (platform == null ? " (this jar carries linux-x86_64 only)" : " in this jar")
                            + "; build it with CMake and pass -D" + PATH_PROPERTY
                            + "=/path/to/libbandlimit.so, or put it on java.library.path");
            error.initCause(e);
            throw error;
        }
    }

    /**
     * Writes the library (and the CUDA backend beside it, when the jar carries one) into the
     * cache once (atomically) and returns the library's path. The folder is named by the hash of
     * both, so a jar with another CUDA backend never reuses this one.
     */
    private static Path extract(byte[] library, byte[] cuda) throws IOException {
        byte[] key = library;
        if (cuda != null) {
            key = new byte[library.length + cuda.length];
            System.arraycopy(library, 0, key, 0, library.length);
            System.arraycopy(cuda, 0, key, library.length, cuda.length);
        }
        Path dir = cacheRoot().resolve(sha256(key).substring(0, 16));
        Files.createDirectories(dir);
        if (cuda != null) writeOnce(dir, CUDA_FILE, cuda);
        return writeOnce(dir, LIBRARY_FILE, library);
    }

    private static Path writeOnce(Path dir, String name, byte[] bytes) throws IOException {
        Path file = dir.resolve(name);
        if (Files.isRegularFile(file) && Files.size(file) == bytes.length) return file;
        Path tmp = Files.createTempFile(dir, name, ".tmp");
        try {
            Files.write(tmp, bytes);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        return file;
    }

    /**
     * Loads cuFFT from {@value #CUFFT_PROPERTY} when set, so that the CUDA backend's dependency
     * on libcufft.so.12 resolves to it (the dynamic loader reuses a loaded library of that name).
     */
    private static void preloadCufft() {
        String where = System.getProperty(CUFFT_PROPERTY);
        if (where == null || where.isBlank()) return;
        Path path = Path.of(where).toAbsolutePath();
        if (Files.isDirectory(path)) path = path.resolve(CUFFT_FILE);
        if (!Files.isRegularFile(path)) {
            throw new UnsatisfiedLinkError("-D" + CUFFT_PROPERTY + "=" + where + " names no " + CUFFT_FILE);
        }
        System.load(path.toString());
    }

    private static Path cacheRoot() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        Path root = base.resolve("bandlimit");
        try {
            Files.createDirectories(root);
            if (Files.isWritable(root)) return root;
        } catch (IOException | SecurityException ignored) {
            // fall through to the temporary folder
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "bandlimit-" + System.getProperty("user.name"));
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }
}
