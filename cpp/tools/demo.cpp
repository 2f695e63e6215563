// demo.cpp -- sweeps the compression rate on one realistic layer and prints a table.
//
// Layer: N=32, C=F=64, 32x32 input, 3x3 kernel, pad 1 (a ResNet-18/CIFAR layer). For each
// requested rho: the achieved rate and box, the relative L2 error of y against the dense
// result (the float64 direct sum of cpp/tests/reference.h), the saved-spectra bytes, nominal / executed FLOPs and the
// median time of forward and backward. Usage: bl_demo [repeats]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "bandlimit.h"
#include "reference.h"

namespace {

#define BL_CHECK(call)                                                                    \
    do {                                                                                  \
        bl_status s_ = (call);                                                            \
        if (s_ != BL_OK) {                                                                \
            std::fprintf(stderr, "%s failed: %s: %s\n", #call, bl_status_name(s_),        \
                         bl_last_error_message());                                        \
            std::exit(1);                                                                 \
        }                                                                                 \
    } while (0)

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

struct AlignedBuffer {
    explicit AlignedBuffer(int64_t bytes)
        : p(std::aligned_alloc(64, size_t((bytes + 63) / 64 * 64))) {}
    ~AlignedBuffer() { std::free(p); }
    void* p;
};

// Natural images keep most of their energy at low frequencies; white noise does not (there
// band-limiting removes energy in proportion to rho). Two passes of a separable binomial
// [1 4 6 4 1] / 16 blur give the input a decaying spectrum like an image's.
void smooth_planes(std::vector<float>& data, int64_t planes, int64_t H, int64_t W) {
    const float tap[5] = {1 / 16.f, 4 / 16.f, 6 / 16.f, 4 / 16.f, 1 / 16.f};
    std::vector<float> tmp(size_t(H * W));
    for (int pass = 0; pass < 2; ++pass)
        for (int64_t p = 0; p < planes; ++p) {
            float* a = &data[size_t(p * H * W)];
            for (int64_t i = 0; i < H; ++i)
                for (int64_t j = 0; j < W; ++j) {
                    float s = 0;
                    for (int t = -2; t <= 2; ++t) s += tap[t + 2] * a[i * W + std::clamp<int64_t>(j + t, 0, W - 1)];
                    tmp[size_t(i * W + j)] = s;
                }
            for (int64_t i = 0; i < H; ++i)
                for (int64_t j = 0; j < W; ++j) {
                    float s = 0;
                    for (int t = -2; t <= 2; ++t) s += tap[t + 2] * tmp[size_t(std::clamp<int64_t>(i + t, 0, H - 1) * W + j)];
                    a[i * W + j] = s;
                }
        }
}

}  // namespace

int main(int argc, char** argv) {
    const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
    const bl_conv2d_desc d{32, 64, 32, 32, 64, 3, 3, 1, 1, 1, 1, 1, 1};
    const int64_t N = d.max_batch, C = d.channels, H = d.height, W = d.width, F = d.filters;
    const int64_t KH = d.kernel_height, KW = d.kernel_width;
    std::mt19937_64 rng(42);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> x(size_t(N * C * H * W)), w(size_t(F * C * KH * KW)), dy(size_t(N * F * H * W));
    for (float& v : x) v = normal(rng);
    smooth_planes(x, N * C, H, W);
    for (float& v : w) v = normal(rng) / 24.0f;
    for (float& v : dy) v = normal(rng);

    // Dense reference in float64: the tests' direct sum (cpp/tests/reference.h).
    const blref::Geom g{N, C, H, W, F, KH, KW, /*pads*/ 1, 1, 1, 1, /*strides*/ 1, 1};
    const std::vector<double> xd(x.begin(), x.end()), wd(w.begin(), w.end());
    const std::vector<double> ref = blref::dense_forward(g, N, xd.data(), wd.data(), nullptr);
    double ref_norm = 0;
    for (double v : ref) ref_norm += v * v;
    ref_norm = std::sqrt(ref_norm);

    int32_t threads = 0;
    BL_CHECK(bl_get_num_threads(&threads));
    std::printf("bandlimit demo: N=%lld C=%lld F=%lld %lldx%lld input, %lldx%lld kernel, pad 1; "
                "%d threads, median of %d runs\n\n",
                (long long)N, (long long)C, (long long)F, (long long)H, (long long)W, (long long)KH,
                (long long)KW, threads, repeats);
    std::printf("| rho req | rho achieved | box (kh,kw) | rel err vs dense | saved bytes | saved vs rho=0 "
                "| fwd GFLOP nominal | fwd GFLOP executed | fwd ms | bwd ms (dx+dw+db) |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
    const double rates[] = {0.0, 0.25, 0.5, 0.75, 0.9};
    int64_t saved_dense = 0;
    std::vector<float> y(size_t(N * F * H * W)), dx(x.size()), dw(w.size()), db(static_cast<size_t>(F));
    for (double rho : rates) {
        bl_plan plan = nullptr;
        BL_CHECK(bl_plan_create_2d(nullptr, &d, bl_compression{BL_COMPRESSION_FIXED, rho}, nullptr, &plan));
        bl_box box;
        double achieved = 0;
        int64_t saved_bytes = 0, ws_bytes = 0;
        BL_CHECK(bl_plan_box(plan, &box, &achieved));
        BL_CHECK(bl_plan_saved_spectra_bytes(plan, &saved_bytes));
        BL_CHECK(bl_plan_workspace_bytes(plan, &ws_bytes));
        if (rho == 0.0) saved_dense = saved_bytes;
        bl_flops fl;
        BL_CHECK(bl_plan_flops(plan, BL_PASS_FORWARD, N, nullptr, &fl));
        AlignedBuffer saved(saved_bytes), ws(ws_bytes);
        std::vector<double> t_fwd, t_bwd;
        for (int r = 0; r < repeats + 1; ++r) {  // the first run warms up
            auto t0 = std::chrono::steady_clock::now();
            BL_CHECK(bl_forward(plan, N, x.data(), w.data(), nullptr, y.data(), saved.p, saved_bytes,
                                ws.p, ws_bytes, nullptr));
            const double tf = seconds_since(t0);
            t0 = std::chrono::steady_clock::now();
            BL_CHECK(bl_backward(plan, N, saved.p, saved_bytes, w.data(), dy.data(), dx.data(), dw.data(),
                                 db.data(), ws.p, ws_bytes));
            const double tb = seconds_since(t0);
            if (r > 0) {
                t_fwd.push_back(tf);
                t_bwd.push_back(tb);
            }
        }
        double err = 0;
        for (size_t i = 0; i < y.size(); ++i) err += (y[i] - ref[i]) * (y[i] - ref[i]);
        err = std::sqrt(err) / ref_norm;
        std::printf("| %.2f | %.4f | (%lld, %lld) | %.3e | %lld | %.3f | %.2f | %.2f | %.1f | %.1f |\n", rho,
                    achieved, (long long)box.kh, (long long)box.kw, err, (long long)saved_bytes,
                    double(saved_bytes) / double(saved_dense), fl.nominal * 1e-9, fl.executed * 1e-9,
                    median(t_fwd) * 1e3, median(t_bwd) * 1e3);
        BL_CHECK(bl_plan_destroy(plan));
    }
    std::printf("\nInput: Gaussian noise smoothed to an image-like spectrum. The error at rho > 0 is the\n"
                "band-limiting itself (a different operator), not rounding; at rho = 0 it is float32 rounding.\n");
    return 0;
}
