package dev.bandlimit.nn.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bandlimit.Compression;
import dev.bandlimit.Tensor;
import dev.bandlimit.nn.Adam;
import dev.bandlimit.nn.Conv2d;
import dev.bandlimit.nn.Parameter;
import dev.bandlimit.nn.Tape;
import dev.bandlimit.nn.TrainingFixtures;
import dev.bandlimit.nn.Var;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The CIFAR ResNet-18: structure, names, shapes, per-layer compressions, a few training steps. */
class ResNet18Test {

    /**
     * The 20 band-limited layers in forward order, under their kuangliu/pytorch-cifar names: the
     * stem, then per block conv1, conv2 and, where the block changes the shape (the first block of
     * stages 2 to 4), the 1x1 projection.
     */
    private static final List<String> NAMES = List.of("conv1",
            "layer1.0.conv1", "layer1.0.conv2", "layer1.1.conv1", "layer1.1.conv2",
            "layer2.0.conv1", "layer2.0.conv2", "layer2.0.shortcut.0", "layer2.1.conv1", "layer2.1.conv2",
            "layer3.0.conv1", "layer3.0.conv2", "layer3.0.shortcut.0", "layer3.1.conv1", "layer3.1.conv2",
            "layer4.0.conv1", "layer4.0.conv2", "layer4.0.shortcut.0", "layer4.1.conv1", "layer4.1.conv2");

    /**
     * The parameters of the CIFAR ResNet-18 (kuangliu's, with batch-norm scale and shift),
     * counted by hand: stem 3*64*9 + 2*64 = 1,856; stage 1: two blocks of 2 * (64*64*9 + 2*64) =
     * 73,984; stage 2: 64*128*9 + 128*128*9 + 4*128 + projection 64*128 + 2*128 = 230,144, then
     * 2 * (128*128*9 + 2*128) = 295,424; stage 3: 294,912 + 589,824 + 1,024 + 32,768 + 512 =
     * 919,040, then 1,180,672; stage 4: 1,179,648 + 2,359,296 + 2,048 + 131,072 + 1,024 =
     * 3,673,088, then 4,720,640; linear 512*10 + 10 = 5,130. Sum: 11,173,962, the figure
     * {@code sum(p.numel() for p in model.parameters())} gives in PyTorch.
     */
    private static final long CIFAR_RESNET18_PARAMETERS = 11_173_962L;

    @Test
    void fullSizeModelHasTheCifarShapesCountAndNames() {
        try (Arena arena = Arena.ofConfined(); ResNet18 model = ResNet18.builder().build()) {
            assertEquals(CIFAR_RESNET18_PARAMETERS, model.parameterCount());
            assertEquals(NAMES, model.convolutionNames());
            assertEquals(20, model.convolutions().size());
            for (int i = 0; i < NAMES.size(); i++) {
                // Each name is the layer's path: its weight is name.weight in namedParameters.
                Conv2d conv = model.convolutions().get(i);
                assertTrue(model.namedParameters().get(NAMES.get(i) + ".weight") == conv.weight(), NAMES.get(i));
                assertNull(conv.bias(), NAMES.get(i));
            }
            Map<String, Parameter> params = model.namedParameters();
            // Stem conv 1 + stem BN 2 + 8 blocks x 6 + 3 projections x 3 + linear 2 = 62 tensors,
            // the parameters of PyTorch's state_dict.
            assertEquals(62, params.size());
            assertArrayEquals(new long[] {64, 3, 3, 3}, params.get("conv1.weight").shape());
            assertArrayEquals(new long[] {128, 64, 1, 1}, params.get("layer2.0.shortcut.0.weight").shape());
            assertArrayEquals(new long[] {128}, params.get("layer2.0.shortcut.1.bias").shape());
            assertArrayEquals(new long[] {512, 512, 3, 3}, params.get("layer4.1.conv2.weight").shape());
            assertArrayEquals(new long[] {10, 512}, params.get("linear.weight").shape());
            assertArrayEquals(new long[] {10}, params.get("linear.bias").shape());
            // 20 batch norms, each with running_mean and running_var.
            assertEquals(40, model.namedBuffers().size());
            assertTrue(model.namedBuffers().containsKey("layer3.0.shortcut.1.running_var"));
            assertTrue(model.namedBuffers().containsKey("bn1.running_mean"));

            Tensor images = Tensor.allocate(arena, 2, 3, 32, 32);
            ModelFixtures.fillInputs(images, 1);
            try (Tape tape = new Tape(false)) {
                Var logits = model.forward(tape, tape.input(images));
                assertArrayEquals(new long[] {2, 10}, logits.shape());
                for (float v : logits.data().toArray()) assertTrue(Float.isFinite(v));
            }
        }
    }

