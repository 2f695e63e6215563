// dft.h -- the pruned 2D DFT of small planes as dense products, batched 16 planes at a time
// (lane = plane), the CPU backend's alternative to the pruned FFT (ALGORITHM.md section 4.5).
//
// A block holds 16 planes in SoA: element e of lane p at [e * 16 + p]. All arrays are 64-byte
// aligned, sizes in floats. With U row frequencies u (the kept rows r and LH - r share
// u = min(r, LH - r)), the forward of a block is
//   stage 1 (rows):    T[a][s]   = sum_j S[a][j] (cw[j][s] + i sw[j][s])     (real x complex)
//   stage 2 (columns): P[u][s]   = sum_a T[a][s] ch[a][u],  Q[u][s] = sum_a T[a][s] sh[a][u]
// and the caller forms the kept coefficient of row r = u as P - iQ, of row LH - u as P + iQ.
// The inverse of a block, from S = Z(u) + Z(LH - u) and D = Z(u) - Z(LH - u) (S = Z(u), D = 0
// for an unpaired row), is
//   stage A (columns): G[a][s] = sum_u (S cos - Di sin) + i (S_im cos + D_re sin),  (cos, sin) = ah[a][u]
//   stage B (rows):    Y[a][c] = sum_s G_re[a][s] br[s][c] + G_im[a][s] bi[s][c]
// Bases are interleaved pairs: cw/sw as w[(j * ldw + s) * 2 + {0, 1}], ch/sh as h[(a * ldh + u)
// * 2 + {0, 1}], br/bi as b[(s * cols + c) * 2 + {0, 1}]. The leading dimensions ldw >= kc and
// ldh >= U let one table built for the largest box serve every smaller one (a basis value
// depends on its indices only; b of a smaller kc is a prefix). Each lane is computed by the same
// operation sequence, so a plane's result does not depend on its block or the thread count.
//
// Like cgemm, the kernels are compiled three times (portable, AVX2, AVX-512: dft.cpp,
// dft_avx2.cpp, dft_avx512.cpp with per-file ISA flags), and picked by the CPU path.
#pragma once

#include <cstdint>

#include "geometry.h"  // Box, kept_rows, kept_row

namespace bl {

constexpr int64_t kDftLanes = 16;

struct DftKernels {
    // S [rows][cols][16]; T scratch [rows][kc][2][16]; PQ out [U][kc][4][16] (P_re, P_im, Q_re, Q_im).
    void (*forward)(const float* S, int64_t rows, int64_t cols, int64_t kc, int64_t U,
                    const float* w, int64_t ldw, const float* h, int64_t ldh, float* T, float* PQ);
    // SD [U][kc][4][16] (S_re, S_im, D_re, D_im); G scratch [rows][kc][2][16]; Y out [rows][cols][16].
    void (*inverse)(const float* SD, int64_t rows, int64_t cols, int64_t kc, int64_t U,
                    const float* h, int64_t ldh, const float* b, float* G, float* Y);
    // The forward's recombination: kept coefficient (q, s) of lane p, q < kept_rows(LH, b), is
    // P - iQ (row r = u) or P + iQ (row LH - u), written to re / im[(q kc + s) * stride + p]
    // for p < valid.
    // stream: non-temporal stores (stream_store.inc) where the lanes are whole and aligned.
    // blocks: that many consecutive 16-item blocks (block i's PQ at PQ + i * pq_stride, its items
    // at re / im + 16 i; valid == 16 when blocks > 1), one coefficient at a time: a streamed run of
    // 64 * blocks bytes per coefficient instead of 64 (DRAM writes scattered 64 bytes at a time
    // ran at about a third of the sequential bandwidth).
    void (*recombine)(const float* PQ, int64_t LH, const Box& b, float* re, float* im, int64_t stride,
                      int64_t valid, bool stream, int64_t blocks, int64_t pq_stride);
    // The inverse's pre-sums SD [U][kc][4][16] from the kept coefficients, read the same way
    // (lanes >= valid as zero); U = cpu::dft_row_freqs(LH, b).
    void (*presum)(const float* re, const float* im, int64_t stride, int64_t valid, int64_t LH, const Box& b,
                   int64_t U, float* SD);
};

DftKernels dft_kernels_for_path(int path);

namespace portable {
extern const DftKernels kDftKernels;
}
namespace avx2 {
extern const DftKernels kDftKernels;
}
namespace avx512 {
extern const DftKernels kDftKernels;
}

}  // namespace bl
