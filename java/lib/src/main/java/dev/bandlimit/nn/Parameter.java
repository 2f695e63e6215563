package dev.bandlimit.nn;

import dev.bandlimit.DeviceBuffer;
import dev.bandlimit.ExecutionContext;
import dev.bandlimit.Tensor;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A trainable tensor and its gradient, both float32 of the same shape, allocated in the arena
 * of the module that owns it (or the one given to the constructor). The gradient accumulates
 * over {@link Tape#backward} calls until {@link #zeroGrad()}; optimizers read it and update
 * {@link #data()} in place.
 *
 * <p>Threads: one thread at a time trains a parameter. While a training tape that uses it is
 * open, or an optimizer step or {@link #zeroGrad()} runs, any other thread's tape, optimizer or
 * zeroGrad touching it throws {@link IllegalStateException} naming the parameter and both threads
 * (see the package documentation).
 *
 * <p>{@link Module#to} moves a module's parameters into a context's buffer memory (device memory
 * for CUDA): {@link #data()} and {@link #grad()} then return buffer tensors, and tensors taken
 * from them before the move keep the old memory.
 */
public final class Parameter {
    private final String name;
    private Tensor data;
    private Tensor grad;
    /**
     * The thread whose open training tapes or running optimizer update write this parameter
     * (its gradient or its data), null when none; {@link #holds} counts them. Guarded by this.
     */
    private @Nullable Thread writer;
    private int holds;
    private @Nullable String writerWhat;

    /** A zero-filled parameter of {@code shape} whose data and gradient live in {@code arena}. */
    public Parameter(String name, Arena arena, long... shape) {
        this.name = Objects.requireNonNull(name, "name must not be null");
        Objects.requireNonNull(arena, "arena must not be null");
        this.data = Tensor.allocate(arena, shape);
        this.grad = Tensor.allocate(arena, shape);
    }

    /** The name given by the owning layer ("weight", "bias", ...). */
    public String name() {
        return name;
    }

    /** The value, updated in place by optimizers. */
    public Tensor data() {
        return data;
    }

    /** The accumulated gradient. */
    public Tensor grad() {
        return grad;
    }

    public long[] shape() {
        return data.shape();
    }

    /** Number of scalars. */
    public long elementCount() {
        return data.elementCount();
    }

    /**
     * Sets the gradient to zero.
     *
     * @throws IllegalStateException while another thread trains this parameter (an open training
     *     tape that uses it, or an optimizer step)
     */
    public void zeroGrad() {
        hold("zeroGrad");
        try {
            DeviceMemory.zero(grad);
        } finally {
            release();
        }
    }

    // ------------------------------------------------------------------------------------
    // Who writes it: one thread at a time (the package's concurrency contract)
    // ------------------------------------------------------------------------------------

    /**
     * The calling thread starts writing this parameter ({@code what}: "a training tape",
     * "Adam.step"): refused while another live thread does. Reentrant per thread; a thread that
     * ended without releasing (a tape it never closed) is taken over.
     */
    synchronized void hold(String what) {
        Thread me = Thread.currentThread();
        if (writer != me) {
            if (writer != null && writer.isAlive()) throw heldElsewhere(what, me);
            writer = me;
            writerWhat = what;
            holds = 0;
        }
        holds++;
    }

    /** One {@link #hold} of the calling thread ends. */
    synchronized void release() {
        if (writer != Thread.currentThread()) return;
        if (--holds == 0) {
            writer = null;
            writerWhat = null;
        }
    }

    /** Throws if another live thread writes this parameter now ({@code what}: the read, for the message). */
    synchronized void checkNotWrittenElsewhere(String what) {
        Thread me = Thread.currentThread();
        if (writer != null && writer != me && writer.isAlive()) throw heldElsewhere(what, me);
    }

    private IllegalStateException heldElsewhere(String what, Thread me) {
        return new IllegalStateException("parameter " + name + " " + Arrays.toString(data.shape()) + " is being trained on"
                + " thread \"" + writer.getName() + "\" (" + writerWhat + "), so " + what + " on thread \"" + me.getName()
                + "\" cannot use it: a model trains on one thread at a time, with no other use meanwhile (train a copy"
                + " per thread; evaluate concurrently only while nothing trains it)");
    }

    /** {@link #hold} of every parameter of {@code params}, all or none. */
    static void holdAll(java.util.List<Parameter> params, String what) {
        int held = 0;
        try {
            for (Parameter p : params) {
                p.hold(what);
                held++;
            }
        } catch (RuntimeException e) {
            for (int i = 0; i < held; i++) params.get(i).release();
            throw e;
        }
    }

    static void releaseAll(java.util.List<Parameter> params) {
        for (Parameter p : params) p.release();
    }

    /** Replaces data and gradient by copies in {@code device}'s buffer memory, in buffers {@code owner} allocates. */
    void moveTo(ExecutionContext device, java.util.function.LongFunction<DeviceBuffer> owner) {
        Tensor d = DeviceMemory.copyTo(data, device, owner);
        Tensor g = DeviceMemory.copyTo(grad, device, owner);
        data = d;
        grad = g;
    }

    @Override
    public String toString() {
        return "Parameter[" + name + " " + Arrays.toString(data.shape()) + "]";
    }
}
