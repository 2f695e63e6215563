package dev.bandlimit.spark;

import dev.bandlimit.Compression;
import dev.bandlimit.Padding;
import dev.bandlimit.nn.Conv2d;
import dev.bandlimit.nn.Flatten;
import dev.bandlimit.nn.Linear;
import dev.bandlimit.nn.MaxPool2d;
import dev.bandlimit.nn.ReLU;
import dev.bandlimit.nn.Sequential;
import dev.bandlimit.nn.models.Model;
import java.util.List;

/**
 * A small band-limited CNN without batch normalisation (so that data-parallel training must
 * follow the one-process curve): 1x12x12 -> conv 3x3 (6 filters) -> ReLU -> 2x2 max pool -> 3 logits.
 */
final class TinyCnn {
    static final String NAME = "tiny-cnn";
    static final long[] ITEM_SHAPE = {1, 12, 12};
    static final int CLASSES = 3;

    private TinyCnn() {}

    static Model create(Compression train, Compression eval, long seed) {
        Conv2d conv = Conv2d.builder(1, 6).kernel(3, 3).padding(Padding.symmetric(1)).compression(train)
                .evalCompression(eval).seed(seed).build();
        return Model.of(new Sequential(conv, new ReLU(), new MaxPool2d(2, 2), new Flatten(),
                new Linear(6 * 6 * 6, CLASSES, true, seed + 1)), List.of(conv), List.of("0"));
    }

    static ModelSpec spec() {
        return ModelSpec.of(NAME, ITEM_SHAPE, CLASSES, TinyCnn::create);
    }
}
