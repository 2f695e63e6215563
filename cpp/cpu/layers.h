// layers.h -- the CPU backend's layer kernels (bandlimit.h, "Layer kernels"; layer_ops.h).
//
// Two levels, as the batched DFT (dft.h): the chunk kernels -- plain loops over one contiguous
// run (one channel of one sample, one plane, a block of elements) -- are compiled once per CPU
// path from layers_kernel.inc (portable, AVX2 + FMA, AVX-512) and picked by the context's path;
// the ops themselves (layers.cpp, compiled without ISA flags) split the work over the
// backend's thread pool, so that nothing ISA-specific is shared between the instances.
//
// Determinism: every output element is computed by exactly one chunk, in an order that does not
// depend on the partition, so results are bitwise independent of the thread count. Reductions
// use explicit lanes (kLayerLanes float64 partial sums, combined in a fixed order) so that the
// compiler can vectorise them without reassociating anything.
#pragma once

#include <cstdint>

#include "layer_ops.h"

namespace bl {

constexpr int kLayerLanes = 8;

struct LayerKernels {
    // sum += sum (x - shift), sq += sum (x - shift)^2 over x[0, n).
    void (*moments)(const float* x, int64_t n, double shift, double* sum, double* sq);
    // y = (x - mean) * scale + shift, then max(., 0) when relu.
    void (*normalize)(const float* x, float* y, int64_t n, float mean, float scale, float shift, bool relu);
    // With g = dy (masked by y > 0 when y is not null): sum_g += sum g, sum_gx += sum g (x - mean).
    void (*grad_moments)(const float* dy, const float* x, const float* y, int64_t n, double mean, double* sum_g,
                         double* sum_gx);
    // dx (=|+=) a (g - mean_g - xhat mean_gxhat), xhat = (x - mean) inv_std, g as above.
    void (*input_grad)(const float* dy, const float* x, const float* y, float* dx, int64_t n, bool accumulate,
                       float a, float mean_g, float mean, float inv_std, float mean_gxhat);
    void (*relu_forward)(const float* x, float* y, int64_t n);
    void (*relu_backward)(const float* x, const float* dy, float* dx, int64_t n, bool accumulate);
    // One plane; winners may be null.
    void (*maxpool_plane)(const float* x, int64_t w, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ho,
                          int64_t wo, float* y, int32_t* winners);
    // sum_i a[i] b[i] over [0, n), float32 lanes.
    float (*dot)(const float* a, const float* b, int64_t n);
    // y[i] += alpha x[i].
    void (*axpy)(float alpha, const float* x, float* y, int64_t n);
    void (*add_into)(float* dst, const float* src, int64_t n);
    void (*adam)(float* data, const float* grad, float* m, float* v, int64_t n, float step_size,
                 float inv_sqrt_correction2, float beta1, float beta2, float one_minus_b1, float one_minus_b2,
                 float eps, float weight_decay);
    void (*sgd)(float* data, const float* grad, float* buf, int64_t n, float lr, float momentum, float weight_decay);
};

LayerKernels layer_kernels_for_path(int path);

namespace portable {
extern const LayerKernels kLayerKernels;
}
namespace avx2 {
extern const LayerKernels kLayerKernels;
}
namespace avx512 {
extern const LayerKernels kLayerKernels;
}

// The CPU backend's LayerOps (cpu_backend.cpp returns it from layer_ops()).
const LayerOps& cpu_layer_ops();

}  // namespace bl
