// test_geometry.cpp -- the pure geometry module (cpp/core/geometry.h) and a CPU plan's counters:
// FFT lengths, the box chain, fixed and energy boxes, mirror closure of the kept set, and
// FLOP / byte counts against hand-worked values (nominal and dense from the geometry, executed
// from the CPU backend's cost model, cpp/cpu/cost_model.h). Exact comparisons: all of this is integer
// arithmetic or a fixed formula.
#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "bandlimit.h"
#include "check.h"
#include "cost_model.h"  // the CPU plan's executed counts (the counters cases)
#include "geometry.h"

namespace {

bl::Geometry geometry2d(int64_t N, int64_t C, int64_t H, int64_t W, int64_t F, int64_t KH, int64_t KW,
                        int64_t pt, int64_t pb, int64_t pl, int64_t pr, int64_t sh = 1, int64_t sw = 1) {
    bl_conv2d_desc d{N, C, H, W, F, KH, KW, pt, pb, pl, pr, sh, sw};
    bl::Geometry g;
    bl::GeometryError err;
    if (bl::make_geometry(d, false, &g, &err) != BL_OK) throw std::runtime_error("geometry: " + err.text);
    return g;
}

bl::Geometry geometry1d(int64_t L, int64_t K, int64_t pl, int64_t pr) {
    bl_conv2d_desc d{1, 1, 1, L, 1, 1, K, 0, 0, pl, pr, 1, 1};
    bl::Geometry g;
    bl::GeometryError err;
    if (bl::make_geometry(d, true, &g, &err) != BL_OK) throw std::runtime_error("geometry: " + err.text);
    return g;
}

// Omega(kh, kw) straight from ALGORITHM.md section 3: min(r, LH - r) <= kh and s <= kw.
bool in_omega(const bl::Geometry& g, const bl::Box& b, int64_t r, int64_t s) {
    return std::min(r, g.LH - r) <= b.kh && s <= b.kw;
}

// The half-spectrum mask extended to the full LH x LW plane by conjugate symmetry.
bool full_plane_mask(const bl::Geometry& g, const bl::Box& b, int64_t r, int64_t s) {
    if (s <= g.nyq_w) return in_omega(g, b, r, s);
    return in_omega(g, b, (g.LH - r) % g.LH, g.LW - s);
}

std::vector<bl::Geometry> assorted_geometries() {
    return {geometry2d(1, 1, 8, 8, 1, 3, 3, 1, 1, 1, 1),  geometry2d(1, 1, 32, 32, 1, 3, 3, 1, 1, 1, 1),
            geometry2d(1, 1, 9, 11, 1, 3, 5, 1, 1, 2, 2), geometry2d(1, 1, 13, 7, 1, 2, 3, 0, 1, 1, 1),
            geometry2d(1, 1, 5, 5, 1, 7, 7, 1, 1, 1, 1),  geometry2d(1, 1, 6, 6, 1, 1, 1, 0, 0, 0, 0),
            geometry2d(1, 1, 64, 64, 1, 31, 31, 15, 15, 15, 15), geometry2d(1, 1, 1, 17, 1, 1, 4, 0, 0, 2, 1),
            geometry2d(1, 1, 3, 40, 1, 3, 1, 1, 1, 0, 0), geometry1d(40, 8, 4, 3), geometry1d(4096, 1024, 512, 511),
            geometry1d(1, 1, 0, 0)};
}

}  // namespace

