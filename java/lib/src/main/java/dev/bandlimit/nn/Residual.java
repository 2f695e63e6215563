package dev.bandlimit.nn;

import org.jspecify.annotations.Nullable;

/**
 * {@code body(x) + shortcut(x)}, the shortcut being the identity when null (a ResNet block
 * without a projection). Children "body" and "shortcut".
 */
public final class Residual extends Module {
    private final Module body;
    private final @Nullable Module shortcut;

    public Residual(Module body, @Nullable Module shortcut) {
        this.body = addChild("body", body);
        this.shortcut = shortcut == null ? null : addChild("shortcut", shortcut);
    }

    @Override
    public Var forward(Tape tape, Var x) {
        checkOpen();
        Var main = body.forward(tape, x);
        Var skip = shortcut == null ? x : shortcut.forward(tape, x);
        return Functional.add(tape, main, skip);
    }

    public Module body() {
        return body;
    }

    /** The shortcut, or null for the identity. */
    public @Nullable Module shortcut() {
        return shortcut;
    }

    @Override
    public String toString() {
        return "Residual(" + body + ", " + (shortcut == null ? "identity" : shortcut) + ")";
    }
}
