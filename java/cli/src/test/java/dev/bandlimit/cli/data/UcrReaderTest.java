package dev.bandlimit.cli.data;

import static dev.bandlimit.cli.data.IdxReaderTest.message;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * UCR files in the 2018 format (tabs, {@code .tsv}) and the older one (commas or spaces, no
 * extension) written here as text, read back exactly; labels mapped by sorted value; every
 * malformed line named by file, line and column.
 */
class UcrReaderTest {
    static final int LENGTH = 9;

    @TempDir
    Path dir;

    final Random random = new Random(2018);

    @Test
    void tsvReadsBackExactlyWithSortedLabelsAsClasses() throws IOException {
        double[] trainLabels = {3, -1, 1, 1, 3, -1, 3}, testLabels = {1, -1, 3};
        String[][] train = randomFields(trainLabels.length), test = randomFields(testLabels.length);
        Path set = Files.createDirectories(dir.resolve("UCRArchive_2018").resolve("Toy"));
        write(set.resolve("Toy_TRAIN.tsv"), "\t", labelTexts(trainLabels, "%.0f"), train, "\n");
        write(set.resolve("Toy_TEST.tsv"), "\t", labelTexts(testLabels, "%.0f"), test, "\n");

        TrainTest raw = UcrReader.load(set, "Toy", false);
        assertEquals("Toy/train", raw.train().name());
        assertArrayEquals(new long[] {1, LENGTH}, raw.train().itemShape());
        assertEquals(3, raw.train().classes());
        assertArrayEquals(new int[] {2, 0, 1, 1, 2, 0, 2}, raw.train().labels()); // -1 -> 0, 1 -> 1, 3 -> 2
        assertArrayEquals(new int[] {1, 0, 2}, raw.test().labels());
        assertArrayEquals(parsed(train), raw.train().values());
        assertArrayEquals(parsed(test), raw.test().values());

        // The archive's root folder with the set's name finds the subfolder; z-normalising is the default.
        TrainTest z = UcrReader.load(set.getParent(), "Toy");
        assertArrayEquals(raw.train().labels(), z.train().labels());
        assertZNormalised(parsed(train), z.train().values());
        assertZNormalised(parsed(test), z.test().values());
    }

    @Test
    void olderArchiveWithCommasOrSpacesAndNoExtension() throws IOException {
        double[] labels = {1, 2, 2, 1};
        String[][] fields = randomFields(labels.length);
        write(dir.resolve("Old_TRAIN"), ",", labelTexts(labels, "%.7e"), fields, "\r\n");
        // Spaces, with leading blanks and a blank line, as in the pre-2018 text files.
        StringBuilder spaced = new StringBuilder("\n");
        for (int i = 0; i < labels.length; i++) {
            spaced.append("   ").append(String.format(Locale.ROOT, "%.7e", labels[i]));
            for (String f : fields[i]) spaced.append("  ").append(f);
            spaced.append('\n');
        }
        Files.writeString(dir.resolve("Old_TEST"), spaced + "\n");
        TrainTest data = UcrReader.load(dir, "Old", false);
        assertArrayEquals(new int[] {0, 1, 1, 0}, data.train().labels());
        assertArrayEquals(data.train().labels(), data.test().labels());
        assertArrayEquals(parsed(fields), data.train().values());
        assertArrayEquals(parsed(fields), data.test().values());
    }

    @Test
    void constantSeriesBecomesZeros() throws IOException {
        Files.writeString(dir.resolve("a"), "1\t2\t2\t2\n2\t1\t2\t3\n");
        TrainTest data = UcrReader.read(dir.resolve("a"), dir.resolve("a"), "a", true);
        assertArrayEquals(new float[] {0, 0, 0}, Arrays.copyOf(data.train().values(), 3));
    }

    @Test
    void varyingLengthNamesTheLine() throws IOException {
        Path file = text("V_TRAIN.tsv", "1\t0.1\t0.2\t0.3\n\n2\t0.1\t0.2\t0.3\n1\t0.1\t0.2\n");
        String m = message(() -> UcrReader.read(file, file, "V", true));
        assertTrue(m.startsWith(file + ": line 4 has 2 values after its label, line 1 has 3; series of varying length are not supported"), m);

        Path test = text("V_TEST.tsv", "1\t0.1\t0.2\n");
        Path train = text("W_TRAIN.tsv", "1\t0.1\t0.2\t0.3\n");
        m = message(() -> UcrReader.read(train, test, "V", true));
        assertTrue(m.startsWith(test + ": line 1 has 2 values, but the series in " + train + " have 3"), m);
    }

    @Test
    void missingValuesAreRefusedWithLineAndColumn() throws IOException {
        Path nan = text("N_TRAIN.tsv", "1\t0.1\t0.2\n2\t0.5\tNaN\n");
        String m = message(() -> UcrReader.read(nan, nan, "N", true));
        assertTrue(m.startsWith(nan + ": line 2, column 3: missing value (NaN); missing values are not supported"), m);

        Path empty = text("E_TRAIN", "1,0.1,,0.2\n");
        m = message(() -> UcrReader.read(empty, empty, "E", true));
        assertTrue(m.startsWith(empty + ": line 1, column 3: missing value (empty field)"), m);

        Path label = text("L_TRAIN", "nan,0.1,0.2\n");
        m = message(() -> UcrReader.read(label, label, "L", true));
        assertTrue(m.startsWith(label + ": line 1, column 1 (the label): missing value (nan)"), m);
    }

