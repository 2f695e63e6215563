// test_cuda_maps.cpp -- the index maps of the CUDA backend's kernels (cuda/index_maps.h,
// kernel_math.h, layer_math.h), compiled for the host: they run here on every machine, GPU or
// not, against the core's geometry (geometry.h), against brute force, and (the layer ops)
// against the CPU backend through the ABI.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bandlimit.h"
#include "check.h"
#include "geometry.h"
#include "index_maps.h"
#include "kernel_math.h"
#include "layer_math.h"
#include "reference.h"

namespace {

using bltest::fmt;

// The 7-smooth lengths of the suite and odd / even small ones.
const int64_t kLengths[] = {1, 2, 3, 5, 6, 7, 8, 9, 10, 18, 35, 36, 70, 96};

}  // namespace

BL_TEST("cuda maps: kept rows and the compact row order equal geometry.h's for every box on the suite's lengths") {
    for (int64_t LH : kLengths)
        for (int64_t kh = 0; kh <= LH / 2; ++kh) {
            const bl::Box b{kh, 0};
            CHECK_MSG(bl::cuda::kept_rows_of(LH, kh) == bl::kept_rows(LH, b), fmt("LH %d kh %d: kept rows", (int)LH, (int)kh));
            std::set<int64_t> rows;
            for (int64_t i = 0; i < bl::kept_rows(LH, b); ++i) {
                const int64_t r = bl::cuda::kept_row_of(LH, kh, i);
                CHECK_MSG(r == bl::kept_row(LH, b, i), fmt("LH %d kh %d i %d: kept row", (int)LH, (int)kh, (int)i));
                // The box's rows: min(r, LH - r) <= kh, each once (ALGORITHM.md section 3).
                CHECK_MSG(r >= 0 && r < LH && std::min(r, LH - r) <= kh, fmt("LH %d kh %d: row %d outside the box", (int)LH, (int)kh, (int)r));
                rows.insert(r);
            }
            CHECK_MSG(int64_t(rows.size()) == bl::kept_rows(LH, b), fmt("LH %d kh %d: a row twice", (int)LH, (int)kh));
        }
}

BL_TEST("cuda maps: half-spectrum offsets of the compact coefficients are distinct, inside the box, and in compact order") {
    for (int64_t LH : {1, 6, 10, 35})
        for (int64_t LW : {6, 9, 10, 35}) {
            const int64_t half_w = LW / 2 + 1;
            for (int64_t kh = 0; kh <= LH / 2; ++kh)
                for (int64_t kw = 0; kw <= LW / 2; ++kw) {
                    const int64_t kept = bl::cuda::kept_rows_of(LH, kh) * (kw + 1);
                    std::set<int64_t> seen;
                    for (int64_t j : {0, 3})
                        for (int64_t k = 0; k < kept; ++k) {
                            const int64_t off = bl::cuda::half_offset(LH, half_w, kh, kw, k, j);
                            const int64_t plane = off / (LH * half_w), r = (off / half_w) % LH, s = off % half_w;
                            const std::string ctx = fmt("LH %d LW %d box (%d, %d) k %d j %d", (int)LH, (int)LW, (int)kh, (int)kw, (int)k, (int)j);
                            CHECK_MSG(plane == j, ctx + ": plane");
                            CHECK_MSG(s == k % (kw + 1) && s <= kw, ctx + ": column");
                            CHECK_MSG(r == bl::kept_row(LH, bl::Box{kh, kw}, k / (kw + 1)), ctx + ": row");
                            CHECK_MSG(seen.insert(off).second, ctx + ": offset twice");
                        }
                }
        }
}

BL_TEST("cuda maps: placements (padding, strides) land every source value on its grid cell and nothing else") {
    struct Case {
        int64_t rows, cols, r0, rs, c0, cs, LH, LW;
    };
    const Case cases[] = {{32, 32, 1, 1, 1, 1, 35, 35},   // x of ResNet's 64-channel layer, pad 1
                          {4, 4, 0, 2, 0, 2, 10, 10},     // dy of a stride-2 layer
                          {3, 5, 2, 1, 0, 1, 6, 9},       // asymmetric padding
                          {1, 7, 0, 1, 3, 3, 1, 30}};     // 1D, stride 3
    for (const Case& c : cases) {
        const bl::cuda::Placement at{c.rows, c.cols, c.r0, c.rs, c.c0, c.cs};
        std::vector<int> hits(size_t(c.LH * c.LW), 0);
        for (int64_t a = 0; a < c.rows; ++a)
            for (int64_t b = 0; b < c.cols; ++b) {
                const int64_t off = bl::cuda::grid_offset(at, c.LH, c.LW, 0, a, b);
                REQUIRE(off >= 0 && off < c.LH * c.LW);
                ++hits[size_t(off)];
                // source_of inverts grid_offset on each axis.
                CHECK(bl::cuda::source_of(off / c.LW, c.r0, c.rs, c.rows) == a);
                CHECK(bl::cuda::source_of(off % c.LW, c.c0, c.cs, c.cols) == b);
            }
        for (int64_t r = 0; r < c.LH; ++r)
            for (int64_t s = 0; s < c.LW; ++s) {
                const bool placed = bl::cuda::source_of(r, c.r0, c.rs, c.rows) >= 0 && bl::cuda::source_of(s, c.c0, c.cs, c.cols) >= 0;
                CHECK_MSG(placed == (hits[size_t(r * c.LW + s)] == 1), fmt("cell (%d, %d)", (int)r, (int)s));
                CHECK(hits[size_t(r * c.LW + s)] <= 1);
            }
        // The second plane starts LH * LW further.
        CHECK(bl::cuda::grid_offset(at, c.LH, c.LW, 1, 0, 0) == bl::cuda::grid_offset(at, c.LH, c.LW, 0, 0, 0) + c.LH * c.LW);
    }
}