BL_TEST("fft-lengths-per-algorithm-md") {
    CHECK(geometry2d(1, 1, 8, 8, 1, 3, 3, 1, 1, 1, 1).LH == 10);
    CHECK(geometry2d(1, 1, 32, 32, 1, 3, 3, 1, 1, 1, 1).LW == 35);
    // The lengths ALGORITHM.md lists for the benchmark layers.
    CHECK(geometry2d(1, 1, 16, 16, 1, 3, 3, 1, 1, 1, 1).LH == 18);
    CHECK(geometry2d(1, 1, 8, 8, 1, 3, 3, 1, 1, 1, 1).LW == 10);
    CHECK(geometry2d(1, 1, 4, 4, 1, 3, 3, 1, 1, 1, 1).LW == 6);
    CHECK(geometry2d(1, 1, 64, 64, 1, 7, 7, 3, 3, 3, 3).LW == 70);
    CHECK(geometry2d(1, 1, 64, 64, 1, 15, 15, 7, 7, 7, 7).LW == 80);
    CHECK(geometry2d(1, 1, 64, 64, 1, 31, 31, 15, 15, 15, 15).LW == 96);
    CHECK(geometry1d(4096, 1024, 512, 511).LW == 5120);
    CHECK(geometry1d(4096, 4096, 2048, 2047).LW == 8192);
    const bl::Geometry g1 = geometry1d(4096, 1024, 512, 511);
    CHECK(g1.LH == 1 && g1.half_w == 2561 && g1.Wo == 4096);
    // Odd padded sizes and prime inputs.
    const bl::Geometry g = geometry2d(1, 1, 13, 7, 1, 2, 3, 0, 1, 1, 1);
    CHECK(g.Hp == 14 && g.Wp == 9 && g.LH == 14 && g.LW == 9 && g.half_w == 5);
    CHECK(g.Ho == 13 && g.Wo == 7);
    // Strided output sizes use floor((Hp - KH) / s) + 1 and the full padded size for L.
    const bl::Geometry s = geometry2d(1, 1, 10, 7, 1, 3, 2, 2, 0, 0, 3, 3, 1);
    CHECK(s.Hp == 12 && s.Ho == 4 && s.Wp == 10 && s.Wo == 9 && s.LH == 12 && s.LW == 10);
}

BL_TEST("chain-matches-brute-force-evaluation-of-B(t)") {
    for (const bl::Geometry& g : assorted_geometries()) {
        const std::vector<bl::Box> chain = bl::box_chain(g);
        // Every breakpoint i / nyq_h and j / nyq_w is a multiple of 1 / (nyq_h * nyq_w).
        const int64_t denom = std::max<int64_t>(1, std::max<int64_t>(1, g.nyq_h) * std::max<int64_t>(1, g.nyq_w));
        std::vector<bl::Box> brute;
        for (int64_t i = 0; i <= denom; ++i) {
            const bl::Box b{g.nyq_h * i / denom, g.nyq_w * i / denom};
            if (brute.empty() || brute.back() != b) brute.push_back(b);
        }
        CHECK_MSG(chain == brute, "LH=" + std::to_string(g.LH) + " LW=" + std::to_string(g.LW));
        CHECK(chain.front() == (bl::Box{0, 0}));
        CHECK(chain.back() == (bl::Box{g.nyq_h, g.nyq_w}));
        for (size_t i = 1; i < chain.size(); ++i)
            CHECK(bl::discarded_count(g, chain[i]) < bl::discarded_count(g, chain[i - 1]));
        CHECK(bl::discarded_count(g, chain.back()) == 0);
    }
}

BL_TEST("kept-set-is-omega-and-closed-under-conjugate-mirror") {
    for (const bl::Geometry& g : assorted_geometries()) {
        for (const bl::Box& b : bl::box_chain(g)) {
            // The compact enumeration (kept_row) is exactly Omega, each coefficient once.
            std::set<std::pair<int64_t, int64_t>> listed;
            for (int64_t i = 0; i < bl::kept_rows(g.LH, b); ++i)
                for (int64_t s = 0; s <= b.kw; ++s) listed.insert({bl::kept_row(g.LH, b, i), s});
            CHECK(int64_t(listed.size()) == bl::kept_count(g, b));
            int64_t in = 0;
            for (int64_t r = 0; r < g.LH; ++r)
                for (int64_t s = 0; s < g.half_w; ++s)
                    if (in_omega(g, b, r, s)) {
                        ++in;
                        CHECK(listed.count({r, s}) == 1);
                    }
            CHECK(in == bl::kept_count(g, b));
            // Extended to the full plane, the mask equals its mirror (r, s) -> (-r, -s): the
            // masked spectrum is still that of a real array. This is a real check only on the
            // self-mirrored columns 0 and LW/2, which the half plane holds twice.
            for (int64_t r = 0; r < g.LH; ++r)
                for (int64_t s = 0; s < g.LW; ++s)
                    CHECK(full_plane_mask(g, b, r, s) ==
                          full_plane_mask(g, b, (g.LH - r) % g.LH, (g.LW - s) % g.LW));
        }
    }
}

