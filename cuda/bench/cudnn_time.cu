// cudnn_time.cu -- times one pass of one layer with cuDNN (the GPU yardstick of
// scripts/gpu-check.sh), the counterpart of bl_pass_time --cuda: same layers, same shapes,
// device buffers, each call timed to a stream synchronisation, median of reps after a warm-up.
// The algorithm is cuDNN's fastest by cudnnFind*Algorithm (which runs them all once) within a
// 4 GiB workspace. Float32 data and arithmetic (CUDNN_FMA_MATH: no TF32 tensor cores, as our
// kernels use none); --tf32 allows them (CUDNN_DEFAULT_MATH) for reference.
//
// Usage: bl_cudnn_time [--tf32] [--1d] N C F H K pass reps
//   2D: N x C x H x H, F filters K x K, pad K / 2 (stride 1). --1d: N x C x 1 x H, kernel 1 x K;
//   cuDNN pads symmetrically only, so an even K gets K / 2 on both sides (one output more than
//   bl_pass_time's K / 2 + (K - 1 - K / 2)). pass 0 forward, 1 backward data, 2 backward weights.
#include <cuda_runtime.h>
#include <cudnn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

namespace {

#define CUDA_OK(call)                                                                                  \
    do {                                                                                               \
        cudaError_t e_ = (call);                                                                       \
        if (e_ != cudaSuccess) {                                                                       \
            std::fprintf(stderr, "%s failed: %s\n", #call, cudaGetErrorString(e_));                   \
            std::exit(1);                                                                              \
        }                                                                                              \
    } while (0)
#define CUDNN_OK(call)                                                                                 \
    do {                                                                                               \
        cudnnStatus_t s_ = (call);                                                                     \
        if (s_ != CUDNN_STATUS_SUCCESS) {                                                              \
            std::fprintf(stderr, "%s failed: %s\n", #call, cudnnGetErrorString(s_));                  \
            std::exit(1);                                                                              \
        }                                                                                              \
    } while (0)

constexpr size_t kMaxWorkspace = size_t(4) << 30;

float* device_floats(size_t count, std::mt19937& rng) {
    std::normal_distribution<float> normal;
    std::vector<float> host(count);
    for (float& v : host) v = normal(rng);
    float* p = nullptr;
    CUDA_OK(cudaMalloc(&p, count * sizeof(float)));
    CUDA_OK(cudaMemcpy(p, host.data(), count * sizeof(float), cudaMemcpyHostToDevice));
    return p;
}

// The fastest successful result within the workspace limit: index into perf, or -1.
template <typename Perf>
int fastest(const Perf* perf, int count) {
    int best = -1;
    for (int i = 0; i < count; ++i)
        if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].memory <= kMaxWorkspace &&
            (best < 0 || perf[i].time < perf[best].time))
            best = i;
    return best;
}

}  // namespace

