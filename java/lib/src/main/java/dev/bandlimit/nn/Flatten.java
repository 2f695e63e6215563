package dev.bandlimit.nn;

/** {@code [N, ...] -> [N, prod(...)]}, sharing the input's memory. */
public final class Flatten extends Module {
    @Override
    public Var forward(Tape tape, Var x) {
        return Functional.flatten(tape, x);
    }

    @Override
    public String toString() {
        return "Flatten";
    }
}
