package dev.bandlimit.cli.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Data sets of the UCR time-series classification archive: one univariate series per line, the
 * class label first, then the values.
 *
 * <h2>Files</h2>
 * The 2018 archive ({@code UCRArchive_2018/NAME/NAME_TRAIN.tsv}, {@code NAME_TEST.tsv}) separates
 * fields by tabs; the older archive ({@code NAME/NAME_TRAIN}, {@code NAME_TEST}, no extension)
 * by commas or runs of spaces. Each line may use a comma, a tab or whitespace: a line containing
 * a comma is split at commas, else one containing a tab at tabs, else at runs of whitespace;
 * fields are trimmed and a trailing separator is ignored. Blank lines are skipped.
 *
 * <h2>What is refused</h2>
 * Every series of both files must have the same length: the archive's variable-length sets
 * (and those with missing values, written {@code NaN}) need padding or resampling, which is a
 * modelling choice this reader does not make, so a series of another length, a {@code NaN} or an
 * empty field is an error naming the file, line and column (columns count from 1, the label is
 * column 1). Infinite values and text that is not a number are refused alike.
 *
 * <h2>Labels</h2>
 * Labels are arbitrary numbers ({@code -1/1}, {@code 1..k}, {@code 0..k-1}, written as
 * {@code 1} or {@code 1.0000000e+00}). The distinct labels of the <b>training</b> file, sorted
 * by numeric value, become the classes {@code 0..k-1}; a test label that does not occur in the
 * training file is an error.
 *
 * <h2>Normalisation</h2>
 * By default each series is z-normalised on its own, as is the UCR convention:
 * {@code (x - mean) / std} with the series' mean and population standard deviation, computed in
 * float64 and rounded to float; a constant series becomes all zeros. Most 2018 sets are stored
 * z-normalised already, so this changes them only by rounding. Without it, values are the
 * file's numbers rounded to float.
 */
public final class UcrReader {
    private static final Pattern COMMA = Pattern.compile(",");
    private static final Pattern TAB = Pattern.compile("\t");
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");

    private UcrReader() {}

    /** As {@link #load(Path, String, boolean)}, z-normalising each series. */
    public static TrainTest load(Path folder, String name) {
        return load(folder, name, true);
    }

    /**
     * Reads the UCR set {@code name} from {@code folder} or from its subfolder {@code name} (so
     * both {@code UCRArchive_2018/ECG200} and {@code UCRArchive_2018} with name
     * {@code ECG200} work). The training file is the first of {@code NAME_TRAIN.tsv},
     * {@code NAME_TRAIN}, {@code NAME_TRAIN.txt} found; the test file likewise.
     *
     * @return sets {@code name + "/train"}, {@code name + "/test"}, item shape {@code {1, L}}
     * @throws DataException when a file is missing (listing the names looked for) or malformed
     */
    public static TrainTest load(Path folder, String name, boolean zNormalize) {
        Objects.requireNonNull(folder, "folder");
        Objects.requireNonNull(name, "name");
        if (name.isBlank() || name.contains("/") || name.contains("\\")) {
            throw new IllegalArgumentException("UCR data set name '" + name + "' must be a plain name such as ECG200");
        }
        DataFiles.requireFolder(folder, "the UCR data set " + name + " (" + name + "_TRAIN.tsv and " + name + "_TEST.tsv)");
        List<Path> dirs = Files.isDirectory(folder.resolve(name)) ? List.of(folder, folder.resolve(name)) : List.of(folder);
        Path train = find(dirs, name + "_TRAIN"), test = find(dirs, name + "_TEST");
        if (train == null || test == null) {
            List<String> missing = new ArrayList<>();
            if (train == null) missing.add(String.join(" / ", candidates(name + "_TRAIN")));
            if (test == null) missing.add(String.join(" / ", candidates(name + "_TEST")));
            throw new DataException(folder + ": no " + (train == null && test == null ? "training or test" : train == null ? "training" : "test")
                    + " file of the UCR set " + name + "; looked for " + String.join("; ", missing) + " in "
                    + dirs.stream().map(Path::toString).collect(Collectors.joining(" and "))
                    + ". Pass the folder of the set (from the UCR archive, e.g. UCRArchive_2018/" + name + ") and its exact name");
        }
        return read(train, test, name, zNormalize);
    }

    /**
     * Reads a training and a test file of the UCR format (see the class comment).
     *
     * @param name the sets are called {@code name + "/train"} and {@code name + "/test"}
     * @throws DataException naming the file and line of the first problem
     */
    public static TrainTest read(Path trainFile, Path testFile, String name, boolean zNormalize) {
        Objects.requireNonNull(name, "name");
        Table train = Table.read(Objects.requireNonNull(trainFile, "trainFile"));
        Table test = Table.read(Objects.requireNonNull(testFile, "testFile"));
        if (test.length != train.length) {
            throw new DataException(testFile + ": line " + test.lines[0] + " has " + test.length + " values, but the series in " + trainFile
                    + " have " + train.length + "; the two files must hold series of the same length");
        }
        double[] classLabels = Arrays.stream(train.labels).distinct().sorted().toArray();
        long[] shape = {1, train.length};
        return new TrainTest(
                new LabeledSet(name + "/train", shape, train.values(zNormalize), train.classes(classLabels, trainFile), classLabels.length),
                new LabeledSet(name + "/test", shape, test.values(zNormalize), test.classes(classLabels, trainFile), classLabels.length));
    }

