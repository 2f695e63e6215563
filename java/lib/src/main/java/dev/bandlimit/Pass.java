package dev.bandlimit;

import dev.bandlimit.internal.ffm.BandlimitH;

/** The three passes of a convolution layer ({@code bl_pass}; values from the generated bindings). */
public enum Pass {
    FORWARD(BandlimitH.BL_PASS_FORWARD()),
    BACKWARD_DATA(BandlimitH.BL_PASS_BACKWARD_DATA()),
    BACKWARD_WEIGHTS(BandlimitH.BL_PASS_BACKWARD_WEIGHTS());

    final int code;

    Pass(int code) {
        this.code = code;
    }
}
