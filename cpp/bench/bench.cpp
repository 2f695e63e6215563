// bench.cpp -- the native benchmark of the CPU backend, side by side in one run with
//   - oneDNN (convolution_direct and convolution_auto, memory format `any`, reorders outside
//     the timed region; "oneDNN best" = the faster of the two per pass),
//   - FFTW3f (FFTW_MEASURE, same thread count, 2D r2c batched over N*C planes at the
//     operator's own lengths) for the transform stage alone,
//   - the machine's measured fp32 FMA peak, so each stage reports % of peak.
// Our library is timed through the public C ABI; the stage shares come from the optional
// stage timers of this private build of the core (BL_STAGE_TIMERS; the shipped library has
// none). Every result is checked: rho = 0 against oneDNN's output, rho > 0 against the portable
// path of the library (the same operator computed by the plain C++ kernels), both with the
// float32 error bound of ALGORITHM.md section 5, so a fast wrong kernel cannot win.
//
// Usage: bl_bench [--quick] [--runs N] [--max-seconds S] [--threads T] [--layers SUBSTR]
//        [--product auto|spectral|spatial]
//                 [--json FILE]
//   --quick         rho in {0, 0.5}, 5 runs per measurement
//   --runs N        timed runs per measurement after 2 warm-up runs (default 20)
//   --max-seconds S cap per measurement: runs = clamp(S / warm-up time, 5, N) (default 6)
#include <fftw3.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dnnl.hpp>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bandlimit.h"
#include "cost_model.h"
#include "geometry.h"
#include "peak.h"
#include "stage_timers.h"

