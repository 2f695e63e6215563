package dev.bandlimit.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The bandlimit command-line tool. A bad option prints one line naming it (and where to read
 * the options), a failure one line naming what failed; both exit non-zero, and {@code --verbose}
 * adds the stack trace.
 */
@Command(
        name = "bandlimit",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Band-limited FFT convolution for CNNs (Dziedzic et al., ICML 2019).",
        subcommands = {DemoCommand.class, TrainCommand.class, EvalCommand.class, SweepCommand.class,
            dev.bandlimit.cli.experiment.ExperimentCommand.class,
            CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    /** Exit codes: a failure while running, and a bad command line (picocli's usage code). */
    static final int EXIT_FAILURE = 1, EXIT_USAGE = 2;

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "print the stack trace of a failure")
    boolean verbose;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with the error handling of the tool (tests run it too). */
    static CommandLine commandLine() {
        Main main = new Main();
        CommandLine cl = new CommandLine(main);
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine bad = ex.getCommandLine();
            bad.getErr().println(bad.getCommandName().equals("bandlimit") ? "bandlimit: " + ex.getMessage()
                    : "bandlimit " + bad.getCommandName() + ": " + ex.getMessage() + " (see: bandlimit "
                            + bad.getCommandName() + " --help)");
            if (main.verbose) ex.printStackTrace(bad.getErr());
            return EXIT_USAGE;
        });
        cl.setExecutionExceptionHandler((ex, failed, parseResult) -> {
            String message = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
            failed.getErr().println("bandlimit " + failed.getCommandName() + ": error: " + message
                    + (main.verbose ? "" : " (--verbose prints the stack trace)"));
            if (main.verbose) ex.printStackTrace(failed.getErr());
            return EXIT_FAILURE;
        });
        return cl;
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"bandlimit native " + dev.bandlimit.Bandlimit.nativeVersion()};
        }
    }
}
