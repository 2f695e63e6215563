// test_backend_ops.cpp -- the cross-backend acceptance test of the band-limited convolution
// through the public C ABI (ggml's test-backend-ops): every operator case -- forward, dx, dw,
// db; fixed and energy compression; 1D and 2D; strides, padding and the corner geometries --
// runs on every target, i.e. every registered backend and, for the CPU, every code path, each
// in its own bl_context (for_each_target). A target that cannot run here prints
// "skipped: <backend>: <reason>".
//
// Every numeric check compares the library (float32) with the float64 references of
// reference.h (direct sums, naive DFT), which a test of its own checks against the golden file,
// within the error bound of ALGORITHM.md section 5. Random data come from std::mt19937_64 with
// the seed printed in every failure message; geometries are listed in tables.
#include <cinttypes>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bandlimit.h"
#include "abi_fixtures.h"
#include "check.h"
#include "cost_model.h"  // use_batched_fft: that the long-rows case takes the one-plane FFT
#include "reference.h"

#ifndef BL_TEST_DATA_DIR
#define BL_TEST_DATA_DIR "tests/data"
#endif

using blref::Box;
using blref::Geom;

namespace {

using bltest::fmt;

using bltest::Buf;
using bltest::energy;
using bltest::fixed;
using bltest::status_text;

std::string geom_str(const Geom& g, bool one_d) {
    return fmt("%s N=%" PRId64 " C=%" PRId64 " H=%" PRId64 " W=%" PRId64 " F=%" PRId64 " K=%" PRId64
               "x%" PRId64 " pad=[%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 "] stride=[%" PRId64
               ",%" PRId64 "]",
               one_d ? "1d" : "2d", g.N, g.C, g.H, g.W, g.F, g.KH, g.KW, g.pt, g.pb, g.pl, g.pr, g.sh,
               g.sw);
}


// The execution context of the target a for_each_target body runs on (NULL outside one: the
// default context), and its tag for failure messages.
bl_context g_context = nullptr;
std::string g_path_tag;
// The product plans are created with (BL_PRODUCT_SPATIAL only where the geometry allows it:
// stride 1, at most 49 taps; AUTO elsewhere).
int32_t g_product = BL_PRODUCT_AUTO;
int g_spatial_plans = 0;
// The method plans are created with (BL_METHOD_PAPER_BASELINE in the baseline test only).
int32_t g_method = BL_METHOD_BANDLIMIT;
// Where the target's buffers live: host vectors are passed as they are to a host backend and
// staged through device buffers (bl_buffer_alloc / bl_buffer_copy) for a device backend.
int32_t g_memory = BL_MEMORY_HOST;

// A device mirror of one host buffer for one call: allocated and filled from the host (every
// output too, so that an element the library does not write keeps its sentinel), copied back
// by back(). A NULL host pointer stays NULL.
class Staged {
public:
    Staged(const void* host, int64_t bytes, bool copy_in) : host_(host), bytes_(bytes) {
        if (!host || bytes <= 0) return;
        REQUIRE_OK(bl_buffer_alloc(g_context, bytes, &dev_));
        if (copy_in) REQUIRE_OK(bl_buffer_copy(g_context, dev_, host, bytes, BL_COPY_HOST_TO_BUFFER));
    }
    ~Staged() { bl_buffer_free(g_context, dev_); }
    Staged(const Staged&) = delete;
    Staged& operator=(const Staged&) = delete;
    void* p() const { return host_ ? dev_ : nullptr; }
    void back() const {
        if (dev_) REQUIRE_OK(bl_buffer_copy(g_context, const_cast<void*>(host_), dev_, bytes_, BL_COPY_BUFFER_TO_HOST));
    }

private:
    const void* host_;
    int64_t bytes_;
    void* dev_ = nullptr;
};

// The element counts of a plan's tensors for batch n.
struct Extents {
    int64_t x = 0, w = 0, y = 0, F = 0;
};
bool extents_of(bl_plan plan, int64_t n, Extents* e) {
    bl_conv2d_desc d{};
    int64_t Ho = 0, Wo = 0;
    if (bl_plan_desc(plan, &d) != BL_OK || bl_plan_output_size(plan, &Ho, &Wo) != BL_OK) return false;
    if (n < 1 || n > d.max_batch) return false;  // the call fails on n before it reads a buffer
    *e = Extents{n * d.channels * d.height * d.width, d.filters * d.channels * d.kernel_height * d.kernel_width,
                 n * d.filters * Ho * Wo, d.filters};
    return true;
}

// The execute calls of the ABI, with host buffers staged on a device target.
bl_status t_forward(bl_plan plan, int64_t n, const float* x, const float* w, const float* bias, float* y, void* saved,
                    int64_t saved_bytes, void* ws, int64_t ws_bytes, bl_box* box) {
    Extents e;
    if (g_memory == BL_MEMORY_HOST || !extents_of(plan, n, &e))
        return bl_forward(plan, n, x, w, bias, y, saved, saved_bytes, ws, ws_bytes, box);
    const Staged sx(x, 4 * e.x, true), sw(w, 4 * e.w, true), sb(bias, 4 * e.F, true), sy(y, 4 * e.y, true);
    const Staged ss(saved, saved_bytes, true), sws(ws, ws_bytes, false);
    const bl_status st = bl_forward(plan, n, static_cast<const float*>(sx.p()), static_cast<const float*>(sw.p()),
                                    static_cast<const float*>(sb.p()), static_cast<float*>(sy.p()), ss.p(),
                                    saved_bytes, sws.p(), ws_bytes, box);
    sy.back();
    ss.back();
    return st;
}

bl_status t_backward(bl_plan plan, int64_t n, const void* saved, int64_t saved_bytes, const float* w, const float* dy,
                     float* dx, float* dw, float* db, void* ws, int64_t ws_bytes) {
    Extents e;
    if (g_memory == BL_MEMORY_HOST || !extents_of(plan, n, &e))
        return bl_backward(plan, n, saved, saved_bytes, w, dy, dx, dw, db, ws, ws_bytes);
    const Staged ss(saved, saved_bytes, true), sw(w, 4 * e.w, true), sdy(dy, 4 * e.y, true);
    const Staged sdx(dx, 4 * e.x, true), sdw(dw, 4 * e.w, true), sdb(db, 4 * e.F, true), sws(ws, ws_bytes, false);
    const bl_status st = bl_backward(plan, n, ss.p(), saved_bytes, static_cast<const float*>(sw.p()),
                                     static_cast<const float*>(sdy.p()), static_cast<float*>(sdx.p()),
                                     static_cast<float*>(sdw.p()), static_cast<float*>(sdb.p()), sws.p(), ws_bytes);
    sdx.back();
    sdw.back();
    sdb.back();
    return st;
}

bl_status t_backward_data(bl_plan plan, int64_t n, const void* saved, int64_t saved_bytes, const float* w,
                          const float* dy, float* dx, void* ws, int64_t ws_bytes) {
    if (g_memory == BL_MEMORY_HOST || !dx) return bl_backward_data(plan, n, saved, saved_bytes, w, dy, dx, ws, ws_bytes);
    return t_backward(plan, n, saved, saved_bytes, w, dy, dx, nullptr, nullptr, ws, ws_bytes);
}

bl_status t_backward_weights(bl_plan plan, int64_t n, const void* saved, int64_t saved_bytes, const float* dy,
                             float* dw, float* db, void* ws, int64_t ws_bytes) {
    if (g_memory == BL_MEMORY_HOST || !dw) return bl_backward_weights(plan, n, saved, saved_bytes, dy, dw, db, ws, ws_bytes);
    return t_backward(plan, n, saved, saved_bytes, nullptr, dy, nullptr, dw, db, ws, ws_bytes);
}

// A plan and what it reports about itself.
struct Layer {
    Geom g;
    bool one_d;
    bl_plan plan = nullptr;
    int64_t LH = 0, LW = 0, Ho = 0, Wo = 0, saved_bytes = 0, ws_bytes = 0;