BL_TEST("cuda maps: column weights and twiddle indices") {
    for (int64_t LW : {1, 2, 9, 10, 35, 36}) {
        for (int64_t s = 0; s <= LW / 2; ++s) {
            const int64_t want = (s == 0 || 2 * s == LW) ? 1 : 2;
            CHECK_MSG(bl::cuda::column_weight(LW, s) == want, fmt("LW %d s %d", (int)LW, (int)s));
        }
    }
    for (int64_t L : {int64_t(1), int64_t(7), int64_t(35), int64_t(8192), int64_t(2147483647)})
        for (int64_t a : {int64_t(0), int64_t(1), int64_t(34), int64_t(4097), int64_t(2147483646)})
            for (int64_t b : {int64_t(0), int64_t(2), int64_t(31), int64_t(8191), int64_t(2147483646)}) {
                // (a * b) mod L by doubling: no product of two residues is formed.
                int64_t want = 0, add = a % L;
                for (int64_t m = b; m > 0; m >>= 1, add = (2 * add) % L)
                    if (m & 1) want = (want + add) % L;
                CHECK_MSG(bl::cuda::twiddle_index(a, b, L) == want, fmt("(%lld * %lld) mod %lld", (long long)a, (long long)b, (long long)L));
            }
}

// ------------------------------------------------------------------------------------------
// The CUDA backend's data flow on the host: every step of cuda_backend.cu's forward and
// backward through the same per-element functions (kernel_math.h) and product descriptors,
// with a naive DFT in place of cuFFT (R2C: the half spectrum; C2R: the real inverse of the
// Hermitian-extended half spectrum, as cuFFT computes it for Hermitian input).
// ------------------------------------------------------------------------------------------

