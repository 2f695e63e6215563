/**
 * The models of the paper's experiments (Dziedzic et al., "Band-limited Training and Inference for
 * Convolutional Neural Networks", ICML 2019), built from the layers of {@link dev.bandlimit.nn}
 * with every convolution band-limited:
 *
 * <ul>
 *   <li>{@link dev.bandlimit.nn.models.ResNet18}: the CIFAR-10 ResNet-18 (He et al. 2016, in the
 *       CIFAR form of the paper's code: 3x3 stem, no max pooling) and its
 *       {@link dev.bandlimit.nn.models.BasicBlock};
 *   <li>{@link dev.bandlimit.nn.models.TimeSeriesFcn}: the fully convolutional network of Wang
 *       et al. 2017 for the UCR time series.
 * </ul>
 *
 * <p>Each is a {@link dev.bandlimit.nn.Module} (parameters and buffers under PyTorch's
 * {@code state_dict} names, {@link dev.bandlimit.nn.Module#to}, {@code close}) and a
 * {@link dev.bandlimit.nn.models.Model}: its band-limited layers by name, each with its own
 * training and evaluation compression, chosen per name when the model is built.
 *
 * <p>Threads: a model holds no state beyond its layers, so the rules of {@link dev.bandlimit.nn}
 * apply as they are: one model may be evaluated from several threads at once, each with its own
 * evaluation tape; it trains on one thread at a time (train a copy per thread).
 *
 * <p>Nullness: this package is {@code @NullMarked} (JSpecify); what may be null is marked
 * {@code @Nullable}.
 */
@NullMarked
package dev.bandlimit.nn.models;

import org.jspecify.annotations.NullMarked;
