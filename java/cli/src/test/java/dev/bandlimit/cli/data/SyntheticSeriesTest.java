package dev.bandlimit.cli.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The generator: deterministic per seed, different across seeds, balanced, and its classes
 * really live in their documented bands (a naive DFT here, independent of the generator).
 */
class SyntheticSeriesTest {
    final SyntheticSeries defaults = SyntheticSeries.withSeed(42);

    @Test
    void sameSeedSameSetsBitForBit() {
        TrainTest a = defaults.generate(), b = SyntheticSeries.withSeed(42).generate();
        assertArrayEquals(a.train().values(), b.train().values());
        assertArrayEquals(a.test().values(), b.test().values());
        assertArrayEquals(a.train().labels(), b.train().labels());
        assertEquals("synthetic-k4-L128-seed42/train", a.train().name());
        assertArrayEquals(new long[] {1, 128}, a.train().itemShape());
        assertEquals(4, a.train().classes());
        assertEquals(400, a.train().count());
        assertEquals(400, a.test().count());
    }

    @Test
    void otherSeedOtherValuesAndTrainAndTestDiffer() {
        TrainTest a = defaults.generate(), b = SyntheticSeries.withSeed(43).generate();
        assertFalse(Arrays.equals(a.train().values(), b.train().values()));
        assertFalse(Arrays.equals(a.test().values(), b.test().values()));
        assertFalse(Arrays.equals(a.train().values(), a.test().values()));
    }

    @Test
    void testCountLeavesTheTrainingSetAlone() {
        TrainTest few = defaults.withCounts(400, 3).generate();
        assertArrayEquals(defaults.generate().train().values(), few.train().values());
        assertEquals(3, few.test().count());
    }

    @Test
    void classesAreBalanced() {
        assertArrayEquals(new int[] {100, 100, 100, 100}, defaults.generate().train().classCounts());
        assertArrayEquals(new int[] {3, 3, 2, 2}, defaults.withCounts(10, 0).generate().train().classCounts());
        assertArrayEquals(new int[] {2, 2, 2, 1, 1, 1}, defaults.withClasses(6).withCounts(9, 9).generate().test().classCounts());
    }

    @Test
    void bandsAreDisjointAndBelowNyquist() {
        assertArrayEquals(new double[] {0.0125, 0.1125}, defaults.band(0), 1e-15);
        assertArrayEquals(new double[] {0.3875, 0.4875}, defaults.band(3), 1e-15);
        SyntheticSeries eight = defaults.withClasses(8);
        for (int c = 1; c < 8; c++) assertTrue(eight.band(c)[0] > eight.band(c - 1)[1]);
        assertTrue(eight.band(7)[1] < 0.5);
        assertThrows(IndexOutOfBoundsException.class, () -> defaults.band(4));
    }

    /**
     * Mean DFT power per bin of each class in each class's band (power {@code |X_j|² / L}, so
     * white noise gives {@code σ² = 0.25} in every bin): in each band the class that owns it has
     * more than ten times the power of any other class (about 5 against the noise floor of 0.25
     * for this seed), and the high classes far more power at high frequencies than the low
     * classes, which is what a low-pass band limit removes.
     */
    @Test
    void eachClassLivesInItsOwnBand() {
        LabeledSet set = defaults.generate().train();
        int k = set.classes(), length = 128;
        double[][] power = new double[k][k]; // [class][band]
        float[] x = set.values();
        for (int i = 0; i < set.count(); i++) {
            for (int band = 0; band < k; band++) {
                double[] f = defaults.band(band);
                double sum = 0;
                int bins = 0;
                for (int j = (int) Math.ceil(f[0] * length); j <= (int) Math.floor(f[1] * length); j++, bins++) {
                    double re = 0, im = 0;
                    for (int t = 0; t < length; t++) {
                        double angle = 2 * Math.PI * j * t / length;
                        re += x[i * length + t] * Math.cos(angle);
                        im -= x[i * length + t] * Math.sin(angle);
                    }
                    sum += (re * re + im * im) / length;
                }
                power[set.labels()[i]][band] += sum / bins;
            }
        }
        for (int c = 0; c < k; c++) {
            for (int band = 0; band < k; band++) {
                if (band != c) assertTrue(power[c][c] > 10 * power[band][c], "class " + c + " vs " + band + ": " + Arrays.deepToString(power));
            }
        }
        double highOfHigh = power[2][2] + power[2][3] + power[3][2] + power[3][3];
        double highOfLow = power[0][2] + power[0][3] + power[1][2] + power[1][3];
        assertTrue(highOfHigh > 10 * highOfLow, Arrays.deepToString(power));
    }

    @Test
    void noiseSigmaScalesTheNoise() {
        float[] quiet = defaults.withNoiseSigma(0).withCounts(1, 0).generate().train().values();
        float[] noisy = defaults.withCounts(1, 0).generate().train().values();
        double difference = 0;
        for (int t = 0; t < quiet.length; t++) difference += (noisy[t] - quiet[t]) * (noisy[t] - quiet[t]);
        assertEquals(0.25, difference / quiet.length, 0.1); // σ² = 0.25, estimated from 128 samples
        for (float v : quiet) assertTrue(Math.abs(v) <= 2 * SyntheticSeries.MAX_AMPLITUDE);
    }

    @Test
    void badParametersAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> defaults.withLength(7));
        assertThrows(IllegalArgumentException.class, () -> defaults.withClasses(0));
        assertThrows(IllegalArgumentException.class, () -> defaults.withClasses(33)); // more than 128 / 4
        assertThrows(IllegalArgumentException.class, () -> defaults.withCounts(0, 1));
        assertThrows(IllegalArgumentException.class, () -> defaults.withCounts(1, -1));
        assertThrows(IllegalArgumentException.class, () -> defaults.withNoiseSigma(-1));
        assertThrows(IllegalArgumentException.class, () -> defaults.withNoiseSigma(Double.NaN));
    }
}
