package dev.bandlimit.cli.train;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where a training step's time goes: the {@link dev.bandlimit.nn.OpTimers} counters of some
 * steps, grouped by op kind, per step, against the steps' wall time. The remainder (wall time
 * minus every counter) is what no op records: tensors and tapes made and closed, the batch
 * copied into native memory, the loss read back, argmax, zeroing the gradients.
 *
 * <p>A counter {@code "<op>.forward"} or {@code "<op>.backward"} goes into its op's forward or
 * backward column. Any other counter ({@code "optimizer.step"}, {@code "tape.parameter_grads"})
 * is its own row under its full name with only a total: it is neither pass of an op, and the
 * full name says which counter it is.
 */
public final class StepProfile {

    /** Label of the remainder row. */
    public static final String OTHER = "other (Java glue, data)";

    /** Label of the last row: the whole step. */
    public static final String STEP = "step";

    /**
     * One op kind, per step. {@code forwardMs} or {@code backwardMs} is NaN where the op recorded
     * no such pass (a row that is neither, like {@code optimizer.step}, has both NaN).
     * {@code share} is {@code totalMs} over the step's wall time, as a fraction.
     */
    public record Row(String op, double forwardMs, double backwardMs, double totalMs, double share) {}

    private final long steps;
    private final double stepMs;
    private final List<Row> rows;
    private final double otherMs;

    private StepProfile(long steps, double stepMs, List<Row> rows, double otherMs) {
        this.steps = steps;
        this.stepMs = stepMs;
        this.rows = rows;
        this.otherMs = otherMs;
    }

    /**
     * @param timerNanos {@link dev.bandlimit.nn.OpTimers#snapshotNanos()} over the steps
     * @param steps how many steps the counters and {@code stepNanos} cover, {@code >= 1}
     * @param stepNanos wall time of those steps, summed
     */
    public static StepProfile of(Map<String, Long> timerNanos, long steps, long stepNanos) {
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        if (stepNanos < 0) throw new IllegalArgumentException("stepNanos must be >= 0, got " + stepNanos);
        // Per op kind: [forward, backward, anything else] nanos, -1 where not recorded.
        Map<String, long[]> byOp = new TreeMap<>();
        long opsNanos = 0;
        for (Map.Entry<String, Long> e : timerNanos.entrySet()) {
            String key = e.getKey();
            long nanos = e.getValue();
            opsNanos += nanos;
            int dot = key.lastIndexOf('.');
            String phase = dot < 0 ? "" : key.substring(dot + 1);
            int column = phase.equals("forward") ? 0 : phase.equals("backward") ? 1 : 2;
            String op = column == 2 ? key : key.substring(0, dot);
            long[] cells = byOp.computeIfAbsent(op, k -> new long[] {-1, -1, -1});
            cells[column] = Math.max(cells[column], 0) + nanos;
        }
        double perStep = 1e-6 / steps;
        double stepMs = stepNanos * perStep;
        List<Row> rows = new ArrayList<>();
        for (Map.Entry<String, long[]> e : byOp.entrySet()) {
            long[] c = e.getValue();
            long total = Math.max(c[0], 0) + Math.max(c[1], 0) + Math.max(c[2], 0);
            rows.add(new Row(e.getKey(), c[0] < 0 ? Double.NaN : c[0] * perStep,
                    c[1] < 0 ? Double.NaN : c[1] * perStep, total * perStep, share(total * perStep, stepMs)));
        }
        // Largest first: the table answers "where does the time go".
        rows.sort(Comparator.comparingDouble(Row::totalMs).reversed().thenComparing(Row::op));
        // Not clamped at zero: a negative remainder would mean counters overlap (an op timed
        // inside another, or ops on several threads at once), and the table should show it.
        double otherMs = (stepNanos - opsNanos) * perStep;
        return new StepProfile(steps, stepMs, List.copyOf(rows), otherMs);
    }

    private static double share(double ms, double stepMs) {
        return stepMs > 0 ? ms / stepMs : 0;
    }

    /** The op kinds, largest total first. */
    public List<Row> rows() {
        return rows;
    }

    public long steps() {
        return steps;
    }

    /** Wall time of one step (the mean over the steps). */
    public double stepMs() {
        return stepMs;
    }

