package dev.bandlimit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bandlimit.Compression;
import dev.bandlimit.Padding;
import org.junit.jupiter.api.Test;

/** The builders make the same layers as the positional constructors. */
class ConvBuilderTest {

    @Test
    void conv2dBuilderEqualsConstructor() {
        Compression train = Compression.fixed(0.5), eval = Compression.fixed(0.25);
        try (Conv2d a = new Conv2d(3, 8, 5, 3, Padding.of(2, 2, 1, 1), 2, true, train, eval, 42);
                Conv2d b = Conv2d.builder(3, 8).kernel(5, 3).padding(Padding.of(2, 2, 1, 1)).stride(2)
                        .compression(train).evalCompression(eval).seed(42).build()) {
            assertArrayEquals(a.weight().data().toArray(), b.weight().data().toArray());
            assertArrayEquals(a.bias().data().toArray(), b.bias().data().toArray());
            assertEquals(a.kernelH(), b.kernelH());
            assertEquals(a.kernelW(), b.kernelW());
            assertEquals(a.stride(), b.stride());
            assertEquals(a.padding(), b.padding());
            assertEquals(eval, b.evalCompression());
            assertEquals(train, b.trainCompression());
        }
    }

    @Test
    void conv1dBuilderDefaultsAndEvalFollowsTrain() {
        try (Conv1d c = Conv1d.builder(2, 4).kernel(7).padding(Padding.same1d(7)).bias(false)
                .compression(Compression.fixed(0.75)).build()) {
            assertEquals(7, c.kernel());
            assertEquals(1, c.stride());
            assertNull(c.bias());
            assertEquals(Compression.fixed(0.75), c.evalCompression());
        }
        try (Conv2d d = Conv2d.builder(1, 1).build()) {
            assertEquals(3, d.kernelH());
            assertEquals(3, d.kernelW());
            assertEquals(Compression.none(), d.trainCompression());
        }
        assertThrows(IllegalStateException.class, () -> Conv1d.builder(1, 1).kernel(3, 3));
    }
}
