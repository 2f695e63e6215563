package dev.bandlimit.cli.plot;

import dev.bandlimit.cli.train.Trainer.EpochReport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.XYChart;

/** The charts every training command draws from its epoch reports. */
public final class RunPlots {
    private RunPlots() {}

    /** A named run: its epochs in order. */
    public record Run(String name, List<EpochReport> epochs) {}

    /** Training loss and test accuracy per epoch, one curve per run, side by side in one PNG. */
    public static Path curves(String title, List<Run> runs, Path png) {
        List<Plots.Series> loss = new ArrayList<>(), accuracy = new ArrayList<>();
        for (Run r : runs) {
            double[] epoch = r.epochs().stream().mapToDouble(EpochReport::epoch).toArray();
            loss.add(new Plots.Series(r.name(), epoch, r.epochs().stream().mapToDouble(EpochReport::loss).toArray()));
            accuracy.add(new Plots.Series(r.name(), epoch,
                    r.epochs().stream().mapToDouble(e -> 100 * e.testAccuracy()).toArray()));
        }
        List<XYChart> charts = List.of(
                Plots.lines(title + ": training loss", "epoch", "loss", loss),
                Plots.lines(title + ": test accuracy", "epoch", "accuracy (%)", accuracy));
        return Plots.save(charts, 2, png);
    }
}
