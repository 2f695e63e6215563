/**
 * Training on top of the band-limited convolution: a define-by-run autograd ({@link
 * dev.bandlimit.nn.Tape}, {@link dev.bandlimit.nn.Var}) over float32 tensors in off-heap memory,
 * with a hand-written backward for every op ({@link dev.bandlimit.nn.Functional}), layers
 * ({@link dev.bandlimit.nn.Module} and its subclasses; {@link dev.bandlimit.nn.Conv2d} and
 * {@link dev.bandlimit.nn.Conv1d} call the native operator through {@link dev.bandlimit.ConvPlan}),
 * optimizers, learning-rate schedules and per-op timers ({@link dev.bandlimit.nn.OpTimers}).
 *
 * <p>A training step:
 *
 * <pre>{@code
 * try (Tape tape = new Tape(true)) {
 *     Var logits = model.forward(tape, tape.input(images));
 *     Var loss = Functional.softmaxCrossEntropy(tape, logits, labels);
 *     optimizer.zeroGrad();
 *     tape.backward(loss);
 *     optimizer.step();
 * }   // activations, gradients and saved spectra released here
 * }</pre>
 *
 * <p>Everything runs on the calling thread (the native convolution uses its own threads) in a
 * fixed order, so a seeded run is reproducible bit for bit.
 *
 * <p>Nullness: this package is {@code @NullMarked} (JSpecify); what may be null is marked
 * {@code @Nullable}.
 */
@NullMarked
package dev.bandlimit.nn;

import org.jspecify.annotations.NullMarked;
