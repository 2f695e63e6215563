// layers.cpp -- the CPU backend's layer ops (layers.h): the portable instance of the chunk
// kernels, their dispatch by CPU path, and the ops, which split the work over the thread pool.
// Average pooling, dropout and softmax cross-entropy are plain loops here: they are either
// float64 sums (which the chunk kernels' float32 lanes would not match) or memory-bound, and
// the CUDA backend computes the same formulas element by element.
#include "layers.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "context.h"
#include "dropout_mask.h"
#include "errors.h"
#include "thread_pool.h"

namespace bl {
namespace portable {
#include "layers_kernel.inc"
}  // namespace portable

LayerKernels layer_kernels_for_path(int path) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (path == BL_CPU_PATH_AVX512) return avx512::kLayerKernels;
    if (path == BL_CPU_PATH_AVX2) return avx2::kLayerKernels;
#endif
    (void)path;
    return portable::kLayerKernels;
}

namespace {

// Below this many elements of work an op runs on the calling thread: waking the workers and
// joining them costs more than they save (docs/TRAINING.md, "Layer kernels").
constexpr int64_t kMinParallelElements = int64_t(1) << 15;
// Elements per chunk of the element-wise ops and the optimizers.
constexpr int64_t kBlockElements = int64_t(1) << 14;

// The threads of an op with this much work. Layer ops have no plan whose creation would start
// the workers: the first op that wants more threads than there are starts them (once).
int threads_for(const Context& c, int64_t work_elements) {
    if (work_elements < kMinParallelElements) return 1;
    const int threads = c.num_threads();
    ThreadPool& pool = ThreadPool::shared();
    if (threads > pool.workers() + 1) pool.reserve(threads);
    return threads;
}

int64_t blocks_of(int64_t count) { return (count + kBlockElements - 1) / kBlockElements; }

// Runs fn(begin, end) over [0, count) in blocks of kBlockElements on the context's threads.
template <typename Fn>
void for_blocks(const Context& c, int64_t count, Fn&& fn) {
    parallel_for(blocks_of(count), threads_for(c, count), [&](int64_t blk, int) {
        const int64_t begin = blk * kBlockElements;
        fn(begin, std::min(count, begin + kBlockElements));
    });
}

// The blocks of several parameter tensors as one index space: fn(slot, begin, end).
template <typename Fn>
void for_param_blocks(const Context& c, const bl_param_slot* params, int64_t count, Fn&& fn) {
    int64_t total_blocks = 0, total = 0;
    for (int64_t k = 0; k < count; ++k) {
        total_blocks += blocks_of(params[k].count);
        total += params[k].count;
    }
    parallel_for(total_blocks, threads_for(c, total), [&](int64_t blk, int) {
        int64_t k = 0;
        while (blk >= blocks_of(params[k].count)) blk -= blocks_of(params[k++].count);
        const int64_t begin = blk * kBlockElements;
        fn(params[k], begin, std::min(params[k].count, begin + kBlockElements));
    });
}

// The output rows [first, last] of a pooling whose windows (kernel k, stride s, n outputs)
// cover input row i: those with o s <= i < o s + k. Empty (first > last) where the stride
// skips the input.
struct CoveringWindows {
    int64_t first, last;
};
CoveringWindows covering_windows(int64_t i, int64_t k, int64_t s, int64_t n) {
    return {i < k ? 0 : (i - k) / s + 1, std::min(n - 1, i / s)};
}

// Softmax cross-entropy reads labels as indices: one outside [0, classes) is refused before
// anything is written (bandlimit.h; the CUDA backend makes it NaN instead).
void check_labels(const int32_t* labels, int64_t batch, int64_t classes) {
    for (int64_t n = 0; n < batch; ++n)
        if (labels[n] < 0 || labels[n] >= classes)
            throw StatusError(BL_ERR_INVALID_ARGUMENT, "labels",
                              "labels[" + std::to_string(n) + "] = " + std::to_string(labels[n]) +
                                  " is outside [0, classes) = [0, " + std::to_string(classes) + ")");
}

class CpuLayerOps final : public LayerOps {
public:
    void batchnorm_forward(const Context& c, const BatchNormArgs& a) const override {
        const LayerKernels k = layer_kernels_for_path(c.cpu_path());
        const bl_batchnorm_desc& d = a.desc;
        const int64_t per_channel = d.batch * d.spatial;
        // One channel per index: its statistics, running-statistics update and normalisation
        // are all done by one thread, in sample order.
        parallel_for(d.channels, threads_for(c, d.channels * per_channel), [&](int64_t ch, int) {
            double mean, variance;
            if (d.training) {
                // Shifted by the channel's first value: no cancellation at any mean / spread.
                const double shift = a.x[ch * d.spatial];
                double sum = 0, sq = 0;
                for (int64_t n = 0; n < d.batch; ++n)
                    k.moments(a.x + (n * d.channels + ch) * d.spatial, d.spatial, shift, &sum, &sq);
                const double offset = sum / double(per_channel);
                mean = shift + offset;
                const double squares = std::max(0.0, sq - sum * offset);
                variance = squares / double(per_channel);
                const double unbiased = squares / double(per_channel - 1);
                a.running_mean[ch] = float((1 - d.momentum) * a.running_mean[ch] + d.momentum * mean);
                a.running_var[ch] = float((1 - d.momentum) * a.running_var[ch] + d.momentum * unbiased);
            } else {
                mean = a.running_mean[ch];
                variance = a.running_var[ch];
            }
            const double inv_std = 1.0 / std::sqrt(variance + d.eps);
            if (a.mean) a.mean[ch] = mean;
            if (a.inv_std) a.inv_std[ch] = inv_std;
            // (x - mean) * scale + beta: subtracting the mean first keeps full precision when
            // |mean| is large against the spread (x * scale + shift would cancel).
            const float scale = float(double(a.gamma[ch]) * inv_std);
            for (int64_t n = 0; n < d.batch; ++n) {
                const int64_t at = (n * d.channels + ch) * d.spatial;
                k.normalize(a.x + at, a.y + at, d.spatial, float(mean), scale, a.beta[ch], d.relu != 0);
            }
        });
    }