BL_TEST("fixed-box-examples-and-monotone-achieved-rate") {
    const bl::Geometry g8 = geometry2d(1, 1, 8, 8, 1, 3, 3, 1, 1, 1, 1);
    const auto chain8 = bl::box_chain(g8);
    // L = 10: achievable rates 0, 0.25, 0.533...; rho = 0.5 gives 0.25.
    CHECK(bl::fixed_box(g8, chain8, 0.5) == (bl::Box{4, 4}));
    CHECK(bl::achieved_rate(g8, bl::fixed_box(g8, chain8, 0.5)) == 0.25);
    CHECK(bl::fixed_box(g8, chain8, 0.0) == (bl::Box{5, 5}));
    CHECK(std::fabs(bl::achieved_rate(g8, bl::Box{3, 3}) - 32.0 / 60.0) < 1e-15);
    // Decimal rates are not rejected by rounding (the 1e-9 slack): 13x7 input, rho = 0.29.
    const bl::Geometry gp = geometry2d(1, 1, 13, 7, 1, 2, 3, 0, 1, 1, 1);
    CHECK(bl::fixed_box(gp, bl::box_chain(gp), 0.29) == (bl::Box{6, 3}));
    // A rate exactly achievable is achieved: 1x1 on 6x6, rho = 0.75 -> box (1, 1).
    const bl::Geometry g6 = geometry2d(1, 1, 6, 6, 1, 1, 1, 0, 0, 0, 0);
    CHECK(bl::fixed_box(g6, bl::box_chain(g6), 0.75) == (bl::Box{1, 1}));
    CHECK(bl::achieved_rate(g6, bl::Box{1, 1}) == 0.75);
    for (const bl::Geometry& g : assorted_geometries()) {
        const auto chain = bl::box_chain(g);
        double previous = -1;
        for (int i = 0; i < 1000; ++i) {
            const double rho = i / 1000.0;
            const double achieved = bl::achieved_rate(g, bl::fixed_box(g, chain, rho));
            CHECK(achieved <= rho + 1e-9);
            CHECK(achieved >= previous);
            previous = achieved;
        }
    }
}

BL_TEST("energy-box-is-first-chain-box-reaching-E") {
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (const bl::Geometry& g : assorted_geometries()) {
        const auto chain = bl::box_chain(g);
        std::vector<double> energy(size_t(g.LH * g.half_w)), prefix(energy.size());
        for (double& e : energy) e = u(rng) * u(rng);
        double total = 0;
        for (double e : energy) total += e;
        // Brute force: energy of each chain box by scanning Omega.
        std::vector<double> fraction;
        for (const bl::Box& b : chain) {
            double kept = 0;
            for (int64_t r = 0; r < g.LH; ++r)
                for (int64_t s = 0; s < g.half_w; ++s)
                    if (in_omega(g, b, r, s)) kept += energy[size_t(r * g.half_w + s)];
            fraction.push_back(kept / total);
        }
        for (size_t i = 0; i + 1 < chain.size(); ++i) {
            // E just below and just above box i's fraction.
            const double lo = fraction[i] * (1 - 1e-6), hi = std::min(1.0, fraction[i] * (1 + 1e-6));
            const bl::Box got_lo = bl::energy_box(g, chain, lo, energy.data(), prefix.data());
            size_t want = 0;
            while (want + 1 < chain.size() && fraction[want] < lo) ++want;
            CHECK(got_lo == chain[want]);
            const bl::Box got_hi = bl::energy_box(g, chain, hi, energy.data(), prefix.data());
            want = 0;
            while (want + 1 < chain.size() && fraction[want] < hi) ++want;
            CHECK(got_hi == chain[want]);
        }
        CHECK(bl::energy_box(g, chain, 1.0, energy.data(), prefix.data()) == chain.back());
        // NaN energy selects the full box; so does an all-zero spectrum.
        energy[0] = std::nan("");
        CHECK(bl::energy_box(g, chain, 0.1, energy.data(), prefix.data()) == chain.back());
        std::fill(energy.begin(), energy.end(), 0.0);
        CHECK(bl::energy_box(g, chain, 0.1, energy.data(), prefix.data()) == chain.back());
    }
}

