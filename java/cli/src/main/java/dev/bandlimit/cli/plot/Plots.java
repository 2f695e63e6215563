package dev.bandlimit.cli.plot;

import java.awt.Color;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.BitmapEncoder.BitmapFormat;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler.LegendPosition;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * PNG charts of the demo and the experiments, drawn with XChart (off screen: the JVM runs
 * headless). Each chart is a value: build {@link Line}s or a {@link Grid}, then {@link #save}.
 */
public final class Plots {
    private static final int WIDTH = 800, HEIGHT = 520;

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Plots() {}

    /** One curve: {@code spread} (nullable) draws error bars of that half-width. */
    public record Series(String name, double[] x, double[] y, double[] spread) {
        public Series {
            if (x.length != y.length || (spread != null && spread.length != y.length)) {
                throw new IllegalArgumentException("series " + name + ": " + x.length + " x values, " + y.length
                        + " y values" + (spread == null ? "" : ", " + spread.length + " spreads"));
            }
        }

        public Series(String name, double[] x, double[] y) {
            this(name, x, y, null);
        }
    }

    /** A line chart of several series over one x axis. */
    public static XYChart lines(String title, String xTitle, String yTitle, List<Series> series) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        // Up to three names fit in a row under the plot; more go in a column beside it.
        boolean row = series.size() <= 3;
        chart.getStyler().setLegendPosition(row ? LegendPosition.OutsideS : LegendPosition.OutsideE).setLegendLayout(
                row ? org.knowm.xchart.style.Styler.LegendLayout.Horizontal
                        : org.knowm.xchart.style.Styler.LegendLayout.Vertical);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setPlotGridLinesVisible(true);
        chart.getStyler().setErrorBarsColorSeriesColor(true);
        chart.getStyler().setLegendVisible(series.size() > 1);
        for (Series s : series) {
            XYSeries xy = s.spread() == null ? chart.addSeries(s.name(), s.x(), s.y())
                    : chart.addSeries(s.name(), s.x(), s.y(), s.spread());
            xy.setMarker(SeriesMarkers.CIRCLE);
        }
        return chart;
    }

    /**
     * A heat map: {@code values[row][column]}, rows along y ({@code rowLabels}), columns along x,
     * each cell printed with {@code decimals} digits.
     */
    public static HeatMapChart heatMap(String title, String xTitle, String yTitle, List<String> columnLabels,
            List<String> rowLabels, double[][] values, int decimals) {
        HeatMapChart chart = new HeatMapChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        String format = "%." + Math.max(0, decimals) + "f";
        chart.getStyler().setShowValue(true).setHeatMapDecimalValueFormatter(
                v -> String.format(java.util.Locale.ROOT, format, v));
        chart.getStyler().setChartBackgroundColor(Color.WHITE).setLegendPosition(LegendPosition.OutsideE);
        List<Number[]> cells = new ArrayList<>();
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        for (int r = 0; r < values.length; r++) {
            if (values[r].length != columnLabels.size()) {
                throw new IllegalArgumentException("heat map " + title + ": row " + r + " has " + values[r].length
                        + " values for " + columnLabels.size() + " columns");
            }
            for (int c = 0; c < values[r].length; c++) {
                cells.add(new Number[] {c, r, values[r][c]});
                min = Math.min(min, values[r][c]);
                max = Math.max(max, values[r][c]);
            }
        }
        if (min < max) chart.getStyler().setMin(min).setMax(max);
        chart.addSeries(title, columnLabels, rowLabels, cells);
        return chart;
    }

    /** Writes one chart as PNG, atomically; returns {@code png}. */
    public static Path save(Chart<?, ?> chart, Path png) {
        return write(png, out -> BitmapEncoder.saveBitmap(chart, out, BitmapFormat.PNG));
    }

    /** Writes charts side by side ({@code columns} per row) into one PNG; returns {@code png}. */
    public static <C extends Chart<?, ?>> Path save(List<C> charts, int columns, Path png) {
        int rows = (charts.size() + columns - 1) / columns;
        return write(png, out -> BitmapEncoder.saveBitmap(charts, rows, Math.min(columns, charts.size()), out,
                BitmapFormat.PNG));
    }

    private interface Encoder {
        void encode(OutputStream out) throws IOException;
    }

    private static Path write(Path png, Encoder encoder) {
        try {
            Path parent = png.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            Path tmp = png.resolveSibling(png.getFileName() + ".tmp");
            try (OutputStream out = Files.newOutputStream(tmp)) {
                encoder.encode(out);
            }
            Files.move(tmp, png, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return png;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write plot " + png + ": " + e.getMessage(), e);
        }
    }
}
