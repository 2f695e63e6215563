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
 * <h2>Threads</h2>
 *
 * <p>What may run at once, and what is refused:
 *
 * <ul>
 *   <li><b>Evaluation of one model from several threads</b> is safe: each thread opens its own
 *       evaluation tape ({@code new Tape(false)}) and calls {@link dev.bandlimit.nn.Module#forward}
 *       on the shared model; every result equals the sequential one bit for bit. The
 *       convolutions' plan caches are synchronised (held only to look a plan up, never during a
 *       native call), a plan in use is never closed under its caller, and a call that finds the
 *       plan's workspace taken by another thread's call runs with a workspace of its own.
 *       {@link dev.bandlimit.nn.ConvLayer#lastBox()} and the other "last forward" reports then
 *       describe whichever thread's forward finished last.
 *   <li><b>Training</b> is one thread at a time per model. A training tape holds each parameter
 *       it uses until it closes, and {@link dev.bandlimit.nn.Optimizer#step()} and
 *       {@code zeroGrad()} hold them while they run ({@link dev.bandlimit.nn.Parameter}); while a
 *       parameter is held, another thread's training or evaluation tape, optimizer step or
 *       {@code zeroGrad} that touches it throws {@link java.lang.IllegalStateException} naming
 *       the parameter and both threads, before anything is written. So training two threads on
 *       one model, evaluating it while another thread trains it, and two overlapping steps over
 *       the same parameters are refused. (A read that starts before another thread's hold begins
 *       is not seen: keep evaluation and training of one model apart in time.) Separate copies
 *       of a model train on separate threads independently.
 *   <li><b>A tape and its vars</b> belong to the thread that created the tape (its memory is in an
 *       arena confined to that thread): any use from another thread, close included, throws
 *       {@link java.lang.IllegalStateException} naming both threads and leaves the tape as it
 *       was. A closed tape throws on every use. A thread that ends with a tape open holds no
 *       parameter after it.
 *   <li><b>Tape memory</b>: {@link dev.bandlimit.nn.TapeMemory} is thread-safe (one tape holds it at
 *       a time; another allocates on its own); the per-thread instance behind
 *       {@code new Tape(boolean)} is freed once its thread has ended and it is collected.
 *   <li><b>Must not overlap any other use of the same module</b> (not detected):
 *       {@link dev.bandlimit.nn.Module#close()} (the layers keep a plan open until another
 *       thread's call on it ends, but nothing else is kept for such a call) and
 *       {@link dev.bandlimit.nn.Module#to}. {@link dev.bandlimit.nn.ConvLayer#setPlanCacheCapacity}
 *       may be called at any time; {@link dev.bandlimit.nn.ConvLayer#setEvalCompression} applies to
 *       the forwards that start after it. An optimizer's learning rate and schedule belong to the
 *       training thread. Building modules and the models' builders are single-threaded.
 *   <li>{@link dev.bandlimit.nn.OpTimers} is static and thread-safe (it sums over all threads).
 * </ul>
 *
 * <p>The native layer kernels and convolution plans are themselves safe for concurrent calls with
 * distinct outputs ({@code include/bandlimit.h}); the rules above are about the Java state around
 * them (caches, gradients, optimizer state, arenas).
 *
 * <p>Nullness: this package is {@code @NullMarked} (JSpecify); what may be null is marked
 * {@code @Nullable}.
 */
@NullMarked
package dev.bandlimit.nn;

import org.jspecify.annotations.NullMarked;