namespace {

struct PlanQueries {
    int64_t saved_bytes = 0, workspace_bytes = 0;
    bl_box box{};
    double rate = 0;
    bl_flops fwd{}, bwd_data{}, bwd_weights{};
};

PlanQueries query(const bl_conv2d_desc& d, bl_compression comp, bl_spectra_mode mode = BL_SPECTRA_INPUT_AND_WEIGHT) {
    bl_plan plan = nullptr;
    bl_plan_options opts{mode, BL_PRODUCT_AUTO, BL_METHOD_BANDLIMIT, 0, 0};
    PlanQueries q;
    if (bl_plan_create_2d(nullptr, &d, comp, &opts, &plan) != BL_OK) throw std::runtime_error(bl_last_error_message());
    bl_plan_saved_spectra_bytes(plan, &q.saved_bytes);
    bl_plan_workspace_bytes(plan, &q.workspace_bytes);
    bl_plan_box(plan, &q.box, &q.rate);
    bl_plan_flops(plan, BL_PASS_FORWARD, d.max_batch, nullptr, &q.fwd);
    bl_plan_flops(plan, BL_PASS_BACKWARD_DATA, d.max_batch, nullptr, &q.bwd_data);
    bl_plan_flops(plan, BL_PASS_BACKWARD_WEIGHTS, d.max_batch, nullptr, &q.bwd_weights);
    bl_plan_destroy(plan);
    return q;
}

bool close(double a, double b) { return std::fabs(a - b) <= 1e-12 * std::max(1.0, std::fabs(b)); }

}  // namespace