namespace {

// ------------------------------------------------------------------------------------------
// Options, timing helpers
// ------------------------------------------------------------------------------------------

struct Options {
    bool quick = false;
    int runs = 20;
    double max_seconds = 6.0;
    int threads = 0;
    std::string layers;
    std::string json = "bench_results.json";
    int32_t product = BL_PRODUCT_AUTO;  // --product: the plans' bl_product
};
Options g_opt;

struct Timing {
    double median = 0, p10 = 0, p90 = 0;
    int runs = 0;
    double spread() const { return median > 0 ? (p90 - p10) / median : 0; }
};

int g_noisy = 0;           // measurements whose p90 - p10 spread exceeded kNoisySpread
constexpr double kNoisySpread = 0.10;

double percentile(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    const double pos = q * double(v.size() - 1);
    const size_t i = size_t(pos);
    const double f = pos - double(i);
    return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}

// 2 warm-up runs, then runs = clamp(max_seconds / warm-up time, 5, --runs) timed runs.
// `before` (not timed) runs ahead of every run, e.g. to reset stage timers.
Timing time_it(const std::function<void()>& fn, const std::function<void()>& before = {}) {
    fn();
    const double t0 = omp_get_wtime();
    fn();
    const double warm = omp_get_wtime() - t0;
    int runs = g_opt.runs;
    if (warm * runs > g_opt.max_seconds) runs = std::max(5, int(g_opt.max_seconds / std::max(warm, 1e-9)));
    runs = std::min(runs, g_opt.runs);
    std::vector<double> t(static_cast<size_t>(runs));
    for (int r = 0; r < runs; ++r) {
        if (before) before();
        const double a = omp_get_wtime();
        fn();
        t[size_t(r)] = omp_get_wtime() - a;
    }
    Timing out;
    out.runs = runs;
    out.median = percentile(t, 0.5);
    out.p10 = percentile(t, 0.1);
    out.p90 = percentile(t, 0.9);
    if (out.spread() > kNoisySpread) ++g_noisy;
    return out;
}

void bl_ok(bl_status s, const char* what) {
    if (s != BL_OK) {
        std::fprintf(stderr, "%s: %s %s\n", what, bl_status_name(s), bl_last_error_message());
        std::exit(2);
    }
}

double rel_err(const std::vector<float>& got, const std::vector<float>& ref) {
    double num = 0, den = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        const double d = double(got[i]) - double(ref[i]);
        num += d * d;
        den += double(ref[i]) * double(ref[i]);
    }
    return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

// ALGORITHM.md section 5: err <= 16 * 2^-24 * log2(LH * LW * R) against float64; two float32
// computations (ours vs oneDNN, or path vs path) may each be off by that much: twice the bound.
double err_bound(double LH, double LW, double R) { return 2.0 * 16.0 * std::ldexp(1.0, -24) * std::log2(LH * LW * R); }

std::vector<float> random_vec(std::mt19937_64& rng, size_t n) {
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> v(n);
    for (float& x : v) x = u(rng);
    return v;
}

// 64-byte aligned buffer (workspace, saved spectra).
struct Aligned {
    void* p = nullptr;
    int64_t bytes = 0;
    explicit Aligned(int64_t b) : bytes(b) {
        p = std::aligned_alloc(64, size_t((b + 63) / 64 * 64 + 64));
        if (!p) std::exit(3);
    }
    ~Aligned() { std::free(p); }
    Aligned(const Aligned&) = delete;
    Aligned& operator=(const Aligned&) = delete;
};

// ------------------------------------------------------------------------------------------
// The layer suite
// ------------------------------------------------------------------------------------------

struct LayerSpec {
    std::string group, name;
    bool one_d;
    int64_t N, C, H, W, F, KH, KW, pt, pb, pl, pr;
    int64_t Ho() const { return pt + H + pb - KH + 1; }
    int64_t Wo() const { return pl + W + pr - KW + 1; }
};

std::vector<LayerSpec> suite() {
    std::vector<LayerSpec> s;
    const int64_t res[4][2] = {{64, 32}, {128, 16}, {256, 8}, {512, 4}};
    for (auto& r : res)
        s.push_back({"ResNet-18/CIFAR (N=32, 3x3, pad 1)", "C=F=" + std::to_string(r[0]) + " " + std::to_string(r[1]) + "x" + std::to_string(r[1]),
                     false, 32, r[0], r[1], r[1], r[0], 3, 3, 1, 1, 1, 1});
    // The CLI's MNIST model at its training batch (docs/TRAINING.md): small maps, few channels.
    s.push_back({"MNIST demo CNN (N=64, 5x5, pad 2)", "conv1 1->16 28x28", false, 64, 1, 28, 28, 16, 5, 5, 2, 2, 2, 2});
    s.push_back({"MNIST demo CNN (N=64, 5x5, pad 2)", "conv2 16->32 14x14", false, 64, 16, 14, 14, 32, 5, 5, 2, 2, 2, 2});
    // Tiny layers: per-call overheads (bases, fork/join) dominate a call of a few microseconds.
    const std::string tiny = "Tiny layers (C=F=4, 4x4 map)";
    s.push_back({tiny, "N=1 3x3 pad 1", false, 1, 4, 4, 4, 4, 3, 3, 1, 1, 1, 1});
    s.push_back({tiny, "N=8 3x3 pad 1", false, 8, 4, 4, 4, 4, 3, 3, 1, 1, 1, 1});
    s.push_back({tiny, "N=8 1x1", false, 8, 4, 4, 4, 4, 1, 1, 0, 0, 0, 0});
    for (int64_t k : {7, 15, 31})
        s.push_back({"Large kernels (N=8, C=F=32, 64x64, same)", "k=" + std::to_string(k), false, 8, 32, 64, 64, 32, k, k,
                     k / 2, k / 2, k / 2, k / 2});
    for (int64_t k : {1024, 4096})
        s.push_back({"1D long convolution (N=8, C=F=16, L=4096, same)", "K=" + std::to_string(k), true, 8, 16, 1, 4096, 16, 1, k,
                     0, 0, k / 2, k / 2 - 1});
    return s;
}

// ------------------------------------------------------------------------------------------
// oneDNN
// ------------------------------------------------------------------------------------------

struct DnnlResult {
    Timing t[3];                // forward, backward data, backward weights (best of the algorithms)
    std::string algo[3];        // which algorithm won each pass
    std::string impl[2][3];     // implementation names per algorithm and pass
    std::vector<float> y, dx, dw;
};

DnnlResult run_onednn(const LayerSpec& L, const std::vector<float>& x, const std::vector<float>& w,
                      const std::vector<float>& b, const std::vector<float>& dy) {
    using namespace dnnl;
    using dt = memory::data_type;
    using tag = memory::format_tag;
    engine eng(engine::kind::cpu, 0);
    stream s(eng);
    memory::dims src_d, wei_d, dst_d, strides, pad_l, pad_r;
    tag t_act, t_wei;
    if (L.one_d) {
        src_d = {L.N, L.C, L.W};
        wei_d = {L.F, L.C, L.KW};
        dst_d = {L.N, L.F, L.Wo()};
        strides = {1};
        pad_l = {L.pl};
        pad_r = {L.pr};
        t_act = tag::ncw;
        t_wei = tag::oiw;
    } else {
        src_d = {L.N, L.C, L.H, L.W};
        wei_d = {L.F, L.C, L.KH, L.KW};
        dst_d = {L.N, L.F, L.Ho(), L.Wo()};
        strides = {1, 1};
        pad_l = {L.pt, L.pl};
        pad_r = {L.pb, L.pr};
        t_act = tag::nchw;
        t_wei = tag::oihw;
    }
    const memory::dims bias_d = {L.F};
    auto any = [](const memory::dims& d) { return memory::desc(d, dt::f32, tag::any); };
    memory::desc src_plain(src_d, dt::f32, t_act), dst_plain(dst_d, dt::f32, t_act),
        wei_plain(wei_d, dt::f32, t_wei), bias_plain(bias_d, dt::f32, tag::x);
    // User memories (plain layouts, our data).
    memory u_src(src_plain, eng, const_cast<float*>(x.data())), u_wei(wei_plain, eng, const_cast<float*>(w.data())),
        u_bias(bias_plain, eng, const_cast<float*>(b.data())), u_dst_grad(dst_plain, eng, const_cast<float*>(dy.data()));

    auto to = [&](memory& user, const memory::desc& want) {
        if (user.get_desc() == want) return user;
        memory m(want, eng);
        reorder(user, m).execute(s, user, m);
        s.wait();
        return m;
    };
    auto back = [&](memory& m, const memory::desc& plain, size_t count) {
        std::vector<float> out(count);
        memory u(plain, eng, out.data());
        reorder(m, u).execute(s, m, u);
        s.wait();
        return out;
    };

    DnnlResult res;
    const algorithm algos[2] = {algorithm::convolution_direct, algorithm::convolution_auto};
    const char* names[2] = {"direct", "auto"};
    Timing best[3];
    for (int a = 0; a < 2; ++a) {
        convolution_forward::desc fd(prop_kind::forward_training, algos[a], any(src_d), any(wei_d), any(bias_d),
                                     any(dst_d), strides, pad_l, pad_r);
        convolution_forward::primitive_desc fpd(fd, eng);
        convolution_backward_data::desc bdd(algos[a], any(src_d), any(wei_d), any(dst_d), strides, pad_l, pad_r);
        convolution_backward_data::primitive_desc bdpd(bdd, eng, fpd);
        convolution_backward_weights::desc bwd(algos[a], any(src_d), any(wei_d), any(bias_d), any(dst_d), strides,
                                               pad_l, pad_r);
        convolution_backward_weights::primitive_desc bwpd(bwd, eng, fpd);
        res.impl[a][0] = fpd.impl_info_str();
        res.impl[a][1] = bdpd.impl_info_str();
        res.impl[a][2] = bwpd.impl_info_str();

        memory src = to(u_src, fpd.src_desc()), wei = to(u_wei, fpd.weights_desc()), dst(fpd.dst_desc(), eng);
        memory bias = to(u_bias, fpd.bias_desc());
        convolution_forward fwd(fpd);
        // auto may resolve to the same implementation as direct: then it is not timed twice.
        const bool same[3] = {a == 1 && res.impl[0][0] == res.impl[1][0], a == 1 && res.impl[0][1] == res.impl[1][1],
                              a == 1 && res.impl[0][2] == res.impl[1][2]};
        Timing t[3];
        if (!same[0])
            t[0] = time_it([&] {
                fwd.execute(s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, dst}});
                s.wait();
            });
        if (a == 0) res.y = back(dst, dst_plain, size_t(L.N * L.F * L.Ho() * L.Wo()));