    void batchnorm_backward(const Context& c, const BatchNormBackwardArgs& a) const override {
        const LayerKernels k = layer_kernels_for_path(c.cpu_path());
        const bl_batchnorm_desc& d = a.desc;
        const int64_t per_channel = d.batch * d.spatial;
        const float* y = d.relu ? a.y : nullptr;
        parallel_for(d.channels, threads_for(c, d.channels * per_channel), [&](int64_t ch, int) {
            const double mean = a.mean[ch], inv_std = a.inv_std[ch];
            double sum_g = 0, sum_gx = 0;
            for (int64_t n = 0; n < d.batch; ++n) {
                const int64_t at = (n * d.channels + ch) * d.spatial;
                k.grad_moments(a.dy + at, a.x + at, y ? y + at : nullptr, d.spatial, mean, &sum_g, &sum_gx);
            }
            const double sum_gxhat = sum_gx * inv_std;
            if (a.dgamma) a.dgamma[ch] = float(double(a.dgamma[ch]) + sum_gxhat);
            if (a.dbeta) a.dbeta[ch] = float(double(a.dbeta[ch]) + sum_g);
            if (!a.dx) return;
            // dx = gamma inv_std (g - mean(g) - xhat mean(g xhat)), xhat = (x - mean) inv_std.
            const float scale = float(double(a.gamma[ch]) * inv_std);
            const float mean_g = float(sum_g / double(per_channel));
            const float mean_gxhat = float(sum_gxhat / double(per_channel));
            for (int64_t n = 0; n < d.batch; ++n) {
                const int64_t at = (n * d.channels + ch) * d.spatial;
                k.input_grad(a.dy + at, a.x + at, y ? y + at : nullptr, a.dx + at, d.spatial, a.dx_accumulate, scale,
                             mean_g, float(mean), float(inv_std), mean_gxhat);
            }
        });
    }

