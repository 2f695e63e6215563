// test_numerics_edges.cpp -- the operator at the edges of float32 (docs/RELIABILITY.md,
// "Numerics at the edges"):
//  - magnitudes: with data scaled by powers of two from 2^-100 to 2^110 (dense results from
//    about 1e-29 to 1e35), y, dx and dw keep the error bound of ALGORITHM.md section 5 against
//    the float64 reference, on every CPU code path; powers of two keep the data's digits, so
//    only the range changes;
//  - subnormals: execute calls treat float32 subnormals as zero (float_mode.h), so x made only
//    of subnormals gives exactly y = bias, and a call leaves the caller's floating-point mode as
//    it found it;
//  - NaN and Inf are ALGORITHM.md section 5's business and test_backend_ops's.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#if defined(__x86_64__) || defined(__SSE2__)
#include <xmmintrin.h>
#define BL_TEST_MXCSR 1
#endif

#include "abi_fixtures.h"
#include "bandlimit.h"
#include "check.h"
#include "reference.h"

namespace {

using bltest::Buf;
using bltest::fixed;
using bltest::fmt;
using bltest::status_text;

struct Layer {
    const char* name;
    blref::Geom g;
    bool one_d;
};

// A 2D layer with a 16-channel reduction, a strided asymmetric one, and a 1D layer.
const Layer kLayers[] = {
    {"2d 16ch 16x16 k3 pad1", [] { blref::Geom g; g.N = 2; g.C = 16; g.H = g.W = 16; g.F = 8; g.KH = g.KW = 3;
                                    g.pt = g.pb = g.pl = g.pr = 1; return g; }(), false},
    {"2d 5ch 13x10 k4x3 stride2", [] { blref::Geom g; g.N = 2; g.C = 5; g.H = 13; g.W = 10; g.F = 6; g.KH = 4; g.KW = 3;
                                        g.pt = 2; g.pb = 0; g.pl = 1; g.pr = 1; g.sh = g.sw = 2; return g; }(), false},
    {"1d 8ch L200 k9", [] { blref::Geom g; g.N = 2; g.C = 8; g.W = 200; g.F = 4; g.KW = 9; g.pl = 4; g.pr = 4;
                             return g; }(), true},
};

bl_plan make_plan(bl_context ctx, const Layer& L, double rho) {
    const blref::Geom& g = L.g;
    bl_plan plan = nullptr;
    bl_status s;
    if (L.one_d) {
        const bl_conv1d_desc d{g.N, g.C, g.W, g.F, g.KW, g.pl, g.pr, g.sw};
        s = bl_plan_create_1d(ctx, &d, fixed(rho), nullptr, &plan);
    } else {
        const bl_conv2d_desc d{g.N, g.C, g.H, g.W, g.F, g.KH, g.KW, g.pt, g.pb, g.pl, g.pr, g.sh, g.sw};
        s = bl_plan_create_2d(ctx, &d, fixed(rho), nullptr, &plan);
    }
    CHECK_MSG(s == BL_OK, std::string(L.name) + ": " + status_text(s));
    return s == BL_OK ? plan : nullptr;
}

std::vector<float> scaled(std::vector<float> v, int exponent) {
    for (float& e : v) e = std::ldexp(e, exponent);
    return v;
}

// The CPU code paths this machine runs, each as a context (the portable path always).
std::vector<std::pair<std::string, bl_context>> cpu_path_contexts() {
    std::vector<std::pair<std::string, bl_context>> out;
    const std::pair<int32_t, const char*> paths[] = {
        {BL_CPU_PATH_PORTABLE, "portable"}, {BL_CPU_PATH_AVX2, "avx2"}, {BL_CPU_PATH_AVX512, "avx512"}};
    for (const auto& [path, name] : paths) {
        bl_context_options o{BL_BACKEND_CPU, 0, 2, path, nullptr};
        bl_context c = nullptr;
        const bl_status s = bl_context_create(&o, &c);
        if (s == BL_ERR_UNSUPPORTED) {
            std::printf("    skipped: cpu path %s: %s\n", name, bl_last_error_message());
            continue;
        }
        CHECK_MSG(s == BL_OK, std::string(name) + ": " + status_text(s));
        if (s == BL_OK) out.emplace_back(name, c);
    }
    return out;
}

}  // namespace

