// kernel_math.h -- what each CUDA kernel computes for one output element, and the operand
// descriptors of the three per-frequency products, as plain functions that compile for the
// device (kernels.cu, cuda_backend.cu) and for the host: test_cuda_maps runs the backend's whole
// data flow on the host through these same functions (with a naive DFT standing in for cuFFT)
// against the float64 reference, so that a layout or index mistake is caught on any machine,
// before a GPU is at hand.
//
// Twiddle tables are interleaved (cos, sin)(2 pi m / L), m < L.
#pragma once

#include <cstdint>

#include "index_maps.h"
#include "unit_root.h"

namespace bl {
namespace cuda {

// place_planes: grid element idx of [planes][LH][LW] from the source planes placed at `at`.
BL_HD float place_value(const float* src, const Placement& at, int64_t LH, int64_t LW, int64_t idx) {
    const int64_t c = idx % LW, r = (idx / LW) % LH, j = idx / (LH * LW);
    const int64_t a = source_of(r, at.r0, at.rs, at.rows), b = source_of(c, at.c0, at.cs, at.cols);
    return (a >= 0 && b >= 0) ? src[(j * at.rows + a) * at.cols + b] : 0.0f;
}

// crop_planes: output element idx of [planes][rows][cols] from the grids.
BL_HD float crop_value(const float* grid, const Placement& at, int64_t LH, int64_t LW, float scale, const float* bias,
                       int64_t bias_period, int64_t idx) {
    const int64_t per = at.rows * at.cols;
    const int64_t b = idx % at.cols, a = (idx / at.cols) % at.rows, j = idx / per;
    const float v = grid[grid_offset(at, LH, LW, j, a, b)] * scale;
    return bias ? v + bias[j % bias_period] : v;
}

// (cos, sin)(alpha + beta) from two table entries.
BL_HD void angle_sum(const float* a, const float* b, float* c, float* s) {
    *c = a[0] * b[0] - a[1] * b[1];
    *s = a[1] * b[0] + a[0] * b[1];
}

// weight_dft: coefficient idx = k * items + item of W^, from the KH x KW plane `item` of w:
// sum_{u, v} w[u][v] e^{-2 pi i (r u / LH + s v / LW)} for kept coefficient k = (r, s).
BL_HD void weight_dft_value(const float* w, int64_t items, int64_t KH, int64_t KW, int64_t LH, int64_t LW, int64_t kh,
                            int64_t kw, const float* row_tw, const float* col_tw, int64_t idx, float* re, float* im) {
    const int64_t kc = kw + 1, item = idx % items, k = idx / items;
    const int64_t r = kept_row_of(LH, kh, k / kc), s = k % kc;
    const float* wp = w + item * KH * KW;
    float acc_re = 0.0f, acc_im = 0.0f;
    for (int64_t u = 0; u < KH; ++u) {
        const float* ru = row_tw + 2 * twiddle_index(r, u, LH);
        for (int64_t v = 0; v < KW; ++v) {
            float c, sn;
            angle_sum(ru, col_tw + 2 * twiddle_index(s, v, LW), &c, &sn);
            const float x = wp[u * KW + v];
            acc_re += x * c;
            acc_im -= x * sn;
        }
    }
    *re = acc_re;
    *im = acc_im;
}

// weight_idft: dw element idx = item * KH KW + tap... computed for thread index idx = tap * items
// + item (items fastest, so the coefficient reads are coalesced): scale * sum_k weight(s)
// Re(Z_k e^{+2 pi i (r u / LH + s v / LW)}) over the kept coefficients. Returns the value and
// sets *out_index to where it goes.
BL_HD float weight_idft_value(const float* re, const float* im, int64_t items, int64_t KH, int64_t KW, int64_t LH,
                              int64_t LW, int64_t kh, int64_t kw, const float* row_tw, const float* col_tw,
                              float scale, int64_t idx, int64_t* out_index) {
    const int64_t kc = kw + 1, kept = kept_rows_of(LH, kh) * kc, taps = KH * KW;
    const int64_t item = idx % items, tap = idx / items;
    const int64_t u = tap / KW, v = tap % KW;
    float acc = 0.0f;
    for (int64_t k = 0; k < kept; ++k) {
        const int64_t r = kept_row_of(LH, kh, k / kc), s = k % kc;
        float c, sn;
        angle_sum(row_tw + 2 * twiddle_index(r, u, LH), col_tw + 2 * twiddle_index(s, v, LW), &c, &sn);
        const float zr = re[k * items + item], zi = im[k * items + item];
        acc += float(column_weight(LW, s)) * (zr * c - zi * sn);
    }
    *out_index = item * taps + tap;
    return acc * scale;
}

// The twiddle table of length L (host): unit_root.h's values, stored as float.
inline void fill_twiddles(float* t, int64_t L) {
    for (int64_t m = 0; m < L; ++m) {
        double c, s;
        unit_root(m, L, &c, &s);
        t[2 * m] = float(c);
        t[2 * m + 1] = float(s);
    }
}

// One complex operand of the batched product: element (i, p) of frequency k at
// k * batch + i * rs + p * cs of the re / im planes, conjugated when conj.
struct CgemmOperand {
    const float* re;
    const float* im;
    int64_t batch, rs, cs;
    bool conj;
};

// One batched product: C_k (m x n) = A_k (m x p) B_k (p x n) for k < count, C_k[i][j] at
// k * c_batch + i * n + j.
struct ProductCall {
    int64_t count, m, n, p;
    CgemmOperand a, b;
    float* c_re;
    float* c_im;
    int64_t c_batch;
};

// The three products on the compact spectra (items: X^ [n][c], W^ [f][c], dY^ [n][f]):
//   forward  Y^_k[n][f]  = sum_c X^_k[n][c] conj(W^_k[f][c])
//   data     dX^_k[n][c] = sum_f dY^_k[n][f] W^_k[f][c]
//   weights  dW^_k[f][c] = sum_n conj(dY^_k[n][f]) X^_k[n][c]
// re / im: each spectrum's planes (kept x items floats each).
BL_HD ProductCall forward_product(int64_t kept, int64_t n, int64_t C, int64_t F, const float* x_re, const float* x_im,
                                  const float* w_re, const float* w_im, float* y_re, float* y_im) {
    return ProductCall{kept, n, F, C, CgemmOperand{x_re, x_im, n * C, C, 1, false},
                       CgemmOperand{w_re, w_im, F * C, 1, C, true}, y_re, y_im, n * F};
}
BL_HD ProductCall data_product(int64_t kept, int64_t n, int64_t C, int64_t F, const float* dy_re, const float* dy_im,
                               const float* w_re, const float* w_im, float* dx_re, float* dx_im) {
    return ProductCall{kept, n, C, F, CgemmOperand{dy_re, dy_im, n * F, F, 1, false},
                       CgemmOperand{w_re, w_im, F * C, C, 1, false}, dx_re, dx_im, n * C};
}
BL_HD ProductCall weight_product(int64_t kept, int64_t n, int64_t C, int64_t F, const float* dy_re, const float* dy_im,
                                 const float* x_re, const float* x_im, float* dw_re, float* dw_im) {
    return ProductCall{kept, F, C, n, CgemmOperand{dy_re, dy_im, n * F, 1, F, true},
                       CgemmOperand{x_re, x_im, n * C, C, 1, false}, dw_re, dw_im, F * C};
}

}  // namespace cuda
}  // namespace bl
