/**
 * Band-limited CNNs on Apache Spark 4.2 (docs/SPARK.md):
 *
 * <ul>
 *   <li>{@link dev.bandlimit.spark.DistributedInference}: predictions over a Dataset, with the
 *       weights broadcast once and a pooled model per running task.
 *   <li>{@link dev.bandlimit.spark.DataParallelTrainer}: data-parallel training in barrier
 *       execution mode, the gradients summed by a {@link dev.bandlimit.spark.RingAllReduce} over
 *       TCP between the tasks, safetensors checkpoints written by the driver, and restart from the
 *       last one after a failure.
 *   <li>{@link dev.bandlimit.spark.ModelSpec} (how an executor builds a model) and
 *       {@link dev.bandlimit.spark.ModelState} / {@link dev.bandlimit.spark.OptimizerState} (what
 *       travels: weights and optimizer state, on-heap and serializable).
 * </ul>
 *
 * <p>The executors need Java 25 with {@code --enable-native-access=ALL-UNNAMED} and the library
 * jar; Spark itself is a {@code provided} dependency.
 *
 * <p>Nullness: this package is {@code @NullMarked} (JSpecify); what may be null is marked
 * {@code @Nullable}.
 */
@NullMarked
package dev.bandlimit.spark;

import org.jspecify.annotations.NullMarked;