    Layer(const Geom& geom, bool is_1d, bl_compression comp,
          int32_t spectra_mode = BL_SPECTRA_INPUT_AND_WEIGHT)
        : g(geom), one_d(is_1d) {
        bl_plan_options opt{};
        opt.spectra_mode = spectra_mode;
        opt.product = g_product;
        opt.method = g_method;
        if (g_product == BL_PRODUCT_SPATIAL) {
            if (geom.sh == 1 && geom.sw == 1 && geom.KH * geom.KW <= 49)
                ++g_spatial_plans;
            else
                opt.product = BL_PRODUCT_AUTO;
        }
        if (one_d) {
            REQUIRE(g.H == 1 && g.KH == 1 && g.pt == 0 && g.pb == 0 && g.sh == 1);
            bl_conv1d_desc d;
            d.max_batch = g.N;
            d.channels = g.C;
            d.length = g.W;
            d.filters = g.F;
            d.kernel = g.KW;
            d.pad_left = g.pl;
            d.pad_right = g.pr;
            d.stride = g.sw;
            REQUIRE_OK(bl_plan_create_1d(g_context, &d, comp, &opt, &plan));
        } else {
            bl_conv2d_desc d;
            d.max_batch = g.N;
            d.channels = g.C;
            d.height = g.H;
            d.width = g.W;
            d.filters = g.F;
            d.kernel_height = g.KH;
            d.kernel_width = g.KW;
            d.pad_top = g.pt;
            d.pad_bottom = g.pb;
            d.pad_left = g.pl;
            d.pad_right = g.pr;
            d.stride_h = g.sh;
            d.stride_w = g.sw;
            REQUIRE_OK(bl_plan_create_2d(g_context, &d, comp, &opt, &plan));
        }
        REQUIRE(plan != nullptr);
        REQUIRE_OK(bl_plan_fft_lengths(plan, &LH, &LW));
        REQUIRE_OK(bl_plan_output_size(plan, &Ho, &Wo));
        REQUIRE_OK(bl_plan_saved_spectra_bytes(plan, &saved_bytes));
        REQUIRE_OK(bl_plan_workspace_bytes(plan, &ws_bytes));
        REQUIRE(saved_bytes >= 0 && ws_bytes >= 0);
    }
    ~Layer() { bl_plan_destroy(plan); }
    Layer(const Layer&) = delete;
    Layer& operator=(const Layer&) = delete;
};

enum class Bwd { None, Combined, Split };

struct Out {
    std::vector<float> y, dx, dw, db;
    bl_box box{-1, -1};
};

const float kUnwritten = 1.0e30f;  // outputs start as this: an unwritten element fails any check

// forward (with saved spectra) and optionally backward; b may be null (no bias), dy may be null.
Out execute(Layer& L, int64_t n, const std::vector<float>& x, const std::vector<float>& w,
            const std::vector<float>* b, const std::vector<float>* dy, Bwd how = Bwd::Combined) {
    const Geom& g = L.g;
    Out o;
    o.y.assign(static_cast<size_t>(n * g.F * L.Ho * L.Wo), kUnwritten);
    Buf saved(L.saved_bytes), ws(L.ws_bytes);
    REQUIRE_OK(t_forward(L.plan, n, x.data(), w.data(), b ? b->data() : nullptr, o.y.data(),
                          saved.p, saved.bytes, ws.p, ws.bytes, &o.box));
    if (dy && how != Bwd::None) {
        o.dx.assign(static_cast<size_t>(g.x_size(n)), kUnwritten);
        o.dw.assign(static_cast<size_t>(g.w_size()), kUnwritten);
        o.db.assign(static_cast<size_t>(g.F), kUnwritten);
        if (how == Bwd::Combined) {
            REQUIRE_OK(t_backward(L.plan, n, saved.p, saved.bytes, w.data(), dy->data(),
                                   o.dx.data(), o.dw.data(), o.db.data(), ws.p, ws.bytes));
        } else {
            REQUIRE_OK(t_backward_data(L.plan, n, saved.p, saved.bytes, w.data(), dy->data(),
                                        o.dx.data(), ws.p, ws.bytes));
            REQUIRE_OK(t_backward_weights(L.plan, n, saved.p, saved.bytes, dy->data(),
                                           o.dw.data(), o.db.data(), ws.p, ws.bytes));
        }
    }
    return o;
}

// Worst err/bound ratio seen by a test, per quantity.
struct Worst {
    double r[4] = {0, 0, 0, 0};
    std::string where[4];
    void add(int q, double ratio, const std::string& ctx) {
        if (std::isnan(ratio)) ratio = INFINITY;
        if (ratio > r[q]) {
            r[q] = ratio;
            where[q] = ctx;
        }
    }
    void print(const char* test) const {
        static const char* names[4] = {"y", "dx", "dw", "db"};
        std::printf("    %s: worst err/bound", test);
        for (int q = 0; q < 4; ++q) std::printf("  %s %.3f", names[q], r[q]);
        std::printf("\n");
        int qmax = 0;
        for (int q = 1; q < 4; ++q)
            if (r[q] > r[qmax]) qmax = q;
        if (!where[qmax].empty()) std::printf("      (max %s at %s)\n", names[qmax], where[qmax].c_str());
    }
};

void check_close(int q, const std::vector<float>& got, const std::vector<double>& ref,
                 double bound, const std::string& ctx, Worst* worst) {
    static const char* names[4] = {"y", "dx", "dw", "db"};
    const double e = blref::rel_l2_error(got, ref);
    if (worst) worst->add(q, e / bound, ctx);
    CHECK_MSG(e <= bound, fmt("%s%s: %s err %.3e > bound %.3e (ratio %.2f)", g_path_tag.c_str(), ctx.c_str(),
                              names[q], e, bound, e / bound));
}

// Runs body once on every target: every registered backend, and for the CPU every code path,
// each in its own context, with the same bounds. A target that cannot run here says why
// ("skipped: <backend>: <reason>"); none is passed over silently.
void for_each_target(void (*body)()) {
    struct Target {
        int32_t backend;
        int32_t path;
        const char* tag;
    };
    const Target targets[] = {{BL_BACKEND_CPU, BL_CPU_PATH_PORTABLE, "cpu/portable"},
                              {BL_BACKEND_CPU, BL_CPU_PATH_AVX2, "cpu/avx2"},
                              {BL_BACKEND_CPU, BL_CPU_PATH_AVX512, "cpu/avx512"},
                              {BL_BACKEND_CUDA, BL_CPU_PATH_AUTO, "cuda"}};
    int ran = 0;
    for (const Target& t : targets) {
        bl_backend_info info{};
        REQUIRE_OK(bl_backend_query(t.backend, &info));
        if (!info.available) {
            std::printf("    skipped: %s: %s\n", info.name, info.reason);
            continue;
        }
        const bl_context_options opts{t.backend, 0, 0, t.path, nullptr};
        bl_context ctx = nullptr;
        const bl_status st = bl_context_create(&opts, &ctx);
        if (st == BL_ERR_UNSUPPORTED) {
            std::printf("    skipped: %s: %s\n", t.tag, bl_last_error_message());
            continue;
        }
        REQUIRE_OK(st);
        int32_t memory = -1, path = -1;
        CHECK_OK(bl_context_buffer_memory(ctx, &memory));
        // The data buffers here are host vectors: staged through device buffers on a device
        // target (t_forward and friends).
        g_memory = memory;
        if (t.backend == BL_BACKEND_CPU) {
            CHECK_OK(bl_context_get_cpu_path(ctx, &path));
            CHECK(path == t.path);
        }
        std::printf("    -- %s\n", t.tag);
        g_context = ctx;
        g_path_tag = std::string("[") + t.tag + "] ";
        try {
            body();
        } catch (...) {
            g_context = nullptr;
            g_memory = BL_MEMORY_HOST;
            g_path_tag.clear();
            bl_context_destroy(ctx);
            throw;
        }
        g_context = nullptr;
        g_memory = BL_MEMORY_HOST;
        g_path_tag.clear();
        CHECK_OK(bl_context_destroy(ctx));
        ++ran;
    }
    CHECK(ran >= 1);
}

// Checks y, dx, dw, db against references with the section-5 bounds.
void check_all(const Layer& L, int64_t n, const Out& o, const std::vector<double>& y,
               const std::vector<double>& dx, const std::vector<double>& dw,
               const std::vector<double>& db, const std::string& ctx, Worst* worst) {
    const Geom& g = L.g;
    check_close(0, o.y, y, blref::bound_y(g, L.LH, L.LW), ctx, worst);
    if (!o.dx.empty()) {
        check_close(1, o.dx, dx, blref::bound_dx(g, L.LH, L.LW), ctx, worst);
        check_close(2, o.dw, dw, blref::bound_dw(g, n, L.LH, L.LW), ctx, worst);
        check_close(3, o.db, db, blref::bound_db(g, n), ctx, worst);
    }
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return INFINITY;
    double m = 0;
    for (size_t k = 0; k < a.size(); ++k) {
        double d = std::fabs(static_cast<double>(a[k]) - b[k]);
        if (!(d <= m)) m = d;  // NaN propagates
    }
    return m;
}

// Inputs of one layer, uniform in [-1, 1).
struct Data {
    std::vector<float> x, w, b, dy;
    std::vector<double> xd, wd, bd, dyd;
    Data(const Geom& g, int64_t n, uint64_t seed, bool smooth_x = false) {
        std::mt19937_64 rng(seed);
        x = blref::random_uniform(rng, static_cast<size_t>(g.x_size(n)));
        w = blref::random_uniform(rng, static_cast<size_t>(g.w_size()));
        b = blref::random_uniform(rng, static_cast<size_t>(g.F));
        dy = blref::random_uniform(rng, static_cast<size_t>(g.y_size(n)));
        if (smooth_x) smooth(g, n);
        refresh();
    }
    void refresh() {
        xd = blref::to_double(x);
        wd = blref::to_double(w);
        bd = blref::to_double(b);
        dyd = blref::to_double(dy);
    }
    // Low-pass x (3x3 box average, twice) so that its energy sits at low frequencies while dy
    // stays white: a backward that re-chose the energy box from dy would pick another box.
    void smooth(const Geom& g, int64_t n) {
        for (int pass = 0; pass < 2; ++pass)
            for (int64_t p = 0; p < n * g.C; ++p) {
                float* a = &x[static_cast<size_t>(p * g.H * g.W)];
                std::vector<float> t(a, a + g.H * g.W);
                for (int64_t h = 0; h < g.H; ++h)
                    for (int64_t w2 = 0; w2 < g.W; ++w2) {
                        double s = 0;
                        int cnt = 0;
                        for (int64_t dh = -1; dh <= 1; ++dh)
                            for (int64_t dw = -1; dw <= 1; ++dw) {
                                int64_t hh = h + dh, ww = w2 + dw;
                                if (hh < 0 || hh >= g.H || ww < 0 || ww >= g.W) continue;
                                s += t[static_cast<size_t>(hh * g.W + ww)];
                                ++cnt;
                            }
                        a[h * g.W + w2] = static_cast<float>(s / cnt);
                    }
            }
    }
};

// Picks E midway between two consecutive chain fractions that are >= 2.5e-3 apart (so E is at
// least 1e-3 away from every fraction), at the first such gap whose upper fraction is >= target;
// prefers a box other than the full one. Returns the chain index chosen, or -1.
int pick_energy(const std::vector<double>& frac, double target, double* E) {
    int found = -1;
    for (size_t k = 1; k < frac.size(); ++k)
        if (frac[k] >= target && frac[k] - frac[k - 1] >= 2.5e-3) {
            found = static_cast<int>(k);
            break;
        }
    if (found < 0) {  // no gap above the target: take the largest gap below it
        for (size_t k = frac.size(); k-- > 1;)
            if (frac[k] - frac[k - 1] >= 2.5e-3) {
                found = static_cast<int>(k);
                break;
            }
    }
    if (found < 0) return -1;
    *E = 0.5 * (frac[static_cast<size_t>(found) - 1] + frac[static_cast<size_t>(found)]);
    return found;
}

// Geometry tables. 1D rows (one_d = 1) have H = KH = 1, no vertical padding, and their stride
// in sw; they are planned with bl_plan_create_1d.
struct GeoCase {
    const char* name;
    int64_t N, n, C, H, W, F, KH, KW, pt, pb, pl, pr, sh, sw;
    int one_d;
    Geom geom() const {
        Geom g{N, C, H, W, F, KH, KW, pt, pb, pl, pr, sh, sw};  // N C H W F KH KW, pads t b l r, strides
        return g;
    }
};

// Dense agreement at rho = 0 (seed of row i: 1000 + i).
const GeoCase kDenseCases[] = {
    //  name                          N  n   C   H   W   F  KH  KW  pt pb pl pr sh sw 1d
    {"3x3 pad1 8x8",                  2, 2,  3,  8,  8,  4,  3,  3,  1, 1, 1, 1, 1, 1, 0},
    {"odd 7x7 3x3",                   2, 2,  2,  7,  7,  3,  3,  3,  1, 1, 1, 1, 1, 1, 0},
    {"prime 11x13 3x5",               2, 2,  2, 11, 13,  2,  3,  5,  1, 1, 2, 2, 1, 1, 0},
    {"prime 17x17 5x5",               1, 1,  2, 17, 17,  2,  5,  5,  2, 2, 2, 2, 1, 1, 0},
    {"prime 13x7 2x3 asym pad",       2, 2,  2, 13,  7,  2,  2,  3,  0, 1, 1, 1, 1, 1, 0},
    {"5x11 no pad",                   3, 3,  2,  5, 11,  3,  3,  3,  0, 0, 0, 0, 1, 1, 0},
    {"1x1 kernel 6x9",                3, 3,  4,  6,  9,  5,  1,  1,  0, 0, 0, 0, 1, 1, 0},
    {"1x1 kernel padded",             2, 2,  3,  7,  5,  2,  1,  1,  1, 2, 0, 3, 1, 1, 0},
    {"1x1 kernel stride 2",           2, 2,  3,  9,  8,  2,  1,  1,  0, 0, 0, 0, 2, 2, 0},
    {"kernel = padded input 7x7",     1, 1,  2,  5,  5,  2,  7,  7,  1, 1, 1, 1, 1, 1, 0},
    {"kernel = input 6x4 no pad",     2, 2,  2,  6,  4,  3,  6,  4,  0, 0, 0, 0, 1, 1, 0},
    {"kernel = padded input asym",    2, 1,  1,  4,  6,  2,  7,  8,  2, 1, 0, 2, 1, 1, 0},
    {"kernel wider than input",       1, 1,  2,  3,  3,  2,  5,  5,  1, 1, 1, 1, 1, 1, 0},
    {"unequal pad 9x10",              2, 2,  2,  9, 10,  3,  3,  3,  0, 2, 3, 1, 1, 1, 0},
    {"unequal pad 5x5 kernel",        2, 2,  2,  8,  8,  2,  5,  5,  1, 3, 2, 0, 1, 1, 0},
    {"pad > half-width 3x3",          1, 1,  2,  6,  6,  2,  3,  3,  4, 3, 5, 2, 1, 1, 0},
    {"pad > kernel 1x1",              2, 2,  2,  4,  5,  2,  1,  1,  2, 3, 1, 4, 1, 1, 0},
    {"pad > half-width 5x3",          2, 2,  1,  7,  6,  3,  5,  3,  5, 4, 3, 6, 1, 1, 0},
    {"stride 2 10x10",                2, 2,  2, 10, 10,  3,  3,  3,  1, 1, 1, 1, 2, 2, 0},
    {"stride 2 odd 11x9",             2, 2,  2, 11,  9,  2,  3,  3,  1, 1, 1, 1, 2, 2, 0},
    {"stride 3 13x13",                1, 1,  3, 13, 13,  2,  3,  3,  1, 1, 1, 1, 3, 3, 0},
    {"stride 3 4x4 kernel",           2, 2,  2, 12, 11,  2,  4,  4,  0, 1, 2, 1, 3, 3, 0},
    {"stride 2x3",                    2, 2,  2, 10, 12,  2,  3,  3,  1, 1, 1, 1, 2, 3, 0},
    {"stride 3x1 asym pad",           1, 1,  3, 10,  7,  2,  3,  2,  2, 0, 0, 3, 3, 1, 0},
    {"stride 1x2",                    2, 2,  2,  8,  9,  3,  2,  3,  0, 1, 1, 1, 1, 2, 0},
    {"stride 2 even kernel",          2, 2,  2,  9,  9,  2,  2,  2,  0, 0, 0, 0, 2, 2, 0},
    {"stride > kernel",               2, 2,  2, 11, 11,  2,  2,  2,  1, 0, 0, 1, 3, 3, 0},
    {"N=1",                           1, 1,  3,  9,  8,  3,  3,  3,  1, 1, 1, 1, 1, 1, 0},
    {"C=1",                           2, 2,  1, 10,  7,  3,  3,  3,  1, 1, 1, 1, 1, 1, 0},
    {"F=1",                           2, 2,  3,  8, 10,  1,  3,  3,  1, 1, 1, 1, 1, 1, 0},
    {"N=C=F=1",                       1, 1,  1,  7,  9,  1,  3,  2,  1, 1, 1, 0, 1, 1, 0},
    {"n < max_batch (1 of 3)",        3, 1,  2,  6,  6,  2,  3,  3,  1, 1, 1, 1, 1, 1, 0},
    {"n < max_batch (2 of 5) stride", 5, 2,  2,  7,  8,  3,  3,  3,  1, 1, 1, 1, 2, 1, 0},
    {"wide channels 16->12",          2, 2, 16,  6,  6, 12,  3,  3,  1, 1, 1, 1, 1, 1, 0},
    {"32x32 pad1 (LH 35)",            1, 1,  2, 32, 32,  2,  3,  3,  1, 1, 1, 1, 1, 1, 0},
    {"16x16 pad1 (LH 18)",            2, 2,  2, 16, 16,  2,  3,  3,  1, 1, 1, 1, 1, 1, 0},
    {"H=1 through the 2D plan",       2, 2,  2,  1, 12,  2,  1,  3,  0, 0, 1, 1, 1, 1, 0},
    {"W=1 column",                    2, 2,  2, 12,  1,  2,  3,  1,  1, 1, 0, 0, 1, 1, 0},
    {"1d k8 same (4,3)",              2, 2,  2,  1, 20,  3,  1,  8,  0, 0, 4, 3, 1, 1, 1},
    {"1d k4 same (2,1)",              2, 2,  3,  1, 17,  2,  1,  4,  0, 0, 2, 1, 1, 1, 1},
    {"1d k2 same (1,0)",              2, 2,  2,  1, 13,  2,  1,  2,  0, 0, 1, 0, 1, 1, 1},
    {"1d k6 same (3,2) n<max",        3, 2,  2,  1, 11,  2,  1,  6,  0, 0, 3, 2, 1, 1, 1},
    {"1d k5 pad 2 prime 31",          1, 1,  3,  1, 31,  2,  1,  5,  0, 0, 2, 2, 1, 1, 1},
    {"1d prime 7 k3",                 2, 2,  2,  1,  7,  2,  1,  3,  0, 0, 1, 1, 1, 1, 1},
    {"1d stride 2 k4",                2, 2,  2,  1, 19,  3,  1,  4,  0, 0, 2, 1, 1, 2, 1},
    {"1d stride 3 k3 n<max",          2, 1,  2,  1, 23,  2,  1,  3,  0, 0, 1, 1, 1, 3, 1},
    {"1d kernel = padded input",      2, 2,  2,  1,  9,  2,  1, 11,  0, 0, 1, 1, 1, 1, 1},
    {"1d k1",                         2, 2,  3,  1, 10,  2,  1,  1,  0, 0, 0, 0, 1, 1, 1},
    {"1d pad > half-width",           1, 1,  2,  1, 12,  2,  1,  3,  0, 0, 5, 4, 1, 1, 1},
};

// Band-limited agreement (seed of row i: 2000 + i).
const GeoCase kBandCases[] = {
    //  name                          N  n   C   H   W   F  KH  KW  pt pb pl pr sh sw 1d
    {"8x8 3x3 pad1",                  2, 2,  3,  8,  8,  2,  3,  3,  1, 1, 1, 1, 1, 1, 0},
    {"odd 9x11 3x5",                  2, 2,  2,  9, 11,  3,  3,  5,  1, 1, 2, 2, 1, 1, 0},
    {"prime 13x7 asym pad",           2, 2,  2, 13,  7,  2,  2,  3,  0, 1, 1, 1, 1, 1, 0},
    {"prime 17x11",                   1, 1,  2, 17, 11,  2,  3,  3,  1, 1, 1, 1, 1, 1, 0},
    {"1x1 6x6",                       2, 2,  4,  6,  6,  3,  1,  1,  0, 0, 0, 0, 1, 1, 0},
    {"kernel = padded input",         1, 1,  2,  5,  5,  2,  7,  7,  1, 1, 1, 1, 1, 1, 0},
    {"stride 2 10x10",                2, 2,  2, 10, 10,  2,  3,  3,  1, 1, 1, 1, 2, 2, 0},
    {"stride 3x1 asym pad",           1, 1,  3, 10,  7,  2,  3,  2,  2, 0, 0, 3, 3, 1, 0},
    {"stride 2x3 unequal pad",        2, 2,  2, 11, 12,  2,  3,  3,  0, 2, 3, 1, 2, 3, 0},
    {"16x16 5x5 pad2",                2, 2,  2, 16, 16,  2,  5,  5,  2, 2, 2, 2, 1, 1, 0},
    {"pad > half-width n<max",        3, 2,  2,  7,  6,  2,  3,  3,  3, 2, 4, 1, 1, 1, 0},
    {"C=F=1 12x12",                   2, 2,  1, 12, 12,  1,  3,  3,  1, 1, 1, 1, 1, 1, 0},
    {"1d k8 same",                    2, 2,  2,  1, 40,  2,  1,  8,  0, 0, 4, 3, 1, 1, 1},
    {"1d k5 prime 31",                2, 2,  3,  1, 31,  2,  1,  5,  0, 0, 2, 2, 1, 1, 1},
    {"1d stride 2",                   2, 2,  2,  1, 37,  2,  1,  4,  0, 0, 2, 1, 1, 2, 1},
    {"1d k3 n<max",                   3, 1,  2,  1, 50,  3,  1,  3,  0, 0, 1, 1, 1, 1, 1},
    {"32x32 C8 F6 N4 (LH 35)",        4, 4,  8, 32, 32,  6,  3,  3,  1, 1, 1, 1, 1, 1, 0},
    {"1d L200 k8 same C4 F4",         4, 3,  4,  1,200,  4,  1,  8,  0, 0, 4, 3, 1, 1, 1},
};

// The golden file, read with nlohmann/json (Debian's nlohmann-json3-dev), keys in file order.
using Json = nlohmann::ordered_json;
Json read_json(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    return Json::parse(in);
}

std::string golden_path() { return std::string(BL_TEST_DATA_DIR) + "/golden_bandlimited_conv.json"; }

Geom golden_geom(const Json& ge) {
    auto at = [&ge](const char* key, int i = -1) {
        return i < 0 ? ge.at(key).get<int64_t>() : ge.at(key).at(size_t(i)).get<int64_t>();
    };
    Geom g{at("N"), at("C"), at("H"), at("W"), at("F"), at("KH"), at("KW"),
           at("pad", 0), at("pad", 1), at("pad", 2), at("pad", 3), at("stride", 0), at("stride", 1)};
    return g;
}

}  // namespace

