// layer_math.h -- what the CUDA layer kernels (layer_kernels.cu) compute for one element, and
// the operands of the linear layer's three products, as plain functions that compile for the
// device and for the host: test_cuda_maps runs them on the host against brute force and against
// the CPU backend, so that an index, window or transpose mistake is caught on any machine.
//
// The formulas are the CPU backend's (cpp/cpu/layers.cpp, layers_kernel.inc) written per
// element; where the CPU sums in a fixed order, these functions sum in that same order.
#pragma once

#include <math.h>
#include <stdint.h>

#include "bandlimit.h"
#include "index_maps.h"  // BL_HD

namespace bl {
namespace cuda {

// --- Pooling (bl_pool2d_desc: no padding, out = (in - kernel) / stride + 1). ---

struct PoolGeom {
    int64_t planes, H, W, kh, kw, sh, sw, Ho, Wo;
};

BL_HD PoolGeom pool_geom(const bl_pool2d_desc& d) {
    return PoolGeom{d.planes,   d.height,   d.width,
                    d.kernel_h, d.kernel_w, d.stride_h,
                    d.stride_w, (d.height - d.kernel_h) / d.stride_h + 1, (d.width - d.kernel_w) / d.stride_w + 1};
}

// The outputs o in [*first, *end) along one axis whose window [o stride, o stride + kernel)
// holds input index i, in ascending order: o stride <= i gives o <= i / stride, and
// i < o stride + kernel gives o >= (i - kernel) / stride + 1 (any o >= 0 when i < kernel).
BL_HD void covering_outputs(int64_t i, int64_t kernel, int64_t stride, int64_t outs, int64_t* first,
                            int64_t* end) {
    const int64_t lo = i < kernel ? 0 : (i - kernel) / stride + 1;
    const int64_t hi = i / stride + 1 < outs ? i / stride + 1 : outs;
    *first = lo;
    *end = hi > lo ? hi : lo;  // empty past the last window, or between windows when stride > kernel
}

// Max pooling, output idx of [planes][Ho][Wo]: the first maximum in scan order (row-major in
// the window; strictly greater replaces, so a NaN neither wins against nor displaces the value
// held), *winner its index within the input plane.
BL_HD float maxpool_value(const float* x, const PoolGeom& g, int64_t idx, int32_t* winner) {
    const int64_t j = idx % g.Wo, i = (idx / g.Wo) % g.Ho, p = idx / (g.Ho * g.Wo);
    const float* plane = x + p * g.H * g.W;
    int64_t best = i * g.sh * g.W + j * g.sw;
    float best_value = plane[best];
    for (int64_t u = 0; u < g.kh; ++u) {
        const int64_t row = (i * g.sh + u) * g.W + j * g.sw;
        for (int64_t v = 0; v < g.kw; ++v)
            if (plane[row + v] > best_value) {
                best_value = plane[row + v];
                best = row + v;
            }
    }
    *winner = int32_t(best);
    return best_value;
}

// Max pooling's gradient, input idx of [planes][H][W], gathered instead of scattered (no two
// threads write one element): the CPU's dx[winner[q]] += dy[q] over the outputs q in order,
// restricted to the outputs whose windows hold idx -- the only ones whose winner can be idx --
// visited in that same ascending order, so the float sums are the CPU's.
BL_HD float maxpool_grad_value(const int32_t* winners, const float* dy, const float* dx, bool accumulate,
                               const PoolGeom& g, int64_t idx) {
    const int64_t c = idx % g.W, r = (idx / g.W) % g.H, p = idx / (g.H * g.W);
    const int64_t in_plane = r * g.W + c;
    int64_t r0, r1, c0, c1;
    covering_outputs(r, g.kh, g.sh, g.Ho, &r0, &r1);
    covering_outputs(c, g.kw, g.sw, g.Wo, &c0, &c1);
    const int32_t* wp = winners + p * g.Ho * g.Wo;
    const float* dyp = dy + p * g.Ho * g.Wo;
    float acc = accumulate ? dx[idx] : 0.0f;
    for (int64_t oi = r0; oi < r1; ++oi)
        for (int64_t oj = c0; oj < c1; ++oj) {
            const int64_t q = oi * g.Wo + oj;
            if (wp[q] == in_plane) acc += dyp[q];
        }
    return acc;
}

// Average pooling, output idx: the window's float64 sum in row-major order over kh kw.
BL_HD float avgpool_value(const float* x, const PoolGeom& g, int64_t idx) {
    const int64_t j = idx % g.Wo, i = (idx / g.Wo) % g.Ho, p = idx / (g.Ho * g.Wo);
    const float* plane = x + p * g.H * g.W;
    double acc = 0.0;
    for (int64_t u = 0; u < g.kh; ++u) {
        const int64_t row = (i * g.sh + u) * g.W + j * g.sw;
        for (int64_t v = 0; v < g.kw; ++v) acc += double(plane[row + v]);
    }
    return float(acc / double(g.kh * g.kw));
}

// Average pooling's gradient, input idx: the float64 sum of dy over the windows that hold idx
// (output rows ascending, then columns), over kh kw; written or added to dx[idx].
BL_HD float avgpool_grad_value(const float* dy, const float* dx, bool accumulate, const PoolGeom& g, int64_t idx) {
    const int64_t c = idx % g.W, r = (idx / g.W) % g.H, p = idx / (g.H * g.W);
    int64_t r0, r1, c0, c1;
    covering_outputs(r, g.kh, g.sh, g.Ho, &r0, &r1);
    covering_outputs(c, g.kw, g.sw, g.Wo, &c0, &c1);
    const float* dyp = dy + p * g.Ho * g.Wo;
    double acc = 0.0;
    for (int64_t oi = r0; oi < r1; ++oi)
        for (int64_t oj = c0; oj < c1; ++oj) acc += double(dyp[oi * g.Wo + oj]);
    const float grad = float(acc / double(g.kh * g.kw));
    return accumulate ? dx[idx] + grad : grad;
}

// --- Batch norm (one channel; the CPU's formulas). ---

// Where element e of channel ch sits in x[batch][channels][spatial]: sample e / spatial,
// position e % spatial (consecutive e are consecutive addresses within a sample).
BL_HD int64_t batchnorm_offset(const bl_batchnorm_desc& d, int64_t ch, int64_t e) {
    return ((e / d.spatial) * d.channels + ch) * d.spatial + e % d.spatial;
}

// One channel's normalisation, as the forward's thread 0 computes it: in training the batch
// mean and biased variance from the float64 sums of d = x - shift and d^2 over `count` elements
// (shift: the channel's first value, so that no mean or spread cancels), and the running
// statistics updated in place as PyTorch (r = (1 - momentum) r + momentum s, with the unbiased
// variance); in evaluation the running statistics as they are.
struct ChannelNorm {
    double mean, inv_std;  // what out_mean / out_inv_std receive
    float mean_f, scale;   // the normalisation's float operands: mean and gamma inv_std
};

BL_HD ChannelNorm batchnorm_channel(const bl_batchnorm_desc& d, double shift, double sum, double sq, float gamma,
                                    float* running_mean, float* running_var) {
    double mean, variance;
    if (d.training) {
        const int64_t count = d.batch * d.spatial;
        const double offset = sum / double(count);
        const double excess = sq - sum * offset;  // the squared deviations; rounding may push it below 0
        const double squares = excess > 0.0 ? excess : 0.0;
        mean = shift + offset;
        variance = squares / double(count);
        const double unbiased = squares / double(count - 1);
        *running_mean = float((1 - d.momentum) * double(*running_mean) + d.momentum * mean);
        *running_var = float((1 - d.momentum) * double(*running_var) + d.momentum * unbiased);
    } else {
        mean = double(*running_mean);
        variance = double(*running_var);
    }
    const double inv_std = 1.0 / sqrt(variance + d.eps);
    return ChannelNorm{mean, inv_std, float(mean), float(double(gamma) * inv_std)};
}

// y = (x - mean) scale + beta, then the ReLU: subtracting the mean first keeps full precision
// when |mean| is large against the spread.
BL_HD float batchnorm_value(float x, float mean, float scale, float beta, bool relu) {
    const float v = (x - mean) * scale + beta;
    return relu ? (v > 0.0f ? v : 0.0f) : v;
}

// The gradient reaching the normalisation: dy, masked by y > 0 when y is given (the fused ReLU).
BL_HD float batchnorm_grad_in(float dy, const float* y, int64_t at) { return (!y || y[at] > 0.0f) ? dy : 0.0f; }

// One channel's backward scalars from the float64 sums of g and g (x - mean) over `count`
// elements: dgamma's and dbeta's terms, and the float operands of dx.
struct ChannelGrad {
    double dgamma, dbeta;  // sum g xhat, sum g
    float a, mean_g, mean_gxhat, mean_f, inv_std_f;
};

BL_HD ChannelGrad batchnorm_channel_grad(double mean, double inv_std, double sum_g, double sum_gx, float gamma,
                                        int64_t count) {
    const double sum_gxhat = sum_gx * inv_std;
    return ChannelGrad{sum_gxhat,
                       sum_g,
                       float(double(gamma) * inv_std),
                       float(sum_g / double(count)),
                       float(sum_gxhat / double(count)),
                       float(mean),
                       float(inv_std)};
}

// dx = a (g - mean_g - xhat mean_gxhat), xhat = (x - mean) inv_std, a = gamma inv_std.
BL_HD float batchnorm_input_grad(float g, float x, const ChannelGrad& c) {
    return c.a * (g - c.mean_g - (x - c.mean_f) * c.inv_std_f * c.mean_gxhat);
}

// --- The linear layer's products (float32, the reduction index ascending). ---

// Element (r, c) of a matrix operand at p[r * rs + c * cs]: a transpose is a swap of strides.
struct GemmOperand {
    const float* p;
    int64_t rs, cs;
};

// C (m x n, row-major) = A (m x p) B (p x n), written (+ bias[col] when bias) or, when
// accumulate, added into C with C's value as the sum's first term (the CPU's axpy order).
struct GemmCall {
    int64_t m, n, p;
    GemmOperand a, b;
    const float* bias;
    bool accumulate;
    float* c;
};

// y[batch][out] = x[batch][in] w[out][in]^T + b.
BL_HD GemmCall linear_forward_call(int64_t batch, int64_t in, int64_t out, const float* x, const float* w,
                                   const float* b, float* y) {
    return GemmCall{batch, out, in, GemmOperand{x, in, 1}, GemmOperand{w, 1, in}, b, false, y};
}
// dx[batch][in] += dy[batch][out] w[out][in].
BL_HD GemmCall linear_data_call(int64_t batch, int64_t in, int64_t out, const float* dy, const float* w,
                                float* dx) {
    return GemmCall{batch, in, out, GemmOperand{dy, out, 1}, GemmOperand{w, in, 1}, nullptr, true, dx};
}
// dw[out][in] += dy[batch][out]^T x[batch][in].
BL_HD GemmCall linear_weight_call(int64_t batch, int64_t in, int64_t out, const float* dy, const float* x,
                                  float* dw) {
    return GemmCall{out, in, batch, GemmOperand{dy, 1, out}, GemmOperand{x, in, 1}, nullptr, true, dw};
}

// --- Softmax cross-entropy. ---

// One row of logits: its loss logsumexp(z) - z[label] in float64 (the row's maximum subtracted
// before the exponentials), and its softmax into probs (may be NULL). A label outside
// [0, classes) gives a NaN loss and is never used as an index (labels are device memory that no
// one has checked).
BL_HD double softmax_xent_row(const float* z, int64_t classes, int32_t label, float* probs) {
    double m = double(z[0]);
    for (int64_t k = 1; k < classes; ++k)
        if (double(z[k]) > m) m = double(z[k]);
    double s = 0.0;
    for (int64_t k = 0; k < classes; ++k) s += exp(double(z[k]) - m);
    const double ls = log(s);
    if (probs)
        for (int64_t k = 0; k < classes; ++k) probs[k] = float(exp(double(z[k]) - m - ls));
    if (label < 0 || int64_t(label) >= classes) return nan("");
    return (m + ls) - double(z[label]);
}

// dlogits element idx of [batch][classes]: (probs - onehot(label)) g, g = dloss / batch; NaN for
// a row whose label is out of range.
BL_HD float softmax_xent_grad_value(const float* probs, const int32_t* labels, int64_t classes, double g,
                                    const float* dlogits, bool accumulate, int64_t idx) {
    const int64_t n = idx / classes, k = idx % classes;
    const int32_t label = labels[n];
    const double d = (label < 0 || int64_t(label) >= classes)
                         ? nan("")
                         : (double(probs[idx]) - (k == int64_t(label) ? 1.0 : 0.0)) * g;
    return accumulate ? float(double(dlogits[idx]) + d) : float(d);
}

}  // namespace cuda
}  // namespace bl
