package dev.bandlimit.spark;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * How a column holds one item's floats: {@code binary} (float32, little-endian, the fastest: one
 * copy into native memory), {@code array<float>} or {@code array<double>}.
 */
enum Features {
    BINARY, FLOATS, DOUBLES;

    static Features of(StructType schema, String column) {
        int i = index(schema, column);
        DataType t = schema.fields()[i].dataType();
        if (t instanceof BinaryType) return BINARY;
        if (t instanceof ArrayType a && a.elementType().equals(DataTypes.FloatType)) return FLOATS;
        if (t instanceof ArrayType a && a.elementType().equals(DataTypes.DoubleType)) return DOUBLES;
        throw new IllegalArgumentException("column " + column + " is " + t.simpleString()
                + ": expected binary (float32 little-endian), array<float> or array<double>");
    }

    static int index(StructType schema, String column) {
        for (int i = 0; i < schema.fields().length; i++) {
            StructField f = schema.fields()[i];
            if (f.name().equals(column)) return i;
        }
        throw new IllegalArgumentException("no column " + column + " in " + schema.simpleString());
    }

    /** Copies the item in {@code row}'s field {@code field} to {@code out} at byte {@code offset}. */
    void copy(Row row, int field, String column, int itemSize, MemorySegment out, long offset) {
        if (row.isNullAt(field)) throw new IllegalArgumentException("column " + column + " is null in a row");
        switch (this) {
            case BINARY -> {
                byte[] b = row.getAs(field);
                if (b.length != 4L * itemSize) {
                    throw new IllegalArgumentException("column " + column + " holds " + b.length + " bytes in a row, an item is "
                            + itemSize + " float32 values (" + 4L * itemSize + " bytes)");
                }
                MemorySegment.copy(MemorySegment.ofArray(b), 0, out, offset, b.length);
                if (java.nio.ByteOrder.nativeOrder() != java.nio.ByteOrder.LITTLE_ENDIAN) {
                    for (int i = 0; i < itemSize; i++) {
                        long at = offset + 4L * i;
                        out.set(ValueLayout.JAVA_INT, at, Integer.reverseBytes(out.get(ValueLayout.JAVA_INT, at)));
                    }
                }
            }
            case FLOATS, DOUBLES -> {
                List<Object> v = row.getList(field);
                if (v.size() != itemSize) {
                    throw new IllegalArgumentException("column " + column + " holds " + v.size() + " values in a row, an item is "
                            + itemSize);
                }
                for (int i = 0; i < itemSize; i++) {
                    Object x = v.get(i);
                    if (x == null) throw new IllegalArgumentException("column " + column + " holds a null value");
                    out.set(ValueLayout.JAVA_FLOAT, offset + 4L * i, ((Number) x).floatValue());
                }
            }
        }
    }
}