// ==========================================================================================
// The reference itself
// ==========================================================================================

BL_TEST("reference: naive-DFT float64 reference reproduces the golden file (rel err < 1e-9)") {
    const Json root = read_json(golden_path());
    const Json& cases = root.at("cases");
    CHECK(cases.size() == 12);
    double worst = 0;
    for (const auto& kv : cases.items()) {
        const std::string& name = kv.key();
        const Json& c = kv.value();
        const Geom g = golden_geom(c.at("geometry"));
        const int64_t LH = blref::next_7smooth(g.Hp()), LW = blref::next_7smooth(g.Wp());
        CHECK_MSG(LH == c.at("fft_lengths").at(0).get<int64_t>() && LW == c.at("fft_lengths").at(1).get<int64_t>(), name);
        const std::vector<double> x = c.at("x").get<std::vector<double>>(), w = c.at("w").get<std::vector<double>>(),
                                  b = c.at("b").get<std::vector<double>>(), dy = c.at("dy").get<std::vector<double>>();
        Box box;
        if (c.at("geometry").contains("E"))
            box = blref::energy_box(g, g.N, x.data(), LH, LW, c.at("geometry").at("E").get<double>());
        else
            box = blref::fixed_box(LH, LW, c.at("geometry").at("rho").get<double>());
        CHECK_MSG(box.kh == c.at("box").at(0).get<int64_t>() && box.kw == c.at("box").at(1).get<int64_t>(), name);
        CHECK_MSG(std::fabs(blref::box_rate(LH, LW, box) - c.at("achieved_rate").get<double>()) <= 1e-15, name);
        CHECK_MSG(c.at("y_shape").at(2).get<int64_t>() == g.Ho() && c.at("y_shape").at(3).get<int64_t>() == g.Wo(), name);

        double max_imag = 1;
        const std::vector<double> y = blref::bl_forward(g, g.N, x.data(), w.data(), b.data(), LH, LW, box, &max_imag);
        std::vector<double> dx, dw, db;
        blref::bl_backward(g, g.N, x.data(), w.data(), dy.data(), LH, LW, box, dx, dw, db);
        // The full-plane masked spectrum must be that of a real array (section 3).
        CHECK_MSG(max_imag < 1e-12, name + fmt(": imaginary part %.2e", max_imag));
        const double e[4] = {blref::rel_l2_error(y, c.at("y").get<std::vector<double>>()),
                             blref::rel_l2_error(dx, c.at("dx").get<std::vector<double>>()),
                             blref::rel_l2_error(dw, c.at("dw").get<std::vector<double>>()),
                             blref::rel_l2_error(db, c.at("db").get<std::vector<double>>())};
        for (double v : e) {
            CHECK_MSG(v < 1e-9, name + fmt(": reference vs golden %.3e", v));
            worst = std::max(worst, v);
        }
        // Full box: the band-limited operator is the dense one (section 3, rho = 0).
        if (box == blref::full_box(LH, LW)) {
            const std::vector<double> yd = blref::dense_forward(g, g.N, x.data(), w.data(), b.data());
            std::vector<double> dxd, dwd, dbd;
            blref::dense_backward(g, g.N, x.data(), w.data(), dy.data(), dxd, dwd, dbd);
            CHECK_MSG(blref::rel_l2_error(yd, c.at("y").get<std::vector<double>>()) < 1e-9, name + " dense y");
            CHECK_MSG(blref::rel_l2_error(dxd, c.at("dx").get<std::vector<double>>()) < 1e-9, name + " dense dx");
            CHECK_MSG(blref::rel_l2_error(dwd, c.at("dw").get<std::vector<double>>()) < 1e-9, name + " dense dw");
            CHECK_MSG(blref::rel_l2_error(dbd, c.at("db").get<std::vector<double>>()) < 1e-9, name + " dense db");
        }
    }
    std::printf("    worst reference-vs-golden rel err %.3e\n", worst);
}

