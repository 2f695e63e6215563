package dev.bandlimit.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The bandlimit command-line tool. */
@Command(
        name = "bandlimit",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Band-limited FFT convolution for CNNs (Dziedzic et al., ICML 2019).",
        subcommands = {DemoCommand.class, TrainCommand.class, EvalCommand.class, SweepCommand.class,
            CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
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
