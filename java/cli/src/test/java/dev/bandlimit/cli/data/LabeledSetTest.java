package dev.bandlimit.cli.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The common result type checks that its arrays agree. */
class LabeledSetTest {
    @Test
    void countsShapeAndClasses() {
        LabeledSet set = new LabeledSet("s", new long[] {1, 2, 3}, new float[12], new int[] {0, 2}, 3);
        assertEquals(2, set.count());
        assertEquals(6, set.itemSize());
        assertArrayEquals(new int[] {1, 0, 1}, set.classCounts());
        set.itemShape()[0] = 9; // a copy
        assertArrayEquals(new long[] {1, 2, 3}, set.itemShape());
        assertEquals("s: 2 items of shape [1, 2, 3], 3 classes", set.toString());
    }

    @Test
    void inconsistentArraysAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LabeledSet("s", new long[] {2}, new float[5], new int[] {0, 1}, 2));
        assertTrue(e.getMessage().contains("5 values for 2 items of shape [2] (expected 4)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new LabeledSet("s", new long[] {1}, new float[2], new int[] {0, 2}, 2));
        assertTrue(e.getMessage().contains("label 2 of item 1 is not in 0..1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new LabeledSet("s", new long[] {0}, new float[0], new int[0], 1));
        assertThrows(IllegalArgumentException.class, () -> new LabeledSet("s", new long[0], new float[0], new int[0], 1));
        assertThrows(IllegalArgumentException.class, () -> new TrainTest(
                new LabeledSet("a", new long[] {2}, new float[2], new int[1], 2), new LabeledSet("b", new long[] {3}, new float[3], new int[1], 2)));
    }
}
