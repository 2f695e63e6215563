package dev.bandlimit.nn;

/** Mean over all positions: {@code [N,C,H,W]} or {@code [N,C,L]} to {@code [N,C]}. */
public final class GlobalAvgPool extends Module {
    @Override
    public Var forward(Tape tape, Var x) {
        return Functional.globalAvgPool(tape, x);
    }

    @Override
    public String toString() {
        return "GlobalAvgPool";
    }
}
