package dev.bandlimit.nn;

/** Max pooling over {@code kernel x kernel} windows of {@code [N,C,H,W]}, no padding. See {@link Pooling}. */
public final class MaxPool2d extends Pooling {

    public MaxPool2d(long kernel, long stride) {
        super(kernel, stride);
    }

    @Override
    public Var forward(Tape tape, Var x) {
        return Functional.maxPool2d(tape, x, kernel(), stride());
    }
}
