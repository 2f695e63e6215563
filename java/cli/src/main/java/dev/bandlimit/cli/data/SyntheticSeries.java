package dev.bandlimit.cli.data;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A seeded generator of a UCR-like time-series set whose classes differ only in frequency
 * content, so that what a band limit removes is known exactly. Nothing is stored: the same
 * parameters give the same values, bit for bit, on every machine (the arithmetic uses
 * {@link StrictMath} and {@link SplittableRandom}).
 *
 * <h2>Design</h2>
 * Frequencies are in cycles per sample, {@code 0} to the Nyquist frequency {@code 0.5} (DFT bin
 * {@code j} of a series of length {@code L} is frequency {@code j / L}). The band
 * {@code [0, 0.5]} is cut into {@code k = classes} equal slices of width {@code w = 0.5 / k};
 * class {@code c} owns the inner 80 % of slice {@code c}:
 * <pre>
 *   band(c) = [(c + 0.1) w, (c + 0.9) w]
 * </pre>
 * With the defaults ({@code k = 4}, {@code L = 128}): class 0 at 0.0125–0.1125 (1.6–14.4 cycles
 * per series), class 1 at 0.1375–0.2375, class 2 at 0.2625–0.3625, class 3 at 0.3875–0.4875.
 * Item {@code i} of a set has class {@code i mod k} (so the classes are balanced to within one
 * item) and is
 * <pre>
 *   x[t] = a1 sin(2π f1 t + φ1) + a2 sin(2π f2 t + φ2) + σ n[t],   t = 0 .. L-1
 * </pre>
 * with {@code f1, f2} uniform in {@code band(c)} (not on DFT bins, so there is leakage as in real
 * signals), phases {@code φ} uniform in {@code [0, 2π)}, amplitudes {@code a} uniform in
 * {@code [0.75, 1.25]} and {@code n[t]} independent standard Gaussian noise (white: power
 * {@code σ²} per sample in all, spread evenly over the spectrum, so every band gets its share).
 *
 * <h2>What band-limiting removes</h2>
 * A band limit that keeps only frequencies below {@code f_cut} removes the whole signal of every
 * class whose band lies above {@code f_cut}: those classes become the same low-passed noise and
 * cannot be told apart, while they still differ from the kept classes (which have signal there).
 * With {@code m} classes removed completely the best accuracy is therefore at most about
 * {@code (k - m + 1) / k} (one guess among the merged classes): with the defaults, keeping half
 * the spectrum ({@code f_cut = 0.25}) keeps classes 0 and 1 and merges 2 and 3, at most about
 * 75 %; keeping a quarter merges 1, 2 and 3, at most about 50 %. A class whose band straddles
 * {@code f_cut} keeps part of its signal.
 *
 * <h2>Random streams</h2>
 * A {@code SplittableRandom(seed)} is split once for the training set and once for the test set,
 * so changing the test count leaves the training set as it was. Per item the draws are, in order:
 * {@code f1, φ1, a1, f2, φ2, a2}, then the {@code L} noise values (Box–Muller, one pair of
 * uniforms per two values).
 *
 * @param classes number of classes {@code k}, from 1 to {@code length / 4} (so that every band is
 *     wider than a DFT bin)
 * @param length series length {@code L}, at least 8
 * @param trainCount training series, at least 1
 * @param testCount test series, at least 0
 * @param noiseSigma standard deviation {@code σ} of the noise, finite and at least 0
 * @param seed the seed; every other parameter equal, different seeds give different sets
 */
public record SyntheticSeries(int classes, int length, int trainCount, int testCount, double noiseSigma, long seed) {
    public static final int DEFAULT_CLASSES = 4;
    public static final int DEFAULT_LENGTH = 128;
    public static final int DEFAULT_TRAIN_COUNT = 400;
    public static final int DEFAULT_TEST_COUNT = 400;
    public static final double DEFAULT_NOISE_SIGMA = 0.5;

    /** Sinusoids per series. */
    static final int COMPONENTS = 2;
    /** The part of each class's slice left empty on either side, as a fraction of the slice. */
    static final double BAND_MARGIN = 0.1;
    static final double MIN_AMPLITUDE = 0.75, MAX_AMPLITUDE = 1.25;

    private static final double TWO_PI = 2 * Math.PI;

