// index_maps.h -- the index maps the CUDA backend's kernels use, as plain functions that compile
// for the host (g++: the native test test_cuda_maps checks them against the core's geometry.h
// and against brute force) and for the device (nvcc: __host__ __device__).
//
// Layouts (the same as the CPU backend's, ALGORITHM.md section 4.1):
//   - a real grid is [plane][LH][LW] floats, a half spectrum [plane][LH][LW / 2 + 1] complex
//     (cuFFT's packed R2C / C2R layouts);
//   - a compact spectrum is frequency-major: coefficient k of item j at re[k * items + j] and
//     im[k * items + j], k = i * (kw + 1) + s for kept row i (kept_row) and column s;
//   - items are planes in tensor order: X^ and dX^ [n][c], W^ and dW^ [f][c], Y^ and dY^ [n][f].
#pragma once

#include <cstdint>

#ifdef __CUDACC__
#define BL_HD __host__ __device__ __forceinline__
#else
#define BL_HD inline
#endif

namespace bl {
namespace cuda {

// Where a real plane sits on the LH x LW grid: source row a -> grid row r0 + a * rs, source
// column b -> grid column c0 + b * cs (x: the padding offsets, step 1; y and dy: origin, step
// the stride; w: origin, step 1).
struct Placement {
    int64_t rows, cols;
    int64_t r0, rs, c0, cs;
};

// The source index of grid coordinate t on one axis (origin o, step st, count n), or -1 when
// no source value lands there (padding, or between two strided samples).
BL_HD int64_t source_of(int64_t t, int64_t o, int64_t st, int64_t n) {
    const int64_t d = t - o;
    if (d < 0 || d % st != 0) return -1;
    const int64_t a = d / st;
    return a < n ? a : -1;
}

// Rows kept by box (kh, kw) on LH rows: 0..kh and LH-kh..LH-1, min(2 kh + 1, LH) of them.
BL_HD int64_t kept_rows_of(int64_t LH, int64_t kh) { return 2 * kh + 1 < LH ? 2 * kh + 1 : LH; }

// Spectrum row of kept row i (compact order: 0..kh, then LH-kh..LH-1; all rows in order once
// 2 kh + 1 >= LH), as geometry.h's kept_row.
BL_HD int64_t kept_row_of(int64_t LH, int64_t kh, int64_t i) {
    const int64_t rows = kept_rows_of(LH, kh);
    return i <= kh ? i : LH - (rows - i);
}

// Half-spectrum offset (in complex values) of compact coefficient k of plane j.
BL_HD int64_t half_offset(int64_t LH, int64_t half_w, int64_t kh, int64_t kw, int64_t k, int64_t j) {
    const int64_t kc = kw + 1;
    const int64_t r = kept_row_of(LH, kh, k / kc), s = k % kc;
    return (j * LH + r) * half_w + s;
}

// Weight of column s in a real inverse from the half spectrum: columns 0 and (even LW) LW / 2
// once, every other column twice (its mirror LW - s is not stored). Also the Parseval weight of
// the energy sums (ALGORITHM.md section 3).
BL_HD int64_t column_weight(int64_t LW, int64_t s) { return (s == 0 || 2 * s == LW) ? 1 : 2; }

// Twiddle index of the product (a * b) mod L without overflow for the sizes a plan accepts
// (a, b < 2^31).
BL_HD int64_t twiddle_index(int64_t a, int64_t b, int64_t L) { return (a % L) * (b % L) % L; }

// Grid offset (in floats) of output element (a, b) of a plane j placed at p on an LH x LW grid.
BL_HD int64_t grid_offset(const Placement& p, int64_t LH, int64_t LW, int64_t j, int64_t a, int64_t b) {
    return (j * LH + p.r0 + a * p.rs) * LW + p.c0 + b * p.cs;
}

}  // namespace cuda
}  // namespace bl
