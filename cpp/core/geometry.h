// geometry.h -- the pure geometry of the band-limited operator, shared by every backend.
//
// Everything here is a function of the layer description and the compression spec alone:
// padded and output sizes, FFT lengths (ALGORITHM.md section 2), the box chain and the
// fixed / energy box choice (section 3), compact index maps, and the FLOP and byte counts
// (nominal and dense-equivalent) of section 5. No data, no allocation in hot paths, no
// backend knowledge: what a backend executes (its transform method, its FLOP model, its
// workspace) is the backend's own (cpu/cost_model.h for the CPU).
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
    bool paper_baseline = false;  // BL_METHOD_PAPER_BASELINE: power-of-two lengths >= Hp + KH - 1

    int64_t total_coefficients() const { return LH * half_w; }
};

// True when n >= 1 and n = 2^a 3^b 5^c 7^d (the FFT lengths of ALGORITHM.md section 2).
bool is_7smooth(int64_t n);

// The smallest 7-smooth integer >= n (n >= 1); -1 when it would not fit in int64.
int64_t next_7smooth(int64_t n);

// What make_geometry rejected: the argument's ABI name ("kernel_height", "desc", ...) and the
// message, which starts with that name.
struct GeometryError {
    std::string argument;
    std::string text;
};

// Validates a description (sizes >= 1, paddings >= 0, strides >= 1, kernel fits the padded
// input, no 64-bit overflow in any element, byte or FLOP count the library forms) and fills
// the derived sizes. Returns BL_OK or a status with a message naming the field at fault.
// paper_baseline: the FFT lengths of BL_METHOD_PAPER_BASELINE (the smallest powers of two
// >= Hp + KH - 1 and Wp + KW - 1) instead of the operator's 7-smooth ones.
bl_status make_geometry(const bl_conv2d_desc& desc, bool is_1d, Geometry* out,
                        GeometryError* error, bool paper_baseline = false);

// The smallest power of two >= n (n >= 1); -1 when it would not fit in int64.
int64_t next_pow2(int64_t n);

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

// An upper bound of box_chain(g).size(), known without building it: nyq_h + nyq_w + 1.
inline int64_t box_chain_length_bound(const Geometry& g) { return g.nyq_h + g.nyq_w + 1; }

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

// Backend-neutral FLOP counts of one pass for batch n and box b (ALGORITHM.md section 5):
// nominal (unpruned FFT convolution) and dense-equivalent; `executed` is left 0 for the
// backend's own model to fill.
struct FlopCount {
    double nominal = 0, executed = 0, dense_equivalent = 0;
};
FlopCount count_flops(const Geometry& g, bl_pass pass, int64_t n, const Box& b);

// Overflow-checked arithmetic for size products.
bool mul_overflows(int64_t a, int64_t b, int64_t* out);
bool add_overflows(int64_t a, int64_t b, int64_t* out);

}  // namespace bl