namespace {

// R2C of `planes` LH x LW grids -> [planes][LH][half_w] (re, im interleaved), float64 sums.
std::vector<float> naive_r2c(const std::vector<float>& grid, int64_t planes, int64_t LH, int64_t LW) {
    const int64_t hw = LW / 2 + 1;
    const double tau = 6.283185307179586476925286766559;
    std::vector<float> half(size_t(2 * planes * LH * hw));
    for (int64_t j = 0; j < planes; ++j)
        for (int64_t r = 0; r < LH; ++r)
            for (int64_t s = 0; s < hw; ++s) {
                double re = 0, im = 0;
                for (int64_t p = 0; p < LH; ++p)
                    for (int64_t q = 0; q < LW; ++q) {
                        const double a = -tau * (double((r * p) % LH) / double(LH) + double((s * q) % LW) / double(LW));
                        const double v = grid[size_t((j * LH + p) * LW + q)];
                        re += v * std::cos(a);
                        im += v * std::sin(a);
                    }
                half[size_t(2 * ((j * LH + r) * hw + s))] = float(re);
                half[size_t(2 * ((j * LH + r) * hw + s) + 1)] = float(im);
            }
    return half;
}

// C2R (unnormalised) of [planes][LH][half_w] -> LH x LW grids.
std::vector<float> naive_c2r(const std::vector<float>& half, int64_t planes, int64_t LH, int64_t LW) {
    const int64_t hw = LW / 2 + 1;
    const double tau = 6.283185307179586476925286766559;
    std::vector<float> grid(size_t(planes * LH * LW));
    for (int64_t j = 0; j < planes; ++j)
        for (int64_t p = 0; p < LH; ++p)
            for (int64_t q = 0; q < LW; ++q) {
                double acc = 0;
                for (int64_t r = 0; r < LH; ++r)
                    for (int64_t s = 0; s < hw; ++s) {
                        const double a = tau * (double((r * p) % LH) / double(LH) + double((s * q) % LW) / double(LW));
                        const double zr = half[size_t(2 * ((j * LH + r) * hw + s))];
                        const double zi = half[size_t(2 * ((j * LH + r) * hw + s) + 1)];
                        acc += double(bl::cuda::column_weight(LW, s)) * (zr * std::cos(a) - zi * std::sin(a));
                    }
                grid[size_t((j * LH + p) * LW + q)] = float(acc);
            }
    return grid;
}

// A ProductCall the way the kernel defines it, float64 accumulation.
void naive_product(const bl::cuda::ProductCall& c) {
    for (int64_t k = 0; k < c.count; ++k)
        for (int64_t i = 0; i < c.m; ++i)
            for (int64_t j = 0; j < c.n; ++j) {
                double re = 0, im = 0;
                for (int64_t q = 0; q < c.p; ++q) {
                    const int64_t ao = k * c.a.batch + i * c.a.rs + q * c.a.cs;
                    const int64_t bo = k * c.b.batch + q * c.b.rs + j * c.b.cs;
                    const double ar = c.a.re[ao], ai = (c.a.conj ? -1.0 : 1.0) * c.a.im[ao];
                    const double br = c.b.re[bo], bi = (c.b.conj ? -1.0 : 1.0) * c.b.im[bo];
                    re += ar * br - ai * bi;
                    im += ar * bi + ai * br;
                }
                c.c_re[k * c.c_batch + i * c.n + j] = float(re);
                c.c_im[k * c.c_batch + i * c.n + j] = float(im);
            }
}

struct Emulated {
    std::vector<float> y, dx, dw, db;
};

// cuda_backend.cu's forward and backward, step by step, for batch n and box (kh, kw).
Emulated emulate(const blref::Geom& g, int64_t n, int64_t LH, int64_t LW, int64_t kh, int64_t kw,
                 const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& b,
                 const std::vector<float>& dy) {
    using namespace bl::cuda;
    const int64_t hw = LW / 2 + 1, kept = kept_rows_of(LH, kh) * (kw + 1);
    std::vector<float> row_tw(size_t(2 * LH)), col_tw(size_t(2 * LW));
    fill_twiddles(row_tw.data(), LH);
    fill_twiddles(col_tw.data(), LW);
    const Placement x_at{g.H, g.W, g.pt, 1, g.pl, 1}, y_at{g.Ho(), g.Wo(), 0, g.sh, 0, g.sw};
    auto place = [&](const std::vector<float>& src, int64_t planes, const Placement& at) {
        std::vector<float> grid(size_t(planes * LH * LW));
        for (int64_t i = 0; i < int64_t(grid.size()); ++i) grid[size_t(i)] = place_value(src.data(), at, LH, LW, i);
        return grid;
    };
    auto gather = [&](const std::vector<float>& half, int64_t planes) {
        std::vector<float> spec(size_t(2 * kept * planes));  // re plane, then im plane
        for (int64_t k = 0; k < kept; ++k)
            for (int64_t j = 0; j < planes; ++j) {
                const int64_t o = half_offset(LH, hw, kh, kw, k, j);
                spec[size_t(k * planes + j)] = half[size_t(2 * o)];
                spec[size_t((kept + k) * planes + j)] = half[size_t(2 * o + 1)];
            }
        return spec;
    };
    auto scatter = [&](const std::vector<float>& spec, int64_t planes) {
        std::vector<float> half(size_t(2 * planes * LH * hw), 0.0f);
        for (int64_t k = 0; k < kept; ++k)
            for (int64_t j = 0; j < planes; ++j) {
                const int64_t o = half_offset(LH, hw, kh, kw, k, j);
                half[size_t(2 * o)] = spec[size_t(k * planes + j)];
                half[size_t(2 * o + 1)] = spec[size_t((kept + k) * planes + j)];
            }
        return half;
    };
    auto crop = [&](const std::vector<float>& grid, int64_t planes, const Placement& at, const float* bias, int64_t period) {
        std::vector<float> out(size_t(planes * at.rows * at.cols));
        const float scale = float(1.0 / double(LH * LW));
        for (int64_t i = 0; i < int64_t(out.size()); ++i)
            out[size_t(i)] = crop_value(grid.data(), at, LH, LW, scale, bias, period, i);
        return out;
    };
    const int64_t C = g.C, F = g.F;
    Emulated e;
    // Forward.
    const std::vector<float> X = gather(naive_r2c(place(x, n * C, x_at), n * C, LH, LW), n * C);
    std::vector<float> W(size_t(2 * kept * F * C));
    for (int64_t i = 0; i < kept * F * C; ++i)
        weight_dft_value(w.data(), F * C, g.KH, g.KW, LH, LW, kh, kw, row_tw.data(), col_tw.data(), i, &W[size_t(i)],
                         &W[size_t(kept * F * C + i)]);
    std::vector<float> Y(size_t(2 * kept * n * F));
    naive_product(forward_product(kept, n, C, F, X.data(), X.data() + kept * n * C, W.data(), W.data() + kept * F * C,
                                  Y.data(), Y.data() + kept * n * F));
    e.y = crop(naive_c2r(scatter(Y, n * F), n * F, LH, LW), n * F, y_at, b.data(), F);
    // Backward.
    const std::vector<float> dY = gather(naive_r2c(place(dy, n * F, y_at), n * F, LH, LW), n * F);
    std::vector<float> dX(size_t(2 * kept * n * C));
    naive_product(data_product(kept, n, C, F, dY.data(), dY.data() + kept * n * F, W.data(), W.data() + kept * F * C,
                               dX.data(), dX.data() + kept * n * C));
    e.dx = crop(naive_c2r(scatter(dX, n * C), n * C, LH, LW), n * C, x_at, nullptr, 1);
    std::vector<float> dW(size_t(2 * kept * F * C));
    naive_product(weight_product(kept, n, C, F, dY.data(), dY.data() + kept * n * F, X.data(), X.data() + kept * n * C,
                                 dW.data(), dW.data() + kept * F * C));
    e.dw.assign(size_t(F * C * g.KH * g.KW), 1e30f);
    const float scale = float(1.0 / double(LH * LW));
    for (int64_t i = 0; i < F * C * g.KH * g.KW; ++i) {
        int64_t at = -1;
        const float v = weight_idft_value(dW.data(), dW.data() + kept * F * C, F * C, g.KH, g.KW, LH, LW, kh, kw,
                                          row_tw.data(), col_tw.data(), scale, i, &at);
        REQUIRE(at >= 0 && at < int64_t(e.dw.size()));
        e.dw[size_t(at)] = v;
    }
    return e;
}

}  // namespace

