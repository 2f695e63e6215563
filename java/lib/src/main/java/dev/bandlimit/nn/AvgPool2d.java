package dev.bandlimit.nn;

/** Average pooling over {@code kernel x kernel} windows of {@code [N,C,H,W]}, no padding. See {@link Pooling}. */
public final class AvgPool2d extends Pooling {

    public AvgPool2d(long kernel, long stride) {
        super(kernel, stride);
    }

    @Override
    public Var forward(Tape tape, Var x) {
        return Functional.avgPool2d(tape, x, kernel(), stride());
    }
}