        memory ddst = to(u_dst_grad, bdpd.diff_dst_desc()), wei_b = to(u_wei, bdpd.weights_desc()),
               dsrc(bdpd.diff_src_desc(), eng);
        convolution_backward_data bwd_data(bdpd);
        if (!same[1])
            t[1] = time_it([&] {
                bwd_data.execute(s, {{DNNL_ARG_DIFF_DST, ddst}, {DNNL_ARG_WEIGHTS, wei_b}, {DNNL_ARG_DIFF_SRC, dsrc}});
                s.wait();
            });
        if (a == 0) res.dx = back(dsrc, src_plain, x.size());

        memory src_w = to(u_src, bwpd.src_desc()), ddst_w = to(u_dst_grad, bwpd.diff_dst_desc()),
               dwei(bwpd.diff_weights_desc(), eng), dbias(bwpd.diff_bias_desc(), eng);
        convolution_backward_weights bwd_w(bwpd);
        if (!same[2])
            t[2] = time_it([&] {
                bwd_w.execute(s, {{DNNL_ARG_SRC, src_w}, {DNNL_ARG_DIFF_DST, ddst_w}, {DNNL_ARG_DIFF_WEIGHTS, dwei},
                                  {DNNL_ARG_DIFF_BIAS, dbias}});
                s.wait();
            });
        if (a == 0) res.dw = back(dwei, wei_plain, w.size());
        for (int p = 0; p < 3; ++p)
            if (!same[p] && (a == 0 || t[p].median < best[p].median)) {
                best[p] = t[p];
                res.algo[p] = names[a];
            }
    }
    for (int p = 0; p < 3; ++p) res.t[p] = best[p];
    return res;
}

// ------------------------------------------------------------------------------------------
// FFTW: the forward r2c of x, N*C planes zero-extended to LH x LW
// ------------------------------------------------------------------------------------------

Timing run_fftw(const LayerSpec& L, int64_t LH, int64_t LW, const std::vector<float>& x) {
    const int64_t planes = L.N * L.C, half = LW / 2 + 1;
    float* in = fftwf_alloc_real(size_t(planes * LH * LW));
    fftwf_complex* out = fftwf_alloc_complex(size_t(planes * LH * half));
    fftwf_plan_with_nthreads(g_opt.threads);
    fftwf_plan plan;
    if (L.one_d) {
        const int n[1] = {int(LW)};
        plan = fftwf_plan_many_dft_r2c(1, n, int(planes), in, nullptr, 1, int(LW), out, nullptr, 1, int(half),
                                       FFTW_MEASURE);
    } else {
        const int n[2] = {int(LH), int(LW)};
        plan = fftwf_plan_many_dft_r2c(2, n, int(planes), in, nullptr, 1, int(LH * LW), out, nullptr, 1,
                                       int(LH * half), FFTW_MEASURE);
    }
    // Zero-extend x into the planes (after planning: FFTW_MEASURE overwrites the arrays).
    std::fill(in, in + planes * LH * LW, 0.0f);
    for (int64_t j = 0; j < planes; ++j)
        for (int64_t i = 0; i < L.H; ++i)
            for (int64_t k = 0; k < L.W; ++k)
                in[(j * LH + (L.one_d ? 0 : L.pt + i)) * LW + L.pl + k] = x[size_t((j * L.H + i) * L.W + k)];
    const Timing t = time_it([&] { fftwf_execute(plan); });
    fftwf_destroy_plan(plan);
    fftwf_free(in);
    fftwf_free(out);
    return t;
}

