// test_cuda_maps.cpp -- the index maps of the CUDA backend's kernels (cuda/index_maps.h),
// compiled for the host: they run here on every machine, GPU or not, against the core's
// geometry (geometry.h) and against brute force.
#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "check.h"
#include "geometry.h"
#include "index_maps.h"
#include "kernel_math.h"
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

BL_TEST_MAIN()
