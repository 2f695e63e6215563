// spatial.h -- the spatial product: the band-limited forward and weight gradient computed as
// direct sums over a band-limited input, for layers whose direct sums are cheaper than the
// transforms of their outputs (few input channels and small kernels: a CNN's first layer).
//
// Why this is the same operator (ALGORITHM.md sections 2-3): with P the projection that keeps
// the box (P x = irfft2(M . rfft2(x)) on LH x LW), the forward's spectrum is
// M . X^ . W^* = (M . X^) . W^*, so y = crop(P(xp) cross-correlated circularly with w); the
// correlation never wraps for the kept outputs (i + u <= Hp - 1 < LH), so
// y[n][f][i][j] = b[f] + sum_c sum_u sum_v xt[n][c][i+u][j+v] w[f][c][u][v] with xt = P(xp) on
// [0, Hp) x [0, Wp). Likewise dW^ = (M . X^) . dY^* gives
// dw[f][c][u][v] = sum_n sum_i sum_j xt[n][c][i+u][j+v] dy[n][f][i][j]: no transform of the
// N F output planes at all, only the N C inverse transforms that make xt from the compact X^
// the forward saves (the saved format does not change). A NaN or Inf in x still reaches every
// output of its sample, through xt. Stride 1 only.
#pragma once

#include <cstdint>

#include "geometry.h"

namespace bl {

// The most kernel taps (KH KW) the weight kernel holds accumulators for.
constexpr int64_t kSpatialMaxTaps = 49;
// Floats read past the end of xt by the kernels' full-width column blocks (the buffer must have
// them, zeroed).
constexpr int64_t kSpatialSlack = 64;

struct SpatialKernels {
    // One sample's outputs of filters f0 .. f0 + fb - 1: y[f][i][j] for y = that
    // sample's [F][Ho][Wo], xt = its [C][Hp][Wp]; bias may be null.
    void (*forward)(const float* xt, int64_t C, int64_t Hp, int64_t Wp, const float* w, int64_t f0, int64_t fb,
                    int64_t KH, int64_t KW, int64_t Ho, int64_t Wo, const float* bias, float* y);
    // dw[f][c][0..KH)[0..KW) over the batch: xt = [n][C][Hp][Wp], dy = [n][F][Ho][Wo]; one
    // float64 total per sample, so the float32 partial sums stay short.
    void (*weights)(const float* xt, const float* dy, int64_t n, int64_t C, int64_t F, int64_t c, int64_t f,
                    int64_t Hp, int64_t Wp, int64_t KH, int64_t KW, int64_t Ho, int64_t Wo, float* dw);
};

SpatialKernels spatial_kernels_for_path(int path);

namespace portable {
extern const SpatialKernels kSpatialKernels;
}
namespace avx2 {
extern const SpatialKernels kSpatialKernels;
}
namespace avx512 {
extern const SpatialKernels kSpatialKernels;
}

// The passes over a batch on `threads` threads: y (all of [n][F][Ho][Wo]) and dw ([F][C][KH][KW]).
void spatial_forward(const Geometry& g, int64_t n, const float* xt, const float* w, const float* bias, float* y,
                     int threads, int path);
void spatial_weights(const Geometry& g, int64_t n, const float* xt, const float* dy, float* dw, int threads,
                     int path);

}  // namespace bl
