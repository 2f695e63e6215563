// spatial.cpp -- the spatial product (spatial.h): the portable kernels, their dispatch by CPU
// path, and the passes over a batch on the thread pool.
#include "spatial.h"

#include "bandlimit.h"
#include "thread_pool.h"

namespace bl {
namespace portable {
#include "spatial_kernel.inc"
}  // namespace portable

SpatialKernels spatial_kernels_for_path(int path) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (path == BL_CPU_PATH_AVX512) return avx512::kSpatialKernels;
    if (path == BL_CPU_PATH_AVX2) return avx2::kSpatialKernels;
#endif
    (void)path;
    return portable::kSpatialKernels;
}

void spatial_forward(const Geometry& g, int64_t n, const float* xt, const float* w, const float* bias, float* y,
                     int threads, int path) {
    const SpatialKernels k = spatial_kernels_for_path(path);
    constexpr int64_t FB = 8;  // filters per task (the kernels block them by their own width)
    const int64_t blocks = (g.F + FB - 1) / FB;
    // One (sample, filter block) per index: every output is written by one index.
    parallel_for(n * blocks, threads, [&](int64_t t, int) {
        const int64_t s = t / blocks, f0 = (t % blocks) * FB;
        const int64_t fb = g.F - f0 < FB ? g.F - f0 : FB;
        k.forward(xt + s * g.C * g.Hp * g.Wp, g.C, g.Hp, g.Wp, w, f0, fb, g.KH, g.KW, g.Ho, g.Wo, bias,
                  y + s * g.F * g.Ho * g.Wo);
    });
}

void spatial_weights(const Geometry& g, int64_t n, const float* xt, const float* dy, float* dw, int threads,
                     int path) {
    const SpatialKernels k = spatial_kernels_for_path(path);
    // One (filter, channel) per index, summing over the batch in order.
    parallel_for(g.F * g.C, threads, [&](int64_t t, int) {
        k.weights(xt, dy, n, g.C, g.F, t % g.C, t / g.C, g.Hp, g.Wp, g.KH, g.KW, g.Ho, g.Wo, dw);
    });
}

}  // namespace bl
