package dev.bandlimit.nn;

/** Max pooling over windows of {@code kernel} of {@code [N,C,L]}, no padding. See {@link Pooling}. */
public final class MaxPool1d extends Pooling {

    public MaxPool1d(long kernel, long stride) {
        super(kernel, stride);
    }

    @Override
    public Var forward(Tape tape, Var x) {
        return Functional.maxPool1d(tape, x, kernel(), stride());
    }
}