BL_TEST("reference: chain enumeration and box rules on the ALGORITHM.md examples") {
    // 8x8 input, 3x3, pad 1: L = 10, achievable rates 0, 0.25, 0.533..., rho 0.5 gives 0.25.
    CHECK(blref::next_7smooth(10) == 10);
    const std::vector<Box> chain = blref::box_chain(10, 10);
    CHECK(chain.size() == 6);
    CHECK(std::fabs(blref::box_rate(10, 10, chain[4]) - 0.25) < 1e-15);
    CHECK(std::fabs(blref::box_rate(10, 10, chain[3]) - 8.0 / 15.0) < 1e-15);
    CHECK(blref::fixed_box(10, 10, 0.5) == chain[4]);
    // Benchmark lengths.
    CHECK(blref::next_7smooth(34) == 35);
    CHECK(blref::next_7smooth(17) == 18);
    CHECK(blref::next_7smooth(5003) == 5040);
    CHECK(blref::next_7smooth(5000) == 5000);
    CHECK(blref::next_7smooth(8192) == 8192);
    // D strictly falls along every chain; 1D chains have kh = 0.
    for (int64_t LH : {1, 2, 3, 6, 7, 10, 12, 15, 35})
        for (int64_t LW : {1, 2, 3, 5, 8, 9, 14, 48, 54}) {
            const std::vector<Box> ch = blref::box_chain(LH, LW);
            CHECK(ch.front() == (Box{0, 0}) && ch.back() == blref::full_box(LH, LW));
            for (size_t k = 1; k < ch.size(); ++k)
                CHECK_MSG(blref::discarded_coeffs(LH, LW, ch[k]) < blref::discarded_coeffs(LH, LW, ch[k - 1]),
                          fmt("LH=%d LW=%d k=%d", (int)LH, (int)LW, (int)k));
        }
}

// ==========================================================================================
// Golden file through the library
// ==========================================================================================

static void path_body_1();
BL_TEST("golden: the 12 golden cases (2D plans, and 1D plans for H = KH = 1) [every backend and CPU path]") { for_each_target(path_body_1); }
static void path_body_1() {
    const Json root = read_json(golden_path());
    const Json& cases = root.at("cases");
    REQUIRE(cases.size() == 12);
    Worst worst;
    int runs = 0;
    for (const auto& kv : cases.items()) {
        const std::string& name = kv.key();
        const Json& c = kv.value();
        const Json& ge = c.at("geometry");
        const Geom g = golden_geom(ge);
        const bool is_energy = ge.contains("E");
        const bl_compression comp = is_energy ? energy(ge.at("E").get<double>()) : fixed(ge.at("rho").get<double>());
        const Box gbox{c.at("box").at(0).get<int64_t>(), c.at("box").at(1).get<int64_t>()};
        const double grate = c.at("achieved_rate").get<double>();
        const std::vector<float> x = c.at("x").get<std::vector<float>>(), w = c.at("w").get<std::vector<float>>(),
                                 b = c.at("b").get<std::vector<float>>(), dy = c.at("dy").get<std::vector<float>>();
        std::vector<bool> ways{false};
        if (g.H == 1 && g.KH == 1) ways.push_back(true);
        for (bool one_d : ways) {
            const std::string ctx = name + (one_d ? " [1d plan]" : " [2d plan]");
            Layer L(g, one_d, comp);
            CHECK_MSG(L.LH == c.at("fft_lengths").at(0).get<int64_t>() && L.LW == c.at("fft_lengths").at(1).get<int64_t>(),
                      ctx + fmt(": fft lengths %d,%d", (int)L.LH, (int)L.LW));
            CHECK_MSG(L.Ho == c.at("y_shape").at(2).get<int64_t>() && L.Wo == c.at("y_shape").at(3).get<int64_t>(),
                      ctx + ": output size");
            bl_box pbox{-1, -1};
            double prate = -1;
            CHECK_OK(bl_plan_box(L.plan, &pbox, &prate));
            if (!is_energy) {
                CHECK_MSG(pbox.kh == gbox.kh && pbox.kw == gbox.kw,
                          ctx + fmt(": plan box %d,%d", (int)pbox.kh, (int)pbox.kw));
                CHECK_MSG(std::fabs(prate - grate) <= 1e-12, ctx + fmt(": plan rate %.17g", prate));
            } else {  // header: energy plans report the full box, rate 0
                CHECK_MSG(pbox.kh == L.LH / 2 && pbox.kw == L.LW / 2 && prate == 0.0,
                          ctx + fmt(": energy plan box %d,%d rate %g", (int)pbox.kh, (int)pbox.kw, prate));
            }
            Out o = execute(L, g.N, x, w, &b, &dy);
            CHECK_MSG(o.box.kh == gbox.kh && o.box.kw == gbox.kw,
                      ctx + fmt(": forward box %d,%d", (int)o.box.kh, (int)o.box.kw));
            double orate = -1;
            CHECK_OK(bl_plan_box_rate(L.plan, o.box, &orate));
            CHECK_MSG(std::fabs(orate - grate) <= 1e-12, ctx + fmt(": forward box rate %.17g", orate));
            check_all(L, g.N, o, c.at("y").get<std::vector<double>>(), c.at("dx").get<std::vector<double>>(), c.at("dw").get<std::vector<double>>(),
                      c.at("db").get<std::vector<double>>(), ctx, &worst);
            ++runs;
        }
    }
    CHECK(runs == 15);  // 12 cases, 3 of them 1D
    worst.print("golden");
}

// ==========================================================================================
// Geometry: FFT lengths and fixed boxes
// ==========================================================================================

BL_TEST("geometry: FFT lengths are the smallest 7-smooth >= padded size (1D L=1..160, 2D, benchmark sizes)") {
    for (int64_t L = 1; L <= 160; ++L) {
        Geom g;
        g.W = L;
        g.KW = L % 3 + 1 <= L ? L % 3 + 1 : 1;
        g.pl = L % 2;
        g.pr = (L / 2) % 3;
        Layer P(g, true, fixed(0));
        CHECK_MSG(P.LH == 1 && P.LW == blref::next_7smooth(g.Wp()),
                  fmt("1d L=%d Lp=%d: got %d", (int)L, (int)g.Wp(), (int)P.LW));
    }
    for (int64_t H = 1; H <= 40; H += 3) {
        Geom g{1, 1, H, 41 - H, 1, 1, 1, 1, H % 2, 0, 0, 1, 1};  // N C H W F KH KW, pads t b l r, strides
        Layer P(g, false, fixed(0));
        CHECK_MSG(P.LH == blref::next_7smooth(g.Hp()) && P.LW == blref::next_7smooth(g.Wp()),
                  fmt("2d Hp=%d Wp=%d: got %d,%d", (int)g.Hp(), (int)g.Wp(), (int)P.LH, (int)P.LW));
    }
    // Lengths that the benchmark layers get (ALGORITHM.md section 2).
    struct {
        int64_t Lp, expect;
    } bench[] = {{34, 35}, {17, 18}, {10, 10}, {6, 6}, {66, 70}, {80, 80}, {93, 96}, {5003, 5040}, {5120, 5120}, {8192, 8192}};
    for (const auto& bc : bench) {
        Geom g;
        g.W = bc.Lp;
        g.KW = 3;
        Layer P(g, true, fixed(0));
        CHECK_MSG(P.LW == bc.expect, fmt("Lp=%d: LW %d, want %d", (int)bc.Lp, (int)P.LW, (int)bc.expect));
    }
}

BL_TEST("geometry: fixed box = reference on a rho grid, exact chain rates, monotone achieved rate") {
    const GeoCase* tables[2] = {kDenseCases, kBandCases};
    const size_t sizes[2] = {sizeof kDenseCases / sizeof kDenseCases[0], sizeof kBandCases / sizeof kBandCases[0]};
    int plans = 0;
    for (int t = 0; t < 2; ++t)
        for (size_t i = 0; i < sizes[t]; i += 2) {
            const GeoCase& gc = tables[t][i];
            const Geom g = gc.geom();
            const int64_t LH = blref::next_7smooth(g.Hp()), LW = blref::next_7smooth(g.Wp());
            std::vector<double> rhos;
            for (int k = 0; k < 100; k += 3) rhos.push_back(k / 100.0);
            rhos.push_back(0.29);
            rhos.push_back(0.999);
            for (const Box& b : blref::box_chain(LH, LW)) {  // exactly achievable rates
                const double r = blref::box_rate(LH, LW, b);
                if (r < 1.0) rhos.push_back(r);
            }
            std::sort(rhos.begin(), rhos.end());
            double prev = -1;
            for (double rho : rhos) {
                Layer P(g, gc.one_d != 0, fixed(rho));
                ++plans;
                const Box want = blref::fixed_box(LH, LW, rho);
                bl_box got{-1, -1};
                double rate = -1;
                CHECK_OK(bl_plan_box(P.plan, &got, &rate));
                const std::string ctx = std::string(gc.name) + fmt(" rho=%.17g", rho);
                CHECK_MSG(got.kh == want.kh && got.kw == want.kw,
                          ctx + fmt(": box %d,%d want %d,%d", (int)got.kh, (int)got.kw, (int)want.kh, (int)want.kw));
                CHECK_MSG(std::fabs(rate - blref::box_rate(LH, LW, want)) <= 1e-12, ctx + fmt(": rate %.17g", rate));
                CHECK_MSG(rate <= rho + 1e-9, ctx + ": achieved rate above rho");
                CHECK_MSG(rate >= prev, ctx + ": achieved rate decreased");
                prev = rate;
            }
        }
    // Decimal rates that are exactly achievable but whose rho * total rounds below D in float64
    // (0.58 * 50 = 28.999999999999996): the 1e-9 slack must accept them (section 3).
    struct {
        int64_t LH, LW;
        double rho;
        int64_t kh, kw;
    } slack[] = {{10, 8, 0.58, 3, 2}, {5, 18, 0.58, 1, 6}, {6, 28, 0.7, 1, 8}, {15, 10, 0.7, 4, 2}, {10, 18, 0.58, 3, 5}};
    for (const auto& sc : slack) {
        Geom g;
        g.H = sc.LH;  // 7-smooth already, 1x1 kernel, no padding: LH = H, LW = W
        g.W = sc.LW;
        const Box want{sc.kh, sc.kw};
        CHECK(blref::fixed_box(sc.LH, sc.LW, sc.rho) == want);
        CHECK(sc.rho * static_cast<double>(blref::total_coeffs(sc.LH, sc.LW)) <
              static_cast<double>(blref::discarded_coeffs(sc.LH, sc.LW, want)));
        Layer P(g, false, fixed(sc.rho));
        bl_box got{-1, -1};
        double rate = -1;
        CHECK_OK(bl_plan_box(P.plan, &got, &rate));
        CHECK_MSG(P.LH == sc.LH && P.LW == sc.LW && got.kh == sc.kh && got.kw == sc.kw,
                  fmt("L=%dx%d rho=%.2f: box %d,%d want %d,%d (the 1e-9 slack)", (int)sc.LH, (int)sc.LW, sc.rho,
                      (int)got.kh, (int)got.kw, (int)sc.kh, (int)sc.kw));
        ++plans;
    }
    std::printf("    %d plans checked\n", plans);
}

// ==========================================================================================
// Dense agreement (rho = 0)
// ==========================================================================================

