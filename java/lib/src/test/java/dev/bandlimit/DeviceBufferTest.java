package dev.bandlimit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Buffers of a context's memory: random data there and back through two buffers on every
 * backend this machine runs (the CUDA one says why it is skipped), and bad uses refused with a
 * clear exception before anything is copied.
 */
class DeviceBufferTest {

    @Test
    void randomDataRoundTripsThroughTwoBuffers() {
        for (ExecutionContext context : TestSupport.contextsOfEveryBackend("DeviceBufferTest")) {
            try (context; Arena arena = Arena.ofConfined()) {
                SplittableRandom r = new SplittableRandom(6060);
                float[] values = Reference.randomFloats(r, 1027);  // not a multiple of any alignment
                try (DeviceBuffer a = context.allocate(4L * values.length); DeviceBuffer b = context.allocate(4L * values.length + 8)) {
                    assertEquals(4L * values.length, a.bytes());
                    assertEquals(context.bufferMemory(), a.memory());
                    a.copyFrom(values);
                    b.copyFrom(a);
                    context.synchronize();
                    assertArrayEquals(values, b.toFloats(values.length), context.backend() + ": floats back");
                    MemorySegment host = arena.allocate(ValueLayout.JAVA_FLOAT, values.length);
                    b.copyTo(host);
                    assertArrayEquals(values, host.toArray(ValueLayout.JAVA_FLOAT), context.backend() + ": segment back");
                }
            }
        }
    }

    @Test
    void badUsesAreRefusedNamingTheArgument() {
        try (ExecutionContext cpu = ExecutionContext.builder(Backend.CPU).build(); Arena arena = Arena.ofConfined()) {
            assertThrows(IllegalArgumentException.class, () -> cpu.allocate(0));
            DeviceBuffer small = cpu.allocate(16);
            MemorySegment big = arena.allocate(32);
            IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class, () -> small.copyFrom(big));
            assertTrue(tooBig.getMessage().contains("32 bytes"), tooBig.getMessage());
            IllegalArgumentException heap = assertThrows(IllegalArgumentException.class,
                    () -> small.copyFrom(MemorySegment.ofArray(new float[4])));
            assertTrue(heap.getMessage().contains("native"), heap.getMessage());
            try (DeviceBuffer other = cpu.allocate(64)) {
                assertThrows(IllegalArgumentException.class, () -> small.copyFrom(other));  // larger source
            }
            try (ExecutionContext second = ExecutionContext.builder(Backend.CPU).build(); DeviceBuffer foreign = second.allocate(8)) {
                assertThrows(IllegalArgumentException.class, () -> small.copyFrom(foreign));  // another context
            }
            assertThrows(IllegalArgumentException.class, () -> small.toFloats(5));  // 20 bytes > 16
            small.close();
            small.close();  // idempotent
            assertThrows(IllegalStateException.class, () -> small.copyTo(arena.allocate(4)));
            assertTrue(small.toString().contains("closed"));
        }
    }
}
