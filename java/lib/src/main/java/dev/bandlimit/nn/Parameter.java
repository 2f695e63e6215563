package dev.bandlimit.nn;

import dev.bandlimit.DeviceBuffer;
import dev.bandlimit.ExecutionContext;
import dev.bandlimit.Tensor;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Objects;

/**
 * A trainable tensor and its gradient, both float32 of the same shape, allocated in the arena
 * of the module that owns it (or the one given to the constructor). The gradient accumulates
 * over {@link Tape#backward} calls until {@link #zeroGrad()}; optimizers read it and update
 * {@link #data()} in place.
 *
 * <p>{@link Module#to} moves a module's parameters into a context's buffer memory (device memory
 * for CUDA): {@link #data()} and {@link #grad()} then return buffer tensors, and tensors taken
 * from them before the move keep the old memory.
 */
public final class Parameter {
    private final String name;
    private Tensor data;
    private Tensor grad;

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

    /** Sets the gradient to zero. */
    public void zeroGrad() {
        DeviceMemory.zero(grad);
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
