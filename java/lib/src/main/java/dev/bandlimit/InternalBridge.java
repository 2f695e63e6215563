package dev.bandlimit;

import dev.bandlimit.internal.Bridge;
import java.lang.foreign.MemorySegment;

/** The facade's side of {@link Bridge}: registered by {@link Tensor}'s static initialiser. */
final class InternalBridge implements Bridge.Access {
    private InternalBridge() {}

    static void register() {
        Bridge.register(new InternalBridge());
    }

    @Override
    public MemorySegment memory(Tensor t) {
        return t.memory();
    }

    @Override
    public Tensor tensorOnBuffer(ExecutionContext context, MemorySegment memory, long... shape) {
        return Tensor.onBuffer(context, memory, shape);
    }

    @Override
    public SavedSpectra savedOnBuffer(ExecutionContext context, MemorySegment memory) {
        return SavedSpectra.onBuffer(context, memory);
    }

    @Override
    public MemorySegment handle(ExecutionContext context) {
        return context.handle();
    }

    @Override
    public MemorySegment memory(DeviceBuffer buffer) {
        return buffer.memory(0, buffer.bytes());
    }

    @Override
    public void copy(ExecutionContext context, MemorySegment dst, MemorySegment src, long bytes, int kind) {
        Buffers.copy(context, dst, src, bytes, kind, "copy");
    }

    @Override
    public void zero(ExecutionContext context, MemorySegment dst, long bytes) {
        Buffers.zero(context, dst, bytes, "zero");
    }
}
