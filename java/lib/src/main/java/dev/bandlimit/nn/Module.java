package dev.bandlimit.nn;

import dev.bandlimit.DeviceBuffer;
import dev.bandlimit.ExecutionContext;
import dev.bandlimit.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongFunction;
import org.jspecify.annotations.Nullable;

/**
 * A layer or a composition of layers: {@link #forward} records its ops on a {@link Tape};
 * training versus evaluation behaviour follows {@link Tape#training()}.
 *
 * <p>Ownership: a module owns a shared arena holding its parameters (data and gradients) and
 * buffers (batch-norm running statistics), plus whatever native plans a subclass creates;
 * {@link #close()} releases them and closes its children (idempotent). Threads (the package
 * documentation has the details): several threads may run evaluation forwards of one module at
 * once, each on its own tape; training (a training tape's forward and backward, the optimizer
 * step) is one thread at a time, and another thread's use meanwhile throws
 * {@link IllegalStateException}; {@link #close()} and {@link #to} must not overlap any other use.
 *
 * <p>Subclasses register parameters with {@link #addParameter}, buffers with
 * {@link #addBuffer}, sub-modules with {@link #addChild}, and release native resources in
 * {@link #releaseResources()}.
 */
public abstract class Module implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final LinkedHashMap<String, Parameter> ownParameters = new LinkedHashMap<>();
    private final LinkedHashMap<String, Tensor> ownBuffers = new LinkedHashMap<>();
    private final LinkedHashMap<String, Module> children = new LinkedHashMap<>();
    private boolean closed;
    /** The context whose buffer memory holds the parameters and buffers; null: host memory (this arena). */
    private @Nullable ExecutionContext device;
    /** Buffers holding what {@link #to} moved, freed with the module. */
    private final List<DeviceBuffer> deviceBuffers = new ArrayList<>();

    protected Module() {}

    /** Runs the module on {@code x}, recording on {@code tape}. */
    public abstract Var forward(Tape tape, Var x);

    /** All parameters of this module and its descendants, in registration order (depth first). */
    public List<Parameter> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** Parameters by dotted path, as PyTorch's {@code state_dict} names them ({@code "0.weight"}, {@code "body.1.bias"}). */
    public Map<String, Parameter> namedParameters() {
        LinkedHashMap<String, Parameter> out = new LinkedHashMap<>(ownParameters);
        children.forEach((childName, child) ->
                child.namedParameters().forEach((n, p) -> out.put(childName + "." + n, p)));
        return out;
    }

    /** Non-trainable state (batch-norm running mean and variance) by dotted path. */
    public Map<String, Tensor> namedBuffers() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>(ownBuffers);
        children.forEach((childName, child) ->
                child.namedBuffers().forEach((n, b) -> out.put(childName + "." + n, b)));
        return out;
    }

    /** The direct sub-modules, in registration order. */
    public List<Module> children() {
        return Collections.unmodifiableList(new ArrayList<>(children.values()));
    }

    /** Sets the gradient of every parameter to zero. */
    public void zeroGrad() {
        for (Parameter p : parameters()) p.zeroGrad();
    }

    /** Total number of trainable scalars. */
    public long parameterCount() {
        long total = 0;
        for (Parameter p : parameters()) total += p.elementCount();
        return total;
    }

    /** Releases native plans, parameter and buffer memory, and closes the children. Idempotent. */
    /**
     * Moves the parameters (data and gradients) and buffers of this module and its children into
     * {@code device}'s buffer memory (device memory for CUDA, host buffers for the CPU), copying
     * their values; returns this. Train it then with {@link Tape#on(ExecutionContext, boolean,
     * TapeMemory)} tapes on the same context and an optimizer built after the move. Moving again
     * (to another context) frees the previous buffers: tensors taken from the parameters before
     * then throw {@link IllegalStateException}. The context must outlive the module.
     */
    public final Module to(ExecutionContext device) {
        checkOpen();
        Objects.requireNonNull(device, "device must not be null");
        for (Module child : children.values()) child.to(device);
        if (this.device == device) return this;
        List<DeviceBuffer> fresh = new ArrayList<>();
        LongFunction<DeviceBuffer> allocate = bytes -> {
            DeviceBuffer b = device.allocate(bytes);
            fresh.add(b);
            return b;
        };
        try {
            for (Parameter p : ownParameters.values()) p.moveTo(device, allocate);
            for (Map.Entry<String, Tensor> e : ownBuffers.entrySet()) {
                e.setValue(DeviceMemory.copyTo(e.getValue(), device, allocate));
            }
        } catch (RuntimeException | Error e) {
            for (DeviceBuffer b : fresh) b.close();
            throw e;
        }
        for (DeviceBuffer b : deviceBuffers) b.close();
        deviceBuffers.clear();
        deviceBuffers.addAll(fresh);
        this.device = device;
        return this;
    }

    /** The context whose buffer memory holds this module's parameters ({@link #to}), or null for host memory. */
    public final @Nullable ExecutionContext device() {
        return device;
    }

    @Override
    public final void close() {
        if (closed) return;
        closed = true;
        for (Module child : children.values()) child.close();
        releaseResources();
        for (DeviceBuffer b : deviceBuffers) b.close();
        deviceBuffers.clear();
        arena.close();
    }

    /** Whether {@link #close()} has run. */
    public boolean isClosed() {
        return closed;
    }

    // ------------------------------------------------------------------------------------
    // For subclasses
    // ------------------------------------------------------------------------------------

    /** The arena that owns this module's parameters and buffers. */
    protected final Arena arena() {
        checkOpen();
        return arena;
    }

    /** A zero-filled parameter owned by this module. */
    protected final Parameter addParameter(String name, long... shape) {
        checkOpen();
        if (ownParameters.containsKey(name)) throw new IllegalArgumentException("duplicate parameter name " + name);
        Parameter p = new Parameter(name, arena, shape);
        ownParameters.put(name, p);
        return p;
    }

    /** A zero-filled buffer (state that is not trained) owned by this module. */
    protected final Tensor addBuffer(String name, long... shape) {
        checkOpen();
        if (ownBuffers.containsKey(name)) throw new IllegalArgumentException("duplicate buffer name " + name);
        Tensor t = Tensor.allocate(arena, shape);
        ownBuffers.put(name, t);
        return t;
    }

    /** Registers {@code child} under {@code name}; this module now closes it. */
    /** The buffer registered as {@code name} by this module (after {@link #to}, its moved copy). */
    protected final Tensor buffer(String name) {
        Tensor t = ownBuffers.get(name);
        if (t == null) throw new IllegalArgumentException("no buffer named " + name);
        return t;
    }

    protected final <M extends Module> M addChild(String name, M child) {
        checkOpen();
        Objects.requireNonNull(child, "child must not be null");
        if (children.containsKey(name)) throw new IllegalArgumentException("duplicate child name " + name);
        children.put(name, child);
        return child;
    }

    /** Releases what a subclass holds beyond parameters and buffers (native plans); called once by close. */
    protected void releaseResources() {}

    /** Throws {@link IllegalStateException} when closed. */
    protected final void checkOpen() {
        if (closed) throw new IllegalStateException(getClass().getSimpleName() + " is closed");
    }
}
