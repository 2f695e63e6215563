// Calling bandlimit from Kotlin: (1) one band-limited Conv2d plan, forward and backward on
// random data; (2) a tiny CNN trained with the nn API. Exits with status 1 if a check fails.
package dev.bandlimit.examples

import dev.bandlimit.Compression
import dev.bandlimit.ConvPlan
import dev.bandlimit.Padding
import dev.bandlimit.Pass
import dev.bandlimit.Tensor
import dev.bandlimit.nn.Adam
import dev.bandlimit.nn.BatchNorm2d
import dev.bandlimit.nn.Conv2d
import dev.bandlimit.nn.Flatten
import dev.bandlimit.nn.Functional
import dev.bandlimit.nn.Linear
import dev.bandlimit.nn.MaxPool2d
import dev.bandlimit.nn.ReLU
import dev.bandlimit.nn.Sequential
import dev.bandlimit.nn.Tape
import java.lang.foreign.Arena
import kotlin.math.abs
import kotlin.math.max
import kotlin.math.sqrt
import kotlin.random.Random
import kotlin.system.exitProcess

private val failures = mutableListOf<String>()

private fun check(ok: Boolean, what: String) {
    println("  ${if (ok) "ok  " else "FAIL"} $what")
    if (!ok) failures += what
}

private fun Random.floats(n: Long): FloatArray = FloatArray(Math.toIntExact(n)) { nextFloat() * 2f - 1f }

/** Sum of a[i] * b[i] in float64. */
private fun dot(a: Tensor, b: Tensor): Double {
    val x = a.toArray()
    val y = b.toArray()
    return x.indices.sumOf { x[it].toDouble() * y[it] }
}

private fun norm(t: Tensor): Double = sqrt(dot(t, t))

private fun gflop(v: Double) = "%.3f".format(v / 1e9)

/** Forward and backward of one band-limited layer, checked against the dense operator. */
private fun planDemo() {
    println("== ConvPlan: Conv2d 8 -> 16 channels, 32x32, 3x3, pad 1, batch 4 ==")
    val n = 4L
    val rng = Random(42)
    Arena.ofConfined().use { arena ->
        // One builder for two plans: rho 0 (the dense operator) and rho 0.5.
        fun plan(c: Compression): ConvPlan = ConvPlan.conv2d().maxBatch(n).channels(8).input(32, 32)
            .filters(16).kernel(3, 3).padding(Padding.symmetric(1)).compression(c).build(arena)

        plan(Compression.none()).use { dense ->
            plan(Compression.fixed(0.5)).use { banded ->
                val x = Tensor.copyOf(arena, rng.floats(n * 8 * 32 * 32), *banded.inputShape(n))
                val w = Tensor.copyOf(arena, rng.floats(16L * 8 * 3 * 3), *banded.weightShape())
                val b = Tensor.copyOf(arena, rng.floats(16), *banded.biasShape())
                val dy = Tensor.copyOf(arena, rng.floats(n * 16 * 32 * 32), *banded.outputShape(n))

                // rho 0 is the dense operator: compare some outputs with the direct sum.
                val yDense = Tensor.allocate(arena, *dense.outputShape(n))
                dense.infer(x, w, b, yDense)
                var worst = 0.0
                for ((i, j) in listOf(0 to 0, 0 to 31, 31 to 0, 31 to 31, 7 to 19, 16 to 16)) {
                    for ((s, f) in listOf(0 to 0, 3 to 15, 2 to 7)) {
                        val ref = directSum(x, w, b, s, f, i, j)
                        val got = yDense.get(((s * 16L + f) * 32 + i) * 32 + j)
                        worst = max(worst, abs(got - ref) / max(1.0, abs(ref)))
                    }
                }
                check(worst < 1e-4, "rho 0 matches the direct sum on 18 outputs (worst error %.2e)".format(worst))

                // rho 0.5: the training forward saves compact spectra that the backward reuses.
                val y = Tensor.allocate(arena, *banded.outputShape(n))
                val dx = Tensor.allocate(arena, *banded.inputShape(n))
                val dw = Tensor.allocate(arena, *banded.weightShape())
                val db = Tensor.allocate(arena, *banded.biasShape())
                val saved = banded.allocateSavedSpectra(arena)
                val box = banded.forward(x, w, b, y, saved)
                banded.backward(saved, w, dy, dx, dw, db)

                println("  requested rho 0.5, achieved rate %.4f, box %s, FFT %s"
                    .format(banded.achievedRate(), box, banded.fftLengths()))
                println("  saved spectra: %d bytes at rho 0.5, %d bytes at rho 0"
                    .format(banded.savedSpectraBytes(), dense.savedSpectraBytes()))
                for (pass in Pass.entries) {
                    val f = banded.flops(pass, n)
                    val f0 = dense.flops(pass, n)
                    println("  %-16s GFLOP executed %s (rho 0: %s), nominal %s, direct conv %s"
                        .format(pass, gflop(f.executed), gflop(f0.executed), gflop(f.nominal), gflop(f.denseEquivalent)))
                }
                check(banded.achievedRate() > 0.0 && banded.achievedRate() <= 0.5, "achieved rate in (0, 0.5]")
                check(banded.savedSpectraBytes() < dense.savedSpectraBytes(), "fewer saved bytes than at rho 0")
                check(banded.flops(Pass.FORWARD, n).executed < dense.flops(Pass.FORWARD, n).executed,
                    "fewer forward FLOPs than at rho 0")

                // The band-limited forward is linear in x and in w, and the backward is its exact
                // adjoint: <y, dy> = <x, dx> + <b, db> = <w, dw> + <b, db>.
                val ydy = dot(y, dy)
                val tol = 1e-4 * norm(y) * norm(dy)
                check(abs(ydy - dot(x, dx) - dot(b, db)) <= tol, "adjoint check for dx: <y,dy> = <x,dx> + <b,db>")
                check(abs(ydy - dot(w, dw) - dot(b, db)) <= tol, "adjoint check for dw: <y,dy> = <w,dw> + <b,db>")

                val diff = Tensor.allocate(arena, *y.shape())
                for (k in 0 until y.elementCount()) diff.set(k, y.get(k) - yDense.get(k))
                val rel = norm(diff) / norm(yDense)
                println("  ||y(rho 0.5) - y(rho 0)|| / ||y(rho 0)|| = %.3f (white noise has energy at every frequency)".format(rel))
                check(rel > 1e-3, "compression changed the output")
            }
        }
    }
}

