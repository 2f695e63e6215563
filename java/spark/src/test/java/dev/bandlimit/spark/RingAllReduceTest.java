package dev.bandlimit.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The ring all-reduce between threads of one JVM over loopback TCP, addresses exchanged by an
 * in-memory all-gather: sums against float64 sums of the same floats on fresh random data, for
 * 1..5 ranks and lengths around the chunking edges (0, fewer floats than ranks, uneven chunks);
 * every rank ends with the same bits; a repeated run gives the same bits (the order of the sum does
 * not depend on timing); the bytes each rank sends; a rank that dies fails its neighbours instead
 * of hanging them, a rank that stalls fails them after the timeout, an interrupt (a Spark task
 * kill) ends a waiting call.
 */
class RingAllReduceTest {

    /** An all-gather for {@code world} threads: each contributes a string, all get every one in rank order. */
    private static final class Gather {
        private final String[] slots;
        private final CyclicBarrier barrier;

        Gather(int world) {
            slots = new String[world];
            barrier = new CyclicBarrier(world);
        }

        Function<String, String[]> forRank(int rank) {
            return s -> {
                slots[rank] = s;
                try {
                    barrier.await(30, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                return slots.clone();
            };
        }
    }

    /** Each rank's input, all-reduced; returns each rank's result. */
    private static float[][] run(float[][] inputs, int rounds) throws Exception {
        int world = inputs.length;
        Gather gather = new Gather(world);
        ExecutorService pool = Executors.newFixedThreadPool(world);
        try {
            List<Future<float[]>> results = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                int rank = r;
                results.add(pool.submit(() -> {
                    try (Arena arena = Arena.ofConfined();
                            RingAllReduce ring = RingAllReduce.connect(rank, world, "127.0.0.1", 42, gather.forRank(rank),
                                    Duration.ofSeconds(30))) {
                        int n = inputs[rank].length;
                        MemorySegment data = arena.allocate(Math.max(4, 4L * n), 64);
                        float[] out = null;
                        for (int round = 0; round < rounds; round++) {
                            MemorySegment.copy(inputs[rank], 0, data, ValueLayout.JAVA_FLOAT, 0, n);
                            ring.allReduce(data, n);
                            out = data.asSlice(0, 4L * n).toArray(ValueLayout.JAVA_FLOAT);
                        }
                        assertEquals(rounds, ring.calls());
                        long expected = RingAllReduce.bytesPerCall(n, world);
                        if (rank == 0) assertEquals(expected * rounds, ring.bytesSent(), "rank 0's bytes");
                        long chunk = (n + world - 1) / world;
                        assertTrue(Math.abs(ring.bytesSent() - expected * rounds) <= 8L * chunk * rounds,
                                "rank " + rank + " sent " + ring.bytesSent());
                        return out;
                    }
                }));
            }
            float[][] out = new float[world][];
            for (int r = 0; r < world; r++) out[r] = results.get(r).get(60, TimeUnit.SECONDS);
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void sumsMatchFloat64AndEveryRankHasTheSameBits() throws Exception {
        SplittableRandom random = new SplittableRandom(0x51ab);
        for (int world = 1; world <= 5; world++) {
            for (int n : new int[] {0, 1, world - 1, world, 7, 1000, 4099}) {
                if (n < 0) continue;
                float[][] inputs = new float[world][n];
                for (float[] v : inputs) for (int i = 0; i < n; i++) v[i] = (float) (random.nextGaussian() * Math.exp(random.nextGaussian()));
                float[][] out = run(inputs, 2);
                for (int i = 0; i < n; i++) {
                    double exact = 0, magnitude = 0;
                    for (float[] v : inputs) {
                        exact += v[i];
                        magnitude += Math.abs(v[i]);
                    }
                    // world - 1 float32 additions: each rounds by at most 2^-24 of the partial sum.
                    double bound = (world - 1) * 0x1p-24 * magnitude * 1.01;
                    assertTrue(Math.abs(out[0][i] - exact) <= bound, "world " + world + ", n " + n + ", element " + i
                            + ": " + out[0][i] + " vs " + exact);
                }
                for (int r = 1; r < world; r++) assertArrayEquals(out[0], out[r], "rank " + r + " of " + world + ", n " + n);
                if (world > 2 && n > 0) assertArrayEquals(out[0], run(inputs, 1)[0], "a second run, world " + world);
            }
        }
    }

    @Test
    void theSumOrderIsFixedByTheRingNotByTiming() throws Exception {
        // Values whose float32 sum depends on the order: the result must match the ring's fixed order
        // (chunk c summed from rank c on), on every run.
        int world = 3, n = 6;
        float[][] inputs = {{1e8f, 1, 1, 1e8f, 1, 1}, {1, -1e8f, 1, 1, -1e8f, 1}, {-1e8f, 1, -1e8f, -1e8f, 1, -1e8f}};
        float[] first = run(inputs, 1)[0];
        for (int i = 0; i < 5; i++) assertArrayEquals(first, run(inputs, 1)[0], "run " + i);
        long chunk = (n + world - 1) / world;
        for (int i = 0; i < n; i++) {
            int c = (int) (i / chunk);
            float sum = inputs[c][i];
            for (int k = 1; k < world; k++) sum = inputs[(c + k) % world][i] + sum;
            assertEquals(sum, first[i], "element " + i);
        }
    }

    @Test
    void aRankThatDiesFailsItsNeighboursInsteadOfHangingThem() throws Exception {
        int world = 3;
        Gather gather = new Gather(world);
        ExecutorService pool = Executors.newFixedThreadPool(world);
        try {
            List<Future<?>> results = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                int rank = r;
                results.add(pool.submit(() -> {
                    try (Arena arena = Arena.ofConfined();
                            RingAllReduce ring = RingAllReduce.connect(rank, world, "127.0.0.1", 7, gather.forRank(rank),
                                    Duration.ofSeconds(30))) {
                        MemorySegment data = arena.allocate(4L * 1 << 20, 64);
                        if (rank == 1) throw new IllegalStateException("rank 1 dies before the all-reduce");
                        ring.allReduce(data, 1 << 20);
                    }
                    return null;
                }));
            }
            for (int r = 0; r < world; r++) {
                int rank = r;
                ExecutionException e = assertThrows(ExecutionException.class, () -> results.get(rank).get(30, TimeUnit.SECONDS),
                        "rank " + rank + " fails within 30 s");
                if (rank != 1) assertInstanceOf(java.io.UncheckedIOException.class, e.getCause(), "rank " + rank);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Two ranks; rank 1 joins the ring but never all-reduces. Returns rank 0's failure. */
    private static Throwable rankZeroFailureWhenRankOneStalls(Duration timeout, boolean interruptRankZero) throws Exception {
        Gather gather = new Gather(2);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        try {
            Future<?> stalled = pool.submit(() -> {
                try (RingAllReduce ring = RingAllReduce.connect(1, 2, "127.0.0.1", 3, gather.forRank(1), timeout)) {
                    done.await(60, TimeUnit.SECONDS);
                }
                return null;
            });
            Thread[] worker = new Thread[1];
            Future<?> waiting = pool.submit(() -> {
                worker[0] = Thread.currentThread();
                try (Arena arena = Arena.ofConfined();
                        RingAllReduce ring = RingAllReduce.connect(0, 2, "127.0.0.1", 3, gather.forRank(0), timeout)) {
                    MemorySegment data = arena.allocate(4L << 20, 64);
                    ring.allReduce(data, 1 << 20);
                }
                return null;
            });
            if (interruptRankZero) {
                Thread.sleep(500);
                worker[0].interrupt();
            }
            ExecutionException e = assertThrows(ExecutionException.class, () -> waiting.get(30, TimeUnit.SECONDS));
            done.countDown();
            stalled.get(30, TimeUnit.SECONDS);
            return e.getCause();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aStalledPeerFailsTheCallAfterTheTimeout() throws Exception {
        long start = System.nanoTime();
        Throwable t = rankZeroFailureWhenRankOneStalls(Duration.ofMillis(800), false);
        double seconds = (System.nanoTime() - start) / 1e9;
        assertInstanceOf(java.io.UncheckedIOException.class, t);
        assertInstanceOf(java.net.SocketTimeoutException.class, t.getCause(), t.toString());
        assertTrue(seconds < 10, "failed after " + seconds + " s");
    }

    @Test
    void anInterruptEndsAWaitingCall() throws Exception {
        Throwable t = rankZeroFailureWhenRankOneStalls(Duration.ofSeconds(60), true);
        assertInstanceOf(java.io.UncheckedIOException.class, t);
        assertInstanceOf(java.nio.channels.ClosedByInterruptException.class, t.getCause(), t.toString());
    }

    @Test
    void badArgumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> RingAllReduce.connect(2, 2, "127.0.0.1", 0, s -> new String[] {s}, Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> RingAllReduce.connect(0, 0, "127.0.0.1", 0, s -> new String[] {s}, Duration.ofSeconds(1)));
        try (RingAllReduce one = RingAllReduce.connect(0, 1, "127.0.0.1", 0, s -> new String[] {s}, Duration.ofSeconds(1));
                Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(16);
            assertThrows(IllegalArgumentException.class, () -> one.allReduce(data, 5));
            assertThrows(IllegalArgumentException.class, () -> one.allReduce(MemorySegment.ofArray(new float[4]), 4));
            data.set(ValueLayout.JAVA_FLOAT, 0, 2.5f);
            one.allReduce(data, 4);
            assertEquals(2.5f, data.get(ValueLayout.JAVA_FLOAT, 0));
        }
    }
}