BL_TEST("cuda data flow on the host: place, R2C, gather, weight DFT, the three products, scatter, C2R, crop, K x K inverse equal the float64 reference (strides, asymmetric padding, 1D, both methods' lengths)") {
    struct Case {
        const char* name;
        blref::Geom g;
        bool paper;
    };
    auto geom = [](int64_t N, int64_t C, int64_t H, int64_t W, int64_t F, int64_t KH, int64_t KW, int64_t pt,
                   int64_t pb, int64_t pl, int64_t pr, int64_t sh, int64_t sw) {
        blref::Geom g;
        g.N = N; g.C = C; g.H = H; g.W = W; g.F = F; g.KH = KH; g.KW = KW;
        g.pt = pt; g.pb = pb; g.pl = pl; g.pr = pr; g.sh = sh; g.sw = sw;
        return g;
    };
    const Case cases[] = {
        {"7x6 3x3 pad 1", geom(2, 3, 7, 6, 2, 3, 3, 1, 1, 1, 1, 1, 1), false},
        {"9x8 3x2 asym pad, stride 2x1", geom(2, 2, 9, 8, 3, 3, 2, 0, 2, 1, 0, 2, 1), false},
        {"5x5 3x3 pad 1, paper lengths", geom(1, 2, 5, 5, 2, 3, 3, 1, 1, 1, 1, 1, 1), true},
        {"1D L=20 K=5", geom(2, 2, 1, 20, 3, 1, 5, 0, 0, 2, 2, 1, 1), false},
    };
    std::mt19937_64 rng(9191);
    for (const Case& c : cases) {
        const blref::Geom& g = c.g;
        const int64_t LH = c.paper ? blref::next_pow2(g.Hp() + g.KH - 1) : blref::next_7smooth(g.Hp());
        const int64_t LW = c.paper ? blref::next_pow2(g.Wp() + g.KW - 1) : blref::next_7smooth(g.Wp());
        const std::vector<float> x = blref::random_normal(rng, size_t(g.x_size(g.N)));
        const std::vector<float> w = blref::random_normal(rng, size_t(g.w_size()));
        const std::vector<float> b = blref::random_normal(rng, size_t(g.F));
        const std::vector<float> dy = blref::random_normal(rng, size_t(g.y_size(g.N)));
        for (double rho : {0.0, 0.5}) {
            const blref::Box box = blref::fixed_box(LH, LW, rho);
            const std::string ctx = fmt("%s rho %.1f (LH %d LW %d box %d,%d)", c.name, rho, (int)LH, (int)LW, (int)box.kh, (int)box.kw);
            const Emulated e = emulate(g, g.N, LH, LW, box.kh, box.kw, x, w, b, dy);
            const std::vector<double> xd = blref::to_double(x), wd = blref::to_double(w), bd = blref::to_double(b),
                                      dyd = blref::to_double(dy);
            const std::vector<double> y = blref::bl_forward(g, g.N, xd.data(), wd.data(), bd.data(), LH, LW, box);
            std::vector<double> dx, dw, db;
            blref::bl_backward(g, g.N, xd.data(), wd.data(), dyd.data(), LH, LW, box, dx, dw, db);
            const double ey = blref::rel_l2_error(e.y, y), edx = blref::rel_l2_error(e.dx, dx), edw = blref::rel_l2_error(e.dw, dw);
            CHECK_MSG(ey <= blref::bound_y(g, LH, LW), ctx + fmt(": y err %.3e", ey));
            CHECK_MSG(edx <= blref::bound_dx(g, LH, LW), ctx + fmt(": dx err %.3e", edx));
            CHECK_MSG(edw <= blref::bound_dw(g, g.N, LH, LW), ctx + fmt(": dw err %.3e", edw));
            std::printf("    %s: err y %.1e dx %.1e dw %.1e\n", ctx.c_str(), ey, edx, edw);
        }
    }
}

// ------------------------------------------------------------------------------------------
// The CUDA layer kernels' per-element maths (layer_math.h) on the host: the pooling windows
// and the gathered pooling gradients against brute force and the CPU backend (bitwise), the
// linear layer's operand strides against the float64 formulas, the softmax rows (out-of-range
// labels included), and batch norm's per-channel steps against the CPU backend.
// ------------------------------------------------------------------------------------------

namespace {

using bl::cuda::PoolGeom;

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Pooling geometries: the shapes the CPU backend special-cases or CNNs use, then random ones
// (overlapping windows, strides larger than the kernel, non-square, 1 x 1).
std::vector<bl_pool2d_desc> pool_descs(std::mt19937_64& rng) {
    std::vector<bl_pool2d_desc> out = {
        {2, 8, 8, 2, 2, 2, 2},    // the CPU's 2 x 2 stride-2 path
        {2, 7, 9, 3, 3, 2, 2},    // overlapping windows (ResNet's stem)
        {1, 5, 6, 5, 6, 1, 1},    // global
        {3, 1, 17, 1, 4, 1, 3},   // 1D, overlapping
        {1, 10, 11, 2, 3, 4, 5},  // strides > kernel: inputs that no window holds
        {1, 1, 1, 1, 1, 1, 1},
    };
    std::uniform_int_distribution<int64_t> extent(1, 13), stride(1, 5), planes(1, 3);
    for (int k = 0; k < 80; ++k) {
        bl_pool2d_desc d{};
        d.planes = planes(rng);
        d.height = extent(rng);
        d.width = extent(rng);
        d.kernel_h = std::uniform_int_distribution<int64_t>(1, d.height)(rng);
        d.kernel_w = std::uniform_int_distribution<int64_t>(1, d.width)(rng);
        d.stride_h = stride(rng);
        d.stride_w = stride(rng);
        out.push_back(d);
    }
    return out;
}

std::string pool_name(const bl_pool2d_desc& d) {
    return fmt("%lld planes %lldx%lld, kernel %lldx%lld, stride %lldx%lld", (long long)d.planes, (long long)d.height,
               (long long)d.width, (long long)d.kernel_h, (long long)d.kernel_w, (long long)d.stride_h,
               (long long)d.stride_w);
}

// Small integers: ties in most windows, so that the first-maximum rule decides.
std::vector<float> tie_values(std::mt19937_64& rng, size_t count) {
    std::uniform_int_distribution<int> value(-2, 2);
    std::vector<float> out(count);
    for (float& f : out) f = float(value(rng));
    return out;
}

// The maximum relative deviation of got from want, scaled by max(1, |want|).
template <typename T>
double max_scaled_error(const std::vector<T>& got, const std::vector<double>& want) {
    double worst = 0;
    for (size_t i = 0; i < want.size(); ++i)
        worst = std::max(worst, std::fabs(double(got[i]) - want[i]) / std::max(1.0, std::fabs(want[i])));
    return worst;
}

template <typename T>
std::vector<double> as_double(const std::vector<T>& v) {
    return std::vector<double>(v.begin(), v.end());
}

}  // namespace