/** y[s][f][i][j] in float64 from the definition (docs/ALGORITHM.md section 1), pad 1, 3x3. */
private fun directSum(x: Tensor, w: Tensor, b: Tensor, s: Int, f: Int, i: Int, j: Int): Double {
    var sum = b.get(f.toLong()).toDouble()
    for (c in 0 until 8) for (u in 0 until 3) for (v in 0 until 3) {
        val h = i + u - 1
        val q = j + v - 1
        if (h !in 0 until 32 || q !in 0 until 32) continue
        sum += x.get(((s * 8L + c) * 32 + h) * 32 + q).toDouble() * w.get(((f * 8L + c) * 3 + u) * 3 + v)
    }
    return sum
}

/** Synthetic task: which half (left 0, right 1) of a noisy 12x12 image is brighter. */
private fun batch(rng: Random, size: Int): Pair<FloatArray, IntArray> {
    val images = FloatArray(size * 144)
    val labels = IntArray(size) { rng.nextInt(2) }
    for (s in 0 until size) for (r in 0 until 12) for (c in 0 until 12) {
        val brighter = if (labels[s] == 0) c < 6 else c >= 6
        images[s * 144 + r * 12 + c] = rng.nextFloat() + if (brighter) 0.1f else 0f
    }
    return images to labels
}

/** A tiny CNN whose convolution runs band-limited at rho 0.5, trained with Adam. */
private fun trainingDemo() {
    println("== nn: Conv2d(1 -> 8, 3x3, rho 0.5) BatchNorm ReLU MaxPool Linear(288 -> 2), Adam ==")
    val rng = Random(7)
    val batchSize = 32
    val steps = 40
    val rho = Compression.fixed(0.5)
    val conv = Conv2d(1, 8, 3, 3, Padding.symmetric(1), 1, true, rho, rho, 1)
    Sequential(conv, BatchNorm2d(8), ReLU(), MaxPool2d(2, 2), Flatten(), Linear(8 * 6 * 6, 2, true, 2)).use { net ->
        Adam(net.parameters(), 2e-3).use { adam ->
            val losses = DoubleArray(steps)
            for (step in 0 until steps) {
                val (images, labels) = batch(rng, batchSize)
                Tape(true).use { tape ->
                    val x = Tensor.copyOf(tape.arena(), images, batchSize.toLong(), 1, 12, 12)
                    val loss = Functional.softmaxCrossEntropy(tape, net.forward(tape, tape.input(x)), labels)
                    adam.zeroGrad()
                    tape.backward(loss)
                    adam.step()
                    losses[step] = loss.item().toDouble()
                }
                if (step % 5 == 0 || step == steps - 1) println("  step %2d  loss %.4f".format(step, losses[step]))
            }
            println("  the convolution kept box %s of FFT %s: achieved rate %.3f, %d saved bytes per step"
                .format(conv.lastBox(), conv.lastPlan().fftLengths(), conv.lastAchievedRate(), conv.lastSavedSpectraBytes()))
            val first = losses.take(5).average()
            val last = losses.takeLast(5).average()
            check(last <= 0.5 * first, "loss fell by at least half: %.4f -> %.4f (mean of 5 steps)".format(first, last))

            // Held-out accuracy with an evaluation tape (running batch-norm statistics, no grads).
            val (images, labels) = batch(rng, 256)
            val predicted = Tape(false).use { tape ->
                Functional.argmax(net.forward(tape, tape.input(Tensor.copyOf(tape.arena(), images, 256, 1, 12, 12))))
            }
            val accuracy = predicted.indices.count { predicted[it] == labels[it] } / 256.0
            check(accuracy >= 0.9, "held-out accuracy %.1f%% >= 90%%".format(100 * accuracy))
        }
    }
}

fun main() {
    planDemo()
    trainingDemo()
    if (failures.isNotEmpty()) {
        System.err.println("Kotlin example: ${failures.size} check(s) failed")
        exitProcess(1)
    }
    println("Kotlin example: all checks passed")
}
