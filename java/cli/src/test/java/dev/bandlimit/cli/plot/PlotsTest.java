package dev.bandlimit.cli.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The charts come out as PNGs that decode, of the stated size, with something drawn in them. */
class PlotsTest {

    private static BufferedImage read(Path png) throws Exception {
        BufferedImage image = ImageIO.read(png.toFile());
        assertTrue(image != null, png + " is not a PNG");
        return image;
    }

    private static int colours(BufferedImage image) {
        Set<Integer> seen = new HashSet<>();
        for (int y = 0; y < image.getHeight(); y += 3) {
            for (int x = 0; x < image.getWidth(); x += 3) seen.add(image.getRGB(x, y));
        }
        return seen.size();
    }

    @Test
    void linesAndHeatMapsArePngs(@TempDir Path dir) throws Exception {
        double[] rho = {0, 0.25, 0.5, 0.75};
        var chart = Plots.lines("accuracy vs rho", "rho", "accuracy", List.of(
                new Plots.Series("train", rho, new double[] {0.99, 0.98, 0.97, 0.9}, new double[] {0.01, 0, 0.02, 0.01}),
                new Plots.Series("test", rho, new double[] {0.98, 0.97, 0.95, 0.88})));
        BufferedImage lines = read(Plots.save(chart, dir.resolve("a/lines.png")));
        assertEquals(800, lines.getWidth());
        assertEquals(520, lines.getHeight());
        assertTrue(colours(lines) > 10, "a drawn chart has more than a few colours");

        var heat = Plots.heatMap("train vs test rho", "test rho", "train rho", List.of("0", "0.5"),
                List.of("0", "0.5", "0.9"), new double[][] {{0.9, 0.8}, {0.85, 0.88}, {0.5, 0.6}}, 2);
        BufferedImage map = read(Plots.save(heat, dir.resolve("heat.png")));
        assertTrue(colours(map) > 10);

        BufferedImage grid = read(Plots.save(List.of(chart, chart), 2, dir.resolve("grid.png")));
        assertEquals(1600, grid.getWidth());
    }

    @Test
    void mismatchedSeriesAreRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Plots.Series("loss", new double[] {1, 2}, new double[] {1}));
        assertTrue(e.getMessage().contains("loss"), e.getMessage());
    }
}
