// layer_kernels.cu -- see layer_kernels.h. The CPU backend's layer ops (cpp/cpu/layers.cpp) on
// the device, with the same formulas (layer_math.h) and these launch shapes:
//   - element-wise ops (ReLU, add, dropout, the optimizers, the softmax gradient) and the
//     pooling ops: one thread per output element in a grid-stride loop;
//   - batch norm: one block per channel, from its float64 sums to its last output element (the
//     statistics go from the reduction to the normalisation through shared memory, so nothing
//     is allocated);
//   - max and average pooling backward: one thread per input element gathering over the
//     windows that hold it (no scatter, so no atomics, even with overlapping windows);
//   - the linear layer: one tiled SGEMM kernel for its three products (a transpose is a swap of
//     strides, layer_math.h's GemmCall), and a per-output loop for db;
//   - the softmax cross-entropy: one block for the whole batch, rows summed in order.
// No floating-point atomics anywhere: every output is computed by one thread in a fixed order,
// and every reduction is a fixed tree (kernel_launch.h's block_sum) or a loop in order, so that
// results are bitwise reproducible from run to run.
#include "layer_kernels.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "dropout_mask.h"
#include "kernel_launch.h"
#include "layer_math.h"
#include "plugin_checks.h"

namespace bl {
namespace cuda {
namespace {

// --- Kernels. No __restrict__: the ABI lets several ops work in place (y = x, dx = dy). ---

// One block per channel: the shifted float64 sums (training; each thread's elements at a stride
// of kThreads, then block_sum's fixed tree), thread 0's statistics and running-statistics
// update, then the normalisation by the whole block.
__global__ void __launch_bounds__(kThreads)
    batchnorm_forward_kernel(bl_batchnorm_desc d, const float* x, const float* gamma, const float* beta,
                             float* running_mean, float* running_var, float* y, double* out_mean,
                             double* out_inv_std) {
    __shared__ double partial[kThreads];
    __shared__ float mean_s, scale_s;
    const int64_t per_channel = d.batch * d.spatial;
    for (int64_t ch = blockIdx.x; ch < d.channels; ch += gridDim.x) {
        double sum = 0.0, sq = 0.0;
        const double shift = d.training ? double(x[ch * d.spatial]) : 0.0;  // the channel's first value
        if (d.training) {
            for (int64_t e = threadIdx.x; e < per_channel; e += kThreads) {
                const double v = double(x[batchnorm_offset(d, ch, e)]) - shift;
                sum += v;
                sq += v * v;
            }
            sum = block_sum(sum, partial);
            sq = block_sum(sq, partial);
        }
        if (threadIdx.x == 0) {
            const ChannelNorm c = batchnorm_channel(d, shift, sum, sq, gamma[ch], running_mean + ch, running_var + ch);
            if (out_mean) out_mean[ch] = c.mean;
            if (out_inv_std) out_inv_std[ch] = c.inv_std;
            mean_s = c.mean_f;
            scale_s = c.scale;
        }
        __syncthreads();
        const float mean = mean_s, scale = scale_s, offset = beta[ch];
        for (int64_t e = threadIdx.x; e < per_channel; e += kThreads) {
            const int64_t at = batchnorm_offset(d, ch, e);
            y[at] = batchnorm_value(x[at], mean, scale, offset, d.relu != 0);
        }
        __syncthreads();  // every thread has read mean_s and scale_s before the next channel's
    }
}

// One block per channel: the float64 sums of g and g (x - mean) (g = dy, masked by y > 0 when y
// is not NULL), dgamma and dbeta by thread 0, then dx by the whole block.
__global__ void __launch_bounds__(kThreads)
    batchnorm_backward_kernel(bl_batchnorm_desc d, const float* x, const float* y, const float* dy,
                              const float* gamma, const double* mean_in, const double* inv_std_in, float* dx,
                              bool dx_accumulate, float* dgamma, float* dbeta) {
    __shared__ double partial[kThreads];
    const int64_t per_channel = d.batch * d.spatial;
    for (int64_t ch = blockIdx.x; ch < d.channels; ch += gridDim.x) {
        const double mean = mean_in[ch], inv_std = inv_std_in[ch];
        double sum_g = 0.0, sum_gx = 0.0;
        for (int64_t e = threadIdx.x; e < per_channel; e += kThreads) {
            const int64_t at = batchnorm_offset(d, ch, e);
            const double g = double(batchnorm_grad_in(dy[at], y, at));
            sum_g += g;
            sum_gx += g * (double(x[at]) - mean);
        }
        sum_g = block_sum(sum_g, partial);
        sum_gx = block_sum(sum_gx, partial);
        const ChannelGrad c = batchnorm_channel_grad(mean, inv_std, sum_g, sum_gx, gamma[ch], per_channel);
        if (threadIdx.x == 0) {
            if (dgamma) dgamma[ch] = float(double(dgamma[ch]) + c.dgamma);
            if (dbeta) dbeta[ch] = float(double(dbeta[ch]) + c.dbeta);
        }
        if (dx) {
            for (int64_t e = threadIdx.x; e < per_channel; e += kThreads) {
                const int64_t at = batchnorm_offset(d, ch, e);
                const float v = batchnorm_input_grad(batchnorm_grad_in(dy[at], y, at), x[at], c);
                dx[at] = dx_accumulate ? dx[at] + v : v;
            }
        }
        // No barrier needed here: block_sum ends with one, and nothing else is shared.
    }
}

__global__ void relu_forward_kernel(int64_t count, const float* x, float* y) {
    for (int64_t i = first_index(); i < count; i += grid_step()) {
        const float v = x[i];
        y[i] = v > 0.0f ? v : 0.0f;
    }
}

// The gradient at x = 0 (and at a NaN x) is 0, as the CPU's mask.
__global__ void relu_backward_kernel(int64_t count, const float* x, const float* dy, float* dx, bool accumulate) {
    for (int64_t i = first_index(); i < count; i += grid_step()) {
        const float g = x[i] > 0.0f ? dy[i] : 0.0f;
        dx[i] = accumulate ? dx[i] + g : g;
    }
}

__global__ void add_into_kernel(int64_t count, float* dst, const float* src) {
    for (int64_t i = first_index(); i < count; i += grid_step()) dst[i] += src[i];
}

__global__ void maxpool_forward_kernel(PoolGeom g, const float* x, float* y, int32_t* winners) {
    const int64_t total = g.planes * g.Ho * g.Wo;
    for (int64_t idx = first_index(); idx < total; idx += grid_step()) {
        int32_t winner = 0;
        y[idx] = maxpool_value(x, g, idx, &winner);
        if (winners) winners[idx] = winner;
    }
}

__global__ void maxpool_backward_kernel(PoolGeom g, const int32_t* winners, const float* dy, float* dx,
                                        bool accumulate) {
    const int64_t total = g.planes * g.H * g.W;
    for (int64_t idx = first_index(); idx < total; idx += grid_step())
        dx[idx] = maxpool_grad_value(winners, dy, dx, accumulate, g, idx);
}

__global__ void avgpool_forward_kernel(PoolGeom g, const float* x, float* y) {
    const int64_t total = g.planes * g.Ho * g.Wo;
    for (int64_t idx = first_index(); idx < total; idx += grid_step()) y[idx] = avgpool_value(x, g, idx);
}

__global__ void avgpool_backward_kernel(PoolGeom g, const float* dy, float* dx, bool accumulate) {
    const int64_t total = g.planes * g.H * g.W;
    for (int64_t idx = first_index(); idx < total; idx += grid_step())
        dx[idx] = avgpool_grad_value(dy, dx, accumulate, g, idx);
}

// C = A B (+ bias, or added into C) in 64 x 64 output tiles, 16 reduction steps at a time: 256
// threads as 16 x 16, each 4 x 4 outputs (rows ty + 16 i, columns tx + 16 j) in float32
// registers; each output sums its products in ascending reduction order (fmaf), after C's value
// when accumulating. Tiles are loaded along the operand's contiguous axis, so that consecutive
// threads read consecutive addresses; the + 1 column spreads those stores over the banks.
constexpr int kGemmTile = 64, kGemmStep = 16;
static_assert(kThreads == 256, "sgemm_kernel: 16 x 16 threads of 4 x 4 outputs");

__global__ void __launch_bounds__(kThreads) sgemm_kernel(GemmCall call) {
    __shared__ float a_s[kGemmStep][kGemmTile + 1], b_s[kGemmStep][kGemmTile + 1];
    const int tx = int(threadIdx.x) % 16, ty = int(threadIdx.x) / 16;
    const int64_t m = call.m, n = call.n, p = call.p;
    const GemmOperand a = call.a, b = call.b;
    const bool a_along_steps = a.cs == 1, b_along_cols = b.cs == 1;
    const int64_t row_tiles = (m + kGemmTile - 1) / kGemmTile, col_tiles = (n + kGemmTile - 1) / kGemmTile;
    for (int64_t rt = blockIdx.y; rt < row_tiles; rt += gridDim.y)
        for (int64_t ct = blockIdx.x; ct < col_tiles; ct += gridDim.x) {
            const int64_t m0 = rt * kGemmTile, n0 = ct * kGemmTile;
            float acc[4][4];
#pragma unroll
            for (int i = 0; i < 4; ++i)
#pragma unroll
                for (int j = 0; j < 4; ++j) {
                    const int64_t row = m0 + ty + 16 * i, col = n0 + tx + 16 * j;
                    acc[i][j] = (call.accumulate && row < m && col < n) ? call.c[row * n + col] : 0.0f;
                }
            for (int64_t q0 = 0; q0 < p; q0 += kGemmStep) {
                // Element e of each tile: (row ai, step aq) of A, (step bq, column bj) of B; zero
                // outside the matrices (a zero product leaves the sums as they are).
                for (int e = int(threadIdx.x); e < kGemmStep * kGemmTile; e += kThreads) {
                    const int ai = a_along_steps ? e / kGemmStep : e % kGemmTile;
                    const int aq = a_along_steps ? e % kGemmStep : e / kGemmTile;
                    a_s[aq][ai] = (m0 + ai < m && q0 + aq < p) ? a.p[(m0 + ai) * a.rs + (q0 + aq) * a.cs] : 0.0f;
                    const int bj = b_along_cols ? e % kGemmTile : e / kGemmStep;
                    const int bq = b_along_cols ? e / kGemmTile : e % kGemmStep;
                    b_s[bq][bj] = (q0 + bq < p && n0 + bj < n) ? b.p[(q0 + bq) * b.rs + (n0 + bj) * b.cs] : 0.0f;
                }
                __syncthreads();
#pragma unroll
                for (int q = 0; q < kGemmStep; ++q) {
                    float av[4], bv[4];
#pragma unroll
                    for (int t = 0; t < 4; ++t) {
                        av[t] = a_s[q][ty + 16 * t];
                        bv[t] = b_s[q][tx + 16 * t];
                    }
#pragma unroll
                    for (int i = 0; i < 4; ++i)
#pragma unroll
                        for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
                }
                __syncthreads();  // the tiles are reloaded next step
            }
#pragma unroll
            for (int i = 0; i < 4; ++i) {
                const int64_t row = m0 + ty + 16 * i;
                if (row >= m) continue;
#pragma unroll
                for (int j = 0; j < 4; ++j) {
                    const int64_t col = n0 + tx + 16 * j;
                    if (col >= n) continue;
                    call.c[row * n + col] = call.bias ? acc[i][j] + call.bias[col] : acc[i][j];
                }
            }
        }
}

// db[o] += sum_n dy[n][o], float32 in sample order (the CPU's loop).
__global__ void linear_bias_grad_kernel(int64_t batch, int64_t out, const float* dy, float* db) {
    for (int64_t o = first_index(); o < out; o += grid_step()) {
        float s = db[o];
        for (int64_t n = 0; n < batch; ++n) s += dy[n * out + o];
        db[o] = s;
    }
}

// Adam's per-step scalars, computed on the host as the CPU computes them (layers.cpp).
struct AdamScalars {
    float step_size, inv_sqrt_correction2, beta1, beta2, one_minus_beta1, one_minus_beta2, eps, weight_decay;
};

__global__ void adam_kernel(int64_t count, float* data, const float* grad, float* m, float* v, AdamScalars k) {
    for (int64_t i = first_index(); i < count; i += grid_step()) {
        const float w = data[i];
        const float g = grad[i] + k.weight_decay * w;
        const float mi = k.beta1 * m[i] + k.one_minus_beta1 * g;
        const float vi = k.beta2 * v[i] + k.one_minus_beta2 * g * g;
        m[i] = mi;
        v[i] = vi;
        data[i] = w - k.step_size * mi / (sqrtf(vi) * k.inv_sqrt_correction2 + k.eps);
    }
}

// buf: the momentum buffer, or NULL for plain SGD.
__global__ void sgd_kernel(int64_t count, float* data, const float* grad, float* buf, float lr, float momentum,
                           float weight_decay) {
    for (int64_t i = first_index(); i < count; i += grid_step()) {
        const float step = grad[i] + weight_decay * data[i];
        if (buf) {
            const float d = momentum * buf[i] + step;
            buf[i] = d;
            data[i] -= lr * d;
        } else {
            data[i] -= lr * step;
        }
    }
}

// mixed_seed = mix64(seed) (dropout_mask.h): the mask is a pure function of (seed, i).
__global__ void dropout_forward_kernel(int64_t count, uint64_t mixed_seed, double p, float scale, const float* x,
                                       float* y, uint8_t* mask) {
    for (int64_t i = first_index(); i < count; i += grid_step()) {
        const bool keep = dropout_keeps(mixed_seed, i, p);
        y[i] = keep ? x[i] * scale : 0.0f;
        if (mask) mask[i] = keep ? 1 : 0;
    }
}

__global__ void dropout_backward_kernel(int64_t count, float scale, const uint8_t* mask, const float* dy, float* dx,
                                        bool accumulate) {
    for (int64_t i = first_index(); i < count; i += grid_step()) {
        const float g = mask[i] ? dy[i] * scale : 0.0f;
        dx[i] = accumulate ? dx[i] + g : g;
    }
}

// One block, launched alone: thread t takes rows t, t + kThreads, ...; each chunk of kThreads
// row losses goes through shared memory to thread 0, which adds them in row order, so the
// float64 total is the ABI's "rows summed in order".
__global__ void __launch_bounds__(kThreads)
    softmax_xent_forward_kernel(int64_t batch, int64_t classes, const float* logits, const int32_t* labels,
                                float* loss, float* probs) {
    __shared__ double row_loss[kThreads];
    double total = 0.0;  // thread 0's
    for (int64_t n0 = 0; n0 < batch; n0 += kThreads) {
        const int64_t n = n0 + threadIdx.x;
        if (n < batch)
            row_loss[threadIdx.x] =
                softmax_xent_row(logits + n * classes, classes, labels[n], probs ? probs + n * classes : nullptr);
        __syncthreads();
        if (threadIdx.x == 0) {
            const int64_t rows = batch - n0 < kThreads ? batch - n0 : kThreads;
            for (int64_t r = 0; r < rows; ++r) total += row_loss[r];
        }
        __syncthreads();  // thread 0 has read the chunk before the next one is written
    }
    if (threadIdx.x == 0) loss[0] = float(total / double(batch));
}

// dloss is read on the device (no copy to the host, no synchronisation).
__global__ void softmax_xent_backward_kernel(int64_t batch, int64_t classes, const float* probs,
                                             const int32_t* labels, const float* dloss, float* dlogits,
                                             bool accumulate) {
    const double g = double(dloss[0]) / double(batch);
    const int64_t total = batch * classes;
    for (int64_t idx = first_index(); idx < total; idx += grid_step())
        dlogits[idx] = softmax_xent_grad_value(probs, labels, classes, g, dlogits, accumulate, idx);
}

// --- The ops of the table. ---

using BufferList = std::initializer_list<std::pair<const void*, const char*>>;

void check_launch(const char* kernel) { check_cuda(cudaGetLastError(), kernel); }

// The shape of every op: its buffers checked (before anything is queued, so a refused call
// writes nothing), then its kernels queued on the context's stream and device.
template <typename Fn>
bl_status run_op(const bl_plugin_exec* exec, BufferList buffers, bl_plugin_error* e, Fn&& queue) {
    if (bl_status st = check_buffers(exec->device, buffers, e); st != BL_OK) return st;
    return guarded(e, [&] {
        check_cuda(cudaSetDevice(exec->device), "cudaSetDevice");
        queue(static_cast<cudaStream_t>(exec->stream));
    });
}

void queue_gemm(const GemmCall& call, cudaStream_t s) {
    const int64_t row_tiles = (call.m + kGemmTile - 1) / kGemmTile, col_tiles = (call.n + kGemmTile - 1) / kGemmTile;
    const dim3 grid(unsigned(std::min<int64_t>(col_tiles, 65535)), unsigned(std::min<int64_t>(row_tiles, 65535)));
    sgemm_kernel<<<grid, kThreads, 0, s>>>(call);
    check_launch("sgemm_kernel");
}

bl_status batchnorm_forward(const bl_plugin_exec* exec, const bl_batchnorm_desc* desc, const float* x,
                            const float* gamma, const float* beta, float* running_mean, float* running_var, float* y,
                            double* out_mean, double* out_inv_std, bl_plugin_error* e) {
    const bl_batchnorm_desc d = *desc;
    return run_op(exec,
                  {{x, "x"},
                   {gamma, "gamma"},
                   {beta, "beta"},
                   {running_mean, "running_mean"},
                   {running_var, "running_var"},
                   {y, "y"},
                   {out_mean, "out_mean"},
                   {out_inv_std, "out_inv_std"}},
                  e, [&](cudaStream_t s) {
                      batchnorm_forward_kernel<<<blocks_per_item(d.channels), kThreads, 0, s>>>(
                          d, x, gamma, beta, running_mean, running_var, y, out_mean, out_inv_std);
                      check_launch("batchnorm_forward_kernel");
                  });
}

bl_status batchnorm_backward(const bl_plugin_exec* exec, const bl_batchnorm_desc* desc, const float* x,
                             const float* y, const float* dy, const float* gamma, const double* mean,
                             const double* inv_std, float* dx, int32_t dx_accumulate, float* dgamma, float* dbeta,
                             bl_plugin_error* e) {
    const bl_batchnorm_desc d = *desc;
    const float* relu_y = d.relu ? y : nullptr;  // y is read (and so checked) only for the ReLU's mask
    return run_op(exec,
                  {{x, "x"},
                   {relu_y, "y"},
                   {dy, "dy"},
                   {gamma, "gamma"},
                   {mean, "mean"},
                   {inv_std, "inv_std"},
                   {dx, "dx"},
                   {dgamma, "dgamma"},
                   {dbeta, "dbeta"}},
                  e, [&](cudaStream_t s) {
                      batchnorm_backward_kernel<<<blocks_per_item(d.channels), kThreads, 0, s>>>(
                          d, x, relu_y, dy, gamma, mean, inv_std, dx, dx_accumulate != 0, dgamma, dbeta);
                      check_launch("batchnorm_backward_kernel");
                  });
}

bl_status relu_forward(const bl_plugin_exec* exec, int64_t count, const float* x, float* y, bl_plugin_error* e) {
    return run_op(exec, {{x, "x"}, {y, "y"}}, e, [&](cudaStream_t s) {
        relu_forward_kernel<<<blocks_for(count), kThreads, 0, s>>>(count, x, y);
        check_launch("relu_forward_kernel");
    });
}

bl_status relu_backward(const bl_plugin_exec* exec, int64_t count, const float* x, const float* dy, float* dx,
                        int32_t accumulate, bl_plugin_error* e) {
    return run_op(exec, {{x, "x"}, {dy, "dy"}, {dx, "dx"}}, e, [&](cudaStream_t s) {
        relu_backward_kernel<<<blocks_for(count), kThreads, 0, s>>>(count, x, dy, dx, accumulate != 0);
        check_launch("relu_backward_kernel");
    });
}

bl_status maxpool2d_forward(const bl_plugin_exec* exec, const bl_pool2d_desc* desc, const float* x, float* y,
                            int32_t* winners, bl_plugin_error* e) {
    const PoolGeom g = pool_geom(*desc);
    return run_op(exec, {{x, "x"}, {y, "y"}, {winners, "winners"}}, e, [&](cudaStream_t s) {
        maxpool_forward_kernel<<<blocks_for(g.planes * g.Ho * g.Wo), kThreads, 0, s>>>(g, x, y, winners);
        check_launch("maxpool_forward_kernel");
    });
}

bl_status maxpool2d_backward(const bl_plugin_exec* exec, const bl_pool2d_desc* desc, const int32_t* winners,
                             const float* dy, float* dx, int32_t accumulate, bl_plugin_error* e) {
    const PoolGeom g = pool_geom(*desc);
    return run_op(exec, {{winners, "winners"}, {dy, "dy"}, {dx, "dx"}}, e, [&](cudaStream_t s) {
        maxpool_backward_kernel<<<blocks_for(g.planes * g.H * g.W), kThreads, 0, s>>>(g, winners, dy, dx,
                                                                                      accumulate != 0);
        check_launch("maxpool_backward_kernel");
    });
}

bl_status linear_forward(const bl_plugin_exec* exec, int64_t batch, int64_t in, int64_t out, const float* x,
                         const float* w, const float* b, float* y, bl_plugin_error* e) {
    return run_op(exec, {{x, "x"}, {w, "w"}, {b, "b"}, {y, "y"}}, e,
                  [&](cudaStream_t s) { queue_gemm(linear_forward_call(batch, in, out, x, w, b, y), s); });
}

bl_status linear_backward(const bl_plugin_exec* exec, int64_t batch, int64_t in, int64_t out, const float* x,
                          const float* w, const float* dy, float* dx, float* dw, float* db, bl_plugin_error* e) {
    return run_op(exec, {{x, "x"}, {w, "w"}, {dy, "dy"}, {dx, "dx"}, {dw, "dw"}, {db, "db"}}, e,
                  [&](cudaStream_t s) {
                      if (dx) queue_gemm(linear_data_call(batch, in, out, dy, w, dx), s);
                      if (dw) queue_gemm(linear_weight_call(batch, in, out, dy, x, dw), s);
                      if (db) {
                          linear_bias_grad_kernel<<<blocks_for(out), kThreads, 0, s>>>(batch, out, dy, db);
                          check_launch("linear_bias_grad_kernel");
                      }
                  });
}

bl_status add_into(const bl_plugin_exec* exec, int64_t count, float* dst, const float* src, bl_plugin_error* e) {
    return run_op(exec, {{dst, "dst"}, {src, "src"}}, e, [&](cudaStream_t s) {
        add_into_kernel<<<blocks_for(count), kThreads, 0, s>>>(count, dst, src);
        check_launch("add_into_kernel");
    });
}

// The parameter slots are host memory; the tensors they point at must be this device's. All
// are checked before the first slot's update is queued.
bl_status check_slots(int device, const bl_param_slot* params, int64_t count, bool uses_state1,
                      bl_plugin_error* e) {
    for (int64_t k = 0; k < count; ++k) {
        const bl_param_slot& p = params[k];
        const std::string at = "params[" + std::to_string(k) + "]";
        if (bl_status st = check_buffer(p.data, at + ".data", device, e); st != BL_OK) return st;
        if (bl_status st = check_buffer(p.grad, at + ".grad", device, e); st != BL_OK) return st;
        if (bl_status st = check_buffer(p.state0, at + ".state0", device, e); st != BL_OK) return st;
        if (!uses_state1) continue;
        if (bl_status st = check_buffer(p.state1, at + ".state1", device, e); st != BL_OK) return st;
    }
    return BL_OK;
}

bl_status adam_step(const bl_plugin_exec* exec, const bl_adam_desc* desc, const bl_param_slot* params,
                    int64_t param_count, bl_plugin_error* e) {
    if (bl_status st = check_slots(exec->device, params, param_count, true, e); st != BL_OK) return st;
    const bl_adam_desc& d = *desc;
    // The bias corrections in float64, then rounded once (layers.cpp); 1 - beta rounded from
    // float64 too (1 - 0.999f is not 0.001f), as torch.
    const double correction1 = 1 - std::pow(d.beta1, double(d.step));
    const double correction2 = 1 - std::pow(d.beta2, double(d.step));
    const AdamScalars k{float(d.lr / correction1), float(1 / std::sqrt(correction2)), float(d.beta1),
                        float(d.beta2),            float(1 - d.beta1),                float(1 - d.beta2),
                        float(d.eps),              float(d.weight_decay)};
    return run_op(exec, {}, e, [&](cudaStream_t s) {
        for (int64_t i = 0; i < param_count; ++i) {
            const bl_param_slot& p = params[i];
            if (p.count <= 0) continue;
            adam_kernel<<<blocks_for(p.count), kThreads, 0, s>>>(p.count, p.data, p.grad, p.state0, p.state1, k);
            check_launch("adam_kernel");
        }
    });
}

bl_status sgd_step(const bl_plugin_exec* exec, const bl_sgd_desc* desc, const bl_param_slot* params,
                   int64_t param_count, bl_plugin_error* e) {
    if (bl_status st = check_slots(exec->device, params, param_count, false, e); st != BL_OK) return st;
    const bl_sgd_desc& d = *desc;
    return run_op(exec, {}, e, [&](cudaStream_t s) {
        for (int64_t i = 0; i < param_count; ++i) {
            const bl_param_slot& p = params[i];
            if (p.count <= 0) continue;
            // With a momentum buffer whenever state0 is given, as the CPU.
            sgd_kernel<<<blocks_for(p.count), kThreads, 0, s>>>(p.count, p.data, p.grad, p.state0, float(d.lr),
                                                                float(d.momentum), float(d.weight_decay));
            check_launch("sgd_kernel");
        }
    });
}

bl_status avgpool2d_forward(const bl_plugin_exec* exec, const bl_pool2d_desc* desc, const float* x, float* y,
                            bl_plugin_error* e) {
    const PoolGeom g = pool_geom(*desc);
    return run_op(exec, {{x, "x"}, {y, "y"}}, e, [&](cudaStream_t s) {
        avgpool_forward_kernel<<<blocks_for(g.planes * g.Ho * g.Wo), kThreads, 0, s>>>(g, x, y);
        check_launch("avgpool_forward_kernel");
    });
}

bl_status avgpool2d_backward(const bl_plugin_exec* exec, const bl_pool2d_desc* desc, const float* dy, float* dx,
                             int32_t accumulate, bl_plugin_error* e) {
    const PoolGeom g = pool_geom(*desc);
    return run_op(exec, {{dy, "dy"}, {dx, "dx"}}, e, [&](cudaStream_t s) {
        avgpool_backward_kernel<<<blocks_for(g.planes * g.H * g.W), kThreads, 0, s>>>(g, dy, dx, accumulate != 0);
        check_launch("avgpool_backward_kernel");
    });
}

bl_status dropout_forward(const bl_plugin_exec* exec, int64_t count, double p, uint64_t seed, const float* x,
                          float* y, uint8_t* mask, bl_plugin_error* e) {
    return run_op(exec, {{x, "x"}, {y, "y"}, {mask, "mask"}}, e, [&](cudaStream_t s) {
        dropout_forward_kernel<<<blocks_for(count), kThreads, 0, s>>>(count, mix64(seed), p, dropout_scale(p), x, y,
                                                                     mask);
        check_launch("dropout_forward_kernel");
    });
}

bl_status dropout_backward(const bl_plugin_exec* exec, int64_t count, double p, const uint8_t* mask, const float* dy,
                           float* dx, int32_t accumulate, bl_plugin_error* e) {
    return run_op(exec, {{mask, "mask"}, {dy, "dy"}, {dx, "dx"}}, e, [&](cudaStream_t s) {
        dropout_backward_kernel<<<blocks_for(count), kThreads, 0, s>>>(count, dropout_scale(p), mask, dy, dx,
                                                                      accumulate != 0);
        check_launch("dropout_backward_kernel");
    });
}

bl_status softmax_xent_forward(const bl_plugin_exec* exec, int64_t batch, int64_t classes, const float* logits,
                               const int32_t* labels, float* loss, float* probs, bl_plugin_error* e) {
    return run_op(exec, {{logits, "logits"}, {labels, "labels"}, {loss, "loss"}, {probs, "probs"}}, e,
                  [&](cudaStream_t s) {
                      softmax_xent_forward_kernel<<<1, kThreads, 0, s>>>(batch, classes, logits, labels, loss, probs);
                      check_launch("softmax_xent_forward_kernel");
                  });
}

bl_status softmax_xent_backward(const bl_plugin_exec* exec, int64_t batch, int64_t classes, const float* probs,
                                const int32_t* labels, const float* dloss, float* dlogits, int32_t accumulate,
                                bl_plugin_error* e) {
    return run_op(exec, {{probs, "probs"}, {labels, "labels"}, {dloss, "dloss"}, {dlogits, "dlogits"}}, e,
                  [&](cudaStream_t s) {
                      softmax_xent_backward_kernel<<<blocks_for(batch * classes), kThreads, 0, s>>>(
                          batch, classes, probs, labels, dloss, dlogits, accumulate != 0);
                      check_launch("softmax_xent_backward_kernel");
                  });
}

}  // namespace

const bl_plugin_layer_ops* layer_ops_table() {
    // In backend_plugin.h's field order.
    static const bl_plugin_layer_ops table = {
        batchnorm_forward, batchnorm_backward, relu_forward,         relu_backward,         maxpool2d_forward,
        maxpool2d_backward, linear_forward,    linear_backward,      add_into,              adam_step,
        sgd_step,          avgpool2d_forward,  avgpool2d_backward,   dropout_forward,       dropout_backward,
        softmax_xent_forward, softmax_xent_backward};
    return &table;
}

}  // namespace cuda
}  // namespace bl
