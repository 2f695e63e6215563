package dev.bandlimit.spark;

import java.io.Serializable;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * How a column holds one item, and how it becomes the model's float32 input:
 *
 * <ul>
 *   <li>{@code binary}: float32, little-endian, in the item's shape (the fastest: one copy);
 *   <li>{@code array<float>} or {@code array<double>};
 *   <li>an image as Spark's {@code image} data source reads it ({@code spark.read().format("image")}:
 *       a struct of {@code height}, {@code width}, {@code nChannels} and {@code data}, 8-bit
 *       pixels row by row, channels interleaved in OpenCV's BGR(A) order): each pixel becomes
 *       {@code pixel * scale + offset} in the model's {@code [C, H, W]} layout with channels in
 *       RGB(A) order, as PyTorch's loaders give them.
 * </ul>
 *
 * <p>A row that does not fit the item (another length, another image size or channel count, a
 * null) is refused with an {@link IllegalArgumentException} naming the column.
 */
record Features(Kind kind, String column, long[] itemShape, float scale, float offset, int heightField,
        int widthField, int channelsField, int dataField) implements Serializable {

    enum Kind { BINARY, FLOATS, DOUBLES, IMAGE }

    /** How an 8-bit image pixel becomes an input value: {@code pixel * scale + offset}. */
    record Pixels(float scale, float offset) implements Serializable {
        /** {@code 1/255} and 0: values in [0, 1]. */
        static final Pixels DEFAULT = new Pixels(1f / 255, 0f);

        static Pixels of(double scale, double offset) {
            if (!Double.isFinite(scale) || !Double.isFinite(offset)) {
                throw new IllegalArgumentException("scale and offset must be finite, got " + scale + ", " + offset);
            }
            return new Pixels((float) scale, (float) offset);
        }
    }

    /** What {@code column} of {@code schema} holds, for items of {@code spec}. */
    static Features of(StructType schema, String column, ModelSpec spec, Pixels pixels) {
        float scale = pixels.scale(), offset = pixels.offset();
        DataType t = schema.fields()[index(schema, column)].dataType();
        long[] shape = spec.itemShape();
        if (t instanceof BinaryType) return new Features(Kind.BINARY, column, shape, scale, offset, -1, -1, -1, -1);
        if (t instanceof ArrayType a && a.elementType().equals(DataTypes.FloatType)) {
            return new Features(Kind.FLOATS, column, shape, scale, offset, -1, -1, -1, -1);
        }
        if (t instanceof ArrayType a && a.elementType().equals(DataTypes.DoubleType)) {
            return new Features(Kind.DOUBLES, column, shape, scale, offset, -1, -1, -1, -1);
        }
        if (t instanceof StructType image && List.of(image.fieldNames()).containsAll(List.of("height", "width", "nChannels", "data"))) {
            if (shape.length != 3) {
                throw new IllegalArgumentException("column " + column + " holds images, but " + spec.name() + " reads items of "
                        + Arrays.toString(shape) + ", not [channels, height, width]");
            }
            return new Features(Kind.IMAGE, column, shape, scale, offset, image.fieldIndex("height"), image.fieldIndex("width"),
                    image.fieldIndex("nChannels"), image.fieldIndex("data"));
        }
        throw new IllegalArgumentException("column " + column + " is " + t.simpleString()
                + ": expected binary (float32 little-endian), array<float>, array<double> or an image struct");
    }

    static int index(StructType schema, String column) {
        for (int i = 0; i < schema.fields().length; i++) {
            StructField f = schema.fields()[i];
            if (f.name().equals(column)) return i;
        }
        throw new IllegalArgumentException("no column " + column + " in " + schema.simpleString());
    }

    int itemSize() {
        long n = 1;
        for (long d : itemShape) n *= d;
        return (int) n;
    }

    /** Copies the item in {@code row}'s field {@code field} to {@code out} at byte {@code at}. */
    void copy(Row row, int field, MemorySegment out, long at) {
        if (row.isNullAt(field)) throw new IllegalArgumentException("column " + column + " is null in a row");
        int itemSize = itemSize();
        switch (kind) {
            case BINARY -> {
                byte[] b = row.getAs(field);
                if (b.length != 4L * itemSize) {
                    throw new IllegalArgumentException("column " + column + " holds " + b.length + " bytes in a row, an item is "
                            + itemSize + " float32 values (" + 4L * itemSize + " bytes)");
                }
                MemorySegment.copy(MemorySegment.ofArray(b), 0, out, at, b.length);
                if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
                    for (int i = 0; i < itemSize; i++) {
                        long p = at + 4L * i;
                        out.set(ValueLayout.JAVA_INT, p, Integer.reverseBytes(out.get(ValueLayout.JAVA_INT, p)));
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
                    out.set(ValueLayout.JAVA_FLOAT, at + 4L * i, ((Number) x).floatValue());
                }
            }
            case IMAGE -> copyImage(row.getStruct(field), out, at);
        }
    }

    private void copyImage(Row image, MemorySegment out, long at) {
        int c = (int) itemShape[0], h = (int) itemShape[1], w = (int) itemShape[2];
        int height = image.getInt(heightField), width = image.getInt(widthField), channels = image.getInt(channelsField);
        if (height != h || width != w || channels != c) {
            throw new IllegalArgumentException("column " + column + " holds a " + height + "x" + width + " image of " + channels
                    + " channels, the model reads " + h + "x" + w + " with " + c);
        }
        byte[] data = image.getAs(dataField);
        if (data == null || data.length != (long) h * w * c) {
            throw new IllegalArgumentException("column " + column + ": an image's data holds "
                    + (data == null ? "nothing" : data.length + " bytes") + ", not " + (long) h * w * c);
        }
        for (int k = 0; k < c; k++) {
            // BGR(A) in the data, RGB(A) for the model; one channel stays as it is.
            int source = c >= 3 && k < 3 ? 2 - k : k;
            long plane = at + 4L * k * h * w;
            for (int p = 0; p < h * w; p++) {
                out.set(ValueLayout.JAVA_FLOAT, plane + 4L * p, (data[p * c + source] & 0xff) * scale + offset);
            }
        }
    }
}
