package dev.bandlimit.cli.mnist;

import static dev.bandlimit.cli.mnist.MnistDataset.PIXELS;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamReadException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * One digit file of the tarball, {@code {"data": [v, v, ...]}} with {@code v = round(b / 255, 3)}
 * in {@code [0, 1]}, read into the original bytes {@code b = round(255 v)}. Jackson's streaming
 * parser reads it value by value, so no tree of ~800,000 numbers is ever built.
 */
final class DigitJson {
    /** Never closes the tar stream it reads from (the next entry follows in it). */
    private static final JsonFactory JSON = JsonFactory.builder()
            .disable(StreamReadFeature.AUTO_CLOSE_SOURCE)
            .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
            .build();

    private DigitJson() {}

    /**
     * The bytes {@code round(255 v)} of every value of {@code json}'s {@code "data"} list; their
     * number is a multiple of 784.
     *
     * @param name the file's name, for the error message
     * @throws MnistException when the text is not such a file
     * @throws IOException when {@code json} cannot be read
     */
    static byte[] read(InputStream json, String name) throws IOException {
        try (JsonParser parser = JSON.createParser(json)) {
            expect(parser, JsonToken.START_OBJECT, "'{'", name);
            expect(parser, JsonToken.FIELD_NAME, "the key \"data\"", name);
            if (!parser.currentName().equals("data")) {
                throw notADigitFile(name, "expected the key \"data\", found \"" + parser.currentName() + "\"");
            }
            expect(parser, JsonToken.START_ARRAY, "'['", name);
            byte[] pixels = new byte[1 << 20];
            int count = 0;
            for (JsonToken token; (token = parser.nextToken()) != JsonToken.END_ARRAY; ) {
                if (token != JsonToken.VALUE_NUMBER_INT && token != JsonToken.VALUE_NUMBER_FLOAT) {
                    throw notADigitFile(name, "expected a number " + where(parser) + ", found " + token);
                }
                // Doubles, as the values were written: round(255 v) then recovers every original byte
                // (|255 v - b| <= 255 * 0.0005 < 0.5).
                double value = parser.getDoubleValue();
                if (!(value >= 0 && value <= 1)) {
                    throw notADigitFile(name, "value " + value + " " + where(parser) + " is outside [0, 1]");
                }
                if (count == pixels.length) pixels = Arrays.copyOf(pixels, 2 * pixels.length);
                pixels[count++] = (byte) Math.round(value * 255);
            }
            expect(parser, JsonToken.END_OBJECT, "'}' after the list", name);
            if (parser.nextToken() != null) throw notADigitFile(name, "trailing text after the object " + where(parser));
            if (count % PIXELS != 0) throw notADigitFile(name, count + " values, not a multiple of " + PIXELS);
            return Arrays.copyOf(pixels, count);
        } catch (StreamReadException e) {
            throw notADigitFile(name, e.getOriginalMessage() + " " + where(e.getLocation()));
        }
    }

    private static void expect(JsonParser parser, JsonToken wanted, String what, String name) throws IOException {
        JsonToken token = parser.nextToken();
        if (token != wanted) {
            throw notADigitFile(name, "expected " + what + " " + where(parser) + ", found " + (token == null ? "the end" : token));
        }
    }

    private static String where(JsonParser parser) {
        return where(parser.currentLocation());
    }

    private static String where(JsonLocation location) {
        return location == null ? "" : "at line " + location.getLineNr() + ", column " + location.getColumnNr();
    }

    private static MnistException notADigitFile(String name, String what) {
        return new MnistException(name + " in " + MnistTarball.FILE_NAME + " is not a digit file: " + what
                + "; delete the tarball and run again");
    }
}
