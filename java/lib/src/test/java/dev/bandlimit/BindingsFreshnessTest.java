package dev.bandlimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The generated FFM bindings were made from the current include/bandlimit.h. */
class BindingsFreshnessTest {

    @Test
    void headerHashMatchesBindings() throws Exception {
        String header = System.getProperty("bandlimit.test.header");
        String bindings = System.getProperty("bandlimit.test.bindings");
        assertNotNull(header, "system property bandlimit.test.header");
        assertNotNull(bindings, "system property bandlimit.test.bindings");
        byte[] bytes = Files.readAllBytes(Path.of(header));
        String actual = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        String recorded = Files.readString(Path.of(bindings, "HEADER_SHA256"), StandardCharsets.US_ASCII).trim();
        assertEquals(recorded, actual, "bindings are stale: run scripts/generate-bindings.sh");
    }
}