// ------------------------------------------------------------------------------------------
// Our library
// ------------------------------------------------------------------------------------------

struct PassResult {
    Timing t;
    bl_flops flops{};
    double transform_s = 0, product_s = 0, rest_s = 0;  // per run (stage timers, mean over runs)
    double transform_x_s = 0;                            // forward only: x transforms
    double transform_flops = 0, product_flops = 0;       // executed, per run
    double err = -1, bound = 0;
    std::string check_what;
};

struct OurResult {
    double rho = 0, achieved = 0;
    bl_box box{};
    PassResult pass[3];
    bool ok = true;
};

bl::Geometry geometry_of(const LayerSpec& L) {
    bl_conv2d_desc d{L.N, L.C, L.H, L.W, L.F, L.KH, L.KW, L.pt, L.pb, L.pl, L.pr, 1, 1};
    bl::Geometry g;
    bl::GeometryError err;
    bl::make_geometry(d, L.one_d, &g, &err);
    return g;
}

struct Outputs {
    std::vector<float> y, dx, dw, db;
};

bl_plan make_plan(const LayerSpec& L, double rho) {
    bl_plan plan = nullptr;
    bl_compression comp{BL_COMPRESSION_FIXED, rho};
    bl_plan_options options{BL_SPECTRA_INPUT_AND_WEIGHT, g_opt.product, BL_METHOD_BANDLIMIT, 0, 0};
    for (int attempt = 0; attempt < 2; ++attempt) {
        bl_status s;
        if (L.one_d) {
            bl_conv1d_desc d{L.N, L.C, L.W, L.F, L.KW, L.pl, L.pr, 1};
            s = bl_plan_create_1d(nullptr, &d, comp, &options, &plan);
        } else {
            bl_conv2d_desc d{L.N, L.C, L.H, L.W, L.F, L.KH, L.KW, L.pt, L.pb, L.pl, L.pr, 1, 1};
            s = bl_plan_create_2d(nullptr, &d, comp, &options, &plan);
        }
        if (s == BL_ERR_UNSUPPORTED && options.product == BL_PRODUCT_SPATIAL) {
            // Large kernels: the spatial product is not available, the layer runs as AUTO.
            std::printf("(--product spatial: %s; this layer runs with AUTO)\n", bl_last_error_message());
            options.product = BL_PRODUCT_AUTO;
            continue;
        }
        bl_ok(s, L.one_d ? "bl_plan_create_1d" : "bl_plan_create_2d");
        break;
    }
    return plan;
}

// One forward + backward of a plan on the current CPU path, untimed (for checks).
Outputs run_once(const LayerSpec& L, bl_plan plan, const std::vector<float>& x, const std::vector<float>& w,
                 const std::vector<float>& b, const std::vector<float>& dy) {
    int64_t ws_bytes = 0, saved_bytes = 0;
    bl_ok(bl_plan_workspace_bytes(plan, &ws_bytes), "workspace");
    bl_ok(bl_plan_saved_spectra_bytes(plan, &saved_bytes), "saved");
    Aligned ws(ws_bytes), saved(saved_bytes);
    Outputs o;
    o.y.resize(size_t(L.N * L.F * L.Ho() * L.Wo()));
    o.dx.resize(x.size());
    o.dw.resize(w.size());
    o.db.resize(size_t(L.F));
    bl_ok(bl_forward(plan, L.N, x.data(), w.data(), b.data(), o.y.data(), saved.p, saved.bytes, ws.p, ws.bytes, nullptr),
          "bl_forward");
    bl_ok(bl_backward(plan, L.N, saved.p, saved.bytes, w.data(), dy.data(), o.dx.data(), o.dw.data(), o.db.data(), ws.p,
                      ws.bytes),
          "bl_backward");
    return o;
}

