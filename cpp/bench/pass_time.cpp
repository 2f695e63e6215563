// pass_time.cpp -- times one pass of one layer through the C ABI (no oneDNN, no FFTW, no stage
// timers): the driver used to calibrate the CPU backend's constants by alternating two builds
// (or two settings) on the same layer in one sitting, which on a shared 2-core machine is the
// only comparison that survives its +-20% drift between sittings (docs/BENCHMARKS.md).
//
// Usage: bl_pass_time [--1d] N C F H K rho pass reps
//   2D: N x C x H x H input, F filters, K x K kernel, pad K / 2 (stride 1);
//   --1d: N x C x H input, kernel K, pad K / 2 left and K - 1 - K / 2 right;
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

struct Aligned {
    explicit Aligned(int64_t bytes) : p(std::aligned_alloc(64, size_t((bytes + 63) / 64 * 64))) {}
    ~Aligned() { std::free(p); }
    Aligned(const Aligned&) = delete;
    Aligned& operator=(const Aligned&) = delete;
    void* p;
};

}  // namespace

int main(int argc, char** argv) {
    int a = 1;
    const bool one_d = argc > 1 && std::strcmp(argv[1], "--1d") == 0;
    if (one_d) ++a;
    if (argc - a != 8) {
        std::fprintf(stderr, "usage: %s [--1d] N C F H K rho pass reps\n", argv[0]);
        return 2;
    }
    const int64_t N = std::atoll(argv[a]), C = std::atoll(argv[a + 1]), F = std::atoll(argv[a + 2]);
    const int64_t H = std::atoll(argv[a + 3]), K = std::atoll(argv[a + 4]);
    const double rho = std::atof(argv[a + 5]);
    const int pass = std::atoi(argv[a + 6]), reps = std::max(1, std::atoi(argv[a + 7]));
    const int64_t plane = one_d ? H : H * H, taps = one_d ? K : K * K;

    bl_plan plan = nullptr;
    const bl_compression comp{BL_COMPRESSION_FIXED, rho};
    if (one_d) {
        const bl_conv1d_desc d{N, C, H, F, K, K / 2, K - 1 - K / 2, 1};
        BL_CHECK(bl_plan_create_1d(nullptr, &d, comp, nullptr, &plan));
    } else {
        const bl_conv2d_desc d{N, C, H, H, F, K, K, K / 2, K - 1 - K / 2, K / 2, K - 1 - K / 2, 1, 1};
        BL_CHECK(bl_plan_create_2d(nullptr, &d, comp, nullptr, &plan));
    }
    std::mt19937 rng(1);
    std::normal_distribution<float> normal;
    std::vector<float> x(size_t(N * C * plane)), w(size_t(F * C * taps)), dy(size_t(N * F * plane));
    std::vector<float> y(dy.size()), dx(x.size()), dw(w.size());
    for (float& v : x) v = normal(rng);
    for (float& v : w) v = normal(rng);
    for (float& v : dy) v = normal(rng);
    int64_t saved_bytes = 0, ws_bytes = 0;
    BL_CHECK(bl_plan_saved_spectra_bytes(plan, &saved_bytes));
    BL_CHECK(bl_plan_workspace_bytes(plan, &ws_bytes));
    Aligned saved(saved_bytes), ws(ws_bytes);
    auto forward = [&] {
        BL_CHECK(bl_forward(plan, N, x.data(), w.data(), nullptr, y.data(), saved.p, saved_bytes, ws.p, ws_bytes, nullptr));
    };
    forward();  // the saved spectra of the backward passes; also a warm-up
    std::vector<double> ms;
    for (int r = 0; r < reps; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        if (pass == 0)
            forward();
        else
            BL_CHECK(bl_backward(plan, N, saved.p, saved_bytes, w.data(), dy.data(), pass == 1 ? dx.data() : nullptr,
                                 pass == 2 ? dw.data() : nullptr, nullptr, ws.p, ws_bytes));
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("%s N=%lld C=%lld F=%lld H=%lld K=%lld rho=%.2f pass=%d: median %.3f ms, min %.3f ms (%d runs)\n",
                one_d ? "1d" : "2d", (long long)N, (long long)C, (long long)F, (long long)H, (long long)K, rho, pass,
                ms[ms.size() / 2], ms[0], reps);
    BL_CHECK(bl_plan_destroy(plan));
    return 0;
}
