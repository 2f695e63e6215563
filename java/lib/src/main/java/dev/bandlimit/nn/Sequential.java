package dev.bandlimit.nn;

import java.util.List;

/**
 * The layers applied in order; they are its children, named "0", "1", ... and closed with it.
 * A {@link BatchNorm} directly followed by a {@link ReLU} runs as one fused op
 * ({@link Functional#batchNormRelu}: the same values and gradients, one pass fewer).
 */
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
        for (int i = 0; i < layers.length; i++) {
            if (layers[i] instanceof BatchNorm bn && i + 1 < layers.length && layers[i + 1] instanceof ReLU) {
                h = bn.forward(tape, h, true);
                i++;
            } else {
                h = layers[i].forward(tape, h);
            }
        }
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
