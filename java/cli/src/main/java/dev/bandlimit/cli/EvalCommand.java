package dev.bandlimit.cli;

import dev.bandlimit.Compression;
import dev.bandlimit.nn.Checkpoint;
import dev.bandlimit.cli.train.Data;
import dev.bandlimit.cli.train.DataOptions;
import dev.bandlimit.cli.train.Trainer;
import dev.bandlimit.cli.train.TrainingOptions;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Evaluates a trained checkpoint on the MNIST test set, at any compression. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Evaluate a checkpoint on the MNIST test set; --rho/--energy may differ from training.")
final class EvalCommand implements Callable<Integer> {

    @Mixin
    DataOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", defaultValue = "runs/train/model.safetensors", description = "checkpoint (default ${DEFAULT-VALUE})")
    Path checkpoint;

    @Override
    public Integer call() {
        options.validate(spec.commandLine());
        if (!java.nio.file.Files.isRegularFile(checkpoint)) {
            throw new IllegalArgumentException("no checkpoint at " + checkpoint + ": run `./bandlimit train --out "
                    + (checkpoint.getParent() == null ? "." : checkpoint.getParent()) + "` first");
        }
        Checkpoint.Contents loaded = Checkpoint.load(checkpoint);  // first: a wrong checkpoint fails before the data loads
        Data data = Data.load(options.dataDir, System.out);
        Compression eval = options.compression.rho == null && options.compression.energy == null
                ? loaded.trainCompression() : options.compression.toCompression();
        try (Trainer trainer = new Trainer(TrainingOptions.evaluationConfig(options, loaded.trainCompression(), eval), data.trainImages(),
                data.trainLabels(), data.testImages(), data.testLabels(), System.out)) {
            Checkpoint.restore(loaded, trainer.model().network(), trainer.model().name());
            Trainer.Evaluation result = trainer.evaluate();
            System.out.printf(Locale.ROOT, "checkpoint %s (trained at %s), evaluated at %s: test accuracy %.2f%%%n",
                    checkpoint, loaded.trainCompression(), eval, 100 * result.accuracy());
            for (int i = 0; i < result.boxes().size(); i++) {
                System.out.printf(Locale.ROOT, "  %s: box (%d, %d), achieved rate %.4f%n",
                        trainer.model().convolutionNames().get(i), result.boxes().get(i).kh(), result.boxes().get(i).kw(),
                        result.rates().get(i));
            }
        }
        return 0;
    }
}
