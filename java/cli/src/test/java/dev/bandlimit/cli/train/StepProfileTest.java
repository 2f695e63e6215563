package dev.bandlimit.cli.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The step profile from constructed counters (no training): grouping by op kind, per-step
 * figures, the remainder, the shares, the printed table and the JSON.
 */
class StepProfileTest {
    private static final double EPS = 1e-9;
    private static final long STEPS = 4;
    private static final long MS = 1_000_000;

    /**
     * Per step: conv 10 + 15 ms, relu 1 + 1.5 ms, optimizer 3 ms, parameter gradients 0.5 ms;
     * 31 ms in counters of a 50 ms step, so 19 ms other.
     */
    private static StepProfile profile() {
        Map<String, Long> nanos = new HashMap<>();
        nanos.put("conv.forward", STEPS * 10 * MS);
        nanos.put("conv.backward", STEPS * 15 * MS);
        nanos.put("relu.forward", STEPS * MS);
        nanos.put("relu.backward", STEPS * 3 * MS / 2);
        nanos.put("optimizer.step", STEPS * 3 * MS);
        nanos.put("tape.parameter_grads", STEPS * MS / 2);
        return StepProfile.of(nanos, STEPS, STEPS * 50 * MS);
    }

    @Test
    void oneRowPerOpKindPerStepLargestFirst() {
        List<StepProfile.Row> rows = profile().rows();
        assertEquals(List.of("conv", "optimizer.step", "relu", "tape.parameter_grads"),
                rows.stream().map(StepProfile.Row::op).toList());
        StepProfile.Row conv = rows.get(0);
        assertEquals(10.0, conv.forwardMs(), EPS);
        assertEquals(15.0, conv.backwardMs(), EPS);
        assertEquals(25.0, conv.totalMs(), EPS);
        assertEquals(0.5, conv.share(), EPS);
        StepProfile.Row relu = rows.get(2);
        assertEquals(1.0, relu.forwardMs(), EPS);
        assertEquals(1.5, relu.backwardMs(), EPS);
        assertEquals(2.5, relu.totalMs(), EPS);
        assertEquals(0.05, relu.share(), EPS);
        // Neither pass of an op: a total only, under the counter's own name.
        StepProfile.Row optimizer = rows.get(1);
        assertTrue(Double.isNaN(optimizer.forwardMs()) && Double.isNaN(optimizer.backwardMs()));
        assertEquals(3.0, optimizer.totalMs(), EPS);
        assertEquals(0.06, optimizer.share(), EPS);
    }

    @Test
    void remainderIsTheStepMinusTheCountersAndTheSharesAddUpToOne() {
        StepProfile p = profile();
        assertEquals(STEPS, p.steps());
        assertEquals(50.0, p.stepMs(), EPS);
        assertEquals(19.0, p.otherMs(), EPS);
        assertEquals(0.38, p.otherShare(), EPS);
        assertEquals(11.0, p.forwardMs(), EPS);
        assertEquals(16.5, p.backwardMs(), EPS);
        double opsMs = p.rows().stream().mapToDouble(StepProfile.Row::totalMs).sum();
        assertEquals(p.stepMs(), opsMs + p.otherMs(), EPS);
        double shares = p.rows().stream().mapToDouble(StepProfile.Row::share).sum();
        assertEquals(1.0, shares + p.otherShare(), EPS);
        // What the epoch line's conv share is computed from.
        assertEquals(0.5, p.share("conv"), EPS);
        assertEquals(0.0, p.share("batchnorm"), 0.0);
    }