    public SyntheticSeries {
        if (length < 8) throw new IllegalArgumentException("length = " + length + ", expected at least 8");
        if (classes < 1 || classes > length / 4) {
            throw new IllegalArgumentException("classes = " + classes + ", expected 1 to length / 4 = " + length / 4);
        }
        if (trainCount < 1) throw new IllegalArgumentException("trainCount = " + trainCount + ", expected at least 1");
        if (testCount < 0) throw new IllegalArgumentException("testCount = " + testCount + ", expected at least 0");
        if (!(noiseSigma >= 0) || Double.isInfinite(noiseSigma)) {
            throw new IllegalArgumentException("noiseSigma = " + noiseSigma + ", expected a finite number >= 0");
        }
        if ((long) Math.max(trainCount, testCount) * length > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException(Math.max(trainCount, testCount) + " series of length " + length + " do not fit one array");
        }
    }

    /** The defaults (4 classes, length 128, 400 training and 400 test series, σ = 0.5) with this seed. */
    public static SyntheticSeries withSeed(long seed) {
        return new SyntheticSeries(DEFAULT_CLASSES, DEFAULT_LENGTH, DEFAULT_TRAIN_COUNT, DEFAULT_TEST_COUNT, DEFAULT_NOISE_SIGMA, seed);
    }

    public SyntheticSeries withClasses(int classes) {
        return new SyntheticSeries(classes, length, trainCount, testCount, noiseSigma, seed);
    }

    public SyntheticSeries withLength(int length) {
        return new SyntheticSeries(classes, length, trainCount, testCount, noiseSigma, seed);
    }

    public SyntheticSeries withCounts(int trainCount, int testCount) {
        return new SyntheticSeries(classes, length, trainCount, testCount, noiseSigma, seed);
    }

    public SyntheticSeries withNoiseSigma(double noiseSigma) {
        return new SyntheticSeries(classes, length, trainCount, testCount, noiseSigma, seed);
    }

    /**
     * Class {@code c}'s frequency band {@code {low, high}} in cycles per sample (see the class
     * comment).
     */
    public double[] band(int c) {
        if (c < 0 || c >= classes) throw new IndexOutOfBoundsException("class " + c + " of " + classes);
        double width = 0.5 / classes;
        return new double[] {(c + BAND_MARGIN) * width, (c + 1 - BAND_MARGIN) * width};
    }

    /** The name of the sets, without {@code "/train"} or {@code "/test"}. */
    public String name() {
        return String.format(Locale.ROOT, "synthetic-k%d-L%d-seed%d", classes, length, seed);
    }

    /** Generates the training and test sets: item shape {@code {1, length}}, {@code classes} classes. */
    public TrainTest generate() {
        SplittableRandom root = new SplittableRandom(seed);
        SplittableRandom trainRandom = root.split(), testRandom = root.split();
        return new TrainTest(generate(name() + "/train", trainCount, trainRandom), generate(name() + "/test", testCount, testRandom));
    }

    private LabeledSet generate(String setName, int count, SplittableRandom random) {
        float[] values = new float[count * length];
        int[] labels = new int[count];
        double[] series = new double[length];
        double[] noise = new double[2];
        for (int i = 0; i < count; i++) {
            int c = i % classes;
            labels[i] = c;
            double[] band = band(c);
            Arrays.fill(series, 0);
            for (int k = 0; k < COMPONENTS; k++) {
                double frequency = band[0] + (band[1] - band[0]) * random.nextDouble();
                double phase = TWO_PI * random.nextDouble();
                double amplitude = MIN_AMPLITUDE + (MAX_AMPLITUDE - MIN_AMPLITUDE) * random.nextDouble();
                for (int t = 0; t < length; t++) series[t] += amplitude * StrictMath.sin(TWO_PI * frequency * t + phase);
            }
            for (int t = 0; t < length; t += 2) {
                gaussianPair(random, noise);
                series[t] += noiseSigma * noise[0];
                if (t + 1 < length) series[t + 1] += noiseSigma * noise[1];
            }
            for (int t = 0; t < length; t++) values[i * length + t] = (float) series[t];
        }
        return new LabeledSet(setName, new long[] {1, length}, values, labels, classes);
    }

    /** Two independent standard Gaussians by Box–Muller (StrictMath, so the same everywhere). */
    private static void gaussianPair(SplittableRandom random, double[] out) {
        double u1 = 1.0 - random.nextDouble(); // in (0, 1]: log(u1) is finite
        double u2 = random.nextDouble();
        double r = StrictMath.sqrt(-2 * StrictMath.log(u1));
        out[0] = r * StrictMath.cos(TWO_PI * u2);
        out[1] = r * StrictMath.sin(TWO_PI * u2);
    }
}