int main(int argc, char** argv) {
    int a = 1;
    const bool tf32 = argc > a && std::strcmp(argv[a], "--tf32") == 0;
    if (tf32) ++a;
    const bool one_d = argc > a && std::strcmp(argv[a], "--1d") == 0;
    if (one_d) ++a;
    if (argc - a != 7) {
        std::fprintf(stderr, "usage: %s [--tf32] [--1d] N C F H K pass reps\n", argv[0]);
        return 2;
    }
    const int N = std::atoi(argv[a]), C = std::atoi(argv[a + 1]), F = std::atoi(argv[a + 2]);
    const int H = std::atoi(argv[a + 3]), K = std::atoi(argv[a + 4]);
    const int pass = std::atoi(argv[a + 5]), reps = std::max(1, std::atoi(argv[a + 6]));
    const int in_h = one_d ? 1 : H, k_h = one_d ? 1 : K, pad_h = one_d ? 0 : K / 2;

    cudnnHandle_t handle;
    CUDNN_OK(cudnnCreate(&handle));
    cudaStream_t stream;
    CUDA_OK(cudaStreamCreate(&stream));
    CUDNN_OK(cudnnSetStream(handle, stream));
    cudnnTensorDescriptor_t x_desc, y_desc;
    cudnnFilterDescriptor_t w_desc;
    cudnnConvolutionDescriptor_t conv;
    CUDNN_OK(cudnnCreateTensorDescriptor(&x_desc));
    CUDNN_OK(cudnnCreateTensorDescriptor(&y_desc));
    CUDNN_OK(cudnnCreateFilterDescriptor(&w_desc));
    CUDNN_OK(cudnnCreateConvolutionDescriptor(&conv));
    CUDNN_OK(cudnnSetTensor4dDescriptor(x_desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, N, C, in_h, H));
    CUDNN_OK(cudnnSetFilter4dDescriptor(w_desc, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, F, C, k_h, K));
    CUDNN_OK(cudnnSetConvolution2dDescriptor(conv, pad_h, K / 2, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    CUDNN_OK(cudnnSetConvolutionMathType(conv, tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
    int on = 0, oc = 0, oh = 0, ow = 0;
    CUDNN_OK(cudnnGetConvolution2dForwardOutputDim(conv, x_desc, w_desc, &on, &oc, &oh, &ow));
    CUDNN_OK(cudnnSetTensor4dDescriptor(y_desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, on, oc, oh, ow));

    std::mt19937 rng(1);
    const size_t x_count = size_t(N) * C * in_h * H, w_count = size_t(F) * C * k_h * K;
    const size_t y_count = size_t(on) * oc * oh * ow;
    float* x = device_floats(x_count, rng);
    float* w = device_floats(w_count, rng);
    float* y = device_floats(y_count, rng);  // also dy
    float* out = nullptr;                    // y, dx or dw
    CUDA_OK(cudaMalloc(&out, std::max({x_count, w_count, y_count}) * sizeof(float)));

    const int kAlgos = 16;
    int found = 0, best = -1;
    size_t ws_bytes = 0;
    const char* algo_name = "";
    char name[64];
    cudnnConvolutionFwdAlgo_t fwd{};
    cudnnConvolutionBwdDataAlgo_t bwd_data{};
    cudnnConvolutionBwdFilterAlgo_t bwd_filter{};
    if (pass == 0) {
        cudnnConvolutionFwdAlgoPerf_t perf[kAlgos];
        CUDNN_OK(cudnnFindConvolutionForwardAlgorithm(handle, x_desc, w_desc, conv, y_desc, kAlgos, &found, perf));
        best = fastest(perf, found);
        if (best >= 0) {
            fwd = perf[best].algo;
            ws_bytes = perf[best].memory;
        }
        std::snprintf(name, sizeof name, "fwd algo %d", int(fwd));
    } else if (pass == 1) {
        cudnnConvolutionBwdDataAlgoPerf_t perf[kAlgos];
        CUDNN_OK(cudnnFindConvolutionBackwardDataAlgorithm(handle, w_desc, y_desc, conv, x_desc, kAlgos, &found, perf));
        best = fastest(perf, found);
        if (best >= 0) {
            bwd_data = perf[best].algo;
            ws_bytes = perf[best].memory;
        }
        std::snprintf(name, sizeof name, "bwd-data algo %d", int(bwd_data));
    } else {
        cudnnConvolutionBwdFilterAlgoPerf_t perf[kAlgos];
        CUDNN_OK(cudnnFindConvolutionBackwardFilterAlgorithm(handle, x_desc, y_desc, conv, w_desc, kAlgos, &found, perf));
        best = fastest(perf, found);
        if (best >= 0) {
            bwd_filter = perf[best].algo;
            ws_bytes = perf[best].memory;
        }
        std::snprintf(name, sizeof name, "bwd-weights algo %d", int(bwd_filter));
    }
    if (best < 0) {
        std::fprintf(stderr, "cuDNN found no algorithm for this pass within %zu bytes of workspace\n", kMaxWorkspace);
        return 1;
    }
    algo_name = name;
    void* ws = nullptr;
    if (ws_bytes > 0) CUDA_OK(cudaMalloc(&ws, ws_bytes));
    const float one = 1.0f, zero = 0.0f;
    auto run = [&] {
        if (pass == 0)
            CUDNN_OK(cudnnConvolutionForward(handle, &one, x_desc, x, w_desc, w, conv, fwd, ws, ws_bytes, &zero, y_desc, out));
        else if (pass == 1)
            CUDNN_OK(cudnnConvolutionBackwardData(handle, &one, w_desc, w, y_desc, y, conv, bwd_data, ws, ws_bytes, &zero,
                                                  x_desc, out));
        else
            CUDNN_OK(cudnnConvolutionBackwardFilter(handle, &one, x_desc, x, y_desc, y, conv, bwd_filter, ws, ws_bytes,
                                                    &zero, w_desc, out));
    };
    run();
    CUDA_OK(cudaStreamSynchronize(stream));
    std::vector<double> ms;
    for (int r = 0; r < reps; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        run();
        CUDA_OK(cudaStreamSynchronize(stream));
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("cudnn%s %s N=%d C=%d F=%d H=%d K=%d pass=%d (%s, workspace %zu bytes): median %.3f ms, min %.3f ms (%d runs)\n",
                tf32 ? " tf32" : "", one_d ? "1d" : "2d", N, C, F, H, K, pass, algo_name, ws_bytes, ms[ms.size() / 2], ms[0],
                reps);
    cudaFree(ws);
    cudaFree(out);
    cudaFree(y);
    cudaFree(w);
    cudaFree(x);
    cudnnDestroyConvolutionDescriptor(conv);
    cudnnDestroyFilterDescriptor(w_desc);
    cudnnDestroyTensorDescriptor(y_desc);
    cudnnDestroyTensorDescriptor(x_desc);
    cudaStreamDestroy(stream);
    cudnnDestroy(handle);
    return 0;
}
