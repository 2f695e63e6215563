// cost_model.h -- what the CPU backend executes, counted: the FLOPs of its pruned FFT and of its
// pruned DFT by dense products (dft.h), the choice between them, and the 3-mult products.
//
// The same model decides the transform method (cpu_backend.cpp) and reports executed FLOPs
// (bl_plan_flops), so the counts are those of the code that runs. Another backend (CUDA) has
// its own model.
#pragma once

#include <cstdint>

#include "bandlimit.h"
#include "geometry.h"

namespace bl {
namespace cpu {

// The pruned FFT runs batched, 16 planes per block (fft_batch.h), unless a block's scratch
// would exceed kMaxBatchedFftFloats per thread (long 1D rows: 16 planes of 3 buffers of LW
// complex values); then it runs one plane at a time (fft.h), whose scratch is ~1/16 of it.
constexpr int64_t kMaxBatchedFftFloats = int64_t(1) << 21;  // 8 MiB per thread (1D rows up to ~21,800)
int64_t batched_fft_block_floats(const Geometry& g);       // 16 lanes of the largest plane
int64_t batched_fft_scratch_floats(const Geometry& g);     // block + 2D scratch at the full box
bool use_batched_fft(const Geometry& g);

// A forward 2D real transform of a plane with rows_in nonzero rows keeping kc columns by the
// pruned FFT, and an inverse one producing rows_out rows from kc columns: the batched FFT
// transforms the real rows two at a time as one complex row (one alone when rows_in is odd),
// the one-plane FFT each real row by a half-length complex transform.
double executed_forward_transform_flops(const Geometry& g, int64_t rows_in, int64_t kc);
double executed_inverse_transform_flops(const Geometry& g, int64_t rows_out, int64_t kc);

// The pruned DFT by dense products batched over planes (dft.h). rows x cols is the plane's
// nonzero (forward) or kept (inverse) part, kc = b.kw + 1 columns and the box's kept rows;
// U = dft_row_freqs(LH, b) row frequencies (kept rows r and LH - r share one).
int64_t dft_row_freqs(int64_t LH, const Box& b);
// Forward: rows*cols*kc real x complex (4 FLOPs each), U*kc*rows two complex x real
// (8 FLOPs), and the recombination P -/+ iQ (2 FLOPs per kept coefficient).
double executed_forward_dft_flops(const Geometry& g, int64_t rows, int64_t cols, const Box& b);
// Inverse: pre-sums S, D of the paired rows (4 FLOPs per pair and column), U*kc*rows
// (8 FLOPs) and rows*kc*cols (4 FLOPs).
double executed_inverse_dft_flops(const Geometry& g, int64_t rows, int64_t cols, const Box& b);

// The choice: the DFT when its count is at most dft_fft_ratio(g) times the FFT's: the DFT runs
// as a small GEMM over 16 planes at a time, near the product's speed, while the batched FFT's
// speed depends on its lengths' radices. Calibrated by alternating the two ratios on the same
// build (docs/BENCHMARKS.md, "Memory traffic"): on grids below 64 (ResNet's 35-6, MNIST's 32
// and 18) ratios 12 and 3 were a wash to 0.8x for 3; on larger grids and long 1D rows (the
// k = 7-31 layers' 70-96, the 1D layers' 5120-8192) 3 was 1.03-1.36x faster than 12 (the K=1024
// layer at rho 0.75 2.8x: 12 took the DFT for a 5120-long row), and 1 the same as 3.
constexpr int64_t kDftFftLargeGrid = 64;
constexpr double kDftFftRatioSmall = 12.0, kDftFftRatioLarge = 3.0;
double dft_fft_ratio(const Geometry& g);
bool use_forward_dft(const Geometry& g, int64_t rows, int64_t cols, const Box& b);
bool use_inverse_dft(const Geometry& g, int64_t rows, int64_t cols, const Box& b);

// Executed FLOPs of one plane by the chosen method.
double executed_forward_plane_flops(const Geometry& g, int64_t rows, int64_t cols, const Box& b);
double executed_inverse_plane_flops(const Geometry& g, int64_t rows, int64_t cols, const Box& b);

// Forward transforms write their spectra with streaming (non-temporal) stores when the
// spectrum has at least kStreamStoreBytes (stream_store.inc): measured on the ResNet layers
// (docs/BENCHMARKS.md, "Streaming stores").
constexpr int64_t kStreamStoreBytes = int64_t(5) << 19;  // 2.5 MiB
bool stream_spectrum(int64_t kept, int64_t items);
// The weight gradient's products write dW^ with streaming stores when it has at least
// kStreamProductBytes (a product output that stays in the caches is read back faster by the
// inverse transform). Measured on the ResNet layers (scripts as in docs/BENCHMARKS.md,
// "Streaming stores"): the 31-50 MB dW^ of the 256- and 512-channel layers 1.04-1.17x, the
// 20-24 MB ones of the 64- and 128-channel layers 0.88-0.95x, the 6 MB one of the 64-channel
// layer at rho 0.75 0.75x.
constexpr int64_t kStreamProductBytes = int64_t(24) << 20;
bool stream_product(int64_t kept, int64_t items);

// The weight gradient runs by (filter x channel) tiles, products and inverses fused, when dW^
// has at least kDwTileMinBytes (and the tiles are large enough: cpu_backend.cpp). Untiled, the
// inverse reads each 16-item block's coefficients from 2 x kept streams a frequency plane apart,
// more than the prefetchers follow (dft_presum took a third of the 256-channel pass at rho
// 0.25). Measured with bl_pass_time (backward weights, this threshold / the former 24 MiB,
// alternated, same sitting, 2-core EPYC, medians of 30): 256 channels at rho 0.25 / 0.5 (dW^
// 20 MB) 1.5-1.9x / 1.7x faster, 512 channels at rho 0.75 (13 MB) 1.0-1.6x, 128 channels at rho
// 0.5 1.1-1.4x; the 6 MB dW^ of the 128- and 64-channel layers at rho 0.75 and the 128 layer at
// rho 0 (tiles of 4 x 128) a wash (0.85-1.45x, noise); slower: the 2 MB dW^ of the 64-channel
// layer at rho 0.9 (it stays in the caches) and tiles of 4 x 64 (0.7-0.9x).
constexpr int64_t kDwTileMinBytes = int64_t(4) << 20;

// 3-mult complex matrix product C (m x n) = A (m x p) B (p x n), pre-sums included.
double executed_gauss_product_flops(int64_t m, int64_t n, int64_t p);

// The spatial product (spatial.h) for the forward and the weight gradient: what it executes
// (the N C inverse transforms to xt, the direct sums, and for the forward the transforms of x
// and w, which it saves as the spectral path does), whether the geometry allows it (stride 1,
// at most kSpatialMaxTaps taps), and the choice: spatial when its count is at most
// kSpatialRatio{Forward,Weights} times the spectral pass's. Measured per pass on the MNIST,
// ResNet-18 and 3->64 layers (docs/BENCHMARKS.md, "Spatial product"): per executed FLOP the
// spatial forward runs about as fast as the spectral one, the spatial weight gradient slower
// (its sums are short per output): a 4x ratio picked it for layers it made 3-10x slower.
constexpr double kSpatialRatioForward = 1.0;
constexpr double kSpatialRatioWeights = 0.7;
bool spatial_allowed(const Geometry& g);
double executed_spatial_pass_flops(const Geometry& g, bl_pass pass, int64_t n, const Box& b);
double executed_spectral_pass_flops(const Geometry& g, bl_pass pass, int64_t n, const Box& b,
                                    bl_spectra_mode mode);
// product: the plan's option (AUTO: the model; SPECTRAL: never; SPATIAL: where allowed).
bool use_spatial(const Geometry& g, bl_pass pass, int64_t n, const Box& b, bl_spectra_mode mode,
                 bl_product product = BL_PRODUCT_AUTO);

// Executed FLOPs of one pass of the CPU backend for batch n and box b (spatial or spectral,
// as chosen).
double executed_pass_flops(const Geometry& g, bl_pass pass, int64_t n, const Box& b,
                           bl_spectra_mode mode, bl_product product = BL_PRODUCT_AUTO);

}  // namespace cpu
}  // namespace bl