static void path_body_2();
BL_TEST("dense: rho = 0 equals the float64 direct sum (y with bias, dx, dw, db) on the geometry table [every backend and CPU path]") { for_each_target(path_body_2); }
static void path_body_2() {
    const size_t count = sizeof kDenseCases / sizeof kDenseCases[0];
    CHECK(count >= 40);
    Worst worst;
    for (size_t i = 0; i < count; ++i) {
        const GeoCase& gc = kDenseCases[i];
        const Geom g = gc.geom();
        const uint64_t seed = 1000 + i;
        const std::string ctx = fmt("dense[%d] \"%s\" seed %d: ", (int)i, gc.name, (int)seed) + geom_str(g, gc.one_d != 0) +
                                fmt(" n=%d", (int)gc.n);
        Layer L(g, gc.one_d != 0, fixed(0.0));
        CHECK_MSG(L.LH == blref::next_7smooth(g.Hp()) && L.LW == blref::next_7smooth(g.Wp()), ctx + ": fft lengths");
        CHECK_MSG(L.Ho == g.Ho() && L.Wo == g.Wo(), ctx + ": output size");
        bl_box pbox{-1, -1};
        double rate = -1;
        CHECK_OK(bl_plan_box(L.plan, &pbox, &rate));
        CHECK_MSG(pbox.kh == L.LH / 2 && pbox.kw == L.LW / 2 && rate == 0.0, ctx + ": rho 0 must be the full box");
        Data d(g, gc.n, seed);
        Out o = execute(L, gc.n, d.x, d.w, &d.b, &d.dy);
        const std::vector<double> y = blref::dense_forward(g, gc.n, d.xd.data(), d.wd.data(), d.bd.data());
        std::vector<double> dx, dw, db;
        blref::dense_backward(g, gc.n, d.xd.data(), d.wd.data(), d.dyd.data(), dx, dw, db);
        check_all(L, gc.n, o, y, dx, dw, db, ctx, &worst);
    }
    std::printf("    %d geometries\n", (int)count);
    worst.print("dense");
}

// The plan geometry of a case (the backend's own view, for cost-model preconditions).
bl::Geometry geometry_of(const GeoCase& gc) {
    bl::Geometry geometry;
    bl::GeometryError err;
    REQUIRE(bl::make_geometry(bl_conv2d_desc{gc.N, gc.C, gc.H, gc.W, gc.F, gc.KH, gc.KW, gc.pt, gc.pb, gc.pl, gc.pr,
                                             gc.sh, gc.sw},
                              true, &geometry, &err) == BL_OK);
    return geometry;
}

// One dense (rho 0) case on fresh random data against the float64 direct sums.
void check_dense_case(const GeoCase& gc, uint64_t seed, const std::string& ctx, Worst* worst) {
    const Geom g = gc.geom();
    Layer L(g, gc.one_d != 0, fixed(0.0));
    Data d(g, gc.n, seed);
    Out o = execute(L, gc.n, d.x, d.w, &d.b, &d.dy);
    const std::vector<double> y = blref::dense_forward(g, gc.n, d.xd.data(), d.wd.data(), d.bd.data());
    std::vector<double> dx, dw, db;
    blref::dense_backward(g, gc.n, d.xd.data(), d.wd.data(), d.dyd.data(), dx, dw, db);
    check_all(L, gc.n, o, y, dx, dw, db, ctx, worst);
}

static void path_body_long_rows();
BL_TEST("dense: rows too long for the batched FFT (one plane at a time) equal the float64 direct sum [every backend and CPU path]") { for_each_target(path_body_long_rows); }
static void path_body_long_rows() {
    // LW = 22,050 > the ~21,800 up to which a 16-plane block's scratch fits kMaxBatchedFftFloats
    // (cost_model.h): the CPU backend transforms these rows one plane at a time.
    const GeoCase gc{"1d L=22000 k9 one-plane FFT", 1, 1, 2, 1, 22000, 2, 1, 9, 0, 0, 4, 4, 1, 1, 1};
    const std::string ctx = std::string(gc.name) + ": " + geom_str(gc.geom(), true);
    REQUIRE_MSG(!bl::cpu::use_batched_fft(geometry_of(gc)), ctx + ": the case no longer exceeds the batched FFT's limit");
    Worst worst;
    check_dense_case(gc, 999, ctx, &worst);
    worst.print("long rows");
}

static void path_body_streamed();
BL_TEST("dense: weight spectra large enough to be written with streaming stores equal the float64 direct sum [every backend and CPU path]") { for_each_target(path_body_streamed); }
static void path_body_streamed() {
    // W^ of 48 x 48 filters at 35 x 18 coefficients is 8.7 MB >= kStreamStoreBytes (cost_model.h):
    // the CPU backend's forward writes it past the caches (stream_store.inc).
    const GeoCase gc{"3x3 32x32 48ch streamed W^", 2, 2, 48, 32, 32, 48, 3, 3, 1, 1, 1, 1, 1, 1, 0};
    const std::string ctx = std::string(gc.name) + ": " + geom_str(gc.geom(), false);
    const bl::Geometry geometry = geometry_of(gc);
    REQUIRE_MSG(bl::cpu::stream_spectrum(bl::kept_count(geometry, bl::Box{geometry.LH / 2, geometry.LW / 2}), gc.F * gc.C),
                ctx + ": W^ no longer reaches the streaming threshold");
    Worst worst;
    check_dense_case(gc, 4242, ctx, &worst);
    worst.print("streamed W^");
}

static void path_body_tiled();
BL_TEST("dense: transposed spectra of small planes by 16 x 16 item tiles (w and dy) equal the float64 direct sum [every backend and CPU path]") { for_each_target(path_body_tiled); }
static void path_body_tiled() {
    // W^ ([c][f]) and dY^ ([f][n]) are stored transposed; with 16 | N, C, F and planes of at
    // most 64 values the CPU backend gathers them by tiles of 16 x 16 (or 16 x 32, 16 x 48)
    // items (cpu_backend.cpp, kDftTileMaxPlane): F = 48 gives three lane groups for w, N = 16 one.
    const GeoCase cases[] = {
        {"8x8 3x3 tiled w and dy", 16, 16, 16, 8, 8, 48, 3, 3, 1, 1, 1, 1, 1, 1, 0},
        {"4x4 3x3 tiled w and dy", 32, 32, 32, 4, 4, 16, 3, 3, 1, 1, 1, 1, 1, 1, 0},
    };
    Worst worst;
    for (const GeoCase& gc : cases) check_dense_case(gc, 4343, std::string(gc.name) + ": " + geom_str(gc.geom(), false), &worst);
    worst.print("tiled transposed spectra");
}

static void path_body_dw_tiles();
BL_TEST("dense: the weight gradient by (filter x channel) tiles, products and inverses fused, equals the float64 direct sum [every backend and CPU path]") { for_each_target(path_body_dw_tiles); }
static void path_body_dw_tiles() {
    // dW^ of 384 x 384 at 24 coefficients is 28 MB, of 160 x 160 4.9 MB, both >= kDwTileMinBytes
    // (cost_model.h): the CPU backend computes dw by tiles of 40 filters x 128 channels
    // (cpu_backend.cpp, weight_gradient_tiled); 384 channels: 10 x 3 tiles, the last row 24
    // filters; 160 channels: 4 x 2 tiles, the last column 32 channels.
    const GeoCase cases[] = {
        {"4x4 3x3 384ch tiled dw", 2, 2, 384, 4, 4, 384, 3, 3, 1, 1, 1, 1, 1, 1, 0},
        {"4x4 3x3 160ch tiled dw", 2, 2, 160, 4, 4, 160, 3, 3, 1, 1, 1, 1, 1, 1, 0},
    };
    // At N = 2 the cost model would take the spatial weight gradient: force the spectral one.
    const int32_t product = g_product;
    g_product = BL_PRODUCT_SPECTRAL;
    Worst worst;
    for (const GeoCase& gc : cases) {
        const std::string ctx = std::string(gc.name) + ": " + geom_str(gc.geom(), false);
        const bl::Geometry geometry = geometry_of(gc);
        const int64_t kept = bl::kept_count(geometry, bl::Box{geometry.LH / 2, geometry.LW / 2});
        REQUIRE_MSG(2 * kept * gc.F * gc.C * int64_t(sizeof(float)) >= bl::cpu::kDwTileMinBytes,
                    ctx + ": dW^ no longer reaches the tiled weight gradient's threshold");
        check_dense_case(gc, 4444, ctx, &worst);
    }
    g_product = product;
    worst.print("tiled weight gradient");
}

static void path_body_paper();
BL_TEST("paper baseline: power-of-two lengths >= padded input + kernel - 1; rho 0 / 0.5 equal the float64 reference at those lengths (y, dx, dw, db) [every backend and CPU path]") { for_each_target(path_body_paper); }
static void path_body_paper() {
    Worst worst;
    g_method = BL_METHOD_PAPER_BASELINE;
    try {
        for (size_t i = 0; i < sizeof kBandCases / sizeof kBandCases[0]; ++i) {
            const GeoCase& gc = kBandCases[i];
            const Geom g = gc.geom();
            const int64_t LH = blref::next_pow2(g.Hp() + g.KH - 1), LW = blref::next_pow2(g.Wp() + g.KW - 1);
            Data d(g, gc.n, 5100 + i);
            for (double rho : {0.0, 0.5}) {
                const std::string ctx = fmt("paper[%d] \"%s\" rho=%.2f: ", (int)i, gc.name, rho) + geom_str(g, gc.one_d != 0);
                Layer L(g, gc.one_d != 0, fixed(rho));
                CHECK_MSG(L.LH == LH && L.LW == LW,
                          ctx + fmt(": fft lengths %d x %d, want %d x %d", (int)L.LH, (int)L.LW, (int)LH, (int)LW));
                const Box want = blref::fixed_box(LH, LW, rho);
                Out o = execute(L, gc.n, d.x, d.w, &d.b, &d.dy);
                CHECK_MSG(o.box.kh == want.kh && o.box.kw == want.kw, ctx + ": forward out_box");
                const std::vector<double> y = blref::bl_forward(g, gc.n, d.xd.data(), d.wd.data(), d.bd.data(), LH, LW, want);
                std::vector<double> dx, dw, db;
                blref::bl_backward(g, gc.n, d.xd.data(), d.wd.data(), d.dyd.data(), LH, LW, want, dx, dw, db);
                check_all(L, gc.n, o, y, dx, dw, db, ctx, &worst);
            }
        }
    } catch (...) {
        g_method = BL_METHOD_BANDLIMIT;
        throw;
    }
    g_method = BL_METHOD_BANDLIMIT;
    worst.print("paper baseline");
}

// ==========================================================================================
// Band-limited agreement
// ==========================================================================================

