package dev.bandlimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

/**
 * The plan limits ({@code include/bandlimit.h}, "Plan limits") from Java: an absurd size is a
 * {@link PlanTooLargeException} naming the field, thrown at once and before anything is
 * allocated; a plan over {@link ConvPlan.Builder#maxBytes} likewise, and raising the limit
 * builds it.
 */
class PlanLimitsTest {
    private static ConvPlan.Builder small() {
        return ConvPlan.conv2d().maxBatch(2).channels(3).input(9, 11).filters(4).kernel(3, 3)
                .padding(Padding.symmetric(1)).compression(Compression.fixed(0.5));
    }

    @Test
    void aPlanForA2To31WideInputIsRefusedInUnderASecondNamingTheWidth() {
        long before = Bandlimit.allocatedBytes();
        try (Arena arena = Arena.ofConfined()) {
            long t0 = System.nanoTime();
            PlanTooLargeException e = assertThrows(PlanTooLargeException.class,
                    () -> small().input(9, 1L << 31).build(arena));
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertTrue(seconds < 1.0, "refused after " + seconds + " s");
            assertEquals("width", e.argument());
            assertEquals(Status.TOO_LARGE, e.status());
            assertTrue(e.getMessage().contains("BL_MAX_FFT_LENGTH = " + ConvPlan.MAX_FFT_LENGTH), e.getMessage());
            assertTrue(e.getMessage().contains("2147483648"), e.getMessage());
        }
        assertEquals(before, Bandlimit.allocatedBytes());
    }

    @Test
    void paddingAndTheHeightAndA1dLengthAreNamedToo() {
        try (Arena arena = Arena.ofConfined()) {
            assertEquals("pad_left", assertThrows(PlanTooLargeException.class,
                    () -> small().padding(Padding.of(1, 1, 1L << 40, 1)).build(arena)).argument());
            assertEquals("height", assertThrows(PlanTooLargeException.class,
                    () -> small().input(1L << 31, 11).build(arena)).argument());
            assertEquals("length", assertThrows(PlanTooLargeException.class,
                    () -> ConvPlan.conv1d().channels(1).length(1L << 31).filters(1).kernel(3).build(arena)).argument());
        }
    }

    @Test
    void maxBytesRefusesAPlanOverItAndRaisingItBuildsThePlan() {
        try (Arena arena = Arena.ofConfined()) {
            ConvPlan plan = small().build(arena);
            long need = plan.workspaceBytes() + plan.savedSpectraBytes();
            PlanTooLargeException e = assertThrows(PlanTooLargeException.class,
                    () -> small().maxBytes(need / 2).build(arena));
            assertEquals("options.max_bytes", e.argument());
            assertTrue(e.getMessage().contains("raise options.max_bytes"), e.getMessage());
            // A batch whose saved spectra alone exceed the 16 GiB default: refused by default,
            // built when the caller raises the limit (the big buffers are the caller's to allocate).
            ConvPlan.Builder huge = small().maxBatch(1L << 26);
            assertThrows(PlanTooLargeException.class, () -> huge.build(arena));
            ConvPlan built = huge.maxBytes(Long.MAX_VALUE).build(arena);
            assertTrue(built.savedSpectraBytes() > ConvPlan.DEFAULT_MAX_PLAN_BYTES);
        }
    }

    @Test
    void aNegativeMaxBytesIsRefusedByName() {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> small().maxBytes(-1));
        assertEquals("maxBytes", e.argument());
    }
}
