package dev.bandlimit.cli;

import dev.bandlimit.Compression;
import dev.bandlimit.cli.plot.RunPlots;
import dev.bandlimit.cli.train.Data;
import dev.bandlimit.nn.Checkpoint;
import dev.bandlimit.nn.models.MnistCnn;
import dev.bandlimit.cli.train.Trainer;
import dev.bandlimit.cli.train.TrainingOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Trains the MNIST CNN with band-limited convolutions; writes metrics and a checkpoint. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train the MNIST CNN with band-limited convolutions (--rho or --energy).")
final class TrainCommand implements Callable<Integer> {

    @Mixin
    TrainingOptions options;

    @Option(names = "--model", defaultValue = MnistCnn.NAME, description = "model (only ${DEFAULT-VALUE} for now)")
    String model;

    @ArgGroup(exclusive = true, heading = "Evaluation compression (default: as in training):%n")
    EvalCompression eval;

    @Option(names = "--out", defaultValue = "runs/train", description = "output folder: metrics.jsonl, model.safetensors, curves.png (default ${DEFAULT-VALUE})")
    Path out;

    static final class EvalCompression {
        @Option(names = "--eval-rho", description = "fixed rate for evaluation")
        Double rho;

        @Option(names = "--eval-energy", description = "energy fraction for evaluation")
        Double energy;

        Compression toCompression() {
            return energy != null ? Compression.energy(energy) : Compression.fixed(rho);
        }
    }

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        options.validate(spec.commandLine());
        dev.bandlimit.cli.train.Checks.oneOf(spec.commandLine(), "--model", model, java.util.List.of(MnistCnn.NAME));
        if (eval != null) {
            dev.bandlimit.cli.train.DataOptions.rate(spec.commandLine(), "--eval-rho", eval.rho);
            dev.bandlimit.cli.train.DataOptions.energy(spec.commandLine(), "--eval-energy", eval.energy);
        }
        Compression train = options.data.compression.toCompression();
        Compression evalCompression = eval == null ? train : eval.toCompression();
        Files.createDirectories(out);
        Path metrics = out.resolve("metrics.jsonl");
        Files.deleteIfExists(metrics);
        Data data = Data.load(options.data.dataDir, System.out);
        System.out.printf(Locale.ROOT, "training %s: train %s, eval %s, %d epochs, batch %d, %s lr %s (%s), seed %d%n",
                model, train, evalCompression, options.epochs, options.data.batch, options.optimizer, options.learningRate,
                options.schedule, options.seed);
        try (Trainer trainer = new Trainer(options.config(train, evalCompression), data.trainImages(),
                data.trainLabels(), data.testImages(), data.testLabels(), System.out)) {
            var reports = trainer.train(metrics);
            Checkpoint.save(out.resolve("model.safetensors"), trainer.model().network(), trainer.model().name(), train,
                    options.seed);
            Path curves = RunPlots.curves(model, List.of(new RunPlots.Run(train.toString(), reports)),
                    out.resolve("curves.png"));
            System.out.println("wrote " + metrics + ", " + out.resolve("model.safetensors") + " and " + curves);
        }
        return 0;
    }
}