BL_TEST("cuda layer maps: the outputs whose pooling windows hold an input are covering_outputs' range (every extent <= 24, kernel, stride <= 7)") {
    for (int64_t extent = 1; extent <= 24; ++extent)
        for (int64_t kernel = 1; kernel <= extent; ++kernel)
            for (int64_t stride = 1; stride <= 7; ++stride) {
                const int64_t outs = (extent - kernel) / stride + 1;
                for (int64_t i = 0; i < extent; ++i) {
                    std::vector<int64_t> want;
                    for (int64_t o = 0; o < outs; ++o)
                        if (o * stride <= i && i < o * stride + kernel) want.push_back(o);
                    int64_t first = -1, end = -1;
                    bl::cuda::covering_outputs(i, kernel, stride, outs, &first, &end);
                    bool same = end >= first && end - first == int64_t(want.size());
                    for (size_t k = 0; same && k < want.size(); ++k) same = want[k] == first + int64_t(k);
                    CHECK_MSG(same, fmt("extent %d kernel %d stride %d input %d: [%d, %d), %d windows hold it", (int)extent,
                                        (int)kernel, (int)stride, (int)i, (int)first, (int)end, (int)want.size()));
                }
            }
}

BL_TEST("cuda layer maps: max pooling per element (first maximum in scan order; the gradient gathered over the covering windows) equals brute force and the CPU backend bitwise") {
    std::mt19937_64 rng(4242);
    for (const bl_pool2d_desc& d : pool_descs(rng)) {
        const PoolGeom g = bl::cuda::pool_geom(d);
        const std::string ctx = pool_name(d);
        const int64_t in_plane = g.H * g.W, out_plane = g.Ho * g.Wo;
        const size_t in_count = size_t(g.planes * in_plane), out_count = size_t(g.planes * out_plane);
        const std::vector<float> x = tie_values(rng, in_count);
        std::vector<float> y(out_count);
        std::vector<int32_t> winners(out_count);
        for (size_t q = 0; q < out_count; ++q) y[q] = bl::cuda::maxpool_value(x.data(), g, int64_t(q), &winners[q]);
        // Brute force: the window's values in scan order; max_element keeps the first of equal maxima.
        for (size_t q = 0; q < out_count; ++q) {
            const int64_t p = int64_t(q) / out_plane, i = (int64_t(q) % out_plane) / g.Wo, j = int64_t(q) % g.Wo;
            std::vector<float> window;
            std::vector<int64_t> where;
            for (int64_t u = 0; u < g.kh; ++u)
                for (int64_t v = 0; v < g.kw; ++v) {
                    where.push_back((i * g.sh + u) * g.W + j * g.sw + v);
                    window.push_back(x[size_t(p * in_plane + where.back())]);
                }
            const size_t best = size_t(std::max_element(window.begin(), window.end()) - window.begin());
            CHECK_MSG(y[q] == window[best] && winners[q] == where[best], ctx + fmt(": output %d", (int)q));
        }
        std::vector<float> cpu_y(out_count);
        std::vector<int32_t> cpu_winners(out_count);
        REQUIRE(bl_maxpool2d_forward(nullptr, &d, x.data(), cpu_y.data(), cpu_winners.data()) == BL_OK);
        CHECK_MSG(bitwise_equal(cpu_y, y) && cpu_winners == winners, ctx + ": forward differs from the CPU backend's");

        const std::vector<float> dy = blref::random_normal(rng, out_count), dx0 = blref::random_normal(rng, in_count);
        for (int accumulate : {0, 1}) {
            std::vector<float> dx(in_count);
            for (size_t idx = 0; idx < in_count; ++idx)
                dx[idx] = bl::cuda::maxpool_grad_value(winners.data(), dy.data(), dx0.data(), accumulate != 0, g,
                                                       int64_t(idx));
            // Brute force: the scatter dx[winner] += dy over the outputs in order.
            std::vector<float> scattered = accumulate ? dx0 : std::vector<float>(in_count, 0.0f);
            for (size_t q = 0; q < out_count; ++q)
                scattered[size_t((int64_t(q) / out_plane) * in_plane + winners[q])] += dy[q];
            std::vector<float> cpu_dx = dx0;
            REQUIRE(bl_maxpool2d_backward(nullptr, &d, winners.data(), dy.data(), cpu_dx.data(), accumulate) == BL_OK);
            CHECK_MSG(bitwise_equal(dx, scattered), ctx + fmt(": accumulate %d: gathered gradient != scatter", accumulate));
            CHECK_MSG(bitwise_equal(dx, cpu_dx), ctx + fmt(": accumulate %d: gradient differs from the CPU backend's", accumulate));
        }
    }
}

BL_TEST("cuda layer maps: average pooling per element and its gathered gradient equal the ABI's definition (float64 window sums in order) bitwise") {
    std::mt19937_64 rng(4343);
    for (const bl_pool2d_desc& d : pool_descs(rng)) {
        const PoolGeom g = bl::cuda::pool_geom(d);
        const std::string ctx = pool_name(d);
        const int64_t in_plane = g.H * g.W, out_plane = g.Ho * g.Wo;
        const size_t in_count = size_t(g.planes * in_plane), out_count = size_t(g.planes * out_plane);
        const double taps = double(g.kh * g.kw);
        const std::vector<float> x = blref::random_normal(rng, in_count);
        std::vector<float> y(out_count), want_y(out_count);
        for (size_t q = 0; q < out_count; ++q) {
            y[q] = bl::cuda::avgpool_value(x.data(), g, int64_t(q));
            const int64_t p = int64_t(q) / out_plane, i = (int64_t(q) % out_plane) / g.Wo, j = int64_t(q) % g.Wo;
            double acc = 0;
            for (int64_t u = 0; u < g.kh; ++u)
                for (int64_t v = 0; v < g.kw; ++v) acc += double(x[size_t(p * in_plane + (i * g.sh + u) * g.W + j * g.sw + v)]);
            want_y[q] = float(acc / taps);
        }
        CHECK_MSG(bitwise_equal(y, want_y), ctx + ": forward");

        const std::vector<float> dy = blref::random_normal(rng, out_count), dx0 = blref::random_normal(rng, in_count);
        for (int accumulate : {0, 1}) {
            std::vector<float> dx(in_count), want_dx(in_count);
            for (size_t idx = 0; idx < in_count; ++idx) {
                dx[idx] = bl::cuda::avgpool_grad_value(dy.data(), dx0.data(), accumulate != 0, g, int64_t(idx));
                // Every output in order (rows, then columns), kept when its window holds the input.
                const int64_t p = int64_t(idx) / in_plane, r = (int64_t(idx) % in_plane) / g.W, c = int64_t(idx) % g.W;
                double acc = 0;
                for (int64_t oi = 0; oi < g.Ho; ++oi)
                    for (int64_t oj = 0; oj < g.Wo; ++oj)
                        if (oi * g.sh <= r && r < oi * g.sh + g.kh && oj * g.sw <= c && c < oj * g.sw + g.kw)
                            acc += double(dy[size_t(p * out_plane + oi * g.Wo + oj)]);
                const float grad = float(acc / taps);
                want_dx[idx] = accumulate ? dx0[idx] + grad : grad;
            }
            CHECK_MSG(bitwise_equal(dx, want_dx), ctx + fmt(": backward, accumulate %d", accumulate));
        }
    }
}