static void path_body_3();
BL_TEST("band-limited: rho 0.25/0.5/0.9 and energy mode equal the naive-DFT reference (box, rate, y, dx, dw, db) [every backend and CPU path]") { for_each_target(path_body_3); }
static void path_body_3() {
    const size_t count = sizeof kBandCases / sizeof kBandCases[0];
    Worst worst;
    int runs = 0, energy_runs = 0;
    const double targets[3] = {0.5, 0.8, 0.95};
    for (size_t i = 0; i < count; ++i) {
        const GeoCase& gc = kBandCases[i];
        const Geom g = gc.geom();
        const uint64_t seed = 2000 + i;
        const int64_t LH = blref::next_7smooth(g.Hp()), LW = blref::next_7smooth(g.Wp());
        const std::string base = fmt("band[%d] \"%s\" seed %d: ", (int)i, gc.name, (int)seed) +
                                 geom_str(g, gc.one_d != 0) + fmt(" n=%d", (int)gc.n);
        // Fixed rates.
        Data d(g, gc.n, seed);
        for (double rho : {0.25, 0.5, 0.9}) {
            const std::string ctx = base + fmt(" rho=%.2f", rho);
            Layer L(g, gc.one_d != 0, fixed(rho));
            CHECK_MSG(L.LH == LH && L.LW == LW, ctx + ": fft lengths");
            const Box want = blref::fixed_box(LH, LW, rho);
            bl_box pbox{-1, -1};
            double rate = -1;
            CHECK_OK(bl_plan_box(L.plan, &pbox, &rate));
            CHECK_MSG(pbox.kh == want.kh && pbox.kw == want.kw,
                      ctx + fmt(": plan box %d,%d want %d,%d", (int)pbox.kh, (int)pbox.kw, (int)want.kh, (int)want.kw));
            CHECK_MSG(std::fabs(rate - blref::box_rate(LH, LW, want)) <= 1e-12, ctx + ": achieved rate");
            Out o = execute(L, gc.n, d.x, d.w, &d.b, &d.dy);
            CHECK_MSG(o.box.kh == want.kh && o.box.kw == want.kw, ctx + ": forward out_box");
            const std::vector<double> y = blref::bl_forward(g, gc.n, d.xd.data(), d.wd.data(), d.bd.data(), LH, LW, want);
            std::vector<double> dx, dw, db;
            blref::bl_backward(g, gc.n, d.xd.data(), d.wd.data(), d.dyd.data(), LH, LW, want, dx, dw, db);
            check_all(L, gc.n, o, y, dx, dw, db, ctx + fmt(" box %d,%d", (int)want.kh, (int)want.kw), &worst);
            ++runs;
        }
        // Energy mode: low-pass x, white dy; E from the reference's chain fractions.
        Data de(g, gc.n, seed + 500, /*smooth_x=*/g.H > 2 || g.W > 2);
        const std::vector<double> frac = blref::chain_energy_fractions(g, gc.n, de.xd.data(), LH, LW);
        double E = 0;
        const int k = pick_energy(frac, targets[i % 3], &E);
        if (k < 0) {
            std::printf("    %s: no energy fraction gap, energy mode skipped\n", base.c_str());
            continue;
        }
        const Box want = blref::box_chain(LH, LW)[static_cast<size_t>(k)];
        CHECK(blref::energy_box_from_fractions(LH, LW, frac, E) == want);
        const std::string ctx = base + fmt(" E=%.6f", E);
        Layer L(g, gc.one_d != 0, energy(E));
        Out o = execute(L, gc.n, de.x, de.w, &de.b, &de.dy);
        CHECK_MSG(o.box.kh == want.kh && o.box.kw == want.kw,
                  ctx + fmt(": energy box %d,%d want %d,%d", (int)o.box.kh, (int)o.box.kw, (int)want.kh, (int)want.kw));
        double rate = -1;
        CHECK_OK(bl_plan_box_rate(L.plan, o.box, &rate));
        CHECK_MSG(std::fabs(rate - blref::box_rate(LH, LW, want)) <= 1e-12, ctx + ": box rate");
        // The backward must use the forward's box (never one recomputed from dy).
        const std::vector<double> y = blref::bl_forward(g, gc.n, de.xd.data(), de.wd.data(), de.bd.data(), LH, LW, want);
        std::vector<double> dx, dw, db;
        blref::bl_backward(g, gc.n, de.xd.data(), de.wd.data(), de.dyd.data(), LH, LW, want, dx, dw, db);
        check_all(L, gc.n, o, y, dx, dw, db, ctx + fmt(" box %d,%d", (int)want.kh, (int)want.kw), &worst);
        ++energy_runs;
        // Separate backward calls also use the forward's box.
        Out s = execute(L, gc.n, de.x, de.w, &de.b, &de.dy, Bwd::Split);
        check_all(L, gc.n, s, y, dx, dw, db, ctx + " (split backward)", &worst);
    }
    std::printf("    %d fixed-rate runs, %d energy runs\n", runs, energy_runs);
    CHECK(energy_runs >= 12);
    worst.print("band-limited");
}

static void body_energy_batch();
BL_TEST("band-limited: energy mode chooses the box from the batch of the call (n < max_batch, n varies) [every backend and CPU path]") { for_each_target(body_energy_batch); }
static void body_energy_batch() {
    // The same plan, called with n = 1 and n = 3, must choose the box of exactly those samples.
    Geom g{4, 2, 10, 9, 2, 3, 3, 1, 1, 1, 1, 1, 1};  // N C H W F KH KW, pads t b l r, strides
    const int64_t LH = blref::next_7smooth(g.Hp()), LW = blref::next_7smooth(g.Wp());
    Data d(g, 3, 77, true);
    // Sample 0 white (undo smoothing for it): its own box is larger than the 3-sample box.
    std::mt19937_64 rng(78);
    std::vector<float> white = blref::random_uniform(rng, static_cast<size_t>(g.C * g.H * g.W));
    std::copy(white.begin(), white.end(), d.x.begin());
    d.refresh();
    const std::vector<double> f1 = blref::chain_energy_fractions(g, 1, d.xd.data(), LH, LW);
    const std::vector<double> f3 = blref::chain_energy_fractions(g, 3, d.xd.data(), LH, LW);
    // One E at least 1e-3 away from every fraction of both batches.
    double E = -1;
    for (int k = 500; k < 1000 && E < 0; ++k) {
        const double e = k / 1000.0;
        bool ok = true;
        for (double v : f1) ok = ok && std::fabs(v - e) >= 1e-3;
        for (double v : f3) ok = ok && std::fabs(v - e) >= 1e-3;
        if (ok && blref::energy_box_from_fractions(LH, LW, f1, e) != blref::energy_box_from_fractions(LH, LW, f3, e)) E = e;
    }
    REQUIRE(E > 0);
    Layer L(g, false, energy(E));
    Worst worst;
    for (int64_t n : {int64_t(1), int64_t(3)}) {
        const Box want = blref::energy_box_from_fractions(LH, LW, n == 1 ? f1 : f3, E);
        std::vector<float> dy(d.dy.begin(), d.dy.begin() + static_cast<std::ptrdiff_t>(g.y_size(n)));
        std::vector<double> dyd(dy.begin(), dy.end());
        Out o = execute(L, n, d.x, d.w, &d.b, &dy);
        const std::string ctx = fmt("E=%.3f n=%d", E, (int)n);
        CHECK_MSG(o.box.kh == want.kh && o.box.kw == want.kw,
                  ctx + fmt(": box %d,%d want %d,%d", (int)o.box.kh, (int)o.box.kw, (int)want.kh, (int)want.kw));
        const std::vector<double> y = blref::bl_forward(g, n, d.xd.data(), d.wd.data(), d.bd.data(), LH, LW, want);
        std::vector<double> dx, dw, db;
        blref::bl_backward(g, n, d.xd.data(), d.wd.data(), dyd.data(), LH, LW, want, dx, dw, db);
        check_all(L, n, o, y, dx, dw, db, ctx, &worst);
    }
    worst.print("energy batch");
}

// ==========================================================================================
// Spectra modes, backward variants
// ==========================================================================================

namespace {
struct ModeCase {
    int table_index;  // into kBandCases
    bool use_energy;
    double rho;
};
const ModeCase kModeCases[] = {{0, false, 0.0}, {1, false, 0.5}, {6, false, 0.25}, {8, false, 0.9},
                               {12, true, 0}, {3, true, 0}, {14, false, 0.5}, {10, false, 0.5}};
}  // namespace

static void body_spectra_modes();
BL_TEST("spectra modes: INPUT_AND_WEIGHT and INPUT_ONLY give the same y/dx/dw/db, both match the reference [every backend and CPU path]") { for_each_target(body_spectra_modes); }
static void body_spectra_modes() {
    Worst worst;
    for (const ModeCase& mc : kModeCases) {
        const GeoCase& gc = kBandCases[mc.table_index];
        const Geom g = gc.geom();
        const int64_t LH = blref::next_7smooth(g.Hp()), LW = blref::next_7smooth(g.Wp());
        Data d(g, gc.n, 3000 + mc.table_index, mc.use_energy);
        bl_compression comp = fixed(mc.rho);
        Box want = blref::fixed_box(LH, LW, mc.rho);
        if (mc.use_energy) {
            const std::vector<double> frac = blref::chain_energy_fractions(g, gc.n, d.xd.data(), LH, LW);
            double E = 0;
            const int k = pick_energy(frac, 0.9, &E);
            REQUIRE(k >= 0);
            comp = energy(E);
            want = blref::box_chain(LH, LW)[static_cast<size_t>(k)];
        }
        const std::string ctx = fmt("\"%s\" %s=%.4f", gc.name, mc.use_energy ? "E" : "rho", comp.value);
        Layer A(g, gc.one_d != 0, comp, BL_SPECTRA_INPUT_AND_WEIGHT);
        Layer B(g, gc.one_d != 0, comp, BL_SPECTRA_INPUT_ONLY);
        CHECK_MSG(B.saved_bytes < A.saved_bytes,
                  ctx + fmt(": INPUT_ONLY saved bytes %lld not below INPUT_AND_WEIGHT %lld",
                            (long long)B.saved_bytes, (long long)A.saved_bytes));
        Out oa = execute(A, gc.n, d.x, d.w, &d.b, &d.dy);
        Out ob = execute(B, gc.n, d.x, d.w, &d.b, &d.dy);
        CHECK_MSG(oa.box.kh == want.kh && oa.box.kw == want.kw && ob.box.kh == want.kh && ob.box.kw == want.kw,
                  ctx + ": box");
        // Agreement between the modes, to float rounding (relative to each other).
        const std::vector<double> ya = blref::to_double(oa.y), dxa = blref::to_double(oa.dx),
                                  dwa = blref::to_double(oa.dw), dba = blref::to_double(oa.db);
        CHECK_MSG(blref::rel_l2_error(ob.y, ya) <= blref::bound_y(g, LH, LW), ctx + ": y differs between modes");
        CHECK_MSG(blref::rel_l2_error(ob.dx, dxa) <= blref::bound_dx(g, LH, LW), ctx + ": dx differs between modes");
        CHECK_MSG(blref::rel_l2_error(ob.dw, dwa) <= blref::bound_dw(g, gc.n, LH, LW), ctx + ": dw differs between modes");
        CHECK_MSG(blref::rel_l2_error(ob.db, dba) <= blref::bound_db(g, gc.n), ctx + ": db differs between modes");
        const std::vector<double> y = blref::bl_forward(g, gc.n, d.xd.data(), d.wd.data(), d.bd.data(), LH, LW, want);
        std::vector<double> dx, dw, db;
        blref::bl_backward(g, gc.n, d.xd.data(), d.wd.data(), d.dyd.data(), LH, LW, want, dx, dw, db);
        check_all(A, gc.n, oa, y, dx, dw, db, ctx + " INPUT_AND_WEIGHT", &worst);
        check_all(B, gc.n, ob, y, dx, dw, db, ctx + " INPUT_ONLY", &worst);
        // INPUT_ONLY through the separate calls too (backward_data reads w).
        Out os = execute(B, gc.n, d.x, d.w, &d.b, &d.dy, Bwd::Split);
        check_all(B, gc.n, os, y, dx, dw, db, ctx + " INPUT_ONLY split", &worst);
    }
    worst.print("spectra modes");
}

