// fft_batch.h -- mixed-radix FFTs of 16 planes at once (lane = plane), the CPU backend's pruned
// 2D transform for planes too large for the batched DFT (dft.h).
//
// Why: the one-plane FFT (fft.h) runs scalar, at ~4 GFLOP/s; every plane of a layer has the
// same length and placement, so 16 planes go through the same operation sequence, one per
// vector lane, with no shuffles: each complex value of a block is two 16-float vectors.
//
// Layout: a block of complex values holds element e as re at [e * 32 + p], im at
// [e * 32 + 16 + p] for lane p < 16. Each lane is computed by the same operations, so a
// plane's result does not depend on its block, the other lanes or the thread count.
//
// The complex FFT is a Stockham autosort (Govindaraju et al., SC 2008): for Ns = 1, then the
// product of the radices done so far, a stage of radix R over m = n / R computes for j < m
//   v_r = x[j + r m] * exp(sign 2 pi i r (j mod Ns) / (Ns R)),   r < R
//   y[(j / Ns) Ns R + (j mod Ns) + r Ns] = (DFT_R v)_r
// and the last stage leaves the spectrum in natural order. Radices 8, 4, 2, 3, 5, 7 (8 first,
// then at most one 4).
//
// The 2D transforms of a block (the pruned 2D real transform of cpu_backend.cpp):
//   forward: the real rows that hold data go two at a time through one complex FFT of
//     length LW (z = row_a + i row_b; A = (Z_k + conj Z_-k) / 2, B = (Z_k - conj Z_-k) / 2i),
//     keeping columns 0..kc-1; then each kept column's complex FFT of length LH, keeping the
//     box's rows;
//   inverse: each kept column's inverse FFT of length LH from the box's rows (zeros elsewhere),
//     then the rows the placement needs, two at a time through one inverse FFT of length LW
//     (Z_k = A_k + i B_k, Z_-k = conj A_k + i conj B_k; the imaginary parts of columns 0 and
//     LW/2 are ignored, as a real inverse transform does), scaled.
// Transforms are unnormalised except for the inverse's explicit scale.
//
// Like dft.h, the kernels are compiled three times (portable, AVX2, AVX-512) and picked by
// the CPU path.
#pragma once

#include <cstdint>
#include <vector>

#include "geometry.h"  // Box, kept_rows, kept_row

namespace bl {

constexpr int64_t kFftLanes = 16;
constexpr int kMaxFftStages = 48;

// The stages of one length (POD, read by the kernels). Stage t has radix radix[t]; its
// twiddles are (cos, sin)(2 pi r jj / (Ns R)) for jj < Ns, r = 1..R-1 at
// twiddles + tw_offset[t] + (jj (R - 1) + r - 1) * 2 (forward kernels use the conjugate).
struct BatchFftPlan {
    int64_t n = 1;
    int stages = 0;
    int radix[kMaxFftStages] = {};
    int64_t tw_offset[kMaxFftStages] = {};
    const float* twiddles = nullptr;
};

// Owns the twiddles of one 7-smooth length (throws std::invalid_argument otherwise).
class BatchFft {
public:
    explicit BatchFft(int64_t n);
    BatchFft(const BatchFft&) = delete;
    BatchFft& operator=(const BatchFft&) = delete;
    const BatchFftPlan& plan() const { return plan_; }
    int64_t table_bytes() const { return int64_t(twiddles_.size() * sizeof(float)); }
    // The same without building the tables: the stages' twiddles sum 2 Ns (R - 1) over
    // stages telescopes to 2 (n - 1) floats.
    static int64_t table_bytes_for(int64_t n) { return 2 * (n - 1) * int64_t(sizeof(float)); }

private:
    std::vector<float> twiddles_;
    BatchFftPlan plan_;
};

// Where the real planes of a block sit on the LH x LW grid and what the box keeps.
struct Fft2dBlock {
    const BatchFftPlan* row;  // length LW
    const BatchFftPlan* col;  // length LH
    int64_t rows, cols;       // plane rows / columns (data in the forward, needed in the inverse)
    int64_t r0, rs, c0, cs;   // source row i -> grid row r0 + i rs; column j -> c0 + j cs
    Box box;                  // kc = box.kw + 1 columns, kept_rows(LH, box) rows
};

// Scratch floats of one block's 2D transform (grid of kc columns plus two FFT buffers).
inline int64_t fft2d_scratch_floats(int64_t LH, int64_t LW, int64_t kc) {
    const int64_t longest = LH > LW ? LH : LW;
    return 2 * kFftLanes * (kc * LH + 2 * longest) + 3 * 16;  // + 3 * 16: each part 64-byte aligned
}

struct BatchFftKernels {
    // x, y, work: [n][2][16]. Transforms x into y or into x itself (both are overwritten) and
    // returns the one holding the result; sign -1 (forward) or +1 (inverse), unnormalised.
    float* (*complex)(const BatchFftPlan& p, float* x, float* y, bool inverse);
    // S [rows][cols][16] real -> kept coefficient (q, s) of lane p at
    // re[(q kc + s) * stride + p], im[...] for p < valid.
    // stream: non-temporal stores (stream_store.inc) where the lanes are whole and aligned.
    void (*forward_2d)(const Fft2dBlock& b, const float* S, float* re, float* im, int64_t stride,
                       int64_t valid, bool stream, float* scratch);
    // The kept coefficients, read the same way (lanes >= valid read as zero) -> Y [rows][cols][16]
    // real, times scale.
    void (*inverse_2d)(const Fft2dBlock& b, const float* re, const float* im, int64_t stride,
                       int64_t valid, float scale, float* Y, float* scratch);
    // The lane layout's transposes, shared with the batched DFT (dft.h): src[p] (plane floats,
    // or nullptr for zeros) -> S [plane][16]; and Y [plane][16] -> dst[p][e] = Y[e][p] + bias[p]
    // for the lanes whose dst[p] is not nullptr. In-register W x W transposes at the ISA's width.
    void (*gather)(const float* const* src, int64_t plane, float* S);
    void (*scatter)(const float* Y, int64_t plane, float* const* dst, const float* bias);
};

BatchFftKernels batch_fft_kernels_for_path(int path);

namespace portable {
extern const BatchFftKernels kBatchFftKernels;
}
namespace avx2 {
extern const BatchFftKernels kBatchFftKernels;
}
namespace avx512 {
extern const BatchFftKernels kBatchFftKernels;
}

}  // namespace bl
