// geometry.h -- the pure geometry of the band-limited operator, shared by every backend.
//
// Everything here is a function of the layer description and the compression spec alone:
// padded and output sizes, FFT lengths (ALGORITHM.md section 2), the box chain and the
// fixed / energy box choice (section 3), compact index maps, and the FLOP and byte counts
// of section 5. No data, no allocation in hot paths, no backend knowledge.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bandlimit.h"

namespace bl {

// Validated layer geometry, all sizes int64. 1D layers have H = KH = 1 and no vertical
// padding, which makes LH = 1 (only the column cutoff acts).
struct Geometry {
    int64_t N = 0, C = 0, H = 0, W = 0, F = 0, KH = 0, KW = 0;
    int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
    int64_t stride_h = 1, stride_w = 1;
    bool is_1d = false;

    int64_t Hp = 0, Wp = 0;    // padded input
    int64_t Ho1 = 0, Wo1 = 0;  // stride-1 output: Hp - KH + 1
    int64_t Ho = 0, Wo = 0;    // strided output: (Hp - KH) / s + 1
    int64_t LH = 0, LW = 0;    // FFT lengths
    int64_t half_w = 0;        // LW / 2 + 1 columns of the half spectrum
    int64_t nyq_h = 0;         // floor(LH / 2): the box chain's row cutoff at t = 1
    int64_t nyq_w = 0;         // floor(LW / 2)

    int64_t total_coefficients() const { return LH * half_w; }
};

// Validates a description (sizes >= 1, paddings >= 0, strides >= 1, kernel fits the padded
// input, no 64-bit overflow in any element, byte or FLOP count the library forms) and fills
// the derived sizes. Returns BL_OK or a status with a message naming the field at fault.
bl_status make_geometry(const bl_conv2d_desc& desc, bool is_1d, Geometry* out,
                        std::string* error);

struct Box {
    int64_t kh = 0, kw = 0;
    bool operator==(const Box& o) const { return kh == o.kh && kw == o.kw; }
    bool operator!=(const Box& o) const { return !(*this == o); }
};

// Rows kept by a box: rows 0..kh and LH-kh..LH-1, i.e. min(2 kh + 1, LH).
inline int64_t kept_rows(int64_t LH, const Box& b) {
    return 2 * b.kh + 1 < LH ? 2 * b.kh + 1 : LH;
}
// Coefficients kept by a box: kept_rows * (kw + 1).
inline int64_t kept_count(const Geometry& g, const Box& b) {
    return kept_rows(g.LH, b) * (b.kw + 1);
}
// Discarded coefficients D and achieved rate D / total.
inline int64_t discarded_count(const Geometry& g, const Box& b) {
    return g.total_coefficients() - kept_count(g, b);
}
double achieved_rate(const Geometry& g, const Box& b);

// Spectrum row of the i-th kept row of a box (compact order: rows 0..kh, then the mirrored
// rows LH-kh..LH-1 in increasing order; all rows in order once 2 kh + 1 >= LH).
inline int64_t kept_row(int64_t LH, const Box& b, int64_t i) {
    const int64_t rows = kept_rows(LH, b);
    return i <= b.kh ? i : LH - (rows - i);
}

// Compact index of kept coefficient (kept-row i, column s): k = i * (kw + 1) + s.
// Frequency-major spectra store coefficient k of item j at [k][j].

// The box chain B(t) = (floor(t * nyq_h), floor(t * nyq_w)), t in [0, 1], as its distinct
// boxes in increasing t, computed exactly in integers. Discarded counts strictly fall along it.
std::vector<Box> box_chain(const Geometry& g);

// Fixed compression: the chain box discarding the most with D <= rho * total + 1e-9.
Box fixed_box(const Geometry& g, const std::vector<Box>& chain, double rho);

// Energy compression. weighted_energy[r * half_w + s] holds the Parseval-weighted energy of
// half-spectrum coefficient (r, s) summed over batch and channels (weight 1 for column 0 and,
// for even LW, column LW/2; 2 otherwise). Returns the first chain box whose kept energy is
// >= E * total energy; the full box when the total is NaN, Inf or zero. row_prefix is caller
// scratch of LH * half_w doubles.
Box energy_box(const Geometry& g, const std::vector<Box>& chain, double energy_fraction,
               const double* weighted_energy, double* row_prefix);

// Is b a box of the chain?
bool box_in_chain(const std::vector<Box>& chain, const Box& b);

// FLOP counts of one pass for batch n and box b (ALGORITHM.md section 5).
struct FlopCount {
    double nominal = 0, executed = 0, dense_equivalent = 0;
};
FlopCount count_flops(const Geometry& g, bl_pass pass, int64_t n, const Box& b,
                      bl_spectra_mode mode);

// Executed FLOPs of the model used by count_flops, exposed for tests:
// a forward 2D real transform of a plane with rows_in nonzero rows keeping kc columns,
// and an inverse one producing rows_out rows from kc columns.
double executed_forward_transform_flops(const Geometry& g, int64_t rows_in, int64_t kc);
double executed_inverse_transform_flops(const Geometry& g, int64_t rows_out, int64_t kc);
// The CPU backend transforms a plane either with the pruned FFT (the two functions above) or
// as a pruned DFT by dense products batched over planes (dft.h). rows x cols is the plane's
// nonzero (forward) or kept (inverse) part, kc = b.kw + 1 columns and the box's kept rows;
// U = dft_row_freqs(LH, b) row frequencies (kept rows r and LH - r share one).
int64_t dft_row_freqs(int64_t LH, const Box& b);
// Forward: rows*cols*kc real x complex (4 FLOPs each), U*kc*rows two complex x real
// (8 FLOPs), and the recombination P -/+ iQ (2 FLOPs per kept coefficient).
double executed_forward_dft_flops(const Geometry& g, int64_t rows, int64_t cols, const Box& b);
// Inverse: pre-sums S, D of the paired rows (4 FLOPs per pair and column), U*kc*rows
// (8 FLOPs) and rows*kc*cols (4 FLOPs).
double executed_inverse_dft_flops(const Geometry& g, int64_t rows, int64_t cols, const Box& b);
// The choice: the DFT when its count is at most kDftFftRatio times the FFT's (the DFT runs
// 16 planes per vector at near-GEMM speed, the FFT is scalar; 12 measured on the bench:
// k=7 64x64 x planes (8.6x the FFT count) run 2.6x faster by DFT on one EPYC core).
constexpr double kDftFftRatio = 12.0;
bool use_forward_dft(const Geometry& g, int64_t rows, int64_t cols, const Box& b);
bool use_inverse_dft(const Geometry& g, int64_t rows, int64_t cols, const Box& b);
// Executed FLOPs of one plane by the chosen method.
double executed_forward_plane_flops(const Geometry& g, int64_t rows, int64_t cols, const Box& b);
double executed_inverse_plane_flops(const Geometry& g, int64_t rows, int64_t cols, const Box& b);
// 3-mult complex matrix product C (m x n) = A (m x p) B (p x n), pre-sums included.
double executed_gauss_product_flops(int64_t m, int64_t n, int64_t p);

// Overflow-checked arithmetic for size products.
bool mul_overflows(int64_t a, int64_t b, int64_t* out);
bool add_overflows(int64_t a, int64_t b, int64_t* out);

}  // namespace bl