static void body_backward_split();
BL_TEST("backward: bl_backward == bl_backward_data + bl_backward_weights (bitwise), and with NULL outputs [every backend and CPU path]") { for_each_target(body_backward_split); }
static void body_backward_split() {
    for (int32_t mode : {BL_SPECTRA_INPUT_AND_WEIGHT, BL_SPECTRA_INPUT_ONLY})
        for (const ModeCase& mc : kModeCases) {
            const GeoCase& gc = kBandCases[mc.table_index];
            const Geom g = gc.geom();
            Data d(g, gc.n, 4000 + mc.table_index);
            const bl_compression comp = mc.use_energy ? energy(0.9) : fixed(mc.rho);
            const std::string ctx = fmt("\"%s\" %s mode %d", gc.name, mc.use_energy ? "energy 0.9" : fmt("rho %.2f", mc.rho).c_str(), mode);
            Layer L(g, gc.one_d != 0, comp, mode);
            const int64_t n = gc.n;
            std::vector<float> y(static_cast<size_t>(g.y_size(n)));
            Buf saved(L.saved_bytes), ws(L.ws_bytes);
            REQUIRE_OK(t_forward(L.plan, n, d.x.data(), d.w.data(), d.b.data(), y.data(), saved.p, saved.bytes,
                                  ws.p, ws.bytes, nullptr));
            const size_t nx = static_cast<size_t>(g.x_size(n)), nw = static_cast<size_t>(g.w_size()),
                         nb = static_cast<size_t>(g.F);
            std::vector<float> dx1(nx, kUnwritten), dw1(nw, kUnwritten), db1(nb, kUnwritten);
            std::vector<float> dx2(nx, -kUnwritten), dw2(nw, -kUnwritten), db2(nb, -kUnwritten);
            REQUIRE_OK(t_backward(L.plan, n, saved.p, saved.bytes, d.w.data(), d.dy.data(), dx1.data(), dw1.data(),
                                   db1.data(), ws.p, ws.bytes));
            REQUIRE_OK(t_backward_data(L.plan, n, saved.p, saved.bytes, d.w.data(), d.dy.data(), dx2.data(), ws.p,
                                        ws.bytes));
            REQUIRE_OK(t_backward_weights(L.plan, n, saved.p, saved.bytes, d.dy.data(), dw2.data(), db2.data(), ws.p,
                                           ws.bytes));
            CHECK_MSG(same_bits(dx1, dx2), ctx + fmt(": dx max diff %.3e", max_abs_diff(dx1, dx2)));
            CHECK_MSG(same_bits(dw1, dw2), ctx + fmt(": dw max diff %.3e", max_abs_diff(dw1, dw2)));
            CHECK_MSG(same_bits(db1, db2), ctx + fmt(": db max diff %.3e", max_abs_diff(db1, db2)));
            // NULL outputs: only dx; only dw; only db; weights without db. w is NULL where the
            // header allows it (not read unless INPUT_ONLY and dx wanted).
            std::vector<float> dx3(nx, kUnwritten), dw3(nw, kUnwritten), db3(nb, kUnwritten), dw4(nw, kUnwritten);
            const float* w_dx = mode == BL_SPECTRA_INPUT_ONLY ? d.w.data() : nullptr;
            CHECK_OK(t_backward(L.plan, n, saved.p, saved.bytes, w_dx, d.dy.data(), dx3.data(), nullptr, nullptr,
                                 ws.p, ws.bytes));
            CHECK_OK(t_backward(L.plan, n, saved.p, saved.bytes, nullptr, d.dy.data(), nullptr, dw3.data(), nullptr,
                                 ws.p, ws.bytes));
            CHECK_OK(t_backward(L.plan, n, saved.p, saved.bytes, nullptr, d.dy.data(), nullptr, nullptr, db3.data(),
                                 ws.p, ws.bytes));
            CHECK_OK(t_backward_weights(L.plan, n, saved.p, saved.bytes, d.dy.data(), dw4.data(), nullptr, ws.p,
                                         ws.bytes));
            CHECK_MSG(same_bits(dx1, dx3), ctx + ": dx alone differs");
            CHECK_MSG(same_bits(dw1, dw3), ctx + ": dw alone differs");
            CHECK_MSG(same_bits(db1, db3), ctx + ": db alone differs");
            CHECK_MSG(same_bits(dw1, dw4), ctx + ": backward_weights without db differs");
            // A second backward from the same saved spectra gives the same result (saved is read-only).
            std::vector<float> dx5(nx), dw5(nw), db5(nb);
            CHECK_OK(t_backward(L.plan, n, saved.p, saved.bytes, d.w.data(), d.dy.data(), dx5.data(), dw5.data(),
                                 db5.data(), ws.p, ws.bytes));
            CHECK_MSG(same_bits(dx1, dx5) && same_bits(dw1, dw5) && same_bits(db1, db5), ctx + ": repeated backward differs");
        }
}

// ==========================================================================================
// Adjoint
// ==========================================================================================

static void path_body_4();
BL_TEST("adjoint: <y(x),dy> = <x,dx(dy)> and <y(w),dy> = <w,dw(dy)> at rho 0/0.5/0.9 and energy [every backend and CPU path]") { for_each_target(path_body_4); }
static void path_body_4() {
    const int rows[] = {0, 1, 2, 5, 6, 7, 8, 9, 11, 12, 13, 14};  // into kBandCases: 2D, stride, 1D
    double worst_x = 0, worst_w = 0;
    int checks = 0;
    for (int r : rows) {
        const GeoCase& gc = kBandCases[r];
        const Geom g = gc.geom();
        for (int m = 0; m < 4; ++m) {
            const bl_compression comp = m == 0 ? fixed(0) : m == 1 ? fixed(0.5) : m == 2 ? fixed(0.9) : energy(0.9);
            Data d(g, gc.n, 5000 + r * 10 + m);
            Layer L(g, gc.one_d != 0, comp);
            Out o = execute(L, gc.n, d.x, d.w, nullptr, &d.dy);  // bias 0
            double ydy = 0, xdx = 0, wdw = 0, yy = 0, dd = 0;
            for (size_t k = 0; k < o.y.size(); ++k) {
                ydy += static_cast<double>(o.y[k]) * d.dy[k];
                yy += static_cast<double>(o.y[k]) * o.y[k];
                dd += static_cast<double>(d.dy[k]) * d.dy[k];
            }
            for (size_t k = 0; k < o.dx.size(); ++k) xdx += static_cast<double>(d.x[k]) * o.dx[k];
            for (size_t k = 0; k < o.dw.size(); ++k) wdw += static_cast<double>(d.w[k]) * o.dw[k];
            const double tol = 1e-5 * std::sqrt(yy) * std::sqrt(dd);
            const std::string ctx = g_path_tag + fmt("\"%s\" %s %.2f box %d,%d", gc.name, m == 3 ? "E" : "rho", comp.value,
                                        (int)o.box.kh, (int)o.box.kw);
            CHECK_MSG(std::fabs(ydy - xdx) <= tol,
                      ctx + fmt(": <y,dy>=%.9g <x,dx>=%.9g diff %.3e tol %.3e", ydy, xdx, std::fabs(ydy - xdx), tol));
            CHECK_MSG(std::fabs(ydy - wdw) <= tol,
                      ctx + fmt(": <y,dy>=%.9g <w,dw>=%.9g diff %.3e tol %.3e", ydy, wdw, std::fabs(ydy - wdw), tol));
            worst_x = std::max(worst_x, std::fabs(ydy - xdx) / tol);
            worst_w = std::max(worst_w, std::fabs(ydy - wdw) / tol);
            checks += 2;
        }
    }
    std::printf("    %d adjoint checks, worst |diff|/tol: x %.4f  w %.4f\n", checks, worst_x, worst_w);
}

// ==========================================================================================
// Inference, non-finite values, threads, counters
// ==========================================================================================

static void body_inference();
BL_TEST("inference: forward with saved = NULL gives the same y (and box) as with saved [every backend and CPU path]") { for_each_target(body_inference); }
static void body_inference() {
    for (int r : {0, 2, 6, 8, 12, 14}) {
        const GeoCase& gc = kBandCases[r];
        const Geom g = gc.geom();
        for (int m = 0; m < 3; ++m) {
            const bl_compression comp = m == 0 ? fixed(0) : m == 1 ? fixed(0.5) : energy(0.9);
            Data d(g, gc.n, 6000 + r);
            Layer L(g, gc.one_d != 0, comp);
            const std::string ctx = fmt("\"%s\" kind %d value %.2f", gc.name, comp.kind, comp.value);
            Out o = execute(L, gc.n, d.x, d.w, &d.b, nullptr, Bwd::None);
            std::vector<float> y(o.y.size(), kUnwritten);
            bl_box box{-1, -1};
            Buf ws(L.ws_bytes);
            CHECK_OK(t_forward(L.plan, gc.n, d.x.data(), d.w.data(), d.b.data(), y.data(), nullptr, 0, ws.p,
                                ws.bytes, &box));
            CHECK_MSG(same_bits(o.y, y), ctx + fmt(": y max diff %.3e", max_abs_diff(o.y, y)));
            CHECK_MSG(box.kh == o.box.kh && box.kw == o.box.kw, ctx + ": box");
            // out_box may be NULL.
            std::vector<float> y2(o.y.size(), kUnwritten);
            CHECK_OK(t_forward(L.plan, gc.n, d.x.data(), d.w.data(), d.b.data(), y2.data(), nullptr, 0, ws.p,
                                ws.bytes, nullptr));
            CHECK_MSG(same_bits(o.y, y2), ctx + ": y with out_box NULL");
            // No bias = bias 0.
            std::vector<float> zero(static_cast<size_t>(g.F), 0.0f), y3(o.y.size()), y4(o.y.size());
            CHECK_OK(t_forward(L.plan, gc.n, d.x.data(), d.w.data(), zero.data(), y3.data(), nullptr, 0, ws.p,
                                ws.bytes, nullptr));
            CHECK_OK(t_forward(L.plan, gc.n, d.x.data(), d.w.data(), nullptr, y4.data(), nullptr, 0, ws.p,
                                ws.bytes, nullptr));
            CHECK_MSG(max_abs_diff(y3, y4) == 0.0, ctx + ": bias NULL differs from bias 0");
        }
    }
}

namespace {
// Runs forward of a plan on x (2 samples) and returns y; box via out_box.
std::vector<float> forward_only(Layer& L, int64_t n, const std::vector<float>& x, const std::vector<float>& w,
                                const std::vector<float>& b, bl_box* box, bl_status* st) {
    std::vector<float> y(static_cast<size_t>(n * L.g.F * L.Ho * L.Wo), kUnwritten);
    Buf saved(L.saved_bytes), ws(L.ws_bytes);
    *st = t_forward(L.plan, n, x.data(), w.data(), b.data(), y.data(), saved.p, saved.bytes, ws.p, ws.bytes, box);
    return y;
}
}  // namespace

static void body_non_finite();
BL_TEST("non-finite: NaN / Inf in x[1] makes all of y[1] NaN, y[0] stays correct; energy mode picks the full box [every backend and CPU path]") { for_each_target(body_non_finite); }
static void body_non_finite() {
    const int rows[] = {0, 6, 8, 12};  // 2D, stride 2, stride 2x3, 1D
    for (int r : rows) {
        const GeoCase& gc = kBandCases[r];
        Geom g = gc.geom();
        g.N = 2;
        const int64_t LH = blref::next_7smooth(g.Hp()), LW = blref::next_7smooth(g.Wp());
        const float bad_values[2] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()};
        for (int m = 0; m < 3; ++m) {
            const bl_compression comp = m == 0 ? fixed(0) : m == 1 ? fixed(0.5) : energy(0.5);
            for (int bv = 0; bv < 2; ++bv) {
                const std::string ctx = fmt("\"%s\" kind %d value %.2f with %s in x[1]", gc.name, comp.kind, comp.value,
                                            bv ? "Inf" : "NaN");
                Data d(g, 2, 7000 + r);
                const size_t per = static_cast<size_t>(g.C * g.H * g.W);
                d.x[per + per / 2 + 1 < 2 * per ? per + per / 2 + 1 : per] = bad_values[bv];
                Layer L(g, gc.one_d != 0, comp);
                bl_box box{-1, -1};
                bl_status st;
                const std::vector<float> y = forward_only(L, 2, d.x, d.w, d.b, &box, &st);
                CHECK_MSG(st == BL_OK, ctx + ": forward " + status_text(st));
                const size_t ny = static_cast<size_t>(g.F * L.Ho * L.Wo);
                size_t not_nan = 0;
                for (size_t k = ny; k < 2 * ny; ++k) not_nan += !std::isnan(y[k]);
                CHECK_MSG(not_nan == 0, ctx + fmt(": %d of %d outputs of sample 1 are not NaN", (int)not_nan, (int)ny));
                Box want = blref::fixed_box(LH, LW, comp.value);
                if (comp.kind == BL_COMPRESSION_ENERGY) {
                    want = blref::full_box(LH, LW);
                    CHECK_MSG(box.kh == want.kh && box.kw == want.kw,
                              ctx + fmt(": energy box %d,%d, want the full box %d,%d", (int)box.kh, (int)box.kw,
                                        (int)want.kh, (int)want.kw));
                }
                std::vector<float> y0(y.begin(), y.begin() + static_cast<std::ptrdiff_t>(ny));
                const std::vector<double> ref0 = blref::bl_forward(g, 1, d.xd.data(), d.wd.data(), d.bd.data(), LH, LW, want);
                const double e = blref::rel_l2_error(y0, ref0);
                CHECK_MSG(e <= blref::bound_y(g, LH, LW), ctx + fmt(": sample 0 err %.3e", e));
            }
        }
        // NaN in dy: the backward returns (no crash, no hang).
        for (int m = 0; m < 3; ++m) {
            const bl_compression comp = m == 0 ? fixed(0) : m == 1 ? fixed(0.5) : energy(0.5);
            Data d(g, 2, 7100 + r);
            d.dy[d.dy.size() - 1] = std::numeric_limits<float>::quiet_NaN();
            Layer L(g, gc.one_d != 0, comp);
            Buf saved(L.saved_bytes), ws(L.ws_bytes);
            std::vector<float> y(static_cast<size_t>(g.y_size(2))), dx(static_cast<size_t>(g.x_size(2))),
                dw(static_cast<size_t>(g.w_size())), db(static_cast<size_t>(g.F));
            CHECK_OK(t_forward(L.plan, 2, d.x.data(), d.w.data(), d.b.data(), y.data(), saved.p, saved.bytes, ws.p,
                                ws.bytes, nullptr));
            const bl_status st = t_backward(L.plan, 2, saved.p, saved.bytes, d.w.data(), d.dy.data(), dx.data(),
                                             dw.data(), db.data(), ws.p, ws.bytes);
            CHECK_MSG(st == BL_OK, fmt("\"%s\" NaN in dy: backward ", gc.name) + status_text(st));
            CHECK_MSG(std::isnan(db[static_cast<size_t>(g.F - 1)]), "db of the NaN filter is NaN");
        }
    }
}