    @Test
    void textThatIsNotANumberIsNamed() throws IOException {
        Path file = text("T_TRAIN.tsv", "1\t0.5\t0.25\n1\t0.5\tabc\n");
        String m = message(() -> UcrReader.read(file, file, "T", true));
        assertTrue(m.startsWith(file + ": line 2, column 3: 'abc' is not a number"), m);
        Path inf = text("I_TRAIN.tsv", "1\tInfinity\n");
        assertTrue(message(() -> UcrReader.read(inf, inf, "I", true)).startsWith(inf + ": line 1, column 2: Infinity is not a finite number"));
        Path lone = text("O_TRAIN.tsv", "1\n");
        assertTrue(message(() -> UcrReader.read(lone, lone, "O", true)).startsWith(lone + ": line 1 holds only a label, no series values"));
        Path blank = text("B_TRAIN.tsv", "\n\n");
        assertTrue(message(() -> UcrReader.read(blank, blank, "B", true)).startsWith(blank + ": holds no series"));
    }

    @Test
    void testLabelUnknownToTheTrainingSetNamesTheLine() throws IOException {
        Path train = text("U_TRAIN.tsv", "-1\t0.1\t0.2\n1\t0.3\t0.4\n");
        Path test = text("U_TEST.tsv", "1\t0.1\t0.2\n\n2\t0.3\t0.4\n");
        String m = message(() -> UcrReader.read(train, test, "U", true));
        assertTrue(m.startsWith(test + ": line 3: class label 2 does not occur in the training file " + train + " (its labels: -1, 1)"), m);
    }

    @Test
    void missingFilesListTheNamesLookedFor() throws IOException {
        text("M_TRAIN.tsv", "1\t0.1\n");
        String m = message(() -> UcrReader.load(dir, "M"));
        assertTrue(m.startsWith(dir + ": no test file of the UCR set M; looked for M_TEST.tsv / M_TEST / M_TEST.txt in " + dir), m);
        m = message(() -> UcrReader.load(dir, "Nothing"));
        assertTrue(m.contains("no training or test file of the UCR set Nothing; looked for Nothing_TRAIN.tsv / Nothing_TRAIN /"
                + " Nothing_TRAIN.txt; Nothing_TEST.tsv"), m);
        assertThrows(IllegalArgumentException.class, () -> UcrReader.load(dir, "../M"));
    }

    // --- writing and expected values, independently of the reader ---

    /** Random series values as text, {@code LENGTH} per series, in assorted notations. */
    String[][] randomFields(int count) {
        String[][] fields = new String[count][LENGTH];
        for (int i = 0; i < count; i++) {
            for (int t = 0; t < LENGTH; t++) {
                double v = random.nextGaussian() * 3;
                fields[i][t] = switch (t % 3) {
                    case 0 -> Float.toString((float) v);
                    case 1 -> String.format(Locale.ROOT, "%.7e", v);
                    default -> String.format(Locale.ROOT, "%.4f", v);
                };
            }
        }
        return fields;
    }

    static String[] labelTexts(double[] labels, String format) {
        String[] out = new String[labels.length];
        for (int i = 0; i < labels.length; i++) out[i] = String.format(Locale.ROOT, format, labels[i]);
        return out;
    }

    static void write(Path file, String separator, String[] labels, String[][] fields, String newline) throws IOException {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < labels.length; i++) s.append(labels[i]).append(separator).append(String.join(separator, fields[i])).append(newline);
        Files.writeString(file, s);
    }

    Path text(String name, String contents) throws IOException {
        return Files.writeString(dir.resolve(name), contents);
    }

    /** The values as the file states them, rounded to float. */
    static float[] parsed(String[][] fields) {
        float[] out = new float[fields.length * LENGTH];
        for (int i = 0; i < fields.length; i++) {
            for (int t = 0; t < LENGTH; t++) out[i * LENGTH + t] = (float) Double.parseDouble(fields[i][t]);
        }
        return out;
    }

    /**
     * Each series of {@code actual} is the matching one of {@code raw} less its mean, divided by
     * its population std. The reader works from the file's doubles, this test from their float
     * roundings, so values differ by float rounding of the inputs: 1e-5 is ample for |z| < 3.
     */
    static void assertZNormalised(float[] raw, float[] actual) {
        for (int i = 0; i < raw.length / LENGTH; i++) {
            double mean = 0, squares = 0;
            for (int t = 0; t < LENGTH; t++) mean += raw[i * LENGTH + t];
            mean /= LENGTH;
            for (int t = 0; t < LENGTH; t++) squares += (raw[i * LENGTH + t] - mean) * (raw[i * LENGTH + t] - mean);
            double std = Math.sqrt(squares / LENGTH);
            for (int t = 0; t < LENGTH; t++) {
                assertEquals((raw[i * LENGTH + t] - mean) / std, actual[i * LENGTH + t], 1e-5, "series " + i + ", value " + t);
            }
        }
    }
}
