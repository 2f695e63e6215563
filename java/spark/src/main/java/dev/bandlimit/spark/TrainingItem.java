package dev.bandlimit.spark;

import java.io.Serializable;
import java.lang.foreign.MemorySegment;
import org.apache.spark.sql.Row;

/**
 * One training example as it travels to its worker: its global index (the row's position in
 * the input, which fixes the worker, {@code index mod workers}, and the sampling order), the
 * item's float32 values in native byte order, and its label.
 */
record TrainingItem(long index, byte[] features, int label) implements Serializable {

    /** Row fields 0 (features) and 1 (label), checked. */
    static TrainingItem of(Row row, long index, Features features, String labelColumn, int classes) {
        byte[] bytes = new byte[4 * features.itemSize()];
        features.copy(row, 0, MemorySegment.ofArray(bytes), 0);
        if (row.isNullAt(1)) throw new IllegalArgumentException("column " + labelColumn + " is null in row " + index);
        long label = ((Number) row.get(1)).longValue();
        if (label < 0 || label >= classes) {
            throw new IllegalArgumentException("column " + labelColumn + " holds " + label + " in row " + index
                    + ", outside [0, " + classes + ")");
        }
        return new TrainingItem(index, bytes, (int) label);
    }
}