    @Test
    void tablePrintsTheOpsThenOtherThenTheStep() {
        String[] lines = profile().format("epoch 1 profile").split(System.lineSeparator());
        assertEquals("epoch 1 profile", lines[0]);
        assertEquals(2 + 1 + 4 + 2, lines.length, String.join("\n", lines));
        assertEquals(List.of("op", "forward ms/step", "backward ms/step", "total ms/step", "share"), cells(lines[1]));
        assertTrue(lines[2].matches("\\|-+\\|(-+:\\|){4}"), lines[2]);
        assertEquals(List.of("conv", "10.000", "15.000", "25.000", "50.0%"), cells(lines[3]));
        assertEquals(List.of("optimizer.step", "-", "-", "3.000", "6.0%"), cells(lines[4]));
        assertEquals(List.of("relu", "1.000", "1.500", "2.500", "5.0%"), cells(lines[5]));
        assertEquals(List.of("tape.parameter_grads", "-", "-", "0.500", "1.0%"), cells(lines[6]));
        assertEquals(List.of(StepProfile.OTHER, "", "", "19.000", "38.0%"), cells(lines[7]));
        assertEquals(List.of(StepProfile.STEP, "11.000", "16.500", "50.000", "100.0%"), cells(lines[8]));
        // Aligned: every line of the table as wide as the header.
        for (int i = 2; i < lines.length; i++) assertEquals(lines[1].length(), lines[i].length(), lines[i]);
    }

    private static List<String> cells(String line) {
        assertTrue(line.startsWith("| ") && line.endsWith(" |"), line);
        return List.of(line.substring(2, line.length() - 2).split(" \\| ", -1)).stream().map(String::strip).toList();
    }

    @Test
    void overlappingCountersShowANegativeRemainder() {
        // Counters summing to more than the wall time (ops timed on two threads at once): the
        // table shows it rather than hiding it at zero.
        StepProfile p = StepProfile.of(Map.of("conv.forward", 30 * MS, "conv.backward", 30 * MS), 1, 50 * MS);
        assertEquals(-10.0, p.otherMs(), EPS);
        assertEquals(1.2, p.share("conv"), EPS);
    }

    @Test
    void noCountersIsAllOtherAndNoStepTimeIsNoShare() {
        StepProfile idle = StepProfile.of(Map.of(), 2, 10 * MS);
        assertTrue(idle.rows().isEmpty());
        assertEquals(5.0, idle.otherMs(), EPS);
        assertEquals(1.0, idle.otherShare(), EPS);
        StepProfile zero = StepProfile.of(Map.of("relu.forward", 0L), 1, 0);
        assertEquals(0.0, zero.share("relu"), 0.0);
        assertFalse(zero.format("t").contains("NaN"));
        assertThrows(IllegalArgumentException.class, () -> StepProfile.of(Map.of(), 0, 0));
    }

    @Test
    void jsonHasEveryRowAndTheMetricsLineStaysValid() throws IOException {
        StepProfile p = profile();
        Map<String, String> fields = scalars(p.toJson());
        assertEquals("4", fields.get("steps"));
        assertEquals(50.0, Double.parseDouble(fields.get("step_ms")), 1e-6);
        assertEquals(19.0, Double.parseDouble(fields.get("other_ms")), 1e-6);
        assertEquals(0.38, Double.parseDouble(fields.get("other_share")), 1e-6);
        String json = p.toJson();
        assertTrue(json.contains("{\"op\":\"conv\",\"forward_ms\":10.000000,\"backward_ms\":15.000000,"
                + "\"total_ms\":25.000000,\"share\":0.500000}"), json);
        assertTrue(json.contains("{\"op\":\"optimizer.step\",\"forward_ms\":null,\"backward_ms\":null,"), json);

        Trainer.EpochReport r = new Trainer.EpochReport(1, 0.5, 0.9, 0.9, 2.0, 100, 1024, 0.3, p.share("conv"),
                List.of(), p);
        assertFalse(Trainer.toJson(r, false).contains("profile"));
        String line = Trainer.toJson(r, true);
        scalars(line); // parses
        assertTrue(line.endsWith(",\"profile\":" + json + "}"), line);
    }

    /** Parses {@code json} (failing on invalid JSON) and returns its scalar fields by name (last wins). */
    private static Map<String, String> scalars(String json) throws IOException {
        Map<String, String> out = new HashMap<>();
        try (JsonParser parser = new JsonFactory().createParser(json)) {
            String name = null;
            for (JsonToken t = parser.nextToken(); t != null; t = parser.nextToken()) {
                if (t == JsonToken.FIELD_NAME) name = parser.currentName();
                else if (t.isScalarValue() && name != null) out.put(name, parser.getText());
            }
        }
        return out;
    }
}