// The geometry tables use few channels, so every product there fits in one SIMD tile. These
// layers give products wider than a tile with ragged edges in every dimension (m, n, p not
// multiples of the 4 x 32 / 4 x 8 / 8 x 16 tiles; m > n and m < n), on every path.
static void path_body_wide();
BL_TEST("paths: products wider than a SIMD tile, ragged edges, rho 0 and 0.5 vs the references [every backend and CPU path]") {
    for_each_target(path_body_wide);
}
static void path_body_wide() {
    Geom g2;  // forward m = N = 5, n = F = 45, p = C = 70; backward weights m = 45, n = 70, p = 5
    g2.N = 5;
    g2.C = 70;  // > 64: the AVX-512 wide tile parks partial sums between reduction blocks
    g2.H = 7;
    g2.W = 6;
    g2.F = 45;
    g2.KH = g2.KW = 3;
    g2.pt = g2.pb = g2.pl = g2.pr = 1;
    Geom g1;  // 1D: n = 20 (one full 16-lane vector + 4), m = 9
    g1.N = 9;
    g1.C = 20;
    g1.W = 50;
    g1.F = 18;
    g1.KW = 7;
    g1.pl = 3;
    g1.pr = 3;
    Geom g3;  // forward p = C = 260 > 256: the AVX2 tile's reduction block boundary too
    g3.N = 2;
    g3.C = 260;
    g3.H = 5;
    g3.W = 4;
    g3.F = 20;
    g3.KH = g3.KW = 3;
    g3.pt = g3.pb = g3.pl = g3.pr = 1;
    Worst worst;
    for (int which = 0; which < 3; ++which) {
        const Geom& g = which == 0 ? g2 : which == 1 ? g1 : g3;
        const bool one_d = which == 1;
        Data d(g, g.N, 9100 + which);
        for (double rho : {0.0, 0.5}) {
            const std::string ctx = geom_str(g, one_d) + fmt(" rho=%.2f", rho);
            Layer L(g, one_d, fixed(rho));
            Out o = execute(L, g.N, d.x, d.w, &d.b, &d.dy);
            std::vector<double> y, dx, dw, db;
            if (rho == 0.0) {
                y = blref::dense_forward(g, g.N, d.xd.data(), d.wd.data(), d.bd.data());
                blref::dense_backward(g, g.N, d.xd.data(), d.wd.data(), d.dyd.data(), dx, dw, db);
            } else {
                const Box want = blref::fixed_box(L.LH, L.LW, rho);
                y = blref::bl_forward(g, g.N, d.xd.data(), d.wd.data(), d.bd.data(), L.LH, L.LW, want);
                blref::bl_backward(g, g.N, d.xd.data(), d.wd.data(), d.dyd.data(), L.LH, L.LW, want, dx, dw, db);
            }
            check_all(L, g.N, o, y, dx, dw, db, ctx, &worst);
        }
    }
    worst.print("wide products");
}

static void path_body_5();
BL_TEST("threads: 1 and 2 threads give bitwise-identical y, dx, dw, db (fixed and energy) [every backend and CPU path]") { for_each_target(path_body_5); }
static void path_body_5() {
    int32_t old_threads = 0;
    REQUIRE_OK(bl_context_get_num_threads(g_context, &old_threads));
    REQUIRE(old_threads >= 1);
    Geom g{4, 6, 14, 13, 5, 3, 3, 1, 1, 1, 1, 1, 1};  // N C H W F KH KW, pads t b l r, strides
    Geom g1{3, 4, 1, 60, 3, 1, 8, 0, 0, 4, 3, 1, 1};  // N C H W F KH KW, pads t b l r, strides
    struct {
        const Geom* g;
        bool one_d;
        bl_compression comp;
    } runs[] = {{&g, false, fixed(0)}, {&g, false, fixed(0.5)}, {&g, false, energy(0.9)}, {&g1, true, fixed(0.5)}};
    for (const auto& rc : runs) {
        for (int32_t mode : {BL_SPECTRA_INPUT_AND_WEIGHT, BL_SPECTRA_INPUT_ONLY}) {
            Layer L(*rc.g, rc.one_d, rc.comp, mode);
            Data d(*rc.g, rc.g->N, 8000);
            Out o[2];
            for (int t = 0; t < 2; ++t) {
                REQUIRE_OK(bl_context_set_num_threads(g_context, t + 1));
                int32_t now = 0;
                CHECK_OK(bl_context_get_num_threads(g_context, &now));
                CHECK(now == t + 1);
                o[t] = execute(L, rc.g->N, d.x, d.w, &d.b, &d.dy);
            }
            const std::string ctx = g_path_tag + fmt("%s kind %d value %.2f mode %d", rc.one_d ? "1d" : "2d", rc.comp.kind,
                                        rc.comp.value, mode);
            CHECK_MSG(same_bits(o[0].y, o[1].y), ctx + fmt(": y max diff %.3e", max_abs_diff(o[0].y, o[1].y)));
            CHECK_MSG(same_bits(o[0].dx, o[1].dx), ctx + fmt(": dx max diff %.3e", max_abs_diff(o[0].dx, o[1].dx)));
            CHECK_MSG(same_bits(o[0].dw, o[1].dw), ctx + fmt(": dw max diff %.3e", max_abs_diff(o[0].dw, o[1].dw)));
            CHECK_MSG(same_bits(o[0].db, o[1].db), ctx + fmt(": db max diff %.3e", max_abs_diff(o[0].db, o[1].db)));
            CHECK_MSG(o[0].box.kh == o[1].box.kh && o[0].box.kw == o[1].box.kw, ctx + ": box");
        }
    }
    CHECK_OK(bl_context_set_num_threads(g_context, old_threads));
    int32_t restored = 0;
    CHECK_OK(bl_context_get_num_threads(g_context, &restored));
    CHECK(restored == old_threads);
    std::printf("    default thread count %d (restored)\n", old_threads);
}

static void body_products() {
    int32_t backend = -1;
    REQUIRE_OK(bl_context_backend(g_context, &backend));
    const std::string tag = g_path_tag;
    for (int32_t product : {BL_PRODUCT_SPECTRAL, BL_PRODUCT_SPATIAL}) {
        if (product == BL_PRODUCT_SPATIAL && backend != BL_BACKEND_CPU) continue;
        g_product = product;
        g_spatial_plans = 0;
        g_path_tag = tag + (product == BL_PRODUCT_SPATIAL ? "[spatial] " : "[spectral] ");
        std::printf("    -- product %s\n", product == BL_PRODUCT_SPATIAL ? "spatial" : "spectral");
        try {
            path_body_2();
            path_body_3();
            path_body_4();
            path_body_5();
            body_non_finite();
        } catch (...) {
            g_product = BL_PRODUCT_AUTO;
            g_path_tag = tag;
            throw;
        }
        if (product == BL_PRODUCT_SPATIAL) {
            std::printf("    %d plans with the spatial product\n", g_spatial_plans);
            CHECK(g_spatial_plans >= 100);
        }
    }
    g_product = BL_PRODUCT_AUTO;
    g_path_tag = tag;
}
BL_TEST("products: forced spectral and forced spatial pass the dense, band-limited, adjoint, threads and non-finite checks [every backend and CPU path]") {
    for_each_target(body_products);
}

BL_TEST("plan queries: 1D plan desc, output size, dense-equivalent FLOPs, allocated bytes return to baseline") {
    int64_t before = -1, during = -1, after = -1;
    REQUIRE_OK(bl_allocated_bytes(&before));
    {
        Geom g{3, 2, 1, 40, 5, 1, 8, 0, 0, 4, 3, 1, 2};  // N C H W F KH KW, pads t b l r, strides
        Layer L(g, true, fixed(0.5));
        bl_conv2d_desc d;
        std::memset(&d, 0x7f, sizeof d);
        CHECK_OK(bl_plan_desc(L.plan, &d));
        CHECK(d.max_batch == 3 && d.channels == 2 && d.height == 1 && d.width == 40 && d.filters == 5);
        CHECK(d.kernel_height == 1 && d.kernel_width == 8 && d.pad_top == 0 && d.pad_bottom == 0);
        CHECK(d.pad_left == 4 && d.pad_right == 3 && d.stride_w == 2 && d.stride_h == 1);
        CHECK(L.Ho == 1 && L.Wo == g.Wo());
        CHECK(L.LH == 1 && L.LW == 48);
        for (int64_t n : {int64_t(1), int64_t(3)})
            for (int32_t pass : {BL_PASS_FORWARD, BL_PASS_BACKWARD_DATA, BL_PASS_BACKWARD_WEIGHTS}) {
                bl_flops fl{-1, -1, -1};
                CHECK_OK(bl_plan_flops(L.plan, static_cast<bl_pass>(pass), n, nullptr, &fl));
                const double dense = 2.0 * n * g.F * g.C * g.Ho() * g.Wo() * g.KH * g.KW;
                CHECK_MSG(fl.dense_equivalent == dense, fmt("pass %d n %d: dense-equivalent %g want %g", pass, (int)n,
                                                            fl.dense_equivalent, dense));
                CHECK(fl.nominal > 0 && std::isfinite(fl.nominal) && fl.executed > 0 && std::isfinite(fl.executed));
            }
        Geom g2 = g;
        g2.H = 9;
        g2.KH = 3;
        g2.pt = 2;
        g2.pb = 0;
        g2.sh = 3;
        Layer L2(g2, false, fixed(0.0));
        std::memset(&d, 0x7f, sizeof d);
        CHECK_OK(bl_plan_desc(L2.plan, &d));
        CHECK(d.height == 9 && d.kernel_height == 3 && d.pad_top == 2 && d.pad_bottom == 0 && d.stride_h == 3);
        REQUIRE_OK(bl_allocated_bytes(&during));
        CHECK(during > before);
    }
    REQUIRE_OK(bl_allocated_bytes(&after));
    CHECK_MSG(after == before, fmt("allocated bytes %lld before plans, %lld after destroying them", (long long)before,
                                   (long long)after));
}

BL_TEST_MAIN()
