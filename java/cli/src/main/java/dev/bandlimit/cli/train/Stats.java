package dev.bandlimit.cli.train;

import java.util.Arrays;

/** The summaries the commands print of repeated measurements. */
public final class Stats {
    private Stats() {}

    /** The median (the mean of the two middle values for an even count); NaN for none. */
    public static double median(double[] values) {
        if (values.length == 0) return Double.NaN;
        double[] v = values.clone();
        Arrays.sort(v);
        int m = v.length;
        return (v[(m - 1) / 2] + v[m / 2]) / 2;
    }

    public static double mean(double[] values) {
        double s = 0;
        for (double x : values) s += x;
        return s / values.length;
    }

    /** The sample standard deviation (0 for fewer than two values). */
    public static double spread(double[] values) {
        if (values.length < 2) return 0;
        double m = mean(values), s = 0;
        for (double x : values) s += (x - m) * (x - m);
        return Math.sqrt(s / (values.length - 1));
    }
}
