/**
 * The public facade of the native band-limited convolution: {@link dev.bandlimit.ConvPlan} (a
 * layer's native plan, built with {@link dev.bandlimit.ConvPlan#conv2d()} or
 * {@link dev.bandlimit.ConvPlan#conv1d()}; its shapes are a {@link dev.bandlimit.ConvGeometry}),
 * {@link dev.bandlimit.Tensor} (float32 off-heap tensors passed with no copy),
 * {@link dev.bandlimit.Compression}, {@link dev.bandlimit.SavedSpectra},
 * {@link dev.bandlimit.Workspace}, library settings in {@link dev.bandlimit.Bandlimit}, and one
 * exception hierarchy under {@link dev.bandlimit.BandlimitException}.
 *
 * <p>Nullness: this package is {@code @NullMarked}; parameters and results that may be null are
 * marked {@code @Nullable} (e.g. the bias of a forward, the outputs of a backward).
 */
@NullMarked
package dev.bandlimit;

import org.jspecify.annotations.NullMarked;
