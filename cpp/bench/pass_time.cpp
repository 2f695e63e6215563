// pass_time.cpp -- times one pass of one layer through the C ABI (no oneDNN, no FFTW, no stage
// timers): the driver used to calibrate the CPU backend's constants by alternating two builds
// (or two settings) on the same layer in one sitting, which on a shared 2-core machine is the
// only comparison that survives its +-20% drift between sittings (docs/BENCHMARKS.md).
//
// Usage: bl_pass_time [--cuda] [--paper] [--1d] [--scale S] N C F H K rho pass reps
//   --paper: the paper's method as the baseline (BL_METHOD_PAPER_BASELINE: power-of-two lengths,
//   4-mult products on CUDA);
//   --cuda: on the CUDA backend (device 0), buffers in device memory (bl_buffer_alloc), each
//   call timed to bl_context_synchronize;
//   2D: N x C x H x H input, F filters, K x K kernel, pad K / 2 (stride 1);
//   --1d: N x C x H input, kernel K, pad K / 2 left and K - 1 - K / 2 right;
//   --scale S: x, w and dy are N(0, 1) times S (S = 1e-39: subnormal data, whose time
//   docs/RELIABILITY.md compares with S = 1);
//   pass 0 forward, 1 backward data, 2 backward weights; prints the median and the minimum ms.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "bandlimit.h"

namespace {

#define BL_CHECK(call)                                                                         \
    do {                                                                                       \
        bl_status s_ = (call);                                                                 \
        if (s_ != BL_OK) {                                                                     \
            std::fprintf(stderr, "%s failed: %s: %s\n", #call, bl_status_name(s_), bl_last_error_message()); \
            std::exit(1);                                                                      \
        }                                                                                      \
    } while (0)

}  // namespace

int main(int argc, char** argv) {
    int a = 1;
    const bool cuda = argc > a && std::strcmp(argv[a], "--cuda") == 0;
    if (cuda) ++a;
    const bool paper = argc > a && std::strcmp(argv[a], "--paper") == 0;
    if (paper) ++a;
    const bool one_d = argc > a && std::strcmp(argv[a], "--1d") == 0;
    if (one_d) ++a;
    double scale = 1.0;
    if (argc > a + 1 && std::strcmp(argv[a], "--scale") == 0) {
        scale = std::atof(argv[a + 1]);
        a += 2;
    }
    if (argc - a != 8) {
        std::fprintf(stderr, "usage: %s [--cuda] [--paper] [--1d] [--scale S] N C F H K rho pass reps\n", argv[0]);
        return 2;
    }
    bl_context context = nullptr;  // the default (CPU) context
    if (cuda) {
        const bl_context_options o{BL_BACKEND_CUDA, 0, 0, BL_CPU_PATH_AUTO, nullptr};
        BL_CHECK(bl_context_create(&o, &context));
    }
    const int64_t N = std::atoll(argv[a]), C = std::atoll(argv[a + 1]), F = std::atoll(argv[a + 2]);
    const int64_t H = std::atoll(argv[a + 3]), K = std::atoll(argv[a + 4]);
    const double rho = std::atof(argv[a + 5]);
    const int pass = std::atoi(argv[a + 6]), reps = std::max(1, std::atoi(argv[a + 7]));
    const int64_t plane = one_d ? H : H * H, taps = one_d ? K : K * K;

    bl_plan plan = nullptr;
    const bl_compression comp{BL_COMPRESSION_FIXED, rho};
    const bl_plan_options options{BL_SPECTRA_INPUT_AND_WEIGHT, BL_PRODUCT_AUTO,
                                  paper ? BL_METHOD_PAPER_BASELINE : BL_METHOD_BANDLIMIT, 0, 0};
    if (one_d) {
        const bl_conv1d_desc d{N, C, H, F, K, K / 2, K - 1 - K / 2, 1};
        BL_CHECK(bl_plan_create_1d(context, &d, comp, &options, &plan));
    } else {
        const bl_conv2d_desc d{N, C, H, H, F, K, K, K / 2, K - 1 - K / 2, K / 2, K - 1 - K / 2, 1, 1};
        BL_CHECK(bl_plan_create_2d(context, &d, comp, &options, &plan));
    }
    std::mt19937 rng(1);
    std::normal_distribution<float> normal;
    std::vector<float> x(size_t(N * C * plane)), w(size_t(F * C * taps)), dy(size_t(N * F * plane));
    std::vector<float> y(dy.size()), dx(x.size()), dw(w.size());
    for (float& v : x) v = float(normal(rng) * scale);
    for (float& v : w) v = float(normal(rng) * scale);
    for (float& v : dy) v = float(normal(rng) * scale);
    int64_t saved_bytes = 0, ws_bytes = 0;
    BL_CHECK(bl_plan_saved_spectra_bytes(plan, &saved_bytes));
    BL_CHECK(bl_plan_workspace_bytes(plan, &ws_bytes));
    // Host buffers for the CPU; device buffers (filled from the host vectors) for CUDA.
    std::vector<void*> owned;
    auto buffer = [&](int64_t bytes, const void* init) -> void* {
        void* p = nullptr;
        if (!cuda) {
            p = std::aligned_alloc(64, size_t((std::max<int64_t>(bytes, 1) + 63) / 64 * 64));
            if (init) std::memcpy(p, init, size_t(bytes));
        } else {
            BL_CHECK(bl_buffer_alloc(context, std::max<int64_t>(bytes, 1), &p));
            if (init) BL_CHECK(bl_buffer_copy(context, p, init, bytes, BL_COPY_HOST_TO_BUFFER));
        }
        owned.push_back(p);
        return p;
    };
    auto fbuf = [&](const std::vector<float>& v, bool fill) {
        return static_cast<float*>(buffer(int64_t(v.size() * sizeof(float)), fill ? v.data() : nullptr));
    };
    float *xb = fbuf(x, true), *wb = fbuf(w, true), *dyb = fbuf(dy, true);
    float *yb = fbuf(y, false), *dxb = fbuf(dx, false), *dwb = fbuf(dw, false);
    void* saved = buffer(saved_bytes, nullptr);
    void* ws = buffer(ws_bytes, nullptr);
    auto forward = [&] {
        BL_CHECK(bl_forward(plan, N, xb, wb, nullptr, yb, saved, saved_bytes, ws, ws_bytes, nullptr));
    };
    forward();  // the saved spectra of the backward passes; also a warm-up
    BL_CHECK(bl_context_synchronize(context));
    std::vector<double> ms;
    for (int r = 0; r < reps; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        if (pass == 0)
            forward();
        else
            BL_CHECK(bl_backward(plan, N, saved, saved_bytes, wb, dyb, pass == 1 ? dxb : nullptr,
                                 pass == 2 ? dwb : nullptr, nullptr, ws, ws_bytes));
        BL_CHECK(bl_context_synchronize(context));
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("%s%s%s scale=%g N=%lld C=%lld F=%lld H=%lld K=%lld rho=%.2f pass=%d: median %.3f ms, min %.3f ms (%d runs)\n",
                cuda ? "cuda " : "", paper ? "paper " : "", one_d ? "1d" : "2d", scale, (long long)N, (long long)C, (long long)F, (long long)H, (long long)K, rho, pass,
                ms[ms.size() / 2], ms[0], reps);
    BL_CHECK(bl_plan_destroy(plan));
    for (void* p : owned) {
        if (cuda)
            BL_CHECK(bl_buffer_free(context, p));
        else
            std::free(p);
    }
    BL_CHECK(bl_context_destroy(context));
    return 0;
}
