package dev.bandlimit.cli.experiment;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.bandlimit.Bandlimit;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An experiment's results as a tree of maps, lists, numbers and strings, written as
 * {@code results.json} with the machine and the command's settings, and its summary tables as
 * {@code summary.md}.
 */
final class Results {
    private static final JsonFactory JSON = new JsonFactory();

    final Map<String, Object> root = new LinkedHashMap<>();
    private final StringBuilder markdown = new StringBuilder();
    private final Path folder;

    /** The settings first, then what the experiment adds; {@link #results()} once it is done. */
    static final class Builder {
        private final Results r;

        Builder(String experiment, ExperimentOptions o, Path folder) {
            r = new Results(experiment, o, folder);
        }

        /** Names the data and the model (most experiments have one workload). */
        Builder workload(Workload w) {
            r.root.put("dataset", w.dataset());
            r.root.put("model", w.model());
            r.root.put("train_items", w.trainLabels().length);
            r.root.put("test_items", w.testLabels().length);
            return this;
        }

        Builder put(String key, Object value) {
            r.root.put(key, value);
            return this;
        }

        void table(String title, List<String> header, List<List<String>> rows) {
            r.table(title, header, rows);
        }

        Results results() {
            return r;
        }
    }

    private Results(String experiment, ExperimentOptions o, Path folder) {
        this.folder = folder;
        root.put("experiment", experiment);
        root.put("quick", o.quick);
        root.put("train_limit", o.trainLimit());
        root.put("batch", o.batch);
        root.put("learning_rate", o.learningRate);
        root.put("optimizer", "adam, cosine schedule");
        root.put("first_seed", o.seed);
        Map<String, Object> machine = new LinkedHashMap<>();
        machine.put("cores", Runtime.getRuntime().availableProcessors());
        machine.put("native_threads", Bandlimit.numThreads());
        machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        machine.put("java", System.getProperty("java.version"));
        machine.put("native", Bandlimit.nativeVersion());
        root.put("machine", machine);
    }

    /** Adds a markdown table (printed too) to the summary. */
    void table(String title, List<String> header, List<List<String>> rows) {
        StringBuilder t = new StringBuilder("### ").append(title).append("\n\n| ");
        t.append(String.join(" | ", header)).append(" |\n|");
        t.append("---|".repeat(header.size())).append('\n');
        for (List<String> r : rows) t.append("| ").append(String.join(" | ", r)).append(" |\n");
        t.append('\n');
        markdown.append(t);
        System.out.print(t);
    }

    /** Writes results.json and summary.md; returns the JSON's path. */
    Path write() {
        try {
            Files.createDirectories(folder);
            Path json = folder.resolve("results.json");
            Path tmp = folder.resolve("results.json.tmp");
            try (JsonGenerator g = JSON.createGenerator(Files.newBufferedWriter(tmp, StandardCharsets.UTF_8))) {
                g.useDefaultPrettyPrinter();
                write(g, root);
            }
            Files.move(tmp, json, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Files.writeString(folder.resolve("summary.md"), markdown.toString());
            return json;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the results in " + folder + ": " + e.getMessage(), e);
        }
    }

    private static void write(JsonGenerator g, Object v) throws IOException {
        switch (v) {
            case null -> g.writeNull();
            case Map<?, ?> m -> {
                g.writeStartObject();
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    g.writeFieldName(e.getKey().toString());
                    write(g, e.getValue());
                }
                g.writeEndObject();
            }
            case List<?> l -> {
                g.writeStartArray();
                for (Object x : l) write(g, x);
                g.writeEndArray();
            }
            case double[] a -> {
                g.writeStartArray();
                for (double x : a) write(g, x);
                g.writeEndArray();
            }
            case Double d -> {
                if (Double.isFinite(d)) g.writeNumber(d);
                else g.writeNull();  // JSON has no NaN
            }
            case Float f -> write(g, (double) f);
            case Integer i -> g.writeNumber(i);
            case Long l -> g.writeNumber(l);
            case Boolean b -> g.writeBoolean(b);
            default -> g.writeString(v.toString());
        }
    }
}
