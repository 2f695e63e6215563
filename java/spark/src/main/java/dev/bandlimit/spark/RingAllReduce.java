package dev.bandlimit.spark;

import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.net.SocketTimeoutException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Function;

/**
 * A ring all-reduce of float32 vectors over TCP between the {@code world} tasks of one training
 * stage (Patarasuk and Yuan's bandwidth-optimal ring, the one NCCL and Horovod use): the vector is
 * cut into {@code world} chunks; in {@code world - 1} reduce-scatter steps each rank sends one
 * chunk to the next rank and adds the chunk it receives from the previous one, after which rank
 * {@code r} holds the full sum of chunk {@code (r + 1) mod world}; in {@code world - 1} all-gather
 * steps the summed chunks travel on around the ring. Each rank sends {@code 2 (world - 1) / world}
 * of the vector's bytes per call, however many ranks there are.
 *
 * <p>The sums are deterministic: chunk {@code c} is always summed in the same order (rank
 * {@code c}'s value, then {@code c + 1}'s, ... around the ring), whatever the timing, and every
 * rank ends with the same bits (the all-gather copies the summed chunks, it does not re-add).
 *
 * <p>Addresses: each rank listens on an ephemeral port of {@code host}, and the ranks' {@code
 * host:port} strings are exchanged through {@code allGather} (Spark's {@code
 * BarrierTaskContext.allGather}, which returns them in rank order). A rank connects to the next and
 * accepts the previous; a handshake checks the job token and ranks, so a stray connection is
 * refused. Each step sends and receives at once on non-blocking channels from the calling thread
 * (no helper thread, so the data may be any native memory the caller can access): a peer that dies
 * makes its neighbours' reads fail (end of stream), a peer that stalls for longer than the timeout
 * fails the call, and an interrupt (a Spark task kill) ends it; nothing waits forever.
 *
 * <p>Both ends must have the same byte order (the data travels in native order; checked in the
 * handshake). One instance per task, used from one thread.
 */
public final class RingAllReduce implements AutoCloseable {
    private static final int MAGIC = 0x424c5247;  // "BLRG"

    private final int rank, world;
    private final ServerSocketChannel server;
    private final SocketChannel toNext, fromPrevious;
    private final Selector selector;
    private final SelectionKey sendKey, receiveKey;
    private final long timeoutMillis;
    private final Arena arena = Arena.ofShared();
    private MemorySegment incoming = MemorySegment.NULL;
    private long bytesSent, calls, nanos;

    private RingAllReduce(int rank, int world, ServerSocketChannel server, SocketChannel toNext,
            SocketChannel fromPrevious, Duration timeout) throws IOException {
        this.rank = rank;
        this.world = world;
        this.server = server;
        this.toNext = toNext;
        this.fromPrevious = fromPrevious;
        this.timeoutMillis = Math.max(1, timeout.toMillis());
        if (world > 1) {
            selector = Selector.open();
            toNext.configureBlocking(false);
            fromPrevious.configureBlocking(false);
            sendKey = toNext.register(selector, 0);
            receiveKey = fromPrevious.register(selector, 0);
        } else {
            selector = null;
            sendKey = receiveKey = null;
        }
    }

