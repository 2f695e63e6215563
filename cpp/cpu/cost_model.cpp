// cost_model.cpp -- see cost_model.h.
#include "cost_model.h"

#include <algorithm>
#include <cmath>

#include "fft_batch.h"
#include "spatial.h"

namespace bl {
namespace cpu {

namespace {
double log2_or_zero(double n) { return n > 1 ? std::log2(n) : 0.0; }
}  // namespace

int64_t batched_fft_block_floats(const Geometry& g) {
    return std::max({g.H * g.W, g.KH * g.KW, g.Ho * g.Wo, g.Hp * g.Wp}) * kFftLanes;
}

int64_t batched_fft_scratch_floats(const Geometry& g) {
    return batched_fft_block_floats(g) + fft2d_scratch_floats(g.LH, g.LW, g.half_w);
}

bool use_batched_fft(const Geometry& g) { return batched_fft_scratch_floats(g) <= kMaxBatchedFftFloats; }

namespace {
// Real rows of length LW as executed: pairs as complex transforms (batched), or each by the
// half-length trick (one plane at a time), both ~2.5 LW log2 LW per row, the batched FFT's odd
// row costing a whole complex transform.
double row_transforms_flops(const Geometry& g, int64_t rows) {
    const double per_complex = 5.0 * double(g.LW) * log2_or_zero(double(g.LW));
    return use_batched_fft(g) ? double((rows + 1) / 2) * per_complex : double(rows) * 0.5 * per_complex;
}
}  // namespace

double executed_forward_transform_flops(const Geometry& g, int64_t rows_in, int64_t kc) {
    // The rows that hold data, then kc complex column transforms of length LH (none when LH = 1).
    return row_transforms_flops(g, rows_in) +
           double(kc) * 5.0 * double(g.LH) * log2_or_zero(double(g.LH));
}

double executed_inverse_transform_flops(const Geometry& g, int64_t rows_out, int64_t kc) {
    return double(kc) * 5.0 * double(g.LH) * log2_or_zero(double(g.LH)) + row_transforms_flops(g, rows_out);
}

int64_t dft_row_freqs(int64_t LH, const Box& b) {
    // Kept rows are 0..kh and LH-kh..LH-1 (u = 0..kh), or all rows (u = 0..LH/2).
    const int64_t rows = kept_rows(LH, b);
    return rows == LH ? LH / 2 + 1 : b.kh + 1;
}

namespace {
// Row frequencies u >= 1 whose both rows u and LH - u are kept (and distinct).
int64_t dft_row_pairs(int64_t LH, const Box& b) {
    const int64_t U = dft_row_freqs(LH, b), rows = kept_rows(LH, b);
    return rows - U;
}
}  // namespace

double executed_forward_dft_flops(const Geometry& g, int64_t rows, int64_t cols, const Box& b) {
    const double kc = double(b.kw + 1), U = double(dft_row_freqs(g.LH, b));
    return 4.0 * double(rows) * double(cols) * kc + 8.0 * U * kc * double(rows) +
           2.0 * double(kept_count(g, b));
}

double executed_inverse_dft_flops(const Geometry& g, int64_t rows, int64_t cols, const Box& b) {
    const double kc = double(b.kw + 1), U = double(dft_row_freqs(g.LH, b));
    return 4.0 * double(dft_row_pairs(g.LH, b)) * kc + 8.0 * U * kc * double(rows) +
           4.0 * double(rows) * kc * double(cols);
}

double dft_fft_ratio(const Geometry& g) {
    return std::max(g.LH, g.LW) < kDftFftLargeGrid ? kDftFftRatioSmall : kDftFftRatioLarge;
}

bool use_forward_dft(const Geometry& g, int64_t rows, int64_t cols, const Box& b) {
    return executed_forward_dft_flops(g, rows, cols, b) <=
           dft_fft_ratio(g) * executed_forward_transform_flops(g, rows, b.kw + 1);
}

bool use_inverse_dft(const Geometry& g, int64_t rows, int64_t cols, const Box& b) {
    return executed_inverse_dft_flops(g, rows, cols, b) <=
           dft_fft_ratio(g) * executed_inverse_transform_flops(g, rows, b.kw + 1);
}

double executed_forward_plane_flops(const Geometry& g, int64_t rows, int64_t cols, const Box& b) {
    return use_forward_dft(g, rows, cols, b) ? executed_forward_dft_flops(g, rows, cols, b)
                                             : executed_forward_transform_flops(g, rows, b.kw + 1);
}

double executed_inverse_plane_flops(const Geometry& g, int64_t rows, int64_t cols, const Box& b) {
    return use_inverse_dft(g, rows, cols, b) ? executed_inverse_dft_flops(g, rows, cols, b)
                                             : executed_inverse_transform_flops(g, rows, b.kw + 1);
}

bool stream_spectrum(int64_t kept, int64_t items) {
    return 2 * kept * items * int64_t(sizeof(float)) >= kStreamStoreBytes;
}

bool stream_product(int64_t kept, int64_t items) {
    return 2 * kept * items * int64_t(sizeof(float)) >= kStreamProductBytes;
}

double executed_gauss_product_flops(int64_t m, int64_t n, int64_t p) {
    // Three real products (2 m n p each), the pre-sums A_re + A_im (m p), B_im - B_re and
    // B_re + B_im (2 p n), and the recombination k1 - k3, k1 + k2 (2 m n).
    const double M = double(m), Nn = double(n), P = double(p);
    return 6.0 * M * Nn * P + M * P + 2.0 * P * Nn + 2.0 * M * Nn;
}

double executed_spectral_pass_flops(const Geometry& g, bl_pass pass, int64_t n, const Box& b,
                                    bl_spectra_mode mode) {
    const double N = double(n), C = double(g.C), F = double(g.F);
    const double K = double(kept_count(g, b));
    const double w_fwd = executed_forward_plane_flops(g, g.KH, g.KW, b);
    const double dy_fwd = executed_forward_plane_flops(g, g.Ho, g.Wo, b);
    switch (pass) {
    case BL_PASS_FORWARD:
        return N * C * executed_forward_plane_flops(g, g.H, g.W, b) + F * C * w_fwd +
               K * executed_gauss_product_flops(n, g.F, g.C) +
               N * F * executed_inverse_plane_flops(g, g.Ho, g.Wo, b);
    case BL_PASS_BACKWARD_DATA: {
        // dX^ is computed transposed, (C x N) = W^ (C x F) dY^ (F x N), so that the right-hand
        // operand is contiguous along the output columns: m = C, n = N, p = F.
        double e = N * F * dy_fwd + K * executed_gauss_product_flops(g.C, n, g.F) +
                   N * C * executed_inverse_plane_flops(g, g.H, g.W, b);
        if (mode == BL_SPECTRA_INPUT_ONLY) e += F * C * w_fwd;
        return e;
    }
    case BL_PASS_BACKWARD_WEIGHTS:
        return N * F * dy_fwd + K * executed_gauss_product_flops(g.F, g.C, n) +
               F * C * executed_inverse_plane_flops(g, g.KH, g.KW, b);
    }
    return 0;
}

bool spatial_allowed(const Geometry& g) {
    return g.stride_h == 1 && g.stride_w == 1 && g.KH * g.KW <= kSpatialMaxTaps;
}

double executed_spatial_pass_flops(const Geometry& g, bl_pass pass, int64_t n, const Box& b) {
    const double N = double(n), C = double(g.C), F = double(g.F);
    const double direct = 2.0 * N * F * C * double(g.Ho) * double(g.Wo) * double(g.KH) * double(g.KW);
    const double to_xt = N * C * executed_inverse_plane_flops(g, g.Hp, g.Wp, b);
    switch (pass) {
    case BL_PASS_FORWARD:
        return N * C * executed_forward_plane_flops(g, g.H, g.W, b) + F * C * executed_forward_plane_flops(g, g.KH, g.KW, b) +
               to_xt + direct;
    case BL_PASS_BACKWARD_WEIGHTS: return to_xt + direct;
    case BL_PASS_BACKWARD_DATA: break;
    }
    return 0;
}

bool use_spatial(const Geometry& g, bl_pass pass, int64_t n, const Box& b, bl_spectra_mode mode, bl_product product) {
    if (pass == BL_PASS_BACKWARD_DATA || product == BL_PRODUCT_SPECTRAL || !spatial_allowed(g)) return false;
    if (product == BL_PRODUCT_SPATIAL) return true;
    const double ratio = pass == BL_PASS_FORWARD ? kSpatialRatioForward : kSpatialRatioWeights;
    return executed_spatial_pass_flops(g, pass, n, b) <= ratio * executed_spectral_pass_flops(g, pass, n, b, mode);
}

double executed_pass_flops(const Geometry& g, bl_pass pass, int64_t n, const Box& b, bl_spectra_mode mode,
                           bl_product product) {
    return use_spatial(g, pass, n, b, mode, product) ? executed_spatial_pass_flops(g, pass, n, b)
                                                     : executed_spectral_pass_flops(g, pass, n, b, mode);
}

}  // namespace cpu
}  // namespace bl
