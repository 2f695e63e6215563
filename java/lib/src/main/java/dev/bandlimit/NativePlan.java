package dev.bandlimit;

import dev.bandlimit.internal.Native;
import dev.bandlimit.internal.ffm.BandlimitH;
import dev.bandlimit.internal.ffm.bl_box;
import dev.bandlimit.internal.ffm.bl_compression;
import dev.bandlimit.internal.ffm.bl_conv1d_desc;
import dev.bandlimit.internal.ffm.bl_conv2d_desc;
import dev.bandlimit.internal.ffm.bl_flops;
import dev.bandlimit.internal.ffm.bl_plan_options;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import org.jspecify.annotations.Nullable;

/**
 * Marshalling between the facade's values and the native plan's structs and calls
 * ({@code include/bandlimit.h}): the one place in this package that knows the layouts of
 * {@code bl_conv2d_desc}, {@code bl_conv1d_desc}, {@code bl_compression}, {@code bl_plan_options},
 * {@code bl_box} and {@code bl_flops}. It checks nothing itself: {@link ShapeChecks} runs before
 * the execute calls, and the native core checks the geometry when a plan is created. The
 * pointers it takes are live plans; {@link ConvPlan} owns them.
 */
final class NativePlan {
    private NativePlan() {}

    /** What a created plan reports about itself, read once (the plan is immutable). */
    record Properties(ConvGeometry geometry, FftLengths fftLengths, Box box, double achievedRate,
            long savedSpectraBytes, long workspaceBytes) {}

    /** Creates the native plan that {@code b} describes; returns its pointer (the caller owns it). */
    static MemorySegment create(ConvPlan.Builder b) {
        // A backend named without a context gets a fresh context of its own with the default
        // settings; the native plan keeps it alive, so this handle is released right away.
        ExecutionContext own = b.context == null && b.backend != Backend.CPU
                ? ExecutionContext.builder(b.backend).build() : null;
        try (Arena call = Arena.ofConfined()) {
            ExecutionContext context = b.context != null ? b.context : own != null ? own
                    : ExecutionContext.defaultContext();
            MemorySegment compression = compression(call, b.compression);
            MemorySegment options = bl_plan_options.allocate(call);
            bl_plan_options.spectra_mode(options, b.spectraMode.code);
            bl_plan_options.product(options, b.product.code);
            bl_plan_options.method(options, b.method.code);
            bl_plan_options.max_bytes(options, b.maxBytes);
            MemorySegment out = call.allocate(ValueLayout.ADDRESS);
            if (b.conv1d) {
                MemorySegment desc = conv1dDesc(call, b);
                context.call(h -> BandlimitH.bl_plan_create_1d(h, desc, compression, options, out), "ConvPlan.conv1d");
            } else {
                MemorySegment desc = conv2dDesc(call, b);
                context.call(h -> BandlimitH.bl_plan_create_2d(h, desc, compression, options, out), "ConvPlan.conv2d");
            }
            return out.get(ValueLayout.ADDRESS, 0);
        } finally {
            if (own != null) own.close();
        }
    }

    private static MemorySegment compression(SegmentAllocator call, Compression compression) {
        MemorySegment c = bl_compression.allocate(call);
        switch (compression) {
            case Compression.Fixed f -> {
                bl_compression.kind(c, BandlimitH.BL_COMPRESSION_FIXED());
                bl_compression.value(c, f.rho());
            }
            case Compression.Energy e -> {
                bl_compression.kind(c, BandlimitH.BL_COMPRESSION_ENERGY());
                bl_compression.value(c, e.fraction());
            }
        }
        return c;
    }

    private static MemorySegment conv1dDesc(SegmentAllocator call, ConvPlan.Builder b) {
        MemorySegment d = bl_conv1d_desc.allocate(call);
        bl_conv1d_desc.max_batch(d, b.maxBatch);
        bl_conv1d_desc.channels(d, b.channels);
        bl_conv1d_desc.length(d, b.width);
        bl_conv1d_desc.filters(d, b.filters);
        bl_conv1d_desc.kernel(d, b.kernelWidth);
        bl_conv1d_desc.pad_left(d, b.padding.left());
        bl_conv1d_desc.pad_right(d, b.padding.right());
        bl_conv1d_desc.stride(d, b.strideW);
        return d;
    }

    private static MemorySegment conv2dDesc(SegmentAllocator call, ConvPlan.Builder b) {
        MemorySegment d = bl_conv2d_desc.allocate(call);
        bl_conv2d_desc.max_batch(d, b.maxBatch);
        bl_conv2d_desc.channels(d, b.channels);
        bl_conv2d_desc.height(d, b.height);
        bl_conv2d_desc.width(d, b.width);
        bl_conv2d_desc.filters(d, b.filters);
        bl_conv2d_desc.kernel_height(d, b.kernelHeight);
        bl_conv2d_desc.kernel_width(d, b.kernelWidth);
        bl_conv2d_desc.pad_top(d, b.padding.top());
        bl_conv2d_desc.pad_bottom(d, b.padding.bottom());
        bl_conv2d_desc.pad_left(d, b.padding.left());
        bl_conv2d_desc.pad_right(d, b.padding.right());
        bl_conv2d_desc.stride_h(d, b.strideH);
        bl_conv2d_desc.stride_w(d, b.strideW);
        return d;
    }

