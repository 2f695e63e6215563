package dev.bandlimit;

/** The three passes of a convolution layer. */
public enum Pass {
    FORWARD(0),
    BACKWARD_DATA(1),
    BACKWARD_WEIGHTS(2);

    final int code;

    Pass(int code) {
        this.code = code;
    }
}