BL_TEST("magnitudes 2^-100 .. 2^110: y, dx, dw keep the error bound on every CPU path (rho 0 and 0.5)") {
    std::mt19937_64 rng(20261203);
    const auto contexts = cpu_path_contexts();
    double worst = 0.0;
    int calls = 0;
    for (const auto& [path, ctx] : contexts)
        for (const Layer& L : kLayers) {
            const blref::Geom& g = L.g;
            const std::vector<float> x0 = blref::random_normal(rng, size_t(g.x_size(g.N)));
            const std::vector<float> w0 = blref::random_normal(rng, size_t(g.w_size()));
            const std::vector<float> dy0 = blref::random_normal(rng, size_t(g.y_size(g.N)));
            for (double rho : {0.0, 0.5}) {
                bl_plan plan = make_plan(ctx, L, rho);
                if (!plan) continue;
                int64_t LH = 0, LW = 0, ws_bytes = 0, saved_bytes = 0;
                bl_box box{};
                double rate = 0;
                CHECK(bl_plan_fft_lengths(plan, &LH, &LW) == BL_OK);
                CHECK(bl_plan_box(plan, &box, &rate) == BL_OK);
                CHECK(bl_plan_workspace_bytes(plan, &ws_bytes) == BL_OK);
                CHECK(bl_plan_saved_spectra_bytes(plan, &saved_bytes) == BL_OK);
                Buf ws(ws_bytes), saved(saved_bytes);
                // Which operand carries the scale: x (y and dw scale), w (y and dx), dy (dx and dw).
                for (int carrier = 0; carrier < 3; ++carrier)
                    for (int e = -100; e <= 110; e += (rho == 0.0 ? 15 : 35)) {
                        const std::vector<float> x = carrier == 0 ? scaled(x0, e) : x0;
                        const std::vector<float> w = carrier == 1 ? scaled(w0, e) : w0;
                        const std::vector<float> dy = carrier == 2 ? scaled(dy0, e) : dy0;
                        std::vector<float> y(dy.size()), dx(x.size()), dw(w.size());
                        const int64_t n = g.N;
                        bl_status s = bl_forward(plan, n, x.data(), w.data(), nullptr, y.data(), saved.p, saved.bytes,
                                                 ws.p, ws.bytes, nullptr);
                        REQUIRE_MSG(s == BL_OK, status_text(s));
                        s = bl_backward(plan, n, saved.p, saved.bytes, w.data(), dy.data(), dx.data(), dw.data(),
                                        nullptr, ws.p, ws.bytes);
                        REQUIRE_MSG(s == BL_OK, status_text(s));
                        ++calls;
                        const auto xd = blref::to_double(x), wd = blref::to_double(w), dyd = blref::to_double(dy);
                        std::vector<double> yr, dxr, dwr, dbr;
                        const blref::Box b{box.kh, box.kw};
                        if (rho == 0.0) {
                            yr = blref::dense_forward(g, n, xd.data(), wd.data(), nullptr);
                            blref::dense_backward(g, n, xd.data(), wd.data(), dyd.data(), dxr, dwr, dbr);
                        } else {
                            yr = blref::bl_forward(g, n, xd.data(), wd.data(), nullptr, LH, LW, b);
                            blref::bl_backward(g, n, xd.data(), wd.data(), dyd.data(), LH, LW, b, dxr, dwr, dbr);
                        }
                        const double ry = blref::rel_l2_error(y, yr) / blref::bound_y(g, LH, LW);
                        const double rdx = blref::rel_l2_error(dx, dxr) / blref::bound_dx(g, LH, LW);
                        const double rdw = blref::rel_l2_error(dw, dwr) / blref::bound_dw(g, n, LH, LW);
                        const std::string ctx_text = fmt("%s, %s, rho %.1f, %s scaled by 2^%d", path.c_str(), L.name, rho,
                                                         carrier == 0 ? "x" : carrier == 1 ? "w" : "dy", e);
                        CHECK_MSG(ry <= 1.0, ctx_text + fmt(": y error %.3g x the bound", ry));
                        CHECK_MSG(rdx <= 1.0, ctx_text + fmt(": dx error %.3g x the bound", rdx));
                        CHECK_MSG(rdw <= 1.0, ctx_text + fmt(": dw error %.3g x the bound", rdw));
                        worst = std::max({worst, ry, rdx, rdw});
                    }
                bl_plan_destroy(plan);
            }
        }
    for (const auto& pc : contexts) bl_context_destroy(pc.second);
    std::printf("    %d forward + backward calls, worst error %.3f x its bound\n", calls, worst);
}