BL_TEST("counters-hand-worked-8x8-3x3-pad1-dense") {
    // N=2, C=3, F=4, 8x8, 3x3, pad 1, rho = 0: L = 10 x 10, half width 6, box (5, 5) keeps all
    // 10 * 6 = 60 coefficients; Ho = Wo = 8.
    const PlanQueries q = query(bl_conv2d_desc{2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1}, {BL_COMPRESSION_FIXED, 0.0});
    const double fft2 = 2.5 * 100 * std::log2(100.0);  // one nominal 10x10 real 2D FFT
    const double row = 2.5 * 10 * std::log2(10.0);     // one real row transform of length 10
    const double col = 5.0 * 10 * std::log2(10.0);     // one complex column transform of length 10
    // nominal forward: (N C + F C + N F) = 6 + 12 + 8 = 26 transforms, 8 * 60 * N F C = 8 * 60 * 24
    CHECK(close(q.fwd.nominal, 26 * fft2 + 8.0 * 60 * 24));
    // nominal backward-data: (N F + N C) = 14 transforms; backward-weights: (N F + F C) = 20
    CHECK(close(q.bwd_data.nominal, 14 * fft2 + 8.0 * 60 * 24));
    CHECK(close(q.bwd_weights.nominal, 20 * fft2 + 8.0 * 60 * 24));
    // dense-equivalent: 2 N F C Ho Wo KH KW = 2 * 2 * 4 * 3 * 64 * 9
    CHECK(close(q.fwd.dense_equivalent, 27648.0));
    CHECK(close(q.bwd_data.dense_equivalent, 27648.0));
    // executed forward, every transform by batched DFT (kc = 6 columns, all 10 rows kept: U = 6
    // row frequencies u = 0..5, 4 of them paired; each DFT count is far below kDftFftRatioSmall times (grids below kDftFftLargeGrid) the FFT's):
    //   x planes (6), 8 x 8: 4*8*8*6 + 8*6*6*8 + 2*60 = 1536 + 2304 + 120 = 3960
    //     (the FFT would be 8 row + 6 col = 1661);
    //   w planes (12), 3 x 3: 4*3*3*6 + 8*6*6*3 + 2*60 = 216 + 864 + 120 = 1200;
    //   60 products of (2 x 3)(3 x 4) in 3-mult form: 6*2*4*3 + 2*3 + 2*3*4 + 2*2*4 = 190;
    //   y planes (8), inverse to 8 x 8: 4*4*6 + 8*6*6*8 + 4*8*6*8 = 96 + 2304 + 1536 = 3936.
    CHECK(close(bl::cpu::executed_forward_transform_flops(geometry2d(2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1), 8, 6),
                8 * row + 6 * col));
    const double exec_fwd = 6 * 3960.0 + 12 * 1200.0 + 60 * 190.0 + 8 * 3936.0;
    const bl::Geometry g = geometry2d(2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1);
    const bl::Box full{5, 5};
    CHECK(close(bl::cpu::executed_spectral_pass_flops(g, BL_PASS_FORWARD, 2, full, BL_SPECTRA_INPUT_AND_WEIGHT),
                exec_fwd));
    // The spatial product (spatial.h) instead: the x and w transforms, the 6 inverses of X^ to
    // the padded 10 x 10 plane (4*4*6 + 8*6*6*10 + 4*10*6*10 = 96 + 2880 + 2400 = 5376), and the
    // direct sums, the dense-equivalent count.
    const double exec_spatial = 6 * 3960.0 + 12 * 1200.0 + 6 * 5376.0 + 27648.0;
    CHECK(close(bl::cpu::executed_spatial_pass_flops(g, BL_PASS_FORWARD, 2, full), exec_spatial));
    // bl_plan_flops reports the one the plan runs.
    const bool spatial = bl::cpu::use_spatial(g, BL_PASS_FORWARD, 2, full, BL_SPECTRA_INPUT_AND_WEIGHT);
    CHECK(spatial == (exec_spatial <= bl::cpu::kSpatialRatioForward * exec_fwd));
    CHECK(close(q.fwd.executed, spatial ? exec_spatial : exec_fwd));
    // saved: 64-byte header + 8 bytes per kept coefficient of x (N C = 6) and w (F C = 12).
    CHECK(q.saved_bytes == 64 + 8 * 60 * (6 + 12));
    CHECK(q.box.kh == 5 && q.box.kw == 5 && q.rate == 0.0);
}