namespace {

// sgemm_kernel's arithmetic for one GemmCall: each output's products in ascending reduction
// order (fused multiply-adds), after C's value when accumulating, then the bias.
void run_gemm(const bl::cuda::GemmCall& call) {
    for (int64_t i = 0; i < call.m; ++i)
        for (int64_t j = 0; j < call.n; ++j) {
            float acc = call.accumulate ? call.c[i * call.n + j] : 0.0f;
            for (int64_t q = 0; q < call.p; ++q)
                acc = std::fma(call.a.p[i * call.a.rs + q * call.a.cs], call.b.p[q * call.b.rs + j * call.b.cs], acc);
            call.c[i * call.n + j] = call.bias ? acc + call.bias[j] : acc;
        }
}

}  // namespace

BL_TEST("cuda layer maps: the linear layer's three products (operand strides, transposes, bias, accumulation) equal the float64 formulas and the CPU backend") {
    struct Shape {
        int64_t batch, in, out;
    };
    std::mt19937_64 rng(4444);
    for (const Shape& s : {Shape{1, 1, 1}, Shape{3, 5, 7}, Shape{17, 70, 9}, Shape{65, 33, 66}}) {
        const std::string ctx = fmt("batch %d in %d out %d", (int)s.batch, (int)s.in, (int)s.out);
        const size_t xs = size_t(s.batch * s.in), ws = size_t(s.out * s.in), ys = size_t(s.batch * s.out);
        const std::vector<float> x = blref::random_normal(rng, xs), w = blref::random_normal(rng, ws),
                                 b = blref::random_normal(rng, size_t(s.out)), dy = blref::random_normal(rng, ys),
                                 dx0 = blref::random_normal(rng, xs), dw0 = blref::random_normal(rng, ws),
                                 db0 = blref::random_normal(rng, size_t(s.out));
        std::vector<double> want_y(ys), want_dx(xs), want_dw(ws), want_db(size_t(s.out));
        for (int64_t n = 0; n < s.batch; ++n)
            for (int64_t o = 0; o < s.out; ++o) {
                double acc = b[size_t(o)];
                for (int64_t i = 0; i < s.in; ++i) acc += double(x[size_t(n * s.in + i)]) * w[size_t(o * s.in + i)];
                want_y[size_t(n * s.out + o)] = acc;
            }
        for (int64_t n = 0; n < s.batch; ++n)
            for (int64_t i = 0; i < s.in; ++i) {
                double acc = dx0[size_t(n * s.in + i)];
                for (int64_t o = 0; o < s.out; ++o) acc += double(dy[size_t(n * s.out + o)]) * w[size_t(o * s.in + i)];
                want_dx[size_t(n * s.in + i)] = acc;
            }
        for (int64_t o = 0; o < s.out; ++o) {
            double bias_acc = db0[size_t(o)];
            for (int64_t n = 0; n < s.batch; ++n) bias_acc += dy[size_t(n * s.out + o)];
            want_db[size_t(o)] = bias_acc;
            for (int64_t i = 0; i < s.in; ++i) {
                double acc = dw0[size_t(o * s.in + i)];
                for (int64_t n = 0; n < s.batch; ++n) acc += double(dy[size_t(n * s.out + o)]) * x[size_t(n * s.in + i)];
                want_dw[size_t(o * s.in + i)] = acc;
            }
        }
        std::vector<float> y(ys, 1e30f), dx = dx0, dw = dw0;
        run_gemm(bl::cuda::linear_forward_call(s.batch, s.in, s.out, x.data(), w.data(), b.data(), y.data()));
        run_gemm(bl::cuda::linear_data_call(s.batch, s.in, s.out, dy.data(), w.data(), dx.data()));
        run_gemm(bl::cuda::linear_weight_call(s.batch, s.in, s.out, dy.data(), x.data(), dw.data()));
        // float32 sums of at most 70 terms of unit size: well inside 1e-5 of the float64 ones.
        const double tol = 1e-5;
        CHECK_MSG(max_scaled_error(y, want_y) <= tol, ctx + fmt(": y err %.2e", max_scaled_error(y, want_y)));
        CHECK_MSG(max_scaled_error(dx, want_dx) <= tol, ctx + fmt(": dx err %.2e", max_scaled_error(dx, want_dx)));
        CHECK_MSG(max_scaled_error(dw, want_dw) <= tol, ctx + fmt(": dw err %.2e", max_scaled_error(dw, want_dw)));
        // The CPU backend reads the ABI the same way (db: the CPU's loop, which the kernel copies).
        std::vector<float> cpu_y(ys), cpu_dx = dx0, cpu_dw = dw0, cpu_db = db0;
        REQUIRE(bl_linear_forward(nullptr, s.batch, s.in, s.out, x.data(), w.data(), b.data(), cpu_y.data()) == BL_OK);
        REQUIRE(bl_linear_backward(nullptr, s.batch, s.in, s.out, x.data(), w.data(), dy.data(), cpu_dx.data(),
                                   cpu_dw.data(), cpu_db.data()) == BL_OK);
        CHECK_MSG(max_scaled_error(cpu_y, as_double(y)) <= tol, ctx + ": y differs from the CPU backend's");
        CHECK_MSG(max_scaled_error(cpu_dx, as_double(dx)) <= tol, ctx + ": dx differs from the CPU backend's");
        CHECK_MSG(max_scaled_error(cpu_dw, as_double(dw)) <= tol, ctx + ": dw differs from the CPU backend's");
        CHECK_MSG(max_scaled_error(cpu_db, want_db) <= tol, ctx + ": db (CPU) against float64");
    }
}

