// kernels.cu -- see kernels.h. Element-wise kernels use grid-stride loops over int64 indices
// with the fastest index on consecutive threads where the larger array is written; reductions
// sum in float64 in a fixed order (thread-strided partial sums, then a fixed tree), so results
// do not depend on timing.
#include "kernels.h"

#include <algorithm>

#include "kernel_launch.h"

namespace bl {
namespace cuda {
namespace {

__global__ void place_planes_kernel(const float* __restrict__ src, int64_t planes, Placement at, int64_t LH,
                                    int64_t LW, float* __restrict__ grid) {
    const int64_t total = planes * LH * LW;
    for (int64_t idx = first_index(); idx < total; idx += grid_step()) grid[idx] = place_value(src, at, LH, LW, idx);
}

__global__ void gather_box_kernel(const float2* __restrict__ half, int64_t planes, BoxGrid g, float* __restrict__ re,
                                  float* __restrict__ im) {
    const int64_t total = g.kept() * planes;
    for (int64_t idx = first_index(); idx < total; idx += grid_step()) {
        const int64_t j = idx % planes, k = idx / planes;
        const float2 z = half[half_offset(g.LH, g.half_w, g.kh, g.kw, k, j)];
        re[idx] = z.x;
        im[idx] = z.y;
    }
}

__global__ void scatter_box_kernel(const float* __restrict__ re, const float* __restrict__ im, int64_t planes,
                                   BoxGrid g, float2* __restrict__ half) {
    const int64_t total = g.kept() * planes;
    for (int64_t idx = first_index(); idx < total; idx += grid_step()) {
        const int64_t j = idx % planes, k = idx / planes;
        half[half_offset(g.LH, g.half_w, g.kh, g.kw, k, j)] = make_float2(re[idx], im[idx]);
    }
}

__global__ void crop_planes_kernel(const float* __restrict__ grid, int64_t planes, Placement at, int64_t LH,
                                   int64_t LW, float scale, const float* __restrict__ bias, int64_t bias_period,
                                   float* __restrict__ out) {
    const int64_t total = planes * at.rows * at.cols;
    for (int64_t idx = first_index(); idx < total; idx += grid_step())
        out[idx] = crop_value(grid, at, LH, LW, scale, bias, bias_period, idx);
}

__global__ void weight_dft_kernel(const float* __restrict__ w, int64_t items, int64_t KH, int64_t KW, BoxGrid g,
                                  Twiddles tw, float* __restrict__ re, float* __restrict__ im) {
    const int64_t total = g.kept() * items;
    for (int64_t idx = first_index(); idx < total; idx += grid_step())
        weight_dft_value(w, items, KH, KW, g.LH, g.LW, g.kh, g.kw, tw.row, tw.col, idx, re + idx, im + idx);
}

__global__ void weight_idft_kernel(const float* __restrict__ re, const float* __restrict__ im, int64_t items,
                                   int64_t KH, int64_t KW, BoxGrid g, Twiddles tw, float scale,
                                   float* __restrict__ dw) {
    const int64_t total = items * KH * KW;
    for (int64_t idx = first_index(); idx < total; idx += grid_step()) {
        int64_t at = 0;
        const float v = weight_idft_value(re, im, items, KH, KW, g.LH, g.LW, g.kh, g.kw, tw.row, tw.col, scale, idx, &at);
        dw[at] = v;
    }
}

// The 3-mult product of 64 x 64 output tiles, 16 reduction steps at a time: 256 threads, each
// 4 x 4 outputs (rows ty + 16 i, columns tx + 16 j) in three accumulators,
//   P1 = sum (a_re + a_im) b_re,  P2 = sum a_re (b_im - b_re),  P3 = sum a_im (b_re + b_im),
//   C_re = P1 - P3,  C_im = P1 + P2  (ALGORITHM.md section 4.3);
// the operand sums are formed once per element when the tile is loaded into shared memory.
constexpr int kTile = 64, kStep = 16;

// kFour: the paper's 4-mult form instead (BL_METHOD_PAPER_BASELINE), C_re = sum a_re b_re - a_im
// b_im, C_im = sum a_re b_im + a_im b_re, in the same tiles (b_dif_s holds b_im then).
template <bool kFour>
__global__ void __launch_bounds__(256) cgemm_kernel(int64_t count, int64_t m, int64_t n, int64_t p, CgemmOperand a,
                                                      CgemmOperand b, float* __restrict__ c_re,
                                                      float* __restrict__ c_im, int64_t c_batch) {
    __shared__ float a_re_s[kStep][kTile], a_im_s[kStep][kTile], a_sum_s[kStep][kTile];
    __shared__ float b_re_s[kStep][kTile], b_dif_s[kStep][kTile], b_sum_s[kStep][kTile];
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16, tid = threadIdx.x;
    const float a_sign = a.conj ? -1.0f : 1.0f, b_sign = b.conj ? -1.0f : 1.0f;
    const int64_t row_tiles = (m + kTile - 1) / kTile, col_tiles = (n + kTile - 1) / kTile;
    for (int64_t k = blockIdx.z; k < count; k += gridDim.z) {
        const float* are = a.re + k * a.batch;
        const float* aim = a.im + k * a.batch;
        const float* bre = b.re + k * b.batch;
        const float* bim = b.im + k * b.batch;
        for (int64_t rt = blockIdx.y; rt < row_tiles; rt += gridDim.y) {
            for (int64_t ct = blockIdx.x; ct < col_tiles; ct += gridDim.x) {
                const int64_t m0 = rt * kTile, n0 = ct * kTile;
                float p1[4][4] = {}, p2[4][4] = {}, p3[4][4] = {};
                for (int64_t q0 = 0; q0 < p; q0 += kStep) {
                    for (int e = tid; e < kStep * kTile; e += 256) {
                        // A tile element (row e % 64, step e / 64); B tile element (step e / 64, column e % 64).
                        const int i = e % kTile, q = e / kTile;
                        float xr = 0.0f, xi = 0.0f;
                        if (m0 + i < m && q0 + q < p) {
                            const int64_t off = (m0 + i) * a.rs + (q0 + q) * a.cs;
                            xr = are[off];
                            xi = a_sign * aim[off];
                        }
                        a_re_s[q][i] = xr;
                        a_im_s[q][i] = xi;
                        a_sum_s[q][i] = xr + xi;
                        float yr = 0.0f, yi = 0.0f;
                        if (n0 + i < n && q0 + q < p) {
                            const int64_t off = (q0 + q) * b.rs + (n0 + i) * b.cs;
                            yr = bre[off];
                            yi = b_sign * bim[off];
                        }
                        b_re_s[q][i] = yr;
                        b_dif_s[q][i] = kFour ? yi : yi - yr;
                        b_sum_s[q][i] = yr + yi;
                    }
                    __syncthreads();
#pragma unroll
                    for (int q = 0; q < kStep; ++q) {
                        float ar[4], ai[4], as[4], br[4], bd[4], bs[4];
#pragma unroll
                        for (int t = 0; t < 4; ++t) {
                            ar[t] = a_re_s[q][ty + 16 * t];
                            ai[t] = a_im_s[q][ty + 16 * t];
                            as[t] = a_sum_s[q][ty + 16 * t];
                            br[t] = b_re_s[q][tx + 16 * t];
                            bd[t] = b_dif_s[q][tx + 16 * t];
                            bs[t] = b_sum_s[q][tx + 16 * t];
                        }
#pragma unroll
                        for (int i = 0; i < 4; ++i)
#pragma unroll
                            for (int j = 0; j < 4; ++j) {
                                if (kFour) {  // p1: real part, p2: imaginary part
                                    p1[i][j] = fmaf(ar[i], br[j], p1[i][j]);
                                    p1[i][j] = fmaf(-ai[i], bd[j], p1[i][j]);
                                    p2[i][j] = fmaf(ar[i], bd[j], p2[i][j]);
                                    p2[i][j] = fmaf(ai[i], br[j], p2[i][j]);
                                } else {
                                    p1[i][j] = fmaf(as[i], br[j], p1[i][j]);
                                    p2[i][j] = fmaf(ar[i], bd[j], p2[i][j]);
                                    p3[i][j] = fmaf(ai[i], bs[j], p3[i][j]);
                                }
                            }
                    }
                    __syncthreads();
                }
#pragma unroll
                for (int i = 0; i < 4; ++i) {
                    const int64_t row = m0 + ty + 16 * i;
                    if (row >= m) continue;
#pragma unroll
                    for (int j = 0; j < 4; ++j) {
                        const int64_t col = n0 + tx + 16 * j;
                        if (col >= n) continue;
                        const int64_t off = k * c_batch + row * n + col;
                        c_re[off] = kFour ? p1[i][j] : p1[i][j] - p3[i][j];
                        c_im[off] = kFour ? p2[i][j] : p1[i][j] + p2[i][j];
                    }
                }
            }
        }
    }
}

__global__ void spectrum_energy_kernel(const float2* __restrict__ half, int64_t planes, int64_t LH, int64_t LW,
                                       double* __restrict__ energy) {
    __shared__ double partial[kThreads];
    const int64_t half_w = LW / 2 + 1;
    const int64_t coefficient = blockIdx.x;  // r * half_w + s
    const int64_t s = coefficient % half_w;
    double e = 0.0;
    for (int64_t j = threadIdx.x; j < planes; j += kThreads) {
        const float2 z = half[j * LH * half_w + coefficient];
        e += double(z.x) * double(z.x) + double(z.y) * double(z.y);
    }
    const double total = block_sum(e, partial);
    if (threadIdx.x == 0) energy[coefficient] = double(column_weight(LW, s)) * total;
}

__global__ void bias_grad_kernel(const float* __restrict__ dy, int64_t n, int64_t F, int64_t plane,
                                 float* __restrict__ db) {
    __shared__ double partial[kThreads];
    const int64_t f = blockIdx.x;
    double acc = 0.0;
    for (int64_t t = threadIdx.x; t < n * plane; t += kThreads) {
        const int64_t i = t / plane, e = t % plane;
        acc += double(dy[(i * F + f) * plane + e]);
    }
    const double total = block_sum(acc, partial);
    if (threadIdx.x == 0) db[f] = float(total);
}

}  // namespace

cudaError_t place_planes(const float* src, int64_t planes, const Placement& at, int64_t LH, int64_t LW,
                         float* grid, cudaStream_t stream) {
    place_planes_kernel<<<blocks_for(planes * LH * LW), kThreads, 0, stream>>>(src, planes, at, LH, LW, grid);
    return cudaGetLastError();
}

cudaError_t gather_box(const float2* half, int64_t planes, const BoxGrid& g, float* re, float* im,
                       cudaStream_t stream) {
    gather_box_kernel<<<blocks_for(g.kept() * planes), kThreads, 0, stream>>>(half, planes, g, re, im);
    return cudaGetLastError();
}

cudaError_t scatter_box(const float* re, const float* im, int64_t planes, const BoxGrid& g, float2* half,
                        cudaStream_t stream) {
    if (cudaError_t e = cudaMemsetAsync(half, 0, size_t(planes * g.LH * g.half_w) * sizeof(float2), stream);
        e != cudaSuccess)
        return e;
    scatter_box_kernel<<<blocks_for(g.kept() * planes), kThreads, 0, stream>>>(re, im, planes, g, half);
    return cudaGetLastError();
}

cudaError_t crop_planes(const float* grid, int64_t planes, const Placement& at, int64_t LH, int64_t LW,
                        float scale, const float* bias, int64_t bias_period, float* out, cudaStream_t stream) {
    crop_planes_kernel<<<blocks_for(planes * at.rows * at.cols), kThreads, 0, stream>>>(grid, planes, at, LH, LW, scale,
                                                                                        bias, bias_period, out);
    return cudaGetLastError();
}

cudaError_t weight_dft(const float* w, int64_t items, int64_t KH, int64_t KW, const BoxGrid& g,
                       const Twiddles& tw, float* re, float* im, cudaStream_t stream) {
    weight_dft_kernel<<<blocks_for(g.kept() * items), kThreads, 0, stream>>>(w, items, KH, KW, g, tw, re, im);
    return cudaGetLastError();
}

cudaError_t weight_idft(const float* re, const float* im, int64_t items, int64_t KH, int64_t KW,
                        const BoxGrid& g, const Twiddles& tw, float* dw, cudaStream_t stream) {
    const float scale = float(1.0 / (double(g.LH) * double(g.LW)));
    weight_idft_kernel<<<blocks_for(items * KH * KW), kThreads, 0, stream>>>(re, im, items, KH, KW, g, tw, scale, dw);
    return cudaGetLastError();
}

cudaError_t cgemm3m(const ProductCall& call, cudaStream_t stream, bool four_mult) {
    const int64_t count = call.count, m = call.m, n = call.n, p = call.p;
    const CgemmOperand& a = call.a;
    const CgemmOperand& b = call.b;
    float* c_re = call.c_re;
    float* c_im = call.c_im;
    const int64_t c_batch = call.c_batch;
    if (count <= 0 || m <= 0 || n <= 0) return cudaSuccess;
    const int64_t col_tiles = (n + kTile - 1) / kTile, row_tiles = (m + kTile - 1) / kTile;
    const dim3 grid(unsigned(std::min<int64_t>(col_tiles, 65535)), unsigned(std::min<int64_t>(row_tiles, 65535)),
                    unsigned(std::min<int64_t>(count, 65535)));
    if (four_mult)
        cgemm_kernel<true><<<grid, 256, 0, stream>>>(count, m, n, p, a, b, c_re, c_im, c_batch);
    else
        cgemm_kernel<false><<<grid, 256, 0, stream>>>(count, m, n, p, a, b, c_re, c_im, c_batch);
    return cudaGetLastError();
}

cudaError_t spectrum_energy(const float2* half, int64_t planes, int64_t LH, int64_t LW, double* energy,
                            cudaStream_t stream) {
    const int64_t coefficients = LH * (LW / 2 + 1);
    spectrum_energy_kernel<<<unsigned(coefficients), kThreads, 0, stream>>>(half, planes, LH, LW, energy);
    return cudaGetLastError();
}

cudaError_t bias_grad(const float* dy, int64_t n, int64_t F, int64_t plane, float* db, cudaStream_t stream) {
    bias_grad_kernel<<<unsigned(F), kThreads, 0, stream>>>(dy, n, F, plane, db);
    return cudaGetLastError();
}

}  // namespace cuda
}  // namespace bl
