package dev.bandlimit.cli.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * Every experiment's {@code --quick} mode end to end through the command line: exit code 0, a
 * results.json that parses and names the experiment, accuracies that are probabilities and
 * above chance (10 classes; one quick epoch on 512 items reaches 50-70% on MNIST), and PNGs
 * that decode. The numbers of a quick run say nothing about the paper's claims.
 */
class ExperimentsQuickTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"accuracy", "mismatch", "energy", "noise", "cost", "timeseries"})
    void quickModeWritesResultsAndPlots(String name, @TempDir Path dir) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream saved = System.out;
        int code;
        try {
            System.setOut(new PrintStream(out, true));
            code = new CommandLine(new ExperimentCommand()).execute(name, "--quick", "--out", dir.toString());
        } finally {
            System.setOut(saved);
        }
        String printed = out.toString();
        assertEquals(0, code, printed);
        Path folder = dir.resolve(name);
        Path json = folder.resolve("results.json");
        assertTrue(printed.contains("wrote " + json), printed);

        List<Double> accuracies = new ArrayList<>();
        String experiment = null;
        try (JsonParser p = new JsonFactory().createParser(json.toFile())) {
            while (p.nextToken() != null) {
                if (p.currentToken() != JsonToken.FIELD_NAME) continue;
                String field = p.currentName();
                p.nextToken();
                if (field.equals("experiment")) experiment = p.getText();
                if (field.startsWith("accuracy_mean") || field.startsWith("test_accuracy")) {
                    if (p.currentToken() == JsonToken.START_ARRAY) {
                        while (p.nextToken() != JsonToken.END_ARRAY) accuracies.add(p.getDoubleValue());
                    } else {
                        accuracies.add(p.getDoubleValue());
                    }
                }
            }
        }
        assertEquals(name, experiment);
        if (!name.equals("cost")) {
            assertTrue(!accuracies.isEmpty(), "no accuracies in " + json);
            for (double a : accuracies) assertTrue(a >= 0 && a <= 1, "accuracy " + a);
            double best = accuracies.stream().mapToDouble(Double::doubleValue).max().orElse(0);
            assertTrue(best > 0.3, name + ": best accuracy " + best + " is near chance");
        }
        assertTrue(Files.exists(folder.resolve("summary.md")));
        List<Path> pngs;
        try (Stream<Path> files = Files.list(folder)) {
            pngs = files.filter(f -> f.toString().endsWith(".png")).toList();
        }
        assertTrue(!pngs.isEmpty(), "no PNG in " + folder);
        for (Path png : pngs) assertTrue(ImageIO.read(png.toFile()) != null, png + " does not decode");
    }
}
