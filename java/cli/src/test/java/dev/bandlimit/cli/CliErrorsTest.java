package dev.bandlimit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The tool as a new user meets it: a bad option or file gives one line naming it and a non-zero
 * exit code, never a stack trace (unless --verbose), and each command lists only what it reads.
 */
class CliErrorsTest {

    private record Outcome(int exit, String out, String err) {}

    private static Outcome run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Outcome(exit, out.toString(), err.toString());
    }

    /** One line on stderr, naming {@code what}, exit code {@code exit}. */
    private static void oneLine(Outcome o, int exit, String what) {
        assertEquals(exit, o.exit(), () -> "exit code; stderr: " + o.err());
        String[] lines = o.err().strip().split("\\R");
        assertEquals(1, lines.length, () -> "one line expected, got:\n" + o.err());
        assertTrue(lines[0].contains(what), () -> "'" + what + "' not named in: " + lines[0]);
        assertFalse(o.err().contains("\tat "), "no stack trace");
    }

    @Test
    void outOfRangeNumbersNameTheOption() {
        oneLine(run("train", "--batch", "0"), Main.EXIT_USAGE, "--batch must be >= 1, got 0");
        oneLine(run("train", "--rho", "1.5"), Main.EXIT_USAGE, "--rho must be in [0, 1)");
        oneLine(run("train", "--energy", "0"), Main.EXIT_USAGE, "--energy must be in (0, 1]");
        oneLine(run("train", "--epochs", "-1"), Main.EXIT_USAGE, "--epochs");
        oneLine(run("train", "--lr", "NaN"), Main.EXIT_USAGE, "--lr");
        oneLine(run("train", "--momentum", "1"), Main.EXIT_USAGE, "--momentum");
        oneLine(run("train", "--optimizer", "adamw"), Main.EXIT_USAGE, "--optimizer must be one of adam, sgd");
        oneLine(run("train", "--eval-rho", "-0.1"), Main.EXIT_USAGE, "--eval-rho");
        oneLine(run("demo", "--rates", "0,1.2"), Main.EXIT_USAGE, "--rates");
        oneLine(run("eval", "--batch", "0"), Main.EXIT_USAGE, "--batch");
        oneLine(run("sweep", "--kernel", "4"), Main.EXIT_USAGE, "--kernel must be odd");
        oneLine(run("experiment", "accuracy", "--rates", "0,1.5"), Main.EXIT_USAGE, "--rates must be in [0, 1)");
        oneLine(run("experiment", "energy", "--energies", "0"), Main.EXIT_USAGE, "--energies");
        oneLine(run("experiment", "noise", "--sigmas", "-1"), Main.EXIT_USAGE, "--sigmas");
        oneLine(run("experiment", "cost", "--steps", "0"), Main.EXIT_USAGE, "--steps");
        oneLine(run("experiment", "mismatch", "--dataset", "imagenet"), Main.EXIT_USAGE, "--dataset must be one of");
        oneLine(run("experiment", "accuracy", "--dataset", "cifar10"), Main.EXIT_USAGE, "needs --data FOLDER");
        oneLine(run("experiment", "timeseries", "--ucr", "Coffee"), Main.EXIT_USAGE, "--ucr needs --data");
    }

    @Test
    void unknownOptionsAndBadValuesAreOneLine() {
        oneLine(run("train", "--bogus"), Main.EXIT_USAGE, "--bogus");
        oneLine(run("train", "--batch", "many"), Main.EXIT_USAGE, "many");
        oneLine(run("eval", "--epochs", "3"), Main.EXIT_USAGE, "--epochs");  // training-only
    }

    @Test
    void aMissingCheckpointNamesTheFile(@TempDir Path dir) {
        Path missing = dir.resolve("missing.safetensors");
        Outcome o = run("eval", "--checkpoint", missing.toString());
        oneLine(o, Main.EXIT_FAILURE, "missing.safetensors");
        assertTrue(o.err().contains("--verbose"), "says how to get the trace");
        Outcome verbose = run("eval", "--verbose", "--checkpoint", missing.toString());
        assertEquals(Main.EXIT_FAILURE, verbose.exit());
        assertTrue(verbose.err().contains("\tat "), "--verbose prints the trace");
    }

    @Test
    void evalListsOnlyTheOptionsItReads() {
        Outcome o = run("eval", "--help");
        assertEquals(0, o.exit());
        for (String reads : new String[] {"--checkpoint", "--rho", "--energy", "--batch", "--data"}) {
            assertTrue(o.out().contains(reads), () -> reads + " missing from eval --help:\n" + o.out());
        }
        for (String trainingOnly : new String[] {"--epochs", "--lr", "--optimizer", "--momentum", "--schedule",
            "--train-limit", "--profile"}) {
            assertFalse(o.out().contains(trainingOnly), () -> trainingOnly + " listed by eval --help:\n" + o.out());
        }
    }
}