    /**
     * Reads the geometry (as the plan holds it: a 1D plan reports {@code H = KH = 1} and no
     * vertical padding), output size, FFT lengths, box and buffer sizes of a created plan.
     */
    static Properties properties(MemorySegment plan, boolean conv1d) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment d = bl_conv2d_desc.allocate(call);
            Native.check(BandlimitH.bl_plan_desc(plan, d), "ConvPlan");
            MemorySegment a = call.allocate(ValueLayout.JAVA_LONG);
            MemorySegment c = call.allocate(ValueLayout.JAVA_LONG);
            Native.check(BandlimitH.bl_plan_output_size(plan, a, c), "ConvPlan");
            ConvGeometry geometry = new ConvGeometry(conv1d, bl_conv2d_desc.max_batch(d), bl_conv2d_desc.channels(d),
                    bl_conv2d_desc.height(d), bl_conv2d_desc.width(d), bl_conv2d_desc.filters(d),
                    bl_conv2d_desc.kernel_height(d), bl_conv2d_desc.kernel_width(d),
                    Padding.of(bl_conv2d_desc.pad_top(d), bl_conv2d_desc.pad_bottom(d), bl_conv2d_desc.pad_left(d),
                            bl_conv2d_desc.pad_right(d)),
                    bl_conv2d_desc.stride_h(d), bl_conv2d_desc.stride_w(d), a.get(ValueLayout.JAVA_LONG, 0),
                    c.get(ValueLayout.JAVA_LONG, 0));
            Native.check(BandlimitH.bl_plan_fft_lengths(plan, a, c), "ConvPlan");
            FftLengths fftLengths = new FftLengths(a.get(ValueLayout.JAVA_LONG, 0), c.get(ValueLayout.JAVA_LONG, 0));
            MemorySegment box = bl_box.allocate(call);
            MemorySegment rate = call.allocate(ValueLayout.JAVA_DOUBLE);
            Native.check(BandlimitH.bl_plan_box(plan, box, rate), "ConvPlan");
            Native.check(BandlimitH.bl_plan_saved_spectra_bytes(plan, a), "ConvPlan");
            long savedSpectraBytes = a.get(ValueLayout.JAVA_LONG, 0);
            Native.check(BandlimitH.bl_plan_workspace_bytes(plan, a), "ConvPlan");
            long workspaceBytes = a.get(ValueLayout.JAVA_LONG, 0);
            return new Properties(geometry, fftLengths, box(box), rate.get(ValueLayout.JAVA_DOUBLE, 0),
                    savedSpectraBytes, workspaceBytes);
        }
    }

    static double rateOf(MemorySegment plan, Box b) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment rate = call.allocate(ValueLayout.JAVA_DOUBLE);
            Native.check(BandlimitH.bl_plan_box_rate(plan, box(call, b), rate), "ConvPlan.rateOf");
            return rate.get(ValueLayout.JAVA_DOUBLE, 0);
        }
    }

    /** {@code b} null: the plan's box. */
    static Flops flops(MemorySegment plan, Pass pass, long n, @Nullable Box b) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment out = bl_flops.allocate(call);
            Native.check(BandlimitH.bl_plan_flops(plan, pass.code, n, b == null ? MemorySegment.NULL : box(call, b), out),
                    "ConvPlan.flops");
            return new Flops(bl_flops.nominal(out), bl_flops.executed(out), bl_flops.dense_equivalent(out));
        }
    }

    /** {@code bl_forward}; null {@code bias} or {@code saved} pass NULL. Returns the box used. */
    static Box forward(MemorySegment plan, long n, Tensor x, Tensor w, @Nullable Tensor bias, Tensor y,
            @Nullable SavedSpectra saved, Workspace workspace) {
        MemorySegment savedSegment = saved == null ? MemorySegment.NULL : saved.memory();
        MemorySegment ws = workspace.memory();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment boxOut = bl_box.allocate(call);
            Native.check(BandlimitH.bl_forward(plan, n, x.memory(), w.memory(), segmentOrNull(bias), y.memory(),
                    savedSegment, savedSegment.byteSize(), ws, ws.byteSize(), boxOut), "ConvPlan.forward");
            return box(boxOut);
        }
    }

    /** {@code bl_backward}; each null tensor passes NULL. */
    static void backward(MemorySegment plan, long n, SavedSpectra saved, @Nullable Tensor w, Tensor dy,
            @Nullable Tensor dx, @Nullable Tensor dw, @Nullable Tensor db, Workspace workspace) {
        MemorySegment ws = workspace.memory();
        Native.check(BandlimitH.bl_backward(plan, n, saved.memory(), saved.byteSize(), segmentOrNull(w), dy.memory(),
                segmentOrNull(dx), segmentOrNull(dw), segmentOrNull(db), ws, ws.byteSize()), "ConvPlan.backward");
    }

    private static MemorySegment segmentOrNull(@Nullable Tensor t) {
        return t == null ? MemorySegment.NULL : t.memory();
    }

    private static MemorySegment box(SegmentAllocator call, Box b) {
        MemorySegment s = bl_box.allocate(call);
        bl_box.kh(s, b.kh());
        bl_box.kw(s, b.kw());
        return s;
    }

    private static Box box(MemorySegment s) {
        return new Box(bl_box.kh(s), bl_box.kw(s));
    }
}