    /** Step time no counter recorded, per step. */
    public double otherMs() {
        return otherMs;
    }

    public double otherShare() {
        return share(otherMs, stepMs);
    }

    /** Sum of the forward column. */
    public double forwardMs() {
        return rows.stream().filter(r -> !Double.isNaN(r.forwardMs())).mapToDouble(Row::forwardMs).sum();
    }

    /** Sum of the backward column. */
    public double backwardMs() {
        return rows.stream().filter(r -> !Double.isNaN(r.backwardMs())).mapToDouble(Row::backwardMs).sum();
    }

    /** The share of one op kind (0 if it recorded nothing), e.g. {@code share("conv")}. */
    public double share(String op) {
        return rows.stream().filter(r -> r.op().equals(op)).mapToDouble(Row::share).findFirst().orElse(0);
    }

    /** The table: a title line, then a Markdown table with aligned columns (readable and pasteable). */
    public String format(String title) {
        String[] header = {"op", "forward ms/step", "backward ms/step", "total ms/step", "share"};
        List<String[]> body = new ArrayList<>();
        for (Row r : rows) {
            body.add(new String[] {r.op(), ms(r.forwardMs()), ms(r.backwardMs()), ms(r.totalMs()), percent(r.share())});
        }
        body.add(new String[] {OTHER, "", "", ms(otherMs), percent(otherShare())});
        body.add(new String[] {STEP, ms(forwardMs()), ms(backwardMs()), ms(stepMs), percent(stepMs > 0 ? 1 : 0)});
        int[] width = new int[header.length];
        for (int i = 0; i < header.length; i++) width[i] = header[i].length();
        for (String[] line : body) {
            for (int i = 0; i < line.length; i++) width[i] = Math.max(width[i], line[i].length());
        }
        StringBuilder out = new StringBuilder(title).append(System.lineSeparator());
        appendLine(out, header, width);
        StringBuilder rule = new StringBuilder("|");
        for (int i = 0; i < width.length; i++) {
            // Left-aligned names, right-aligned numbers, also when rendered as Markdown.
            rule.append(i == 0 ? "-".repeat(width[i] + 2) : "-".repeat(width[i] + 1) + ":").append('|');
        }
        out.append(rule).append(System.lineSeparator());
        for (String[] line : body) appendLine(out, line, width);
        return out.toString();
    }

    private static void appendLine(StringBuilder out, String[] cells, int[] width) {
        out.append('|');
        for (int i = 0; i < cells.length; i++) {
            String pad = " ".repeat(width[i] - cells[i].length());
            out.append(' ').append(i == 0 ? cells[i] + pad : pad + cells[i]).append(" |");
        }
        out.append(System.lineSeparator());
    }

    private static String ms(double ms) {
        return Double.isNaN(ms) ? "-" : String.format(Locale.ROOT, "%.3f", ms);
    }

    private static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * fraction);
    }

    /**
     * One JSON object: steps, step_ms, other_ms, other_share, and ops (one object per row;
     * forward_ms / backward_ms null where the op has no such pass). Shares are fractions, like
     * the metrics' {@code conv_share}.
     */
    public String toJson() {
        StringBuilder ops = new StringBuilder("[");
        for (Row r : rows) {
            if (ops.length() > 1) ops.append(',');
            ops.append(String.format(Locale.ROOT, "{\"op\":\"%s\",\"forward_ms\":%s,\"backward_ms\":%s,"
                            + "\"total_ms\":%.6f,\"share\":%.6f}",
                    new String(JsonStringEncoder.getInstance().quoteAsString(r.op())), jsonMs(r.forwardMs()),
                    jsonMs(r.backwardMs()), r.totalMs(), r.share()));
        }
        ops.append(']');
        return String.format(Locale.ROOT,
                "{\"steps\":%d,\"step_ms\":%.6f,\"other_ms\":%.6f,\"other_share\":%.6f,\"ops\":%s}", steps, stepMs,
                otherMs, otherShare(), ops);
    }

    private static String jsonMs(double ms) {
        return Double.isNaN(ms) ? "null" : String.format(Locale.ROOT, "%.6f", ms);
    }
}
