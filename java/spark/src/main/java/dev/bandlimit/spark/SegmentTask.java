package dev.bandlimit.spark;

import dev.bandlimit.Compression;
import dev.bandlimit.Tensor;
import dev.bandlimit.nn.Adam;
import dev.bandlimit.nn.Checkpoint;
import dev.bandlimit.nn.Functional;
import dev.bandlimit.nn.LearningRateSchedule;
import dev.bandlimit.nn.Optimizer;
import dev.bandlimit.nn.Parameter;
import dev.bandlimit.nn.Sgd;
import dev.bandlimit.nn.Tape;
import dev.bandlimit.nn.Var;
import dev.bandlimit.nn.models.Model;
import java.io.Serializable;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.broadcast.Broadcast;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction1;

/**
 * One worker's task of a segment: its rows into native memory, the model and optimizer from the
 * broadcast state, the ring, then the segment's steps.
 */
final class SegmentTask extends AbstractFunction1<Iterator<TrainingItem>, Iterator<SegmentResult>>
        implements Serializable {
    private static final long serialVersionUID = 1L;

    private final Segment segment;
    private final Broadcast<ModelState> state;
    private final Broadcast<OptimizerState> optimizerState;

    SegmentTask(Segment segment, Broadcast<ModelState> state, Broadcast<OptimizerState> optimizerState) {
        this.segment = segment;
        this.state = state;
        this.optimizerState = optimizerState;
    }

    @Override
    public Iterator<SegmentResult> apply(Iterator<TrainingItem> rows) {
        long started = System.nanoTime();
        BarrierTaskContext ctx = BarrierTaskContext.get();
        int rank = ctx.partitionId(), world = ctx.getTaskInfos().length;
        DataParallelTrainer.Config config = segment.config();
        if (world != config.workers()) {
            throw new IllegalStateException("the stage has " + world + " tasks, the training " + config.workers() + " workers");
        }
        if (config.nativeThreads() > 0) dev.bandlimit.Bandlimit.setNumThreads(config.nativeThreads());
        String host = config.ringHost() != null ? config.ringHost() : hostOf(ctx.getTaskInfos()[rank].address());
        SegmentResult result;
        try (Arena arena = Arena.ofShared();
                RingAllReduce ring = RingAllReduce.connect(rank, world, host, segment.token(), ctx::allGather,
                        Duration.ofMillis(config.connectTimeoutMillis()))) {
            result = new Worker(segment, rank, world, arena, ring, ctx, started).run(CollectionConverters.asJava(rows),
                    state.value(), optimizerState.value());
            ctx.barrier();  // nobody closes its sockets while a neighbour still reads
        }
        return CollectionConverters.asScala(List.of(result).iterator());
    }

    static String hostOf(String address) {
        int colon = address.lastIndexOf(':');
        return colon > 0 ? address.substring(0, colon) : address;
    }

    /** The training loop of one worker. */
    private static final class Worker {
        private final Segment segment;
        private final DataParallelTrainer.Config config;
        private final int rank, world;
        private final Arena arena;
        private final RingAllReduce ring;
        private final BarrierTaskContext ctx;
        private final ModelSpec spec;
        private final long started;
        private double setupSeconds;

        Worker(Segment segment, int rank, int world, Arena arena, RingAllReduce ring, BarrierTaskContext ctx, long started) {
            this.started = started;
            this.segment = segment;
            this.config = segment.config();
            this.rank = rank;
            this.world = world;
            this.arena = arena;
            this.ring = ring;
            this.ctx = ctx;
            this.spec = segment.spec();
        }

        SegmentResult run(java.util.Iterator<TrainingItem> rows, ModelState start, OptimizerState startOptimizer) {
            int itemSize = spec.itemSize();
            long n = segment.items();
            long held = Math.max(0, (n - rank + world - 1) / world);  // rows rank, rank + world, ...
            MemorySegment features = arena.allocate(Math.max(4, 4 * held * itemSize), 64);
            int[] labels = new int[Math.toIntExact(held)];
            long seen = 0;
            while (rows.hasNext()) {
                TrainingItem item = rows.next();
                long local = item.index() / world;
                if (item.index() % world != rank || local >= held) {
                    throw new IllegalStateException("worker " + rank + " of " + world + " got row " + item.index());
                }
                MemorySegment.copy(MemorySegment.ofArray(item.features()), 0, features, 4 * local * itemSize, 4L * itemSize);
                labels[(int) local] = item.label();
                seen++;
            }
            if (seen != held) throw new IllegalStateException("worker " + rank + " holds " + seen + " rows, expected " + held);

            Compression train = Checkpoint.parseCompression(config.trainCompression(), Path.of("<config>"));
            try (Model model = spec.create(train, train, config.seed())) {
                start.restoreInto(model.network());
                List<Parameter> params = model.network().parameters();
                try (Optimizer optimizer = optimizer(params)) {
                    startOptimizer.restoreInto(config.optimizer(), optimizer);
                    List<StepReport> reports = steps(model, params, optimizer, features, labels);
                    averageBuffers(model);
                    long checksum = checksum(model);
                    return rank == 0
                            ? new SegmentResult(rank, setupSeconds, reports, checksum,
                                    ModelState.snapshot(model.network(), spec.name(), train, config.seed()),
                                    OptimizerState.snapshot(config.optimizer(), optimizer))
                            : new SegmentResult(rank, setupSeconds, reports, checksum, null, null);
                }
            }
        }

        private Optimizer optimizer(List<Parameter> params) {
            return config.optimizer().equals("adam")
                    ? new Adam(params, config.learningRate(), 0.9, 0.999, 1e-8, config.weightDecay())
                    : new Sgd(params, config.learningRate(), config.momentum(), config.weightDecay());
        }

        private List<StepReport> steps(Model model, List<Parameter> params, Optimizer optimizer, MemorySegment features,
                int[] labels) {
            int itemSize = spec.itemSize(), batch = config.batchSize();
            long n = segment.items(), perEpoch = segment.stepsPerEpoch();
            long gradients = 0;
            for (Parameter p : params) gradients += p.elementCount();
            // The gradients, then the loss sum: one all-reduce per step.
            MemorySegment flat = arena.allocate(4 * (gradients + 1), 64);
            MemorySegment input = arena.allocate(4L * batch * itemSize, 64);
            LearningRateSchedule schedule = config.schedule().equals("cosine")
                    ? LearningRateSchedule.cosine(config.learningRate(), segment.total(), 0)
                    : LearningRateSchedule.constant(config.learningRate());
            List<StepReport> reports = new ArrayList<>();
            setupSeconds = (System.nanoTime() - started) / 1e9;
            long[] order = null;
            int orderEpoch = -1;
            for (long s = segment.from(); s < segment.to(); s++) {
                ctx.killTaskIfInterrupted();
                long started = System.nanoTime();
                int epoch = (int) (s / perEpoch);
                if (epoch != orderEpoch) {
                    order = permutation(n, config.seed(), epoch);
                    orderEpoch = epoch;
                }
                long first = (s % perEpoch) * batch, last = Math.min(first + batch, n);
                int items = (int) (last - first);
                List<Integer> mine = new ArrayList<>();
                for (long i = first; i < last; i++) {
                    if (order[(int) i] % world == rank) mine.add((int) (order[(int) i] / world));
                }
                int count = mine.size();
                optimizer.zeroGrad();
                double lossSum = 0;
                if (count > 0) {
                    int[] batchLabels = new int[count];
                    for (int k = 0; k < count; k++) {
                        MemorySegment.copy(features, 4L * mine.get(k) * itemSize, input, 4L * k * itemSize, 4L * itemSize);
                        batchLabels[k] = labels[mine.get(k)];
                    }
                    Tensor x = Tensor.wrap(input.asSlice(0, 4L * count * itemSize), spec.batchShape(count));
                    try (Tape tape = new Tape(true)) {
                        Var logits = model.forward(tape, tape.input(x, false));
                        Var loss = Functional.softmaxCrossEntropy(tape, logits, batchLabels);
                        tape.backward(loss);
                        lossSum = (double) loss.item() * count;
                    }
                }
                if (segment.failAtStep() == s && segment.failRank() == rank) {
                    throw new IllegalStateException("failure injected at step " + s + " on worker " + rank);
                }
                // This worker's gradient is the mean over its `count` rows: weighted by count / items,
                // the sum over the workers is the mean over the step's batch (weight 1 for one worker).
                float weight = count == items ? 1f : (float) count / items;
                long at = 0;
                for (Parameter p : params) {
                    MemorySegment g = p.grad().segment();
                    long m = p.elementCount();
                    for (long j = 0; j < m; j++) {
                        flat.set(ValueLayout.JAVA_FLOAT, 4 * (at + j), count == 0 ? 0f : g.get(ValueLayout.JAVA_FLOAT, 4 * j) * weight);
                    }
                    at += m;
                }
                flat.set(ValueLayout.JAVA_FLOAT, 4 * gradients, (float) lossSum);
                long reduceStart = System.nanoTime(), bytesBefore = ring.bytesSent();
                ring.allReduce(flat, gradients + 1);
                long reduceNanos = System.nanoTime() - reduceStart, bytes = ring.bytesSent() - bytesBefore;
                at = 0;
                for (Parameter p : params) {
                    long m = p.elementCount();
                    MemorySegment.copy(flat, 4 * at, p.grad().segment(), 0, 4 * m);
                    at += m;
                }
                optimizer.setLearningRate(schedule.rate(s));
                optimizer.step();
                double loss = flat.get(ValueLayout.JAVA_FLOAT, 4 * gradients) / (double) items;
                reports.add(new StepReport(s, epoch, loss, items, (System.nanoTime() - started) / 1e9, reduceNanos / 1e9, bytes));
            }
            return reports;
        }

        /** Batch-norm running statistics: the mean over the workers, so all end with the same state. */
        private void averageBuffers(Model model) {
            Map<String, Tensor> buffers = model.network().namedBuffers();
            long total = 0;
            for (Tensor t : buffers.values()) total += t.elementCount();
            if (total == 0 || world == 1) return;
            MemorySegment flat = arena.allocate(4 * total, 64);
            long at = 0;
            for (Tensor t : buffers.values()) {
                MemorySegment.copy(t.segment(), 0, flat, 4 * at, 4 * t.elementCount());
                at += t.elementCount();
            }
            ring.allReduce(flat, total);
            at = 0;
            for (Tensor t : buffers.values()) {
                for (long j = 0; j < t.elementCount(); j++) {
                    t.segment().set(ValueLayout.JAVA_FLOAT, 4 * j, flat.get(ValueLayout.JAVA_FLOAT, 4 * (at + j)) / world);
                }
                at += t.elementCount();
            }
        }

        private static long checksum(Model model) {
            CRC32C crc = new CRC32C();
            for (Tensor t : Checkpoint.state(model.network()).values()) crc.update(t.segment().asByteBuffer());
            return crc.getValue();
        }
    }

    /** Epoch {@code epoch}'s order of the rows {@code 0 .. n-1} (Fisher-Yates, seeded): the same on every worker. */
    static long[] permutation(long n, long seed, int epoch) {
        long[] order = new long[Math.toIntExact(n)];
        for (int i = 0; i < order.length; i++) order[i] = i;
        SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            long t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }
}