BL_TEST("counters-hand-worked-conv1d-k8-same-rho050") {
    // N=2, C=2, F=3, L=40, K=8, pad (4, 3): Wp = 47 -> LW = 48, half width 25, chain (0, j);
    // rho = 0.5 keeps j + 1 = 13 (D = 12 <= 12.5): box (0, 12), achieved 12/25 = 0.48.
    bl_conv1d_desc d1{2, 2, 40, 3, 8, 4, 3, 1};
    bl_plan plan = nullptr;
    REQUIRE(bl_plan_create_1d(nullptr, &d1, {BL_COMPRESSION_FIXED, 0.5}, nullptr, &plan) == BL_OK);
    bl_box box;
    double rate;
    int64_t saved, lh, lw;
    bl_flops fwd, bwd_w;
    REQUIRE(bl_plan_box(plan, &box, &rate) == BL_OK);
    bl_plan_fft_lengths(plan, &lh, &lw);
    bl_plan_saved_spectra_bytes(plan, &saved);
    bl_plan_flops(plan, BL_PASS_FORWARD, 2, nullptr, &fwd);
    bl_plan_flops(plan, BL_PASS_BACKWARD_WEIGHTS, 2, nullptr, &bwd_w);
    CHECK(lh == 1 && lw == 48);
    CHECK(box.kh == 0 && box.kw == 12 && rate == 0.48);
    const double fft = 2.5 * 48 * std::log2(48.0);
    // nominal forward: N C + F C + N F = 4 + 6 + 6 = 16 transforms; 8 * 13 * N F C = 8 * 13 * 12
    CHECK(close(fwd.nominal, 16 * fft + 8.0 * 13 * 12));
    CHECK(close(fwd.dense_equivalent, 2.0 * 2 * 3 * 2 * 40 * 8));
    // executed, every transform by batched DFT (LH = 1: one row, U = 1, kc = 13; the batched
    // FFT's row transform would count at least 2.5 * 48 * log2 48 = 670):
    //   x planes (4), 1 x 40: 4*40*13 + 8*1*13*1 + 2*13 = 2080 + 104 + 26 = 2210;
    //   w planes (6), 1 x 8: 4*8*13 + 104 + 26 = 546;
    //   products (2 x 2)(2 x 3): 6*2*3*2 + 2*2 + 2*2*3 + 2*2*3 = 100 per coefficient;
    //   y planes (6), inverse to 1 x 40 (Wo = 47 - 8 + 1): 0 pairs + 8*1*13*1 + 4*1*13*40 = 2184.
    CHECK(2210.0 <= bl::cpu::kDftFftRatioSmall * fft);
    bl::Geometry g;
    {
        bl::GeometryError err;
        REQUIRE(bl::make_geometry(bl_conv2d_desc{2, 2, 1, 40, 3, 1, 8, 0, 0, 4, 3, 1, 1}, true, &g, &err) == BL_OK);
    }
    const bl::Box b{0, 12};
    auto reported = [&](bl_pass pass, double spectral) {  // what bl_plan_flops must say
        return bl::cpu::use_spatial(g, pass, 2, b, BL_SPECTRA_INPUT_AND_WEIGHT)
                   ? bl::cpu::executed_spatial_pass_flops(g, pass, 2, b)
                   : spectral;
    };
    const double spectral_fwd = 4 * 2210.0 + 6 * 546.0 + 13 * 100.0 + 6 * 2184.0;
    CHECK(close(bl::cpu::executed_spectral_pass_flops(g, BL_PASS_FORWARD, 2, b, BL_SPECTRA_INPUT_AND_WEIGHT),
                spectral_fwd));
    CHECK(close(fwd.executed, reported(BL_PASS_FORWARD, spectral_fwd)));
    // backward-weights: dy planes (6) as x's, 2210; products (3 x 2)(2 x 2) reduce over N:
    // 6*3*2*2 + 3*2 + 2*2*2 + 2*3*2 = 98; dw planes (6), inverse to 1 x 8: 104 + 4*13*8 = 520.
    const double spectral_bww = 6 * 2210.0 + 13 * 98.0 + 6 * 520.0;
    CHECK(close(bl::cpu::executed_spectral_pass_flops(g, BL_PASS_BACKWARD_WEIGHTS, 2, b, BL_SPECTRA_INPUT_AND_WEIGHT),
                spectral_bww));
    CHECK(close(bwd_w.executed, reported(BL_PASS_BACKWARD_WEIGHTS, spectral_bww)));
    CHECK(saved == 64 + 8 * 13 * (4 + 6));
    bl_plan_destroy(plan);
}