    /** Strides 1, 2, 2, 2 take 32x32 to 4x4; the 1x1 projections (stride 2) are band-limited too. */
    @Test
    void trainingForwardAtHalfCompressionBandLimitsEveryLayer() {
        try (Arena arena = Arena.ofConfined();
                ResNet18 model = ResNet18.builder().width(4).classes(3).compression(Compression.fixed(0.5)).seed(7)
                        .build()) {
            Tensor images = Tensor.allocate(arena, 2, 3, 32, 32);
            ModelFixtures.fillInputs(images, 2);
            try (Tape tape = new Tape(true)) {
                Var logits = model.forward(tape, tape.input(images));
                assertArrayEquals(new long[] {2, 3}, logits.shape());
            }
            for (int i = 0; i < NAMES.size(); i++) {
                Conv2d conv = model.convolutions().get(i);
                double rate = conv.lastAchievedRate();
                assertTrue(rate > 0.2 && rate <= 0.5, NAMES.get(i) + " achieved " + rate);
                assertTrue(conv.lastSavedSpectraBytes() > 0, NAMES.get(i));
            }
            List<Long> strides = new ArrayList<>();
            for (BasicBlock b : model.blocks()) strides.add(b.stride());
            assertEquals(List.of(1L, 1L, 2L, 1L, 2L, 1L, 2L, 1L), strides);
        }
    }

    @Test
    void compressionsChosenPerLayerByName() {
        Compression half = Compression.fixed(0.5), quarter = Compression.fixed(0.25);
        try (ResNet18 model = ResNet18.builder().width(2)
                .compressionByLayer(name -> name.contains("shortcut") ? Compression.none() : half)
                .evalCompressionByLayer(name -> name.startsWith("layer4") ? quarter : half).build()) {
            for (int i = 0; i < NAMES.size(); i++) {
                Conv2d conv = model.convolutions().get(i);
                String name = NAMES.get(i);
                assertEquals(name.contains("shortcut") ? Compression.none() : half, conv.trainCompression(), name);
                assertEquals(name.startsWith("layer4") ? quarter : half, conv.evalCompression(), name);
            }
            model.setEvalCompression(quarter);
            for (Conv2d conv : model.convolutions()) assertEquals(quarter, conv.evalCompression());
            model.setEvalCompressionByLayer(name -> name.equals("conv1") ? Compression.none() : half);
            assertEquals(Compression.none(), model.convolutions().get(0).evalCompression());
            assertEquals(half, model.convolutions().get(19).evalCompression());
            // A function that has no answer for a layer changes nothing and names the layer.
            NullPointerException e = assertThrows(NullPointerException.class,
                    () -> model.setEvalCompressionByLayer(name -> name.equals("layer3.1.conv2") ? null : quarter));
            assertTrue(e.getMessage().contains("layer3.1.conv2"), e.getMessage());
            assertEquals(Compression.none(), model.convolutions().get(0).evalCompression());
        }
        NullPointerException e = assertThrows(NullPointerException.class, () -> ResNet18.builder().width(1)
                .compressionByLayer(name -> name.equals("layer2.0.shortcut.0") ? null : Compression.none()).build());
        assertTrue(e.getMessage().contains("layer2.0.shortcut.0"), e.getMessage());
    }

    @Test
    void seededInitialisationIsReproducible() {
        try (ResNet18 a = ResNet18.builder().width(2).seed(5).build();
                ResNet18 b = ResNet18.builder().width(2).seed(5).build();
                ResNet18 c = ResNet18.builder().width(2).seed(6).build()) {
            assertArrayEquals(a.namedParameters().get("layer3.0.conv1.weight").data().toArray(),
                    b.namedParameters().get("layer3.0.conv1.weight").data().toArray());
            assertArrayEquals(a.namedParameters().get("linear.weight").data().toArray(),
                    b.namedParameters().get("linear.weight").data().toArray());
            assertTrue(a.namedParameters().get("conv1.weight").data().get(0)
                    != c.namedParameters().get("conv1.weight").data().get(0));
        }
    }

    @Test
    void refusesAnInputOfTheWrongShape() {
        try (Arena arena = Arena.ofConfined(); ResNet18 model = ResNet18.builder().width(2).build();
                Tape tape = new Tape(false)) {
            Var gray = tape.input(Tensor.allocate(arena, 1, 1, 8, 8));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.forward(tape, gray));
            assertTrue(e.getMessage().contains("[N, 3, H, W]"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> ResNet18.builder().width(0));
    }

    /**
     * A few Adam steps on one fixed batch of a narrow model at rho = 0.5 fit it: the loss falls
     * (random labels, so the model can only memorise; 8 steps at lr 1e-2 take it well below the
     * start) and stays finite.
     */
    @Test
    void fewAdamStepsAtHalfCompressionReduceTheLoss() {
        try (Arena arena = Arena.ofConfined();
                ResNet18 model = ResNet18.builder().width(4).classes(4).compression(Compression.fixed(0.5)).seed(3)
                        .build();
                Adam adam = new Adam(model.parameters(), 1e-2)) {
            Tensor images = Tensor.allocate(arena, 8, 3, 16, 16);
            ModelFixtures.fillInputs(images, 4);
            int[] labels = TrainingFixtures.labels(8, 4, 5);
            List<Float> losses = new ArrayList<>();
            for (int step = 0; step < 8; step++) losses.add(TrainingFixtures.trainStep(model, adam, images, labels));
            System.out.println("ResNet18 width 4, rho 0.5, Adam: losses " + losses);
            for (float l : losses) assertTrue(Float.isFinite(l), losses.toString());
            assertTrue(losses.getLast() < 0.8 * losses.getFirst(), losses.toString());
        }
    }
}