    private static Path find(List<Path> dirs, String stem) {
        for (Path dir : dirs) {
            Path file = DataFiles.firstExisting(dir, candidates(stem));
            if (file != null) return file;
        }
        return null;
    }

    private static List<String> candidates(String stem) {
        return List.of(stem + ".tsv", stem, stem + ".txt");
    }

    /** One file's series as parsed: labels as written, values in float64, the line of each series. */
    private record Table(Path file, double[] labels, double[][] series, int[] lines, int length) {

        static Table read(Path file) {
            List<double[]> rows = new ArrayList<>();
            List<Integer> lineNumbers = new ArrayList<>();
            int length = -1;
            // ISO-8859-1 decodes any byte, so stray bytes show up as an unparsable field with its line.
            try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1)) {
                int lineNumber = 0;
                for (String line; (line = reader.readLine()) != null; ) {
                    lineNumber++;
                    String trimmed = line.strip();
                    if (trimmed.isEmpty()) continue;
                    double[] row = parse(file, lineNumber, trimmed);
                    if (length < 0) {
                        length = row.length - 1;
                    } else if (row.length - 1 != length) {
                        throw new DataException(file + ": line " + lineNumber + " has " + (row.length - 1) + " values after its label, line "
                                + lineNumbers.get(0) + " has " + length + "; series of varying length are not supported (pad or resample"
                                + " them to one length first)");
                    }
                    rows.add(row);
                    lineNumbers.add(lineNumber);
                }
            } catch (IOException e) {
                throw DataFiles.cannotRead(file, e);
            }
            if (rows.isEmpty()) throw new DataException(file + ": holds no series (the file is empty); is it a UCR _TRAIN/_TEST file?");
            double[] labels = new double[rows.size()];
            double[][] series = new double[rows.size()][];
            for (int i = 0; i < labels.length; i++) {
                double[] row = rows.get(i);
                labels[i] = row[0];
                series[i] = Arrays.copyOfRange(row, 1, row.length);
            }
            return new Table(file, labels, series, lineNumbers.stream().mapToInt(Integer::intValue).toArray(), length);
        }

        /** The label and values of one non-blank line. */
        private static double[] parse(Path file, int lineNumber, String line) {
            Pattern separator = line.indexOf(',') >= 0 ? COMMA : line.indexOf('\t') >= 0 ? TAB : WHITESPACE;
            String[] fields = separator.split(line);
            if (fields.length < 2) {
                throw new DataException(file + ": line " + lineNumber + " holds only a label, no series values; is it a UCR _TRAIN/_TEST file?");
            }
            double[] row = new double[fields.length];
            for (int f = 0; f < fields.length; f++) {
                String field = fields[f].strip();
                String where = file + ": line " + lineNumber + ", column " + (f + 1) + (f == 0 ? " (the label)" : "");
                if (field.isEmpty() || field.equalsIgnoreCase("nan")) {
                    throw new DataException(where + ": missing value (" + (field.isEmpty() ? "empty field" : field) + "); missing values are"
                            + " not supported (fill or interpolate them first, or choose a set without them)");
                }
                double value;
                try {
                    value = Double.parseDouble(field);
                } catch (NumberFormatException e) {
                    throw new DataException(where + ": '" + abbreviate(field) + "' is not a number; is it a UCR _TRAIN/_TEST file?");
                }
                if (!Double.isFinite(value)) throw new DataException(where + ": " + field + " is not a finite number");
                row[f] = value;
            }
            return row;
        }

        /** The class of each series: the index of its label among the training labels {@code classLabels}. */
        int[] classes(double[] classLabels, Path trainFile) {
            int[] classes = new int[labels.length];
            for (int i = 0; i < labels.length; i++) {
                int c = Arrays.binarySearch(classLabels, labels[i]);
                if (c < 0) {
                    throw new DataException(file + ": line " + lines[i] + ": class label " + format(labels[i]) + " does not occur in the"
                            + " training file " + trainFile + " (its labels: " + Arrays.stream(classLabels).mapToObj(Table::format)
                            .collect(Collectors.joining(", ")) + "); the files do not belong together");
                }
                classes[i] = c;
            }
            return classes;
        }

        /** All series in one array, z-normalised or as read, rounded to float. */
        float[] values(boolean zNormalize) {
            float[] out = new float[series.length * length];
            for (int i = 0; i < series.length; i++) {
                double[] x = series[i];
                double mean = 0, variance = 0;
                if (zNormalize) {
                    for (double v : x) mean += v;
                    mean /= length;
                    for (double v : x) variance += (v - mean) * (v - mean);
                }
                double std = Math.sqrt(variance / length);
                for (int t = 0; t < length; t++) {
                    out[i * length + t] = (float) (!zNormalize ? x[t] : std > 0 ? (x[t] - mean) / std : 0);
                }
            }
            return out;
        }

        private static String format(double label) {
            return label == Math.rint(label) && Math.abs(label) < 1e15 ? Long.toString((long) label) : Double.toString(label);
        }

        private static String abbreviate(String field) {
            return field.length() <= 40 ? field : field.substring(0, 40) + "…";
        }
    }
}