OurResult run_ours(const LayerSpec& L, double rho, const std::vector<float>& x, const std::vector<float>& w,
                   const std::vector<float>& b, const std::vector<float>& dy, Outputs* out) {
    OurResult r;
    r.rho = rho;
    bl_plan plan = make_plan(L, rho);
    bl_ok(bl_plan_box(plan, &r.box, &r.achieved), "bl_plan_box");
    int64_t ws_bytes = 0, saved_bytes = 0, LH = 0, LW = 0;
    bl_ok(bl_plan_workspace_bytes(plan, &ws_bytes), "workspace");
    bl_ok(bl_plan_saved_spectra_bytes(plan, &saved_bytes), "saved");
    bl_ok(bl_plan_fft_lengths(plan, &LH, &LW), "fft lengths");
    Aligned ws(ws_bytes), saved(saved_bytes);
    Outputs& o = *out;
    o.y.assign(size_t(L.N * L.F * L.Ho() * L.Wo()), 0.0f);
    o.dx.assign(x.size(), 0.0f);
    o.dw.assign(w.size(), 0.0f);
    o.db.assign(size_t(L.F), 0.0f);
    bl::StageTimes& st = bl::stage_times();
    auto reset = [&] { st = bl::StageTimes{}; };
    int runs = 0;
    auto count = [&] { ++runs; };

    // Forward (saves the spectra for the backward, as in training).
    reset();
    runs = 0;
    r.pass[0].t = time_it(
        [&] {
            bl_ok(bl_forward(plan, L.N, x.data(), w.data(), b.data(), o.y.data(), saved.p, saved.bytes, ws.p, ws.bytes,
                             nullptr),
                  "bl_forward");
        },
        [&] {
            if (runs == 0) reset();
            count();
        });
    // The timed runs alone fed the timers since the reset before the first of them.
    auto stages = [&](PassResult& p, int n) {
        p.transform_s = (st.transform_x + st.transform_w + st.transform_dy + st.inverse) / n;
        p.product_s = st.product / n;
        p.rest_s = std::max(0.0, p.t.median - p.transform_s - p.product_s);
        p.transform_x_s = st.transform_x / n;
    };
    stages(r.pass[0], runs);

    reset();
    runs = 0;
    r.pass[1].t = time_it(
        [&] {
            bl_ok(bl_backward_data(plan, L.N, saved.p, saved.bytes, w.data(), dy.data(), o.dx.data(), ws.p, ws.bytes),
                  "bl_backward_data");
        },
        [&] {
            if (runs == 0) reset();
            count();
        });
    stages(r.pass[1], runs);

    reset();
    runs = 0;
    r.pass[2].t = time_it(
        [&] {
            bl_ok(bl_backward_weights(plan, L.N, saved.p, saved.bytes, dy.data(), o.dw.data(), o.db.data(), ws.p,
                                      ws.bytes),
                  "bl_backward_weights");
        },
        [&] {
            if (runs == 0) reset();
            count();
        });
    stages(r.pass[2], runs);

    // Executed FLOPs per stage, from the same model as bl_plan_flops.
    const bl::Geometry g = geometry_of(L);
    const bl::Box box{r.box.kh, r.box.kw};
    const double K = double(bl::kept_count(g, box));
    const int64_t kc = box.kw + 1;
    const double N = double(L.N), C = double(L.C), F = double(L.F);
    const double x_fwd = bl::cpu::executed_forward_transform_flops(g, g.H, kc);
    const double w_fwd = bl::cpu::executed_forward_transform_flops(g, g.KH, kc);
    const double dy_fwd = bl::cpu::executed_forward_transform_flops(g, g.Ho, kc);
    r.pass[0].transform_flops = N * C * x_fwd + F * C * w_fwd + N * F * bl::cpu::executed_inverse_transform_flops(g, g.Ho, kc);
    r.pass[0].product_flops = K * bl::cpu::executed_gauss_product_flops(L.N, L.F, L.C);
    r.pass[1].transform_flops = N * F * dy_fwd + N * C * bl::cpu::executed_inverse_transform_flops(g, g.H, kc);
    r.pass[1].product_flops = K * bl::cpu::executed_gauss_product_flops(L.N, L.C, L.F);
    r.pass[2].transform_flops = N * F * dy_fwd + F * C * bl::cpu::executed_inverse_transform_flops(g, g.KH, kc);
    r.pass[2].product_flops = K * bl::cpu::executed_gauss_product_flops(L.F, L.C, L.N);
    const bl_pass passes[3] = {BL_PASS_FORWARD, BL_PASS_BACKWARD_DATA, BL_PASS_BACKWARD_WEIGHTS};
    for (int p = 0; p < 3; ++p) bl_ok(bl_plan_flops(plan, passes[p], L.N, nullptr, &r.pass[p].flops), "bl_plan_flops");
    bl_plan_destroy(plan);
    (void)LH;
    (void)LW;
    return r;
}

// ------------------------------------------------------------------------------------------
// Report
// ------------------------------------------------------------------------------------------

std::string ms(double s) {
    char b[32];
    std::snprintf(b, sizeof b, s < 0.01 ? "%.3f" : s < 1 ? "%.2f" : "%.1f", s * 1e3);
    return b;
}
std::string json_str(const std::string& s) {
    std::string o = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') o += '\\';
        o += c;
    }
    return o + "\"";
}

double read_loadavg() {
    std::ifstream f("/proc/loadavg");
    double l = -1;
    f >> l;
    return l;
}

