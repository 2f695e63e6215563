package dev.bandlimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The paper's method as a baseline: its plans take power-of-two FFT lengths >= padded input +
 * kernel - 1, and at rho 0 compute the same dense convolution as the library's operator (both are
 * exact there) to float32 rounding.
 */
class ConvMethodTest {

    private static ConvPlan.Builder builder() {
        // 9 x 7 input, pad 1, 3 x 3: padded 11 x 9, so 7-smooth 12 x 9 and powers of two 16 x 16.
        return ConvPlan.conv2d().maxBatch(2).channels(3).input(9, 7).filters(4).kernel(3, 3)
                .padding(Padding.symmetric(1));
    }

    @Test
    void paperBaselineTakesPowerOfTwoLengthsAndAgreesAtRhoZero() {
        try (Arena arena = Arena.ofConfined()) {
            ConvPlan ours = builder().build(arena);
            ConvPlan paper = builder().method(ConvMethod.PAPER_BASELINE).build(arena);
            assertEquals(new FftLengths(12, 9), ours.fftLengths());
            assertEquals(new FftLengths(16, 16), paper.fftLengths());
            SplittableRandom r = new SplittableRandom(3131);
            float[] x = Reference.randomFloats(r, 2 * 3 * 9 * 7);
            float[] w = Reference.randomFloats(r, 4 * 3 * 3 * 3);
            float[] b = Reference.randomFloats(r, 4);
            float[] dy = Reference.randomFloats(r, 2 * 4 * 9 * 7);
            TestSupport.Result a = TestSupport.forwardBackward(ours, 2, x, w, b, dy);
            TestSupport.Result p = TestSupport.forwardBackward(paper, 2, x, w, b, dy);
            for (float[][] pair : new float[][][] {{a.y(), p.y()}, {a.dx(), p.dx()}, {a.dw(), p.dw()}, {a.db(), p.db()}}) {
                double[] ref = new double[pair[0].length];
                for (int i = 0; i < ref.length; i++) ref[i] = pair[0][i];
                double e = Reference.relErr(pair[1], ref);
                assertTrue(e < 1e-5, "relative difference " + e);
            }
        }
    }
}
