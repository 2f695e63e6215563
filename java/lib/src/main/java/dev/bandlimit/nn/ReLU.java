package dev.bandlimit.nn;

/** {@code max(x, 0)} element-wise. */
public final class ReLU extends Module {
    @Override
    public Var forward(Tape tape, Var x) {
        return Functional.relu(tape, x);
    }

    @Override
    public String toString() {
        return "ReLU";
    }
}
