package dev.bandlimit.nn;

import java.util.List;

/** The layers applied in order; they are its children, named "0", "1", ... and closed with it. */
public final class Sequential extends Module {
    private final Module[] layers;

    public Sequential(Module... layers) {
        this.layers = layers.clone();
        for (int i = 0; i < layers.length; i++) addChild(Integer.toString(i), layers[i]);
    }

    @Override
    public Var forward(Tape tape, Var x) {
        checkOpen();
        Var h = x;
        for (Module m : layers) h = m.forward(tape, h);
        return h;
    }

    /** The layers, in order. */
    public List<Module> layers() {
        return List.of(layers);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Sequential(");
        for (int i = 0; i < layers.length; i++) sb.append(i == 0 ? "" : ", ").append(layers[i]);
        return sb.append(")").toString();
    }
}
