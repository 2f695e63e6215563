package dev.bandlimit.nn;

import dev.bandlimit.Tensor;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * A value recorded on a {@link Tape}: its data (a float32 {@link Tensor}) and, after
 * {@link Tape#backward}, the gradient of the loss with respect to it. Both live in the tape's
 * arena (an input's data is the caller's) and are unusable once the tape is closed: every
 * accessor then throws {@link IllegalStateException}.
 */
public final class Var {
    private final Tape tape;
    private final Tensor data;
    private final boolean requiresGrad;
    private @Nullable Tensor grad;

    Var(Tape tape, Tensor data, boolean requiresGrad) {
        this.tape = tape;
        this.data = data;
        this.requiresGrad = requiresGrad;
    }

    /** The value. */
    public Tensor data() {
        tape.checkOpen();
        return data;
    }

    /**
     * The gradient of the loss with respect to this value, or null when the backward has not
     * reached it (not run yet, or this value does not influence the loss, or needs no grad).
     */
    public @Nullable Tensor grad() {
        tape.checkOpen();
        return grad;
    }

    /** Whether the backward computes a gradient for this value. */
    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** The shape of the data (a copy). */
    public long[] shape() {
        return data.shape();
    }

    /** The value of a one-element tensor (a scalar such as a loss). */
    public float item() {
        tape.checkOpen();
        if (data.elementCount() != 1) {
            throw new IllegalStateException("item() needs a one-element value, this one has shape "
                    + Arrays.toString(data.shape()));
        }
        return data.get(0);
    }

    /** The tape that recorded this value. */
    public Tape tape() {
        return tape;
    }

    @Override
    public String toString() {
        return "Var" + Arrays.toString(data.shape()) + (requiresGrad ? " (requires grad)" : "");
    }

    // Package-private: what ops need during the backward.

    /** The raw data, for ops (no open check: ops run only while the tape is open). */
    Tensor value() {
        return data;
    }

    boolean hasGrad() {
        return grad != null;
    }

    /** The gradient buffer, allocated zero-filled in the tape's arena on first use; ops add into it. */
    Tensor gradAccumulator() {
        if (grad == null) grad = tape.allocate(data.shape());
        return grad;
    }

    /**
     * The gradient buffer, freshly allocated and not initialised, when this var has no gradient
     * yet (the caller must then write every element: {@code dx = f(dy)}); null when gradient has
     * already been accumulated (the caller adds: {@code dx += f(dy)}). Writing instead of adding
     * saves the zero-fill and a read per element, and C2 compiles a loop that reads other segments
     * and writes this one far better than a read-modify-write of a third (much faster on the
     * ReLU backward; figures in docs/TRAINING.md, "Measurements behind the nn code").
     */
    @Nullable Tensor freshGrad() {
        if (grad != null) return null;
        grad = tape.allocateUninitialized(data.shape());
        return grad;
    }

    /**
     * Where an op that overwrites its output (the native convolution backward) should write this
     * value's gradient: the gradient buffer itself when nothing has been accumulated yet, else a
     * fresh scratch tensor that {@link #finishOverwrite} then adds in. Null when no grad is needed.
     */
    @Nullable Tensor overwriteTarget() {
        if (!requiresGrad) return null;
        Tensor fresh = freshGrad();
        return fresh != null ? fresh : tape.allocateUninitialized(data.shape());
    }

    void finishOverwrite(@Nullable Tensor target) {
        if (target != null && target != grad) Kernels.addInto(tape, grad, target);
    }
}