    void relu_forward(const Context& c, int64_t count, const float* x, float* y) const override {
        const LayerKernels k = layer_kernels_for_path(c.cpu_path());
        for_blocks(c, count, [&](int64_t b, int64_t e) { k.relu_forward(x + b, y + b, e - b); });
    }

    void relu_backward(const Context& c, int64_t count, const float* x, const float* dy, float* dx,
                       bool accumulate) const override {
        const LayerKernels k = layer_kernels_for_path(c.cpu_path());
        for_blocks(c, count, [&](int64_t b, int64_t e) { k.relu_backward(x + b, dy + b, dx + b, e - b, accumulate); });
    }

    void maxpool2d_forward(const Context& c, const bl_pool2d_desc& d, const float* x, float* y,
                           int32_t* winners) const override {
        const LayerKernels k = layer_kernels_for_path(c.cpu_path());
        const int64_t ho = (d.height - d.kernel_h) / d.stride_h + 1, wo = (d.width - d.kernel_w) / d.stride_w + 1;
        const int64_t in_plane = d.height * d.width, out_plane = ho * wo;
        parallel_for(d.planes, threads_for(c, d.planes * in_plane), [&](int64_t p, int) {
            k.maxpool_plane(x + p * in_plane, d.width, d.kernel_h, d.kernel_w, d.stride_h, d.stride_w, ho, wo,
                            y + p * out_plane, winners ? winners + p * out_plane : nullptr);
        });
    }

    void maxpool2d_backward(const Context& c, const bl_pool2d_desc& d, const int32_t* winners, const float* dy,
                            float* dx, bool accumulate) const override {
        const int64_t ho = (d.height - d.kernel_h) / d.stride_h + 1, wo = (d.width - d.kernel_w) / d.stride_w + 1;
        const int64_t in_plane = d.height * d.width, out_plane = ho * wo;
        // The winners index dx: one outside its plane is refused before anything is written
        // (it wrote outside dx; found by the fuzz driver). The CUDA kernel gathers per input
        // element instead, where a stray winner matches nothing.
        for (int64_t q = 0; q < d.planes * out_plane; ++q)
            if (winners[q] < 0 || winners[q] >= in_plane)
                throw StatusError(BL_ERR_INVALID_ARGUMENT, "winners",
                                  "winners[" + std::to_string(q) + "] = " + std::to_string(winners[q]) +
                                      " is outside the plane [0, height * width) = [0, " + std::to_string(in_plane) + ")");
        // Windows overlap only within a plane: one plane per index, outputs in order.
        parallel_for(d.planes, threads_for(c, d.planes * in_plane), [&](int64_t p, int) {
            float* dxp = dx + p * in_plane;
            if (!accumulate) std::memset(dxp, 0, size_t(in_plane) * sizeof(float));
            const int32_t* wp = winners + p * out_plane;
            const float* dyp = dy + p * out_plane;
            for (int64_t q = 0; q < out_plane; ++q) dxp[wp[q]] += dyp[q];
        });
    }

    void avgpool2d_forward(const Context& c, const bl_pool2d_desc& d, const float* x, float* y) const override {
        const int64_t ho = (d.height - d.kernel_h) / d.stride_h + 1, wo = (d.width - d.kernel_w) / d.stride_w + 1;
        const int64_t in_plane = d.height * d.width;
        const double taps = double(d.kernel_h * d.kernel_w);
        // One output row of one plane per index, so that a few large planes (a global pooling)
        // still spread over the threads; each window summed in row-major order.
        parallel_for(d.planes * ho, threads_for(c, d.planes * in_plane), [&](int64_t row, int) {
            const int64_t p = row / ho, i = row % ho;
            const float* xp = x + p * in_plane + i * d.stride_h * d.width;
            float* yr = y + row * wo;
            for (int64_t j = 0; j < wo; ++j) {
                double acc = 0;
                for (int64_t u = 0; u < d.kernel_h; ++u) {
                    const float* xr = xp + u * d.width + j * d.stride_w;
                    for (int64_t v = 0; v < d.kernel_w; ++v) acc += double(xr[v]);
                }
                yr[j] = float(acc / taps);
            }
        });
    }