std::string cpu_model() {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    return "unknown";
}

}  // namespace

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", a.c_str());
                std::exit(1);
            }
            return argv[++i];
        };
        if (a == "--quick") {
            g_opt.quick = true;
            g_opt.runs = 5;
        } else if (a == "--runs") {
            g_opt.runs = std::max(1, std::atoi(next().c_str()));
        } else if (a == "--max-seconds") {
            g_opt.max_seconds = std::atof(next().c_str());
        } else if (a == "--threads") {
            g_opt.threads = std::atoi(next().c_str());
        } else if (a == "--layers") {
            g_opt.layers = next();
        } else if (a == "--json") {
            g_opt.json = next();
        } else if (a == "--product") {
            const std::string p = next();
            if (p == "auto") g_opt.product = BL_PRODUCT_AUTO;
            else if (p == "spectral") g_opt.product = BL_PRODUCT_SPECTRAL;
            else if (p == "spatial") g_opt.product = BL_PRODUCT_SPATIAL;
            else {
                std::fprintf(stderr, "--product takes auto, spectral or spatial, got %s\n", p.c_str());
                return 1;
            }
        } else {
            std::fprintf(stderr,
                         "usage: %s [--quick] [--runs N] [--max-seconds S] [--threads T] [--layers SUBSTR] [--json FILE] [--product auto|spectral|spatial]\n",
                         argv[0]);
            return 1;
        }
    }
    const double wall0 = omp_get_wtime();
    const double load0 = read_loadavg();
    if (g_opt.threads <= 0) g_opt.threads = omp_get_num_procs();
    bl_ok(bl_set_num_threads(g_opt.threads), "bl_set_num_threads");
    omp_set_num_threads(g_opt.threads);  // oneDNN's OpenMP runtime
    fftwf_init_threads();
    int32_t path = -1;
    bl_ok(bl_get_cpu_path(&path), "bl_get_cpu_path");
    const char* path_names[3] = {"portable", "avx2", "avx512"};

    const double peak512 = peak_gflops_avx512(g_opt.threads), peak2 = peak_gflops_avx2(g_opt.threads);
    const double peak = std::max(peak512, peak2);
    const std::vector<double> rhos = g_opt.quick ? std::vector<double>{0.0, 0.5} : std::vector<double>{0.0, 0.25, 0.5, 0.75, 0.9};

    std::printf("# bandlimit CPU benchmark\n\n");
    std::printf("- CPU: %s, %d threads; library CPU path: %s; oneDNN %d.%d.%d; FFTW %s\n", cpu_model().c_str(),
                g_opt.threads, path >= 0 && path < 3 ? path_names[path] : "?", dnnl::version()->major,
                dnnl::version()->minor, dnnl::version()->patch, fftwf_version);
    std::printf("- measured fp32 FMA peak: AVX-512 %.1f GFLOP/s, AVX2 %.1f GFLOP/s (all threads); %% of peak uses %.1f\n",
                peak512, peak2, peak);
    std::printf("- timing: median of up to %d runs after 2 warm-ups (fewer, >= 5, when a measurement would exceed %.0f s)\n",
                g_opt.runs, g_opt.max_seconds);
    std::printf("- load average at start: %.2f%s\n\n", load0,
                load0 > 0.5 ? "  WARNING: other load on the machine, timings may be disturbed" : "");
    std::fflush(stdout);

    std::ostringstream js;
    js << "{\n  \"cpu\": " << json_str(cpu_model()) << ",\n  \"threads\": " << g_opt.threads
       << ",\n  \"cpu_path\": " << json_str(path >= 0 && path < 3 ? path_names[path] : "?")
       << ",\n  \"peak_gflops\": {\"avx512\": " << peak512 << ", \"avx2\": " << peak2 << "},\n  \"layers\": [";
    bool first_layer = true;
    int failures = 0;
    std::string group;
    struct GoalRow {
        std::string layer;
        double pct[3];
    };
    std::vector<GoalRow> goal_rows;

    for (const LayerSpec& L : suite()) {
        const std::string full = L.group + " " + L.name;
        if (!g_opt.layers.empty() && full.find(g_opt.layers) == std::string::npos) continue;
        if (L.group != group) {
            group = L.group;
            std::printf("## %s\n\n", group.c_str());
        }
        std::mt19937_64 rng(1234);
        const std::vector<float> x = random_vec(rng, size_t(L.N * L.C * L.H * L.W)),
                                 w = random_vec(rng, size_t(L.F * L.C * L.KH * L.KW)), b = random_vec(rng, size_t(L.F)),
                                 dy = random_vec(rng, size_t(L.N * L.F * L.Ho() * L.Wo()));
        const bl::Geometry g = geometry_of(L);
        const double t_layer0 = omp_get_wtime();
        const DnnlResult dn = run_onednn(L, x, w, b, dy);
        const Timing fftw = run_fftw(L, g.LH, g.LW, x);
        const double dense = 2.0 * L.N * L.F * L.C * L.Ho() * L.Wo() * L.KH * L.KW;

        std::printf("### %s  (LH x LW = %lld x %lld; dense %.2f GFLOP per pass; oneDNN: fwd %s [%s], bwd-data %s [%s], "
                    "bwd-weights %s [%s])\n\n",
                    L.name.c_str(), (long long)g.LH, (long long)g.LW, dense * 1e-9, dn.algo[0].c_str(),
                    dn.impl[dn.algo[0] == "auto"][0].c_str(), dn.algo[1].c_str(), dn.impl[dn.algo[1] == "auto"][1].c_str(),
                    dn.algo[2].c_str(), dn.impl[dn.algo[2] == "auto"][2].c_str());
        std::printf("| rho req | rho achieved | box | ours fwd ms | ours bwd-data ms | ours bwd-weights ms | ours sum ms | "
                    "oneDNN best fwd / bwd-d / bwd-w / sum ms | speed-up (sum) | eff. GFLOP/s fwd / bwd-d / bwd-w | "
                    "exec. GFLOP/s fwd / bwd-d / bwd-w | check |\n");
        std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        const double dn_sum = dn.t[0].median + dn.t[1].median + dn.t[2].median;

        std::vector<OurResult> rs;
        Outputs dense_out;
        for (double rho : rhos) {
            Outputs o;
            OurResult r = run_ours(L, rho, x, w, b, dy, &o);
            // Checks.
            const double R[3] = {double(L.C * L.KH * L.KW), double(L.F * L.KH * L.KW), double(L.N * L.Ho() * L.Wo())};
            const std::vector<float>* got[3] = {&o.y, &o.dx, &o.dw};
            std::vector<float> y_nobias;
            if (rho == 0.0) {
                // oneDNN's y includes the bias as ours does; dw compares directly.
                const std::vector<float>* ref[3] = {&dn.y, &dn.dx, &dn.dw};
                for (int p = 0; p < 3; ++p) {
                    r.pass[p].err = rel_err(*got[p], *ref[p]);
                    r.pass[p].bound = err_bound(double(g.LH), double(g.LW), R[p]);
                    r.pass[p].check_what = "vs oneDNN";
                }
                dense_out = o;
            } else {
                bl_ok(bl_set_cpu_path(BL_CPU_PATH_PORTABLE), "bl_set_cpu_path");
                bl_plan plan = make_plan(L, rho);
                const Outputs ref = run_once(L, plan, x, w, b, dy);
                bl_plan_destroy(plan);
                bl_ok(bl_set_cpu_path(path), "bl_set_cpu_path");
                const std::vector<float>* refs[3] = {&ref.y, &ref.dx, &ref.dw};
                for (int p = 0; p < 3; ++p) {
                    r.pass[p].err = rel_err(*got[p], *refs[p]);
                    r.pass[p].bound = err_bound(double(g.LH), double(g.LW), R[p]);
                    r.pass[p].check_what = "vs portable path";
                }
            }
            for (int p = 0; p < 3; ++p)
                if (!(r.pass[p].err <= r.pass[p].bound)) r.ok = false;
            if (!r.ok) ++failures;
            const double sum = r.pass[0].t.median + r.pass[1].t.median + r.pass[2].t.median;
            double worst = 0;
            for (int p = 0; p < 3; ++p) worst = std::max(worst, r.pass[p].err / r.pass[p].bound);
            std::printf("| %.2f | %.3f | %lld,%lld | %s | %s | %s | %s | %s / %s / %s / %s | %.2fx | %.0f / %.0f / %.0f | "
                        "%.0f / %.0f / %.0f | %s (err/bound %.3f, %s) |\n",
                        rho, r.achieved, (long long)r.box.kh, (long long)r.box.kw, ms(r.pass[0].t.median).c_str(),
                        ms(r.pass[1].t.median).c_str(), ms(r.pass[2].t.median).c_str(), ms(sum).c_str(),
                        ms(dn.t[0].median).c_str(), ms(dn.t[1].median).c_str(), ms(dn.t[2].median).c_str(),
                        ms(dn_sum).c_str(), dn_sum / sum, dense / r.pass[0].t.median * 1e-9,
                        dense / r.pass[1].t.median * 1e-9, dense / r.pass[2].t.median * 1e-9,
                        r.pass[0].flops.executed / r.pass[0].t.median * 1e-9,
                        r.pass[1].flops.executed / r.pass[1].t.median * 1e-9,
                        r.pass[2].flops.executed / r.pass[2].t.median * 1e-9, r.ok ? "ok" : "FAILED", worst,
                        r.pass[0].check_what.c_str());
            std::fflush(stdout);
            rs.push_back(r);
        }
        // Stage table.
        std::printf("\nStages (per pass: transforms incl. inverse / complex product / rest, ms and share; product and "
                    "transforms as executed GFLOP/s and %% of the %.0f GFLOP/s peak; FFTW r2c of x = %s ms vs ours):\n\n",
                    peak, ms(fftw.median).c_str());
        std::printf("| rho | pass | transforms ms (share) | product ms (share) | rest ms (share) | transforms GFLOP/s (%% peak) | "
                    "product GFLOP/s (%% peak) | x transform: ours / FFTW ms |\n");
        std::printf("|---|---|---|---|---|---|---|---|\n");
        const char* pass_names[3] = {"fwd", "bwd-data", "bwd-weights"};
        for (const OurResult& r : rs)
            for (int p = 0; p < 3; ++p) {
                const PassResult& q = r.pass[p];
                const double tot = q.t.median;
                const double tg = q.transform_s > 0 ? q.transform_flops / q.transform_s * 1e-9 : 0;
                const double pg = q.product_s > 0 ? q.product_flops / q.product_s * 1e-9 : 0;
                std::printf("| %.2f | %s | %s (%.0f%%) | %s (%.0f%%) | %s (%.0f%%) | %.1f (%.1f%%) | %.1f (%.1f%%) | %s |\n",
                            r.rho, pass_names[p], ms(q.transform_s).c_str(), 100 * q.transform_s / tot,
                            ms(q.product_s).c_str(), 100 * q.product_s / tot, ms(q.rest_s).c_str(),
                            100 * q.rest_s / tot, tg, 100 * tg / peak, pg, 100 * pg / peak,
                            p == 0 ? (ms(q.transform_x_s) + " / " + ms(fftw.median)).c_str() : "");
            }
        if (!L.one_d && L.group.rfind("ResNet", 0) == 0) {
            const PassResult* q = rs[0].pass;
            GoalRow gr{L.name, {}};
            for (int p = 0; p < 3; ++p) gr.pct[p] = 100 * q[p].product_flops / q[p].product_s * 1e-9 / peak;
            goal_rows.push_back(gr);
        }
        std::printf("\n(layer took %.1f s)\n\n", omp_get_wtime() - t_layer0);
        std::fflush(stdout);

        // JSON.
        js << (first_layer ? "\n" : ",\n") << "    {\"group\": " << json_str(L.group) << ", \"name\": " << json_str(L.name)
           << ", \"N\": " << L.N << ", \"C\": " << L.C << ", \"H\": " << L.H << ", \"W\": " << L.W << ", \"F\": " << L.F
           << ", \"KH\": " << L.KH << ", \"KW\": " << L.KW << ", \"LH\": " << g.LH << ", \"LW\": " << g.LW
           << ", \"dense_flops\": " << dense << ",\n     \"onednn\": {";
        for (int p = 0; p < 3; ++p)
            js << (p ? ", " : "") << json_str(pass_names[p]) << ": {\"median_s\": " << dn.t[p].median
               << ", \"p10_s\": " << dn.t[p].p10 << ", \"p90_s\": " << dn.t[p].p90 << ", \"runs\": " << dn.t[p].runs
               << ", \"algorithm\": " << json_str(dn.algo[p]) << ", \"impl\": " << json_str(dn.impl[dn.algo[p] == "auto"][p])
               << "}";
        js << "},\n     \"fftw_r2c_x\": {\"median_s\": " << fftw.median << ", \"runs\": " << fftw.runs << "},\n     \"ours\": [";
        for (size_t i = 0; i < rs.size(); ++i) {
            const OurResult& r = rs[i];
            js << (i ? ",\n       " : "\n       ") << "{\"rho\": " << r.rho << ", \"achieved_rate\": " << r.achieved
               << ", \"box\": [" << r.box.kh << ", " << r.box.kw << "], \"ok\": " << (r.ok ? "true" : "false");
            for (int p = 0; p < 3; ++p) {
                const PassResult& q = r.pass[p];
                js << ", " << json_str(pass_names[p]) << ": {\"median_s\": " << q.t.median << ", \"p10_s\": " << q.t.p10
                   << ", \"p90_s\": " << q.t.p90 << ", \"runs\": " << q.t.runs << ", \"flops_nominal\": " << q.flops.nominal
                   << ", \"flops_executed\": " << q.flops.executed << ", \"flops_dense\": " << q.flops.dense_equivalent
                   << ", \"transform_s\": " << q.transform_s << ", \"product_s\": " << q.product_s << ", \"rest_s\": " << q.rest_s
                   << ", \"transform_flops\": " << q.transform_flops << ", \"product_flops\": " << q.product_flops
                   << ", \"transform_x_s\": " << q.transform_x_s << ", \"rel_err\": " << q.err << ", \"bound\": " << q.bound
                   << ", \"check\": " << json_str(q.check_what) << "}";
            }
            js << "}";
        }
        js << "]}";
        first_layer = false;
    }
    const double load1 = read_loadavg();
    const double total = omp_get_wtime() - wall0;
    js << "\n  ],\n  \"noisy_measurements\": " << g_noisy << ",\n  \"loadavg_start\": " << load0
       << ",\n  \"loadavg_end\": " << load1 << ",\n  \"wall_seconds\": " << total << ",\n  \"failures\": " << failures
       << "\n}\n";
    std::ofstream(g_opt.json) << js.str();

    if (!goal_rows.empty()) {
        std::printf("## Goal: complex-product stage >= 60%% of the FMA peak (executed FLOPs, rho = 0)\n\n");
        std::printf("| layer | fwd | bwd-data | bwd-weights | met |\n|---|---|---|---|---|\n");
        for (const GoalRow& r : goal_rows)
            std::printf("| %s | %.1f%% | %.1f%% | %.1f%% | %s |\n", r.layer.c_str(), r.pct[0], r.pct[1], r.pct[2],
                        std::min({r.pct[0], r.pct[1], r.pct[2]}) >= 60 ? "yes" : "no");
        std::printf("\n");
    }
    std::printf("Load average at end %.2f (threads %d). %d measurements had a p10-p90 spread above %.0f%% of the "
                "median%s.\n",
                load1, g_opt.threads, g_noisy, 100 * kNoisySpread,
                g_noisy > 0 ? ": WARNING, timings may be disturbed by other load" : "");
    std::printf("Checks: %s. Wall time %.1f s. JSON: %s\n", failures ? "SOME FAILED" : "all passed", total,
                g_opt.json.c_str());
    return failures ? 4 : 0;
}
