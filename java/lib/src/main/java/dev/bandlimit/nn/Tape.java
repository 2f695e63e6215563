package dev.bandlimit.nn;

import dev.bandlimit.DeviceBuffer;
import dev.bandlimit.ExecutionContext;
import dev.bandlimit.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One training or evaluation step of define-by-run autograd: ops called with this tape compute
 * their outputs at once and, in a training tape, record a backward closure; {@link #backward}
 * runs the closures in reverse order.
 *
 * <p>Memory: everything the step creates (activations, their gradients, saved spectra, masks)
 * belongs to {@link #arena()}, a confined arena that {@link #close()} closes; after that every
 * {@link Var} of this tape, and every tensor it allocated, throws {@link IllegalStateException}.
 * The bytes themselves come from a {@link TapeMemory} that the next tape reuses (a caching
 * allocator, as PyTorch's), unless the tape is built with {@code null} memory. The tape and its vars
 * belong to the thread that created it: any use from another thread throws
 * {@link IllegalStateException} naming both threads. A training tape holds the parameters it
 * uses until it closes, so another thread's tape or optimizer cannot use them meanwhile
 * ({@link Parameter}). Parameters live in their module's arena and outlive
 * the tape; their gradients are handed over to {@link Parameter#grad()} at the end of the
 * backward.
 *
 * <p>An evaluation tape ({@code training = false}) records nothing, computes no gradients and
 * its {@link #backward} throws; layers run in evaluation mode (running batch-norm statistics,
 * no dropout, the convolution's evaluation compression).
 *
 * <p>Device tapes ({@link #on(ExecutionContext, boolean, TapeMemory)}) keep everything in a
 * context's buffer memory (device memory for CUDA) and run every op on that context, so a step
 * chains forward and backward without host round trips: the model must live there too
 * ({@link Module#to}); host inputs are copied in by {@link #input}; values are read back with
 * {@link Var#item()} or {@link Tensor#toArray()}. The same code runs on a CPU context (host
 * buffers), which is how it is tested where no GPU is.
 */
public final class Tape implements AutoCloseable {
    /** A recorded backward step: runs only if the loss reached its output. */
    private record Step(Var output, String timerKey, Runnable body) {}

    private final boolean training;
    /** The context whose buffer memory holds the step and whose backend runs its ops; null: host memory, default context. */
    private final @Nullable ExecutionContext device;
    /** Buffers of an unpooled device tape, freed at close. */
    private final ArrayList<DeviceBuffer> ownBuffers = new ArrayList<>();
    private final Arena arena = Arena.ofConfined();
    /** Where allocations come from; null when the pool was busy (then the arena allocates). */
    private final @Nullable TapeMemory memory;
    private final ArrayList<Step> steps = new ArrayList<>();
    private final Map<Parameter, Var> parameterVars = new IdentityHashMap<>();
    /** Run by {@link #close()} after the arena: releases of what ops pinned for the step (plans). */
    private final ArrayList<Runnable> closeActions = new ArrayList<>();
    private long allocatedBytes;
    private boolean backwardDone;
    /** Volatile: {@link #isClosed()} may be asked from other threads. */
    private volatile boolean closed;
    /** The thread that created the tape: the only one that may use it (its arena is confined to it). */
    private final Thread owner = Thread.currentThread();

    /**
     * A tape for a training step ({@code true}) or an evaluation step ({@code false}), taking its
     * memory from the calling thread's {@link TapeMemory} (reused step after step).
     */
    public Tape(boolean training) {
        this(training, TapeMemory.ofCurrentThread());
    }

    /**
     * A tape whose allocations come from {@code memory} (null: straight from its arena, nothing
     * reused). If another tape holds {@code memory}, this one allocates from its arena.
     */
    public Tape(boolean training, @Nullable TapeMemory memory) {
        this(training, null, memory);
    }

    private Tape(boolean training, @Nullable ExecutionContext device, @Nullable TapeMemory memory) {
        if (memory != null && memory.device() != device) {
            throw new IllegalArgumentException("memory holds " + (memory.device() == null ? "host memory"
                    : "buffers of " + memory.device()) + ", the tape is on " + (device == null ? "the host" : device));
        }
        this.training = training;
        this.device = device;
        this.memory = memory != null && memory.acquire(this) ? memory : null;
    }

    /**
     * A device tape: its tensors live in {@code device}'s buffer memory (device memory for CUDA)
     * and its ops run on that context; allocations come from {@code memory} (a
     * {@link TapeMemory#TapeMemory(ExecutionContext)} of the same context, reused step after
     * step), or, with null, from buffers of this tape alone, freed when it closes.
     */
    public static Tape on(ExecutionContext device, boolean training, @Nullable TapeMemory memory) {
        return new Tape(training, Objects.requireNonNull(device, "device must not be null"), memory);
    }

    /** {@link #on(ExecutionContext, boolean, TapeMemory)} without a pool: every allocation is a fresh buffer. */
    public static Tape on(ExecutionContext device, boolean training) {
        return on(device, training, null);
    }

    /** The context of a device tape, or null for a host tape. */
    public @Nullable ExecutionContext device() {
        return device;
    }

    /** Whether layers run in training mode and the backward is available. */
    public boolean training() {
        return training;
    }

    /** The confined arena owning all step-lived memory; closed by {@link #close()}. */
    public Arena arena() {
        checkOpen();
        return arena;
    }

    /**
     * A leaf that needs no gradient (data, labels' inputs): an off-heap {@code t} is used in
     * place, not copied; a heap-backed one is copied into the tape's memory (the native kernels
     * read off-heap memory only).
     */
    public Var input(Tensor t) {
        return input(t, false);
    }

    /**
     * A leaf whose gradient the backward computes when {@code requiresGrad} (and this is a
     * training tape), readable afterwards from {@link Var#grad()}. {@code t} is used in place
     * when off-heap, copied into the tape's memory when heap-backed.
     */
    public Var input(Tensor t, boolean requiresGrad) {
        checkOpen();
        Objects.requireNonNull(t, "t must not be null");
        boolean inPlace = device == null ? t.isHost() && t.segment().isNative() : t.context() == device;
        if (!inPlace) {
            // The native kernels read off-heap memory of the tape's kind only: anything else is
            // copied in (a heap tensor, a host tensor for a device tape, a buffer tensor for a host one).
            Tensor copy = allocateUninitialized(t.shape());
            copy.copyFrom(t);
            t = copy;
        }
        return new Var(this, t, training && requiresGrad);
    }

    /**
     * The var for parameter {@code p} in this step (the same var each time it is asked for, so a
     * shared parameter accumulates every use). Its gradient is added to {@code p.grad()} at the
     * end of {@link #backward}.
     */
    public Var param(Parameter p) {
        checkOpen();
        Objects.requireNonNull(p, "p must not be null");
        if (p.data().context() != device) {
            throw new IllegalArgumentException("parameter " + p.name() + " lives in "
                    + (p.data().context() == null ? "host memory" : "the buffer memory of " + p.data().context())
                    + ", this tape in " + (device == null ? "host memory" : "the buffer memory of " + device)
                    + ": move the model with Module.to(context) and use a tape on the same context");
        }
        Var v = parameterVars.get(p);
        if (v != null) return v;
        // Once per parameter and tape: a training tape holds the parameter until it closes (its
        // backward adds into the gradient), which another thread's tape or optimizer step then
        // finds; an evaluation tape only checks that no other thread trains it.
        if (training) {
            p.hold("a training tape");
        } else {
            p.checkNotWrittenElsewhere("an evaluation tape");
        }
        v = new Var(this, p.data(), training);
        parameterVars.put(p, v);
        return v;
    }

    /**
     * Back-propagates from {@code loss} (a one-element value): seeds its gradient with 1, runs the
     * recorded closures in reverse order, accumulating into {@link Var#grad()}, then adds each
     * parameter var's gradient into {@link Parameter#grad()}. Once per tape.
     *
     * @throws IllegalStateException on an evaluation tape, a closed tape, or a second call
     */
    public void backward(Var loss) {
        checkOpen();
        if (!training) throw new IllegalStateException("backward on an evaluation tape (Tape(false) records nothing)");
        if (backwardDone) throw new IllegalStateException("backward already ran on this tape; use one tape per step");
        Objects.requireNonNull(loss, "loss must not be null");
        if (loss.tape() != this) throw new IllegalArgumentException("loss was recorded on a different tape");
        if (loss.value().elementCount() != 1) {
            throw new IllegalArgumentException("loss must be a scalar [1], got shape " + Arrays.toString(loss.shape()));
        }
        backwardDone = true;
        if (!loss.requiresGrad()) return;
        Tensor seed = loss.gradAccumulator();
        seed.set(0, seed.get(0) + 1.0f);
        for (int i = steps.size() - 1; i >= 0; i--) {
            Step s = steps.get(i);
            if (!s.output().hasGrad()) continue;
            long start = System.nanoTime();
            s.body().run();
            OpTimers.record(s.timerKey(), System.nanoTime() - start);
        }
        long start = System.nanoTime();
        for (Map.Entry<Parameter, Var> e : parameterVars.entrySet()) {
            Var v = e.getValue();
            if (!v.hasGrad()) continue;
            Tensor target = e.getKey().grad();
            Kernels.addInto(this, target, v.grad());
        }
        OpTimers.record("tape.parameter_grads", System.nanoTime() - start);
    }

    /** Number of backward closures recorded so far (0 on an evaluation tape). */
    public int recordedOps() {
        return steps.size();
    }

    /** Bytes allocated in this tape's arena by the ops (activations, gradients, saved spectra, masks). */
    public long allocatedBytes() {
        return allocatedBytes;
    }

    /** Whether {@link #close()} has run. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Closes the arena: releases every activation, gradient and saved spectrum of the step, and
     * the parameters a training tape held. Idempotent.
     *
     * @throws IllegalStateException when called from a thread other than the tape's (before it
     *     closed): its arena can only be closed by its own thread
     */
    @Override
    public void close() {
        if (closed) return;
        if (Thread.currentThread() != owner) throw wrongThread("close()");
        closed = true;
        steps.clear();
        if (training) {
            for (Parameter p : parameterVars.keySet()) p.release();
        }
        parameterVars.clear();
        try {
            arena.close();
            if (memory != null) memory.release(this);
            for (DeviceBuffer b : ownBuffers) b.close();
            ownBuffers.clear();
        } finally {
            for (Runnable action : closeActions) action.run();
            closeActions.clear();
        }
    }

    // ------------------------------------------------------------------------------------
    // For ops
    // ------------------------------------------------------------------------------------

    void checkOpen() {
        if (closed) throw new IllegalStateException("the tape is closed: its vars and their memory are released");
        if (Thread.currentThread() != owner) throw wrongThread("it");
    }

    private IllegalStateException wrongThread(String what) {
        return new IllegalStateException("this tape belongs to thread \"" + owner.getName() + "\"; thread \""
                + Thread.currentThread().getName() + "\" used " + what + ": a tape and its vars are confined to the thread"
                + " that created it (use one tape per thread)");
    }

    /** The native context handle the ops run on (NULL, the default CPU context, for a host tape). */
    MemorySegment kernelContext() {
        return DeviceMemory.handle(device);
    }

    /** A zero-filled tensor living as long as the tape (gradients, which ops add into). */
    Tensor allocate(long... shape) {
        Tensor t = allocateUninitialized(shape);
        DeviceMemory.zero(t);
        return t;
    }

    /** A tensor living as long as the tape, contents undefined: for outputs that an op writes in full. */
    Tensor allocateUninitialized(long... shape) {
        long count = 1;
        for (long d : shape) count = Math.multiplyExact(count, d);
        return DeviceMemory.tensor(device, allocateBytesUninitialized(Math.multiplyExact(count, (long) Float.BYTES)),
                shape);
    }

    /**
     * Bytes living as long as the tape, contents undefined (buffers a native call fills), 64-byte
     * aligned, in the tape's memory: for a device tape, an address segment that only native
     * calls may use.
     */
    MemorySegment allocateBytesUninitialized(long bytes) {
        checkOpen();
        allocatedBytes += bytes;
        if (memory != null) return memory.allocate(bytes, arena);
        if (device == null) return arena.allocate(bytes, 64);
        DeviceBuffer b = device.allocate(bytes);
        ownBuffers.add(b);
        return DeviceMemory.of(b).reinterpret(arena, null);
    }

    /** Copies host {@code values} into {@code dst} of the tape's memory. */
    void copyFromHost(MemorySegment dst, MemorySegment values) {
        DeviceMemory.copyFromHost(device, dst, values, values.byteSize());
    }

    /** An op's output var: it requires a gradient when this is a training tape and any input does. */
    Var result(Tensor data, Var... inputs) {
        boolean needs = false;
        if (training) {
            for (Var v : inputs) {
                if (v == null) continue;
                if (v.tape() != this) throw new IllegalArgumentException("an input var belongs to a different tape");
                needs |= v.requiresGrad();
            }
        }
        return new Var(this, data, needs);
    }

    /** Records the backward of the op that produced {@code output}, if it needs one. */
    void onBackward(Var output, String timerKey, Runnable body) {
        if (!output.requiresGrad()) return;
        steps.add(new Step(output, timerKey, body));
    }

    /**
     * Runs {@code action} when this tape closes, after its memory is released: how an op keeps
     * something its recorded backward needs (a convolution plan) alive for the step, and no longer.
     */
    void onClose(Runnable action) {
        checkOpen();
        closeActions.add(Objects.requireNonNull(action, "action must not be null"));
    }

    void checkInput(Var v, String name) {
        checkOpen();
        Objects.requireNonNull(v, name + " must not be null");
        if (v.tape() != this) throw new IllegalArgumentException(name + " belongs to a different tape");
    }
}