BL_TEST("subnormals are zero in execute calls: x of subnormals gives exactly y = bias, dw = 0") {
    const Layer& L = kLayers[0];
    const blref::Geom& g = L.g;
    std::mt19937_64 rng(7);
    // Every x value subnormal (|v| < 2^-126), none zero.
    std::vector<float> x = blref::random_normal(rng, size_t(g.x_size(g.N)));
    for (float& v : x) v = std::ldexp(v, -132) + std::copysign(std::ldexp(1.0f, -149), v);
    for (float v : x) REQUIRE(std::fpclassify(v) == FP_SUBNORMAL);
    const std::vector<float> w = blref::random_normal(rng, size_t(g.w_size()));
    const std::vector<float> bias = blref::random_normal(rng, size_t(g.F));
    const std::vector<float> dy = blref::random_normal(rng, size_t(g.y_size(g.N)));
    for (double rho : {0.0, 0.5}) {
        bl_plan plan = make_plan(nullptr, L, rho);
        REQUIRE(plan);
        int64_t ws_bytes = 0, saved_bytes = 0;
        CHECK(bl_plan_workspace_bytes(plan, &ws_bytes) == BL_OK);
        CHECK(bl_plan_saved_spectra_bytes(plan, &saved_bytes) == BL_OK);
        Buf ws(ws_bytes), saved(saved_bytes);
        std::vector<float> y(dy.size(), -1.0f), dw(w.size(), -1.0f);
        REQUIRE(bl_forward(plan, g.N, x.data(), w.data(), bias.data(), y.data(), saved.p, saved.bytes, ws.p, ws.bytes,
                           nullptr) == BL_OK);
        REQUIRE(bl_backward_weights(plan, g.N, saved.p, saved.bytes, dy.data(), dw.data(), nullptr, ws.p, ws.bytes) ==
                BL_OK);
        int64_t off = 0;
        const int64_t plane = y.size() / size_t(g.N * g.F);
        for (size_t i = 0; i < y.size(); ++i)
            if (y[i] != bias[size_t((int64_t(i) / plane) % g.F)]) ++off;
        CHECK_MSG(off == 0, fmt("rho %.1f: %lld of %zu outputs differ from the bias", rho, (long long)off, y.size()));
        int64_t nonzero = 0;
        for (float v : dw) nonzero += v != 0.0f;
        CHECK_MSG(nonzero == 0, fmt("rho %.1f: %lld of %zu weight gradients are not 0", rho, (long long)nonzero, dw.size()));
        bl_plan_destroy(plan);
    }
}

BL_TEST("an execute call leaves the caller's floating-point mode (MXCSR) as it found it") {
#ifdef BL_TEST_MXCSR
    const Layer& L = kLayers[2];
    const blref::Geom& g = L.g;
    std::mt19937_64 rng(11);
    const std::vector<float> x = blref::random_normal(rng, size_t(g.x_size(g.N)));
    const std::vector<float> w = blref::random_normal(rng, size_t(g.w_size()));
    bl_plan plan = make_plan(nullptr, L, 0.5);
    REQUIRE(plan);
    int64_t ws_bytes = 0;
    CHECK(bl_plan_workspace_bytes(plan, &ws_bytes) == BL_OK);
    Buf ws(ws_bytes);
    std::vector<float> y(size_t(g.y_size(g.N))), r(x.size());
    const unsigned original = _mm_getcsr();
    // IEEE (FTZ and DAZ off), and both on: each comes back unchanged, after a convolution and
    // after a layer kernel.
    for (unsigned mode : {original & ~0x8040u, original | 0x8040u}) {
        _mm_setcsr(mode);
        CHECK(bl_forward(plan, g.N, x.data(), w.data(), nullptr, y.data(), nullptr, 0, ws.p, ws.bytes, nullptr) == BL_OK);
        CHECK_MSG(_mm_getcsr() == mode, fmt("after bl_forward: MXCSR %#x, was %#x", _mm_getcsr(), mode));
        CHECK(bl_relu_forward(nullptr, int64_t(x.size()), x.data(), r.data()) == BL_OK);
        CHECK_MSG(_mm_getcsr() == mode, fmt("after bl_relu_forward: MXCSR %#x, was %#x", _mm_getcsr(), mode));
        // A failing call too.
        CHECK(bl_forward(plan, 0, x.data(), w.data(), nullptr, y.data(), nullptr, 0, ws.p, ws.bytes, nullptr) ==
              BL_ERR_INVALID_BATCH);
        CHECK_MSG(_mm_getcsr() == mode, fmt("after a refused bl_forward: MXCSR %#x, was %#x", _mm_getcsr(), mode));
    }
    _mm_setcsr(original);
    bl_plan_destroy(plan);
#else
    std::printf("    skipped: no MXCSR on this architecture (the float mode is the platform's)\n");
#endif
}

BL_TEST_MAIN()