BL_TEST("counters-hand-worked-stride2-rho050-and-input-only-mode") {
    // N=2, C=2, F=2, 8x8, 3x3, pad 0, stride 2: L = 8, half width 5, total 40; rho = 0.5 picks
    // box (3, 3): 7 rows x 4 columns = 28 kept, achieved 12/40 = 0.3. Ho = Wo = 3.
    const bl_conv2d_desc d{2, 2, 8, 8, 2, 3, 3, 0, 0, 0, 0, 2, 2};
    const PlanQueries q = query(d, {BL_COMPRESSION_FIXED, 0.5});
    CHECK(q.box.kh == 3 && q.box.kw == 3 && std::fabs(q.rate - 0.3) < 1e-15);
    const double fft2 = 2.5 * 64 * std::log2(64.0);
    CHECK(close(q.fwd.nominal, (4 + 4 + 4) * fft2 + 8.0 * 28 * 8));
    CHECK(close(q.fwd.dense_equivalent, 2.0 * 2 * 2 * 2 * 9 * 9));
    const double row = 2.5 * 8 * 3, col = 5.0 * 8 * 3;  // log2 8 = 3
    // backward-data, transforms by batched DFT (kc = 4, 7 kept rows: U = 4, 3 pairs):
    //   dy planes (4), 3 x 3: 4*3*3*4 + 8*4*4*3 + 2*28 = 144 + 384 + 56 = 584
    //     (the FFT would be 3 row + 4 col = 660);
    //   products (2 x 2)(2 x 2): 6*8 + 4 + 8 + 8 = 68 (the backend computes dX^ transposed,
    //     (C x N) = W^ (C x F) dY^ (F x N), so the pre-sums count C F + 2 F N + 2 C N; with
    //     N = C = F = 2 that is the same 68);
    //   dx planes (4), inverse to 8 x 8: 4*3*4 + 8*4*4*8 + 4*8*4*8 = 48 + 1024 + 1024 = 2096
    //     (the FFT would be 4 col + 8 row = 960, the DFT is within kDftFftRatioSmall of it).
    CHECK(584.0 <= bl::cpu::kDftFftRatioSmall * (3 * row + 4 * col) && 2096.0 <= bl::cpu::kDftFftRatioSmall * (4 * col + 8 * row));
    CHECK(close(q.bwd_data.executed, 4 * 584.0 + 28 * 68.0 + 4 * 2096.0));
    CHECK(q.saved_bytes == 64 + 8 * 28 * (4 + 4));
    // Input-only mode saves only x's spectra and pays a weight transform in backward-data.
    const PlanQueries qi = query(d, {BL_COMPRESSION_FIXED, 0.5}, BL_SPECTRA_INPUT_ONLY);
    CHECK(qi.saved_bytes == 64 + 8 * 28 * 4);
    CHECK(close(qi.bwd_data.executed - q.bwd_data.executed, 4 * 584.0));  // w planes as dy's
}

BL_TEST("saved-bytes-scale-with-kept-coefficients") {
    const bl_conv2d_desc d{4, 8, 32, 32, 8, 3, 3, 1, 1, 1, 1, 1, 1};
    const PlanQueries dense = query(d, {BL_COMPRESSION_FIXED, 0.0});
    const bl::Geometry g = geometry2d(4, 8, 32, 32, 8, 3, 3, 1, 1, 1, 1);
    for (double rho : {0.25, 0.5, 0.75, 0.9}) {
        const PlanQueries q = query(d, {BL_COMPRESSION_FIXED, rho});
        const double kept_ratio = double(bl::kept_count(g, bl::Box{q.box.kh, q.box.kw})) /
                                  double(g.total_coefficients());
        CHECK(std::fabs(double(q.saved_bytes - 64) / double(dense.saved_bytes - 64) - kept_ratio) < 1e-12);
        CHECK(std::fabs(kept_ratio - (1 - q.rate)) < 1e-12);
        CHECK(q.fwd.nominal < dense.fwd.nominal && q.fwd.executed < dense.fwd.executed);
        CHECK(q.workspace_bytes <= dense.workspace_bytes);
    }
    // Energy mode sizes the saved buffer for the full box.
    const PlanQueries e = query(d, {BL_COMPRESSION_ENERGY, 0.9});
    CHECK(e.saved_bytes == dense.saved_bytes && e.box.kh == 17 && e.box.kw == 17 && e.rate == 0.0);
}

BL_TEST("allocated-bytes-count-plans") {
    int64_t before = -1, during = -1, after = -1;
    REQUIRE(bl_allocated_bytes(&before) == BL_OK);
    const bl_conv2d_desc d{4, 8, 32, 32, 8, 3, 3, 1, 1, 1, 1, 1, 1};
    bl_plan plan = nullptr;
    REQUIRE(bl_plan_create_2d(nullptr, &d, {BL_COMPRESSION_FIXED, 0.5}, nullptr, &plan) == BL_OK);
    bl_allocated_bytes(&during);
    bl_plan_destroy(plan);
    bl_allocated_bytes(&after);
    // At least the FFT twiddles of lengths 35 (complex, 2 floats each) are held.
    CHECK(during - before >= int64_t(2 * 35 * sizeof(float)));
    CHECK(after == before);
}

BL_TEST_MAIN()
