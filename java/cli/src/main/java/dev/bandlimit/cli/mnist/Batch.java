package dev.bandlimit.cli.mnist;

/**
 * A mini-batch: {@code images} is {@code [size][1][28][28]} flattened row-major in
 * {@code [0, 1]}, {@code labels} has {@code size} entries.
 */
public record Batch(float[] images, int[] labels, int size) {}
