// Calling bandlimit from Scala 3: (1) one band-limited Conv2d plan, forward and backward on
// random data; (2) a tiny CNN trained with the nn API. Exits with status 1 if a check fails.
package dev.bandlimit.examples

import dev.bandlimit.{Compression, ConvPlan, Padding, Pass, Tensor}
import dev.bandlimit.nn.{Adam, BatchNorm2d, Conv2d, Flatten, Functional, Linear, MaxPool2d, ReLU, Sequential, Tape}
import java.lang.foreign.Arena
import scala.collection.mutable.ArrayBuffer
import scala.util.{Random, Using}

object BandlimitExample:
  private val failures = ArrayBuffer.empty[String]

  private def check(ok: Boolean, what: String): Unit =
    println(s"  ${if ok then "ok  " else "FAIL"} $what")
    if !ok then failures += what

  extension (rng: Random)
    private def floats(n: Long): Array[Float] = Array.fill(Math.toIntExact(n))(rng.nextFloat() * 2f - 1f)

  /** Sum of a(i) * b(i) in float64. */
  private def dot(a: Tensor, b: Tensor): Double =
    a.toArray.lazyZip(b.toArray).map((p, q) => p.toDouble * q).sum

  private def norm(t: Tensor): Double = math.sqrt(dot(t, t))

  private def gflop(v: Double): String = f"${v / 1e9}%.3f"

  /** Forward and backward of one band-limited layer, checked against the dense operator. */
  private def planDemo(): Unit =
    println("== ConvPlan: Conv2d 8 -> 16 channels, 32x32, 3x3, pad 1, batch 4 ==")
    val n = 4L
    val rng = Random(42)
    Using.resource(Arena.ofConfined()) { arena =>
      // One builder for two plans: rho 0 (the dense operator) and rho 0.5.
      def plan(c: Compression): ConvPlan = ConvPlan.conv2d().maxBatch(n).channels(8).input(32, 32)
        .filters(16).kernel(3, 3).padding(Padding.symmetric(1)).compression(c).build(arena)

      Using.resources(plan(Compression.none()), plan(Compression.fixed(0.5))) { (dense, banded) =>
        val x = Tensor.copyOf(arena, rng.floats(n * 8 * 32 * 32), banded.inputShape(n)*)
        val w = Tensor.copyOf(arena, rng.floats(16L * 8 * 3 * 3), banded.weightShape()*)
        val b = Tensor.copyOf(arena, rng.floats(16), banded.biasShape()*)
        val dy = Tensor.copyOf(arena, rng.floats(n * 16 * 32 * 32), banded.outputShape(n)*)

        // rho 0 is the dense operator: compare some outputs with the direct sum.
        val yDense = Tensor.allocate(arena, dense.outputShape(n)*)
        dense.infer(x, w, b, yDense)
        val errors =
          for
            (i, j) <- Seq((0, 0), (0, 31), (31, 0), (31, 31), (7, 19), (16, 16))
            (s, f) <- Seq((0, 0), (3, 15), (2, 7))
          yield
            val ref = directSum(x, w, b, s, f, i, j)
            val got = yDense.get(((s * 16L + f) * 32 + i) * 32 + j)
            math.abs(got - ref) / math.max(1.0, math.abs(ref))
        check(errors.max < 1e-4, f"rho 0 matches the direct sum on ${errors.size} outputs (worst error ${errors.max}%.2e)")

        // rho 0.5: the training forward saves compact spectra that the backward reuses.
        val y = Tensor.allocate(arena, banded.outputShape(n)*)
        val dx = Tensor.allocate(arena, banded.inputShape(n)*)
        val dw = Tensor.allocate(arena, banded.weightShape()*)
        val db = Tensor.allocate(arena, banded.biasShape()*)
        val saved = banded.allocateSavedSpectra(arena)
        val box = banded.forward(x, w, b, y, saved)
        banded.backward(saved, w, dy, dx, dw, db)

        println(f"  requested rho 0.5, achieved rate ${banded.achievedRate()}%.4f, box $box, FFT ${banded.fftLengths()}")
        println(s"  saved spectra: ${banded.savedSpectraBytes()} bytes at rho 0.5, ${dense.savedSpectraBytes()} bytes at rho 0")
        for pass <- Pass.values do
          val fl = banded.flops(pass, n)
          val f0 = dense.flops(pass, n)
          println(f"  ${pass.toString}%-16s GFLOP executed ${gflop(fl.executed)} (rho 0: ${gflop(f0.executed)}), " +
            s"nominal ${gflop(fl.nominal)}, direct conv ${gflop(fl.denseEquivalent)}")
        check(banded.achievedRate() > 0.0 && banded.achievedRate() <= 0.5, "achieved rate in (0, 0.5]")
        check(banded.savedSpectraBytes() < dense.savedSpectraBytes(), "fewer saved bytes than at rho 0")
        check(banded.flops(Pass.FORWARD, n).executed < dense.flops(Pass.FORWARD, n).executed,
          "fewer forward FLOPs than at rho 0")

        // The band-limited forward is linear in x and in w, and the backward is its exact
        // adjoint: <y, dy> = <x, dx> + <b, db> = <w, dw> + <b, db>.
        val ydy = dot(y, dy)
        val tol = 1e-4 * norm(y) * norm(dy)
        check(math.abs(ydy - dot(x, dx) - dot(b, db)) <= tol, "adjoint check for dx: <y,dy> = <x,dx> + <b,db>")
        check(math.abs(ydy - dot(w, dw) - dot(b, db)) <= tol, "adjoint check for dw: <y,dy> = <w,dw> + <b,db>")

        val diff = Tensor.copyOf(arena, y.toArray.lazyZip(yDense.toArray).map(_ - _), y.shape()*)
        val rel = norm(diff) / norm(yDense)
        println(f"  ||y(rho 0.5) - y(rho 0)|| / ||y(rho 0)|| = $rel%.3f (white noise has energy at every frequency)")
        check(rel > 1e-3, "compression changed the output")
      }
    }

  /** y[s][f][i][j] in float64 from the definition (docs/ALGORITHM.md section 1), pad 1, 3x3. */
  private def directSum(x: Tensor, w: Tensor, b: Tensor, s: Int, f: Int, i: Int, j: Int): Double =
    val terms =
      for
        c <- 0 until 8
        u <- 0 until 3
        v <- 0 until 3
        h = i + u - 1
        q = j + v - 1
        if h >= 0 && h < 32 && q >= 0 && q < 32
      yield x.get(((s * 8L + c) * 32 + h) * 32 + q).toDouble * w.get(((f * 8L + c) * 3 + u) * 3 + v)
    b.get(f.toLong) + terms.sum

  /** Synthetic task: which half (left 0, right 1) of a noisy 12x12 image is brighter. */
  private def batch(rng: Random, size: Int): (Array[Float], Array[Int]) =
    val labels = Array.fill(size)(rng.nextInt(2))
    val images = Array.tabulate(size * 144) { k =>
      val (s, c) = (k / 144, k % 12)
      val brighter = if labels(s) == 0 then c < 6 else c >= 6
      rng.nextFloat() + (if brighter then 0.1f else 0f)
    }
    (images, labels)

  /** A tiny CNN whose convolution runs band-limited at rho 0.5, trained with Adam. */
  private def trainingDemo(): Unit =
    println("== nn: Conv2d(1 -> 8, 3x3, rho 0.5) BatchNorm ReLU MaxPool Linear(288 -> 2), Adam ==")
    val rng = Random(7)
    val batchSize = 32
    val steps = 40
    val rho = Compression.fixed(0.5)
    val conv = Conv2d(1, 8, 3, 3, Padding.symmetric(1), 1, true, rho, rho, 1)
    Using.resource(Sequential(conv, BatchNorm2d(8), ReLU(), MaxPool2d(2, 2), Flatten(), Linear(8 * 6 * 6, 2, true, 2))) { net =>
      Using.resource(Adam(net.parameters(), 2e-3)) { adam =>
        val losses = Array.tabulate(steps) { step =>
          val (images, labels) = batch(rng, batchSize)
          val loss = Using.resource(Tape(true)) { tape =>
            val x = Tensor.copyOf(tape.arena(), images, batchSize.toLong, 1, 12, 12)
            val loss = Functional.softmaxCrossEntropy(tape, net.forward(tape, tape.input(x)), labels)
            adam.zeroGrad()
            tape.backward(loss)
            adam.step()
            loss.item().toDouble
          }
          if step % 5 == 0 || step == steps - 1 then println(f"  step $step%2d  loss $loss%.4f")
          loss
        }
        println(f"  the convolution kept box ${conv.lastBox()} of FFT ${conv.lastPlan().fftLengths()}: " +
          f"achieved rate ${conv.lastAchievedRate()}%.3f, ${conv.lastSavedSpectraBytes()} saved bytes per step")
        val first = losses.take(5).sum / 5
        val last = losses.takeRight(5).sum / 5
        check(last <= 0.5 * first, f"loss fell by at least half: $first%.4f -> $last%.4f (mean of 5 steps)")

        // Held-out accuracy with an evaluation tape (running batch-norm statistics, no grads).
        val (images, labels) = batch(rng, 256)
        val predicted = Using.resource(Tape(false)) { tape =>
          Functional.argmax(net.forward(tape, tape.input(Tensor.copyOf(tape.arena(), images, 256, 1, 12, 12))))
        }
        val accuracy = predicted.lazyZip(labels).count(_ == _) / 256.0
        check(accuracy >= 0.9, f"held-out accuracy ${100 * accuracy}%.1f%% >= 90%%")
      }
    }

  def main(args: Array[String]): Unit =
    planDemo()
    trainingDemo()
    if failures.nonEmpty then
      System.err.println(s"Scala example: ${failures.size} check(s) failed")
      sys.exit(1)
    println("Scala example: all checks passed")
