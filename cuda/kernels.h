// kernels.h -- the CUDA backend's hand-written kernels (kernels.cu), as host launchers that
// queue on a stream and return the launch status. Index maps: index_maps.h.
//
// Kernel by kernel:
//   place_planes        real planes -> zeroed LH x LW grids (padding of x, the strided scatter
//                       of dy), the load side of the R2C transform;
//   gather_box          half spectra -> the compact kept coefficients (the L-shaped band);
//   scatter_box         the compact coefficients -> zeroed half spectra, for the C2R inverse;
//   crop_planes         grids -> output planes (crop, stride, scale, bias);
//   weight_dft          K x K weights -> their kept coefficients by a direct DFT (a 3x3 plane
//                       needs 9 terms per coefficient; no FFT, no grid);
//   weight_idft         kept coefficients -> the K x K support of the inverse only (dw);
//   cgemm3m             per-frequency complex products in the 3-mult (Gauss) form, the reduction
//                       fused, tiled in shared memory and registers;
//   spectrum_energy     Parseval-weighted energy per half-spectrum coefficient, float64, fixed
//                       reduction order (the energy-box choice);
//   bias_grad           db = sum over n, i, j of dy, float64, fixed order.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "index_maps.h"
#include "kernel_math.h"

namespace bl {
namespace cuda {

// The kept box and the grid it lives on.
struct BoxGrid {
    int64_t LH, LW, half_w;
    int64_t kh, kw;
    BL_HD int64_t kept() const { return kept_rows_of(LH, kh) * (kw + 1); }
};

// Twiddle tables on the device: interleaved (cos, sin)(2 pi m / L) for m < L.
struct Twiddles {
    const float* row;  // LH entries
    const float* col;  // LW entries
};

cudaError_t place_planes(const float* src, int64_t planes, const Placement& at, int64_t LH, int64_t LW,
                         float* grid, cudaStream_t stream);
cudaError_t gather_box(const float2* half, int64_t planes, const BoxGrid& g, float* re, float* im,
                       cudaStream_t stream);
// Zeroes the half spectra first.
cudaError_t scatter_box(const float* re, const float* im, int64_t planes, const BoxGrid& g, float2* half,
                        cudaStream_t stream);
// out[j][a][b] = grid[j at (a, b)] * scale + (bias ? bias[j % bias_period] : 0).
cudaError_t crop_planes(const float* grid, int64_t planes, const Placement& at, int64_t LH, int64_t LW,
                        float scale, const float* bias, int64_t bias_period, float* out, cudaStream_t stream);
// W^ of `items` KH x KW planes (placed at the grid origin) for the kept box.
cudaError_t weight_dft(const float* w, int64_t items, int64_t KH, int64_t KW, const BoxGrid& g,
                       const Twiddles& tw, float* re, float* im, cudaStream_t stream);
// dw = the K x K support of the real inverse of the kept coefficients, scaled by 1 / (LH LW).
cudaError_t weight_idft(const float* re, const float* im, int64_t items, int64_t KH, int64_t KW,
                        const BoxGrid& g, const Twiddles& tw, float* dw, cudaStream_t stream);

// The batched product of kernel_math.h's ProductCall. four_mult: the paper's 4-mult form
// (BL_METHOD_PAPER_BASELINE) instead of the 3-mult one.
cudaError_t cgemm3m(const ProductCall& call, cudaStream_t stream, bool four_mult = false);

// energy[r * half_w + s] = weight(s) * sum_j |half[j][r][s]|^2.
cudaError_t spectrum_energy(const float2* half, int64_t planes, int64_t LH, int64_t LW, double* energy,
                            cudaStream_t stream);
// db[f] = sum_{n, e} dy[(n * F + f) * plane + e].
cudaError_t bias_grad(const float* dy, int64_t n, int64_t F, int64_t plane, float* db, cudaStream_t stream);

}  // namespace cuda
}  // namespace bl