    void avgpool2d_backward(const Context& c, const bl_pool2d_desc& d, const float* dy, float* dx,
                            bool accumulate) const override {
        const int64_t ho = (d.height - d.kernel_h) / d.stride_h + 1, wo = (d.width - d.kernel_w) / d.stride_w + 1;
        const int64_t in_plane = d.height * d.width;
        const double taps = double(d.kernel_h * d.kernel_w);
        // A gather: each input element sums the windows that cover it (rows, then columns), so
        // overlapping windows need no scatter and the order is fixed. One input row per index.
        parallel_for(d.planes * d.height, threads_for(c, d.planes * in_plane), [&](int64_t row, int) {
            const int64_t p = row / d.height, i = row % d.height;
            const CoveringWindows rows = covering_windows(i, d.kernel_h, d.stride_h, ho);
            const float* dyp = dy + p * ho * wo;
            float* dxr = dx + row * d.width;
            for (int64_t j = 0; j < d.width; ++j) {
                const CoveringWindows cols = covering_windows(j, d.kernel_w, d.stride_w, wo);
                double acc = 0;
                for (int64_t oi = rows.first; oi <= rows.last; ++oi)
                    for (int64_t oj = cols.first; oj <= cols.last; ++oj) acc += double(dyp[oi * wo + oj]);
                const float g = float(acc / taps);
                dxr[j] = accumulate ? dxr[j] + g : g;
            }
        });
    }

