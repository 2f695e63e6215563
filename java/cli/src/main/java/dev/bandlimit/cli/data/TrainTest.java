package dev.bandlimit.cli.data;

import java.util.Arrays;
import java.util.Objects;

/**
 * A training and a test set of the same item shape and number of classes, as every reader in
 * this package returns them.
 */
public record TrainTest(LabeledSet train, LabeledSet test) {

    public TrainTest {
        Objects.requireNonNull(train, "train");
        Objects.requireNonNull(test, "test");
        if (!Arrays.equals(train.itemShape(), test.itemShape()) || train.classes() != test.classes()) {
            throw new IllegalArgumentException("the training set (" + train + ") and the test set (" + test
                    + ") differ in item shape or number of classes");
        }
    }
}
