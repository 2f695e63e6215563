package dev.bandlimit.cli.train;

import java.util.List;
import picocli.CommandLine;

/** Range checks of numeric and named options: a ParameterException naming the option, the range and the value. */
public final class Checks {
    private Checks() {}

    public static void atLeast(CommandLine cl, String option, long value, long min) {
        if (value < min) throw new CommandLine.ParameterException(cl, option + " must be >= " + min + ", got " + value);
    }

    public static void positive(CommandLine cl, String option, double value) {
        if (!(value > 0 && Double.isFinite(value))) {
            throw new CommandLine.ParameterException(cl, option + " must be > 0 and finite, got " + value);
        }
    }

    public static void nonNegative(CommandLine cl, String option, double value) {
        if (!(value >= 0 && Double.isFinite(value))) {
            throw new CommandLine.ParameterException(cl, option + " must be >= 0 and finite, got " + value);
        }
    }

    /** In [0, 1). */
    public static void unit(CommandLine cl, String option, double value) {
        if (!(value >= 0 && value < 1)) throw new CommandLine.ParameterException(cl, option + " must be in [0, 1), got " + value);
    }

    public static void oneOf(CommandLine cl, String option, String value, List<String> allowed) {
        if (!allowed.contains(value)) {
            throw new CommandLine.ParameterException(cl, option + " must be one of " + String.join(", ", allowed)
                    + ", got " + value);
        }
    }
}
