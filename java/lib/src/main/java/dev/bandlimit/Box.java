package dev.bandlimit;

/**
 * The low-frequency box of the half spectrum that a layer keeps: rows {@code 0..kh} and
 * {@code LH-kh..LH-1}, columns {@code 0..kw} (docs/ALGORITHM.md section 3).
 *
 * @param kh the box keeps rows {@code 0..kh} and the last {@code kh} rows
 * @param kw the box keeps columns {@code 0..kw} of the half spectrum
 */
public record Box(long kh, long kw) {}
