package dev.bandlimit.nn.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.bandlimit.Compression;
import dev.bandlimit.Tensor;
import dev.bandlimit.nn.Conv2d;
import dev.bandlimit.nn.Functional;
import dev.bandlimit.nn.GradCheck;
import dev.bandlimit.nn.Parameter;
import dev.bandlimit.nn.Sequential;
import dev.bandlimit.nn.Tape;
import dev.bandlimit.nn.Var;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Finite-difference gradient checks ({@link GradCheck}) of a {@link BasicBlock} with band-limited
 * convolutions, every parameter and the input at once: with a projection shortcut (stride 2, 2 ->
 * 3 channels, so the band-limited 1x1 stride-2 convolution is checked too) and with the identity
 * shortcut, at rho = 0 and rho = 0.5.
 *
 * <p>The check differentiates the block's own forward (fused batch norm + ReLU, the residual sum,
 * the final ReLU). Its smooth region (the signs of both ReLUs' inputs, the boxes) is read from a
 * second forward composed of the block's parts on a tape of its own, whose output must equal the
 * block's bit for bit, so the region is the block's.
 *
 * <p>Tolerance as {@code ModelGradientTest}'s, for the same reason: batch norm (over only 2 x 4 x 4
 * values per channel after the stride) makes some directional derivatives small (those of the
 * input and of the weights before a batch norm), the ReLUs force h down towards 2^-12 where a
 * perturbed forward would change a sign, and the float32 rounding of the forward, ~1e-9 in
 * {@code L = <y, r>}, over such h is ~1e-3 of the smallest derivatives. Hence 1e-2; the worst
 * errors seen are 4e-5 and 4e-4 (projection, rho 0 and 0.5) and 2e-4 and 1e-4 (identity),
 * against O(1e-1) and more for a wrong gradient.
 */
class BasicBlockGradientTest {
    private static final double TOLERANCE = 1e-2;
    private static final double MIN_STEP = 0x1.0p-12;

    @ParameterizedTest(name = "projection, rho = {0}")
    @ValueSource(doubles = {0.0, 0.5})
    void projectionShortcut(double rho) {
        check(rho, 2, 3, 2, "block with projection rho " + rho);
    }

    @ParameterizedTest(name = "identity, rho = {0}")
    @ValueSource(doubles = {0.0, 0.5})
    void identityShortcut(double rho) {
        check(rho, 3, 3, 1, "block with identity rho " + rho);
    }

    private static void check(double rho, long in, long out, long stride, String what) {
        SplittableRandom random = new SplittableRandom(41);
        Compression c = Compression.fixed(rho);
        try (Arena arena = Arena.ofConfined(); BasicBlock block = new BasicBlock(in, out, stride, c, c, 1)) {
            assertEquals(stride == 1 && in == out, block.shortcut() == null);
            List<Parameter> params = block.parameters();
            assertEquals(block.shortcut() == null ? 6 : 9, params.size());
            GradCheck.quantizeParameters(params, 0.5, random);
            Tensor x = Tensor.allocate(arena, 2, in, 8, 8);
            GradCheck.fillQuantized(x, 2, random);
            GradCheck.check(what, (tape, inputs, region) -> {
                Var y = block.forward(tape, inputs[0]);
                try (Tape shadow = new Tape(true, null)) {
                    Var composed = composedForward(shadow, block, shadow.input(inputs[0].data()), region);
                    assertArrayEquals(composed.data().toArray(), y.data().toArray(), "composed forward differs");
                }
                return y;
            }, GradCheck.DOT, new Tensor[] {x}, params, 13, MIN_STEP, TOLERANCE);
            if (rho > 0) {
                // At rho 0.5: conv1's 8x8 pad 1 (grid 10x10) discards 0.25; conv2's 4x4 pad 1 after
                // the stride (grid 6x6) 0.375, or 0.25 on 8x8; the 1x1 projection's 8x8 (grid 8x8) 0.3.
                assertEquals(0.25, block.conv1().lastAchievedRate(), 1e-12);
                assertEquals(stride == 2 ? 0.375 : 0.25, block.conv2().lastAchievedRate(), 1e-12);
                if (block.shortcut() != null) assertEquals(0.3, block.convolutions().get(2).lastAchievedRate(), 1e-12);
            } else {
                for (Conv2d conv : block.convolutions()) assertEquals(0.0, conv.lastAchievedRate());
            }
        }
    }

    /** The block's forward from its parts, unfused, noting each ReLU input's signs and the boxes. */
    static Var composedForward(Tape tape, BasicBlock b, Var x, List<Object> region) {
        Var h = b.bn1().forward(tape, b.conv1().forward(tape, x));
        region.add(GradCheck.positive(h.data()));
        h = Functional.relu(tape, h);
        h = b.bn2().forward(tape, b.conv2().forward(tape, h));
        Sequential shortcut = b.shortcut();
        Var skip = shortcut == null ? x : shortcut.forward(tape, x);
        Var sum = Functional.add(tape, h, skip);
        region.add(GradCheck.positive(sum.data()));
        for (Conv2d conv : b.convolutions()) region.add(conv.lastBox());
        return Functional.relu(tape, sum);
    }
}