    /**
     * Connects rank {@code rank} of {@code world} into the ring: listens on {@code host} (port
     * chosen by the system), publishes {@code host:port} through {@code allGather} (which must
     * return every rank's string in rank order), connects to rank {@code rank + 1} and accepts
     * rank {@code rank - 1}. {@code token} identifies the job (every rank must pass the same).
     * {@code timeout} bounds the wait for the neighbours' connections and, later, any wait for a
     * neighbour's bytes without progress. With {@code world == 1} nothing is opened and
     * {@link #allReduce} is the identity.
     */
    public static RingAllReduce connect(int rank, int world, String host, long token,
            Function<String, String[]> allGather, Duration timeout) {
        Duration connectTimeout = Objects.requireNonNull(timeout, "timeout");
        if (world < 1) throw new IllegalArgumentException("world must be >= 1, got " + world);
        if (rank < 0 || rank >= world) throw new IllegalArgumentException("rank must be in [0, " + world + "), got " + rank);
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(allGather, "allGather");
        if (world == 1) {
            try {
                return new RingAllReduce(0, 1, null, null, null, timeout);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        ServerSocketChannel server = null;
        SocketChannel next = null, previous = null;
        try {
            server = ServerSocketChannel.open();
            server.bind(new InetSocketAddress(host, 0), world);
            int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
            String[] addresses = allGather.apply(host + ":" + port);
            if (addresses.length != world) {
                throw new IllegalStateException("allGather returned " + addresses.length + " addresses for " + world + " ranks");
            }
            String target = addresses[(rank + 1) % world];
            int colon = target.lastIndexOf(':');
            next = SocketChannel.open();
            next.setOption(StandardSocketOptions.TCP_NODELAY, true);
            next.socket().connect(new InetSocketAddress(target.substring(0, colon),
                    Integer.parseInt(target.substring(colon + 1))), (int) connectTimeout.toMillis());
            ByteBuffer hello = ByteBuffer.allocate(17).order(ByteOrder.BIG_ENDIAN);
            hello.putInt(MAGIC).putLong(token).putInt(rank)
                    .put((byte) (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? 1 : 2)).flip();
            writeFully(next, hello);
            previous = accept(server, connectTimeout);
            previous.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ByteBuffer theirs = ByteBuffer.allocate(17).order(ByteOrder.BIG_ENDIAN);
            readFully(previous, theirs);
            theirs.flip();
            int magic = theirs.getInt();
            long theirToken = theirs.getLong();
            int theirRank = theirs.getInt();
            byte order = theirs.get();
            int expected = (rank - 1 + world) % world;
            if (magic != MAGIC || theirToken != token || theirRank != expected || order != hello.get(16)) {
                throw new IllegalStateException("rank " + rank + ": the connection from the previous rank failed its"
                        + " handshake (magic " + Integer.toHexString(magic) + ", token " + theirToken + " vs " + token
                        + ", rank " + theirRank + " vs " + expected + ", byte order " + order + " vs " + hello.get(16) + ")");
            }
            return new RingAllReduce(rank, world, server, next, previous, timeout);
        } catch (IOException | RuntimeException e) {
            closeQuietly(previous);
            closeQuietly(next);
            closeQuietly(server);
            if (e instanceof IOException io) {
                throw new UncheckedIOException("rank " + rank + " of " + world + ": cannot join the ring: " + io, io);
            }
            throw (RuntimeException) e;
        }
    }

    private static SocketChannel accept(ServerSocketChannel server, Duration timeout) throws IOException {
        // A non-blocking accept polled until the deadline: a blocking one has no timeout.
        server.configureBlocking(false);
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (true) {
                SocketChannel c = server.accept();
                if (c != null) {
                    c.configureBlocking(true);
                    return c;
                }
                if (System.nanoTime() > deadline) {
                    throw new IOException("no connection from the previous rank within " + timeout);
                }
                if (Thread.interrupted()) throw new java.nio.channels.ClosedByInterruptException();
                Thread.sleep(1);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.nio.channels.ClosedByInterruptException();
        }
    }

    public int rank() {
        return rank;
    }

    public int world() {
        return world;
    }

    /**
     * Replaces the {@code count} floats at the start of {@code data} (native memory) by their sum
     * over all ranks; every rank must call it with the same {@code count}. Returns when this
     * rank's copy is complete.
     */
    public void allReduce(MemorySegment data, long count) {
        if (count < 0 || data.byteSize() < 4 * count) {
            throw new IllegalArgumentException("count " + count + " floats do not fit the segment of " + data.byteSize() + " bytes");
        }
        if (!data.isNative()) throw new IllegalArgumentException("data must be native memory");
        calls++;
        if (world == 1 || count == 0) return;
        long start = System.nanoTime();
        long chunk = (count + world - 1) / world;
        if (incoming.byteSize() < 4 * chunk) incoming = arena.allocate(4 * chunk, 64);
        try {
            // Reduce-scatter: after step s, chunk (rank - s - 1) holds the sum of s + 2 ranks.
            for (int s = 0; s < world - 1; s++) {
                int send = Math.floorMod(rank - s, world), receive = Math.floorMod(rank - s - 1, world);
                long n = chunkLength(receive, chunk, count);
                exchange(slice(data, send, chunk, count), incoming.asSlice(0, 4 * n));
                MemorySegment target = slice(data, receive, chunk, count);
                for (long i = 0; i < n; i++) {
                    long at = 4 * i;
                    target.set(ValueLayout.JAVA_FLOAT, at, target.get(ValueLayout.JAVA_FLOAT, at)
                            + incoming.get(ValueLayout.JAVA_FLOAT, at));
                }
            }
            // All-gather: the summed chunks move on; received bytes overwrite, so all ranks agree bit for bit.
            for (int s = 0; s < world - 1; s++) {
                int send = Math.floorMod(rank + 1 - s, world), receive = Math.floorMod(rank - s, world);
                exchange(slice(data, send, chunk, count), slice(data, receive, chunk, count));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("rank " + rank + " of " + world + ": all-reduce failed: " + e, e);
        } finally {
            nanos += System.nanoTime() - start;
        }
    }

    /** Sends {@code out} to the next rank while receiving {@code in} from the previous one. */
    private void exchange(MemorySegment out, MemorySegment in) throws IOException {
        ByteBuffer outBytes = out.asByteBuffer(), inBytes = in.asByteBuffer();
        long lastProgress = System.nanoTime();
        while (outBytes.hasRemaining() || inBytes.hasRemaining()) {
            boolean progress = false;
            if (outBytes.hasRemaining()) progress |= toNext.write(outBytes) > 0;
            if (inBytes.hasRemaining()) {
                int n = fromPrevious.read(inBytes);
                if (n < 0) throw new EOFException("rank " + Math.floorMod(rank - 1, world) + " closed the connection");
                progress |= n > 0;
            }
            if (progress) {
                lastProgress = System.nanoTime();
                continue;
            }
            long waited = (System.nanoTime() - lastProgress) / 1_000_000;
            if (waited >= timeoutMillis) {
                throw new SocketTimeoutException("no progress for " + waited + " ms (rank " + Math.floorMod(rank - 1, world)
                        + " or " + (rank + 1) % world + " stalled)");
            }
            sendKey.interestOps(outBytes.hasRemaining() ? SelectionKey.OP_WRITE : 0);
            receiveKey.interestOps(inBytes.hasRemaining() ? SelectionKey.OP_READ : 0);
            selector.select(timeoutMillis - waited);
            selector.selectedKeys().clear();
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                throw new java.nio.channels.ClosedByInterruptException();
            }
        }
        bytesSent += out.byteSize();
    }

    private static long chunkLength(int c, long chunk, long count) {
        return Math.max(0, Math.min(chunk, count - c * chunk));
    }

    private static MemorySegment slice(MemorySegment data, int c, long chunk, long count) {
        return data.asSlice(4 * Math.min(c * chunk, count), 4 * chunkLength(c, chunk, count));
    }

    private static void writeFully(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    private static void readFully(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) throw new EOFException("the previous rank closed the connection");
        }
    }

    /** Bytes this rank has sent (all calls). */
    public long bytesSent() {
        return bytesSent;
    }

    /** {@link #allReduce} calls made. */
    public long calls() {
        return calls;
    }

    /** Wall time spent in {@link #allReduce} (all calls). */
    public long nanos() {
        return nanos;
    }

    /** Bytes one rank sends to all-reduce {@code count} floats among {@code world} ranks. */
    public static long bytesPerCall(long count, int world) {
        if (world == 1) return 0;
        long chunk = (count + world - 1) / world, total = 0;
        // Each rank sends world - 1 chunks in each phase; which ones depends on its rank, so this is
        // rank 0's count (the others differ by at most the short last chunk).
        for (int s = 0; s < world - 1; s++) {
            total += 4 * chunkLength(Math.floorMod(-s, world), chunk, count);
            total += 4 * chunkLength(Math.floorMod(1 - s, world), chunk, count);
        }
        return total;
    }

    @Override
    public void close() {
        if (selector != null) {
            try {
                selector.close();
            } catch (IOException ignored) {
                // closing: nothing to report
            }
        }
        closeQuietly(fromPrevious);
        closeQuietly(toNext);
        closeQuietly(server);
        arena.close();
    }

    private static void closeQuietly(java.io.Closeable c) {
        if (c == null) return;
        try {
            c.close();
        } catch (IOException ignored) {
            // closing after a failure: the first error is the one reported
        }
    }
}