BL_TEST("cuda layer maps: softmax cross-entropy rows and gradients equal the float64 formulas; an out-of-range label gives NaN without being used as an index") {
    std::mt19937_64 rng(4545);
    for (int64_t classes : {1, 2, 7, 100}) {
        const std::vector<int32_t> labels = {0, int32_t(classes - 1), -1, int32_t(classes), int32_t(classes / 2),
                                             int32_t(1) << 30};
        const int64_t batch = int64_t(labels.size());
        std::vector<float> logits = blref::random_normal(rng, size_t(batch * classes));
        for (int64_t k = 0; k < classes; ++k) logits[size_t(4 * classes + k)] += 1000.0f;  // needs the max subtracted
        std::vector<float> probs(size_t(batch * classes));
        for (int64_t n = 0; n < batch; ++n) {
            const std::string ctx = fmt("classes %d row %d label %d", (int)classes, (int)n, (int)labels[size_t(n)]);
            const float* z = logits.data() + n * classes;
            const double loss = bl::cuda::softmax_xent_row(z, classes, labels[size_t(n)], probs.data() + n * classes);
            const double m = *std::max_element(z, z + classes);
            double s = 0;
            for (int64_t k = 0; k < classes; ++k) s += std::exp(double(z[k]) - m);
            for (int64_t k = 0; k < classes; ++k) {
                const double want = std::exp(double(z[k]) - m) / s;
                CHECK_MSG(std::fabs(probs[size_t(n * classes + k)] - want) <= 1e-7 * std::max(want, 1e-30) + 1e-37,
                          ctx + fmt(": prob %d", (int)k));
            }
            const int32_t label = labels[size_t(n)];
            if (label < 0 || label >= classes) {
                CHECK_MSG(std::isnan(loss), ctx + ": loss should be NaN");
            } else {
                const double want = m + std::log(s) - double(z[label]);
                CHECK_MSG(std::fabs(loss - want) <= 1e-12 * std::max(1.0, std::fabs(want)), ctx + fmt(": loss %.17g, want %.17g", loss, want));
            }
        }
        const double g = 0.75 / double(batch);
        const std::vector<float> dl0 = blref::random_normal(rng, size_t(batch * classes));
        for (int accumulate : {0, 1})
            for (int64_t idx = 0; idx < batch * classes; ++idx) {
                const int64_t n = idx / classes, k = idx % classes;
                const int32_t label = labels[size_t(n)];
                const float got = bl::cuda::softmax_xent_grad_value(probs.data(), labels.data(), classes, g, dl0.data(),
                                                                    accumulate != 0, idx);
                const std::string ctx = fmt("classes %d element %d accumulate %d", (int)classes, (int)idx, accumulate);
                if (label < 0 || label >= classes) {
                    CHECK_MSG(std::isnan(got), ctx + ": gradient should be NaN");
                } else {
                    const double d = (double(probs[size_t(idx)]) - (k == label ? 1.0 : 0.0)) * g;
                    const float want = accumulate ? float(double(dl0[size_t(idx)]) + d) : float(d);
                    CHECK_MSG(got == want, ctx);
                }
            }
    }
}

namespace {

struct BatchNormData {
    std::vector<float> y, running_mean, running_var;
    std::vector<double> mean, inv_std;
};

// batchnorm_forward_kernel's steps on the host, the float64 sums in element order (the kernel
// adds the same terms in a fixed tree of thread partial sums: equal up to float64 rounding).
void emulate_batchnorm_forward(const bl_batchnorm_desc& d, const std::vector<float>& x, const std::vector<float>& gamma,
                               const std::vector<float>& beta, BatchNormData& io) {
    const int64_t per_channel = d.batch * d.spatial;
    for (int64_t ch = 0; ch < d.channels; ++ch) {
        const double shift = d.training ? double(x[size_t(ch * d.spatial)]) : 0.0;
        double sum = 0, sq = 0;
        for (int64_t e = 0; d.training && e < per_channel; ++e) {
            const double v = double(x[size_t(bl::cuda::batchnorm_offset(d, ch, e))]) - shift;
            sum += v;
            sq += v * v;
        }
        const bl::cuda::ChannelNorm c = bl::cuda::batchnorm_channel(d, shift, sum, sq, gamma[size_t(ch)],
                                                                    &io.running_mean[size_t(ch)], &io.running_var[size_t(ch)]);
        io.mean[size_t(ch)] = c.mean;
        io.inv_std[size_t(ch)] = c.inv_std;
        for (int64_t e = 0; e < per_channel; ++e) {
            const size_t at = size_t(bl::cuda::batchnorm_offset(d, ch, e));
            io.y[at] = bl::cuda::batchnorm_value(x[at], c.mean_f, c.scale, beta[size_t(ch)], d.relu != 0);
        }
    }
}

// batchnorm_backward_kernel's steps on the host, likewise.
void emulate_batchnorm_backward(const bl_batchnorm_desc& d, const std::vector<float>& x, const float* y,
                                const std::vector<float>& dy, const std::vector<float>& gamma,
                                const std::vector<double>& mean, const std::vector<double>& inv_std, float* dx,
                                bool dx_accumulate, std::vector<float>& dgamma, std::vector<float>& dbeta) {
    const int64_t per_channel = d.batch * d.spatial;
    for (int64_t ch = 0; ch < d.channels; ++ch) {
        double sum_g = 0, sum_gx = 0;
        for (int64_t e = 0; e < per_channel; ++e) {
            const int64_t at = bl::cuda::batchnorm_offset(d, ch, e);
            const double grad = bl::cuda::batchnorm_grad_in(dy[size_t(at)], y, at);
            sum_g += grad;
            sum_gx += grad * (double(x[size_t(at)]) - mean[size_t(ch)]);
        }
        const bl::cuda::ChannelGrad c = bl::cuda::batchnorm_channel_grad(mean[size_t(ch)], inv_std[size_t(ch)], sum_g,
                                                                         sum_gx, gamma[size_t(ch)], per_channel);
        dgamma[size_t(ch)] = float(double(dgamma[size_t(ch)]) + c.dgamma);
        dbeta[size_t(ch)] = float(double(dbeta[size_t(ch)]) + c.dbeta);
        for (int64_t e = 0; dx && e < per_channel; ++e) {
            const int64_t at = bl::cuda::batchnorm_offset(d, ch, e);
            const float v = bl::cuda::batchnorm_input_grad(bl::cuda::batchnorm_grad_in(dy[size_t(at)], y, at), x[size_t(at)], c);
            dx[at] = dx_accumulate ? dx[at] + v : v;
        }
    }
}

}  // namespace