    void dropout_forward(const Context& c, int64_t count, double p, uint64_t seed, const float* x, float* y,
                         uint8_t* mask) const override {
        const uint64_t mixed_seed = mix64(seed);
        const float scale = dropout_scale(p);
        for_blocks(c, count, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) {
                const bool keep = dropout_keeps(mixed_seed, i, p);
                y[i] = keep ? x[i] * scale : 0.0f;  // x is read first: y may be x
                if (mask) mask[i] = keep ? 1 : 0;
            }
        });
    }

    void dropout_backward(const Context& c, int64_t count, double p, const uint8_t* mask, const float* dy,
                          float* dx, bool accumulate) const override {
        const float scale = dropout_scale(p);
        for_blocks(c, count, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) {
                const float g = mask[i] ? dy[i] * scale : 0.0f;
                dx[i] = accumulate ? dx[i] + g : g;
            }
        });
    }

    void softmax_xent_forward(const Context& c, int64_t batch, int64_t classes, const float* logits,
                              const int32_t* labels, float* loss, float* probs) const override {
        check_labels(labels, batch, classes);
        // Each row's loss in its own slot, then one ordered sum: the total does not depend on
        // which thread computed which row.
        std::vector<double> row_loss(static_cast<size_t>(batch));
        parallel_for(batch, threads_for(c, batch * classes), [&](int64_t n, int) {
            const float* z = logits + n * classes;
            double m = double(z[0]);
            for (int64_t k = 1; k < classes; ++k) m = std::max(m, double(z[k]));
            double s = 0;
            for (int64_t k = 0; k < classes; ++k) s += std::exp(double(z[k]) - m);
            const double ls = std::log(s);
            row_loss[size_t(n)] = (m + ls) - double(z[labels[n]]);
            if (probs) {
                float* pr = probs + n * classes;
                for (int64_t k = 0; k < classes; ++k) pr[k] = float(std::exp(double(z[k]) - m - ls));
            }
        });
        double total = 0;
        for (double v : row_loss) total += v;
        loss[0] = float(total / double(batch));
    }

    void softmax_xent_backward(const Context& c, int64_t batch, int64_t classes, const float* probs,
                               const int32_t* labels, const float* dloss, float* dlogits,
                               bool accumulate) const override {
        check_labels(labels, batch, classes);
        const double g = double(dloss[0]) / double(batch);
        // Element blocks rather than rows: a few wide rows still spread over the threads.
        for_blocks(c, batch * classes, [&](int64_t b, int64_t e) {
            int64_t n = b / classes, k = b % classes;
            for (int64_t i = b; i < e; ++i) {
                const double d = (double(probs[i]) - (k == labels[n] ? 1.0 : 0.0)) * g;
                dlogits[i] = accumulate ? float(double(dlogits[i]) + d) : float(d);
                if (++k == classes) {
                    k = 0;
                    ++n;
                }
            }
        });
    }

    void linear_forward(const Context& c, const LinearArgs& a) const override {
        const LayerKernels k = layer_kernels_for_path(c.cpu_path());
        parallel_for(a.batch, threads_for(c, a.batch * a.in * a.out), [&](int64_t n, int) {
            const float* xr = a.x + n * a.in;
            float* yr = a.y + n * a.out;
            for (int64_t o = 0; o < a.out; ++o) yr[o] = k.dot(xr, a.w + o * a.in, a.in) + (a.b ? a.b[o] : 0.0f);
        });
    }

    void linear_backward(const Context& c, const LinearArgs& a) const override {
        const LayerKernels k = layer_kernels_for_path(c.cpu_path());
        const int threads = threads_for(c, a.batch * a.in * a.out);
        if (a.dx)  // dx[n][:] += sum_o dy[n][o] w[o][:], o in order
            parallel_for(a.batch, threads, [&](int64_t n, int) {
                for (int64_t o = 0; o < a.out; ++o) k.axpy(a.dy[n * a.out + o], a.w + o * a.in, a.dx + n * a.in, a.in);
            });
        if (a.dw) {  // dw[o][cols] += sum_n dy[n][o] x[n][cols], n in order, by column blocks
            constexpr int64_t kCols = 256;
            const int64_t blocks = (a.in + kCols - 1) / kCols;
            parallel_for(a.out * blocks, threads, [&](int64_t t, int) {
                const int64_t o = t / blocks, begin = (t % blocks) * kCols, len = std::min(kCols, a.in - begin);
                float* dwr = a.dw + o * a.in + begin;
                for (int64_t n = 0; n < a.batch; ++n) k.axpy(a.dy[n * a.out + o], a.x + n * a.in + begin, dwr, len);
            });
        }
        if (a.db)
            for (int64_t o = 0; o < a.out; ++o) {
                float s = a.db[o];
                for (int64_t n = 0; n < a.batch; ++n) s += a.dy[n * a.out + o];
                a.db[o] = s;
            }
    }

    void add_into(const Context& c, int64_t count, float* dst, const float* src) const override {
        const LayerKernels k = layer_kernels_for_path(c.cpu_path());
        for_blocks(c, count, [&](int64_t b, int64_t e) { k.add_into(dst + b, src + b, e - b); });
    }

    void adam_step(const Context& c, const bl_adam_desc& d, const bl_param_slot* params,
                   int64_t count) const override {
        const LayerKernels k = layer_kernels_for_path(c.cpu_path());
        const double correction1 = 1 - std::pow(d.beta1, double(d.step));
        const double correction2 = 1 - std::pow(d.beta2, double(d.step));
        const float step_size = float(d.lr / correction1);
        const float inv_sqrt_c2 = float(1 / std::sqrt(correction2));
        for_param_blocks(c, params, count, [&](const bl_param_slot& p, int64_t b, int64_t e) {
            k.adam(p.data + b, p.grad + b, p.state0 + b, p.state1 + b, e - b, step_size, inv_sqrt_c2, float(d.beta1),
                   float(d.beta2), float(1 - d.beta1), float(1 - d.beta2), float(d.eps), float(d.weight_decay));
        });
    }

    void sgd_step(const Context& c, const bl_sgd_desc& d, const bl_param_slot* params, int64_t count) const override {
        const LayerKernels k = layer_kernels_for_path(c.cpu_path());
        for_param_blocks(c, params, count, [&](const bl_param_slot& p, int64_t b, int64_t e) {
            k.sgd(p.data + b, p.grad + b, p.state0 ? p.state0 + b : nullptr, e - b, float(d.lr), float(d.momentum),
                  float(d.weight_decay));
        });
    }
};

}  // namespace

const LayerOps& cpu_layer_ops() {
    static const CpuLayerOps ops;
    return ops;
}

}  // namespace bl
