package dev.bandlimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The built jar alone is enough: copied to an empty folder, with an empty java.library.path and
 * a fresh cache folder (so the bundled native library must be extracted), its
 * {@code dev.bandlimit.SelfCheck} runs its bundled golden case (forward and backward) and passes.
 */
class JarAloneIT {
    private Path dir, jar, emptyLibraryPath;

    @BeforeEach
    void copyJar() throws IOException {
        String built = System.getProperty("bandlimit.test.jar");
        assertNotNull(built, "system property bandlimit.test.jar (set by Failsafe)");
        assertTrue(Files.isRegularFile(Path.of(built)), "the built jar exists: " + built);
        dir = Files.createTempDirectory("bandlimit-jar-alone-");
        jar = dir.resolve("bandlimit.jar");
        Files.copy(Path.of(built), jar);
        emptyLibraryPath = Files.createDirectory(dir.resolve("empty-library-path"));
    }

    @AfterEach
    void deleteFolder() throws IOException {
        if (dir == null) return;
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    private record Run(int exitCode, String output) {}

    private Run run(Path cacheHome, String... javaArgs) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>();
        command.add(java.toString());
        command.add("-Djava.library.path=" + emptyLibraryPath);
        command.addAll(List.of(javaArgs));
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("XDG_CACHE_HOME", cacheHome.toString());
        pb.environment().remove("LD_LIBRARY_PATH");
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().remove("JDK_JAVA_OPTIONS");
        pb.environment().remove("_JAVA_OPTIONS");
        Process p = pb.start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "SelfCheck did not finish");
        String text = new String(out, StandardCharsets.UTF_8);
        System.out.println("JarAloneIT: " + String.join(" ", command) + "\n" + text.strip());
        return new Run(p.exitValue(), text);
    }

    private static void assertSelfCheckOk(Run r, Path cacheHome) {
        assertEquals(0, r.exitCode(), "SelfCheck exit code; output:\n" + r.output());
        assertTrue(r.output().contains("bandlimit self-check OK"), r.output());
        assertFalse(r.output().contains("FAILED"), r.output());
        // The library came out of the jar into the fresh cache, not from any path.
        assertTrue(r.output().contains(cacheHome.toString()), "loaded from the cache folder: " + r.output());
    }

    private static Path extractedLibrary(Path cacheHome) throws IOException {
        try (Stream<Path> walk = Files.walk(cacheHome)) {
            List<Path> libs = walk.filter(p -> p.getFileName().toString().equals("libbandlimit.so")).toList();
            assertEquals(1, libs.size(), "one extracted library under " + cacheHome + ": " + libs);
            return libs.get(0);
        }
    }

    @Test
    void jarCarriesTheNativeLibraryAndSelfCheck() throws IOException {
        try (JarFile jf = new JarFile(jar.toFile())) {
            assertNotNull(jf.getEntry("native/linux-x86_64/libbandlimit.so"), "the native library is in the jar");
            assertNotNull(jf.getEntry("dev/bandlimit/SelfCheck.class"), "SelfCheck is in the jar");
            assertNotNull(jf.getEntry("module-info.class"), "the jar is a module");
        }
    }

    @Test
    void selfCheckOnTheClassPath() throws Exception {
        Path cacheHome = Files.createDirectory(dir.resolve("cache"));
        Run first = run(cacheHome, "--enable-native-access=ALL-UNNAMED", "-cp", jar.toString(), "dev.bandlimit.SelfCheck");
        assertSelfCheckOk(first, cacheHome);
        Path lib = extractedLibrary(cacheHome);
        assertTrue(lib.startsWith(cacheHome.resolve("bandlimit")), lib.toString());
        // A second run reuses the extracted file.
        long modified = Files.getLastModifiedTime(lib).toMillis();
        Run second = run(cacheHome, "--enable-native-access=ALL-UNNAMED", "-cp", jar.toString(), "dev.bandlimit.SelfCheck");
        assertSelfCheckOk(second, cacheHome);
        assertEquals(lib, extractedLibrary(cacheHome));
        assertEquals(modified, Files.getLastModifiedTime(lib).toMillis(), "the cached library was not rewritten");
        // Nothing but the jar, the empty library path and the cache appeared in the folder.
        try (Stream<Path> list = Files.list(dir)) {
            assertEquals(List.of("bandlimit.jar", "cache", "empty-library-path"),
                    list.map(p -> p.getFileName().toString()).sorted().toList());
        }
        try (Stream<Path> list = Files.list(emptyLibraryPath)) {
            assertEquals(0, list.count(), "java.library.path stayed empty");
        }
    }

    @Test
    void selfCheckOnTheModulePath() throws Exception {
        Path cacheHome = Files.createDirectory(dir.resolve("cache"));
        Run r = run(cacheHome, "--enable-native-access=dev.bandlimit", "-p", jar.toString(), "-m",
                "dev.bandlimit/dev.bandlimit.SelfCheck");
        assertSelfCheckOk(r, cacheHome);
        extractedLibrary(cacheHome);
    }
}