BL_TEST("cuda layer maps: batch norm's per-channel steps (shifted float64 statistics, running-statistics update, normalisation, ReLU, backward scalars) equal the CPU backend") {
    struct Shape {
        int64_t batch, channels, spatial;
        float offset;  // added to x: a mean large against the spread
    };
    std::mt19937_64 rng(4646);
    std::uniform_real_distribution<float> positive(0.5f, 2.0f);
    for (const Shape& s : {Shape{4, 3, 5, 0.0f}, Shape{2, 2, 1, 0.0f}, Shape{3, 1, 64, 1000.0f}, Shape{1, 4, 9, -3.0f}})
        for (int training : {1, 0})
            for (int relu : {0, 1}) {
                const bl_batchnorm_desc d{s.batch, s.channels, s.spatial, training, relu, 0.1, 1e-5};
                const std::string ctx = fmt("batch %d channels %d spatial %d offset %g training %d relu %d", (int)s.batch,
                                            (int)s.channels, (int)s.spatial, double(s.offset), training, relu);
                const size_t count = size_t(s.batch * s.channels * s.spatial), C = size_t(s.channels);
                std::vector<float> x = blref::random_normal(rng, count);
                for (float& v : x) v += s.offset;
                const std::vector<float> gamma = blref::random_normal(rng, C), beta = blref::random_normal(rng, C);
                BatchNormData emu{std::vector<float>(count), blref::random_normal(rng, C), std::vector<float>(C),
                                  std::vector<double>(C), std::vector<double>(C)};
                for (float& v : emu.running_var) v = positive(rng);
                BatchNormData cpu = emu;
                emulate_batchnorm_forward(d, x, gamma, beta, emu);
                REQUIRE(bl_batchnorm_forward(nullptr, &d, x.data(), gamma.data(), beta.data(), cpu.running_mean.data(),
                                             cpu.running_var.data(), cpu.y.data(), cpu.mean.data(), cpu.inv_std.data()) == BL_OK);
                CHECK_MSG(max_scaled_error(emu.y, as_double(cpu.y)) <= 1e-5, ctx + ": y");
                CHECK_MSG(max_scaled_error(emu.running_mean, as_double(cpu.running_mean)) <= 1e-6, ctx + ": running_mean");
                CHECK_MSG(max_scaled_error(emu.running_var, as_double(cpu.running_var)) <= 1e-6, ctx + ": running_var");
                CHECK_MSG(max_scaled_error(emu.mean, cpu.mean) <= 1e-10, ctx + ": mean");
                CHECK_MSG(max_scaled_error(emu.inv_std, cpu.inv_std) <= 1e-8, ctx + ": inv_std");
                if (!training) continue;  // the backward is that of a training forward

                const std::vector<float> dy = blref::random_normal(rng, count), dx0 = blref::random_normal(rng, count),
                                         dgamma0 = blref::random_normal(rng, C), dbeta0 = blref::random_normal(rng, C);
                for (int accumulate : {0, 1}) {
                    std::vector<float> dx = dx0, dgamma = dgamma0, dbeta = dbeta0;
                    std::vector<float> cpu_dx = dx0, cpu_dgamma = dgamma0, cpu_dbeta = dbeta0;
                    const float* y = relu ? emu.y.data() : nullptr;
                    emulate_batchnorm_backward(d, x, y, dy, gamma, emu.mean, emu.inv_std, dx.data(), accumulate != 0,
                                               dgamma, dbeta);
                    REQUIRE(bl_batchnorm_backward(nullptr, &d, x.data(), y, dy.data(), gamma.data(), emu.mean.data(),
                                                  emu.inv_std.data(), cpu_dx.data(), accumulate, cpu_dgamma.data(),
                                                  cpu_dbeta.data()) == BL_OK);
                    const std::string bctx = ctx + fmt(" accumulate %d", accumulate);
                    CHECK_MSG(max_scaled_error(dx, as_double(cpu_dx)) <= 1e-5, bctx + fmt(": dx err %.2e", max_scaled_error(dx, as_double(cpu_dx))));
                    CHECK_MSG(max_scaled_error(dgamma, as_double(cpu_dgamma)) <= 1e-5, bctx + ": dgamma");
                    CHECK_MSG(max_scaled_error(dbeta, as_double(cpu_dbeta)) <= 1e-5, bctx + ": dbeta");
                }
            }
}

BL_TEST_MAIN()
