// test_fft_batch.cpp -- the batched FFT (fft_batch.h) on every CPU path against naive float64
// DFTs: the complex transform of every 7-smooth length up to 1200 (and some long ones), each of
// the 16 lanes with its own random data, and the pruned 2D forward / inverse of a block for
// placements, strides, boxes, odd and even sizes and partial blocks.
#include "fft_batch.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bandlimit.h"
#include "check.h"
#include "cpu_path.h"
#include "kernel_paths.h"

namespace {

using cd = std::complex<double>;
constexpr double kPi = 3.14159265358979323846264338327950288;
constexpr int64_t L = bl::kFftLanes;
constexpr float kGuard = 1.2345e7f;

double worst_ratio = 0.0;

// Relative-error bound of a float32 FFT of length n (and of a 2D one of LH x LW).
double bound(double n) { return 16.0 * std::ldexp(1.0, -24) * std::max(1.0, std::log2(n)); }

using bltest::PathCase;
std::vector<PathCase> paths() { return bltest::supported_paths(); }

std::vector<float> random_floats(std::mt19937_64& rng, int64_t count) {
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> v(static_cast<size_t>(count));
    for (float& x : v) x = u(rng);
    return v;
}

// A 64-byte-aligned float buffer with guard floats after it.
struct Buf {
    std::vector<float> v;
    int64_t len;
    explicit Buf(int64_t n) : v(size_t(n + 32), kGuard), len(n) {}
    float* data() {
        auto p = reinterpret_cast<uintptr_t>(v.data());
        return v.data() + ((64 - p % 64) % 64) / sizeof(float);
    }
    bool guard_ok() {
        const float* d = data();
        for (int64_t i = len; i < len + 16; ++i)
            if (!(d[i] == kGuard)) return false;
        return true;
    }
};

void check_err(const std::string& what, double err, double b) {
    worst_ratio = std::max(worst_ratio, err / b);
    CHECK_MSG(std::isfinite(err) && err <= b, bltest::fmt("%s err=%.3e bound=%.3e", what.c_str(), err, b));
}

std::vector<int64_t> lengths() {
    std::vector<int64_t> v;
    for (int64_t n = 1; n <= 1200; ++n)
        if (bl::is_7smooth(n)) v.push_back(n);
    for (int64_t n : {2187, 2401, 3125, 4096}) v.push_back(n);
    return v;
}

}  // namespace

BL_TEST("complex-every-length-every-lane-vs-naive") {
    std::mt19937_64 rng(2026);
    for (const PathCase& pc : paths()) {
        const bl::BatchFftKernels k = bl::batch_fft_kernels_for_path(pc.path);
        for (int64_t n : lengths()) {
            const bl::BatchFft fft(n);
            std::vector<float> x = random_floats(rng, n * 2 * L);
            for (bool inverse : {false, true}) {
                Buf a(n * 2 * L), b(n * 2 * L);
                std::copy(x.begin(), x.end(), a.data());
                const float* out = k.complex(fft.plan(), a.data(), b.data(), inverse);
                CHECK(out == a.data() || out == b.data());
                CHECK_MSG(a.guard_ok() && b.guard_ok(), bltest::fmt("%s n=%lld guard", pc.name, (long long)n));
                // Naive float64 DFT per lane.
                const double sign = inverse ? 1.0 : -1.0;
                // (Lengths above 256: 3 lanes, the first, a middle and the last, to keep the test short.)
                std::vector<cd> root(static_cast<size_t>(n));
                for (int64_t m = 0; m < n; ++m) {
                    const double t = sign * 2.0 * kPi * double(m) / double(n);
                    root[size_t(m)] = cd(std::cos(t), std::sin(t));
                }
                double num = 0, den = 0;
                const std::vector<int64_t> lanes =
                    n > 256 ? std::vector<int64_t>{0, 7, L - 1}
                            : std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
                for (int64_t p : lanes)
                    for (int64_t f = 0; f < n; ++f) {
                        cd s = 0;
                        int64_t m = 0;
                        for (int64_t j = 0; j < n; ++j) {
                            s += cd(x[size_t(j * 2 * L + p)], x[size_t(j * 2 * L + L + p)]) * root[size_t(m)];
                            m += f;
                            if (m >= n) m -= n;
                        }
                        const double dr = out[f * 2 * L + p] - s.real(), di = out[f * 2 * L + L + p] - s.imag();
                        num += dr * dr + di * di;
                        den += std::norm(s);
                    }
                check_err(bltest::fmt("%s complex %s n=%lld", pc.name, inverse ? "inverse" : "forward", (long long)n),
                          std::sqrt(num / den), bound(double(n)));
            }
        }
    }
}

namespace {

struct Case2d {
    int64_t LH, LW, rows, cols, r0, rs, c0, cs, kh, kw, valid;
};

// The cases: the operator's placements (x padded, w at the origin, y strided), odd and even
// lengths, boxes from one coefficient to the full half spectrum (Nyquist column kept), one row,
// 1D (LH = 1), partial blocks.
std::vector<Case2d> cases_2d() {
    return {
        {32, 32, 28, 28, 2, 1, 2, 1, 16, 16, 16},  // MNIST conv1 x, full box
        {32, 32, 28, 28, 0, 1, 0, 1, 8, 8, 16},    // its y, rho 0.75
        {18, 18, 14, 14, 2, 1, 2, 1, 9, 9, 7},     // conv2 x, full box, partial block
        {18, 18, 5, 5, 0, 1, 0, 1, 4, 4, 16},      // a 5x5 filter
        {35, 35, 32, 32, 0, 1, 0, 1, 12, 12, 16},  // odd lengths
        {21, 25, 9, 11, 3, 2, 1, 2, 10, 12, 13},   // strided placement, odd sizes, all rows
        {16, 30, 1, 30, 5, 1, 0, 1, 0, 0, 16},     // one row, one coefficient
        {12, 10, 7, 10, 0, 1, 0, 1, 2, 5, 3},      // even LW, Nyquist column kept
        {1, 64, 1, 60, 0, 1, 2, 1, 0, 20, 16},     // 1D
        {1, 49, 1, 49, 0, 1, 0, 1, 0, 24, 5},      // 1D odd, full
    };
}

// Plane p's value at (i, j) of a block S [rows][cols][16].
float sval(const std::vector<float>& S, const Case2d& c, int64_t p, int64_t i, int64_t j) {
    return S[size_t((i * c.cols + j) * L + p)];
}

}  // namespace

BL_TEST("forward-2d-block-vs-naive") {
    std::mt19937_64 rng(77);
    for (const PathCase& pc : paths()) {
        const bl::BatchFftKernels k = bl::batch_fft_kernels_for_path(pc.path);
        for (const Case2d& c : cases_2d()) {
            const bl::BatchFft row(c.LW), col(c.LH);
            const bl::Box box{c.kh, c.kw};
            const bl::Fft2dBlock blk{&row.plan(), &col.plan(), c.rows, c.cols, c.r0, c.rs, c.c0, c.cs, box};
            const int64_t kc = c.kw + 1, R = bl::kept_rows(c.LH, box), K = R * kc;
            std::vector<float> S = random_floats(rng, c.rows * c.cols * L);
            for (int64_t e = 0; e < c.rows * c.cols; ++e)
                for (int64_t p = c.valid; p < L; ++p) S[size_t(e * L + p)] = 0.0f;  // as the caller pads
            const int64_t stride = 19;  // items between coefficients: lanes land at [k * stride + p]
            Buf re(K * stride + L), im(K * stride + L), scratch(bl::fft2d_scratch_floats(c.LH, c.LW, kc));
            std::fill(re.data(), re.data() + K * stride + L, -7.0f);
            std::fill(im.data(), im.data() + K * stride + L, -7.0f);
            k.forward_2d(blk, S.data(), re.data(), im.data(), stride, c.valid, false, scratch.data());
            CHECK_MSG(scratch.guard_ok(), "forward scratch guard");
            double num = 0, den = 0;
            bool untouched = true;
            for (int64_t q = 0; q < R; ++q)
                for (int64_t s = 0; s < kc; ++s) {
                    const int64_t r = bl::kept_row(c.LH, box, q), kk = q * kc + s;
                    for (int64_t p = 0; p < L; ++p) {
                        if (p >= c.valid) {
                            if (kk * stride + p < K * stride && (p < stride))
                                untouched = untouched && re.data()[kk * stride + p] == -7.0f;
                            continue;
                        }
                        cd ref = 0;
                        for (int64_t i = 0; i < c.rows; ++i)
                            for (int64_t j = 0; j < c.cols; ++j) {
                                const int64_t gr = c.r0 + i * c.rs, gc = c.c0 + j * c.cs;
                                const double t = -2.0 * kPi * (double((gr * r) % c.LH) / double(c.LH) +
                                                               double((gc * s) % c.LW) / double(c.LW));
                                ref += double(sval(S, c, p, i, j)) * cd(std::cos(t), std::sin(t));
                            }
                        const double dr = re.data()[kk * stride + p] - ref.real(), di = im.data()[kk * stride + p] - ref.imag();
                        num += dr * dr + di * di;
                        den += std::norm(ref);
                    }
                }
            CHECK_MSG(untouched, bltest::fmt("%s forward 2d %lldx%lld wrote lanes >= valid", pc.name, (long long)c.LH, (long long)c.LW));
            // Streaming stores (whole aligned 16-lane runs; partial blocks fall back) write the
            // same bits as ordinary ones, at an aligned stride.
            {
                const int64_t st = 32;
                Buf ore(2 * K * st), sre(2 * K * st);
                k.forward_2d(blk, S.data(), ore.data(), ore.data() + K * st, st, c.valid, false, scratch.data());
                k.forward_2d(blk, S.data(), sre.data(), sre.data() + K * st, st, c.valid, true, scratch.data());
                CHECK_MSG(std::memcmp(ore.data(), sre.data(), sizeof(float) * size_t(2 * K * st)) == 0,
                          bltest::fmt("%s forward 2d %lldx%lld: streamed stores differ", pc.name, (long long)c.LH,
                                      (long long)c.LW));
            }
            check_err(bltest::fmt("%s forward 2d %lldx%lld box %lld,%lld", pc.name, (long long)c.LH, (long long)c.LW,
                                  (long long)c.kh, (long long)c.kw),
                      std::sqrt(num / den), bound(double(c.LH * c.LW)));
        }
    }
}

BL_TEST("inverse-2d-block-vs-naive") {
    std::mt19937_64 rng(78);
    for (const PathCase& pc : paths()) {
        const bl::BatchFftKernels k = bl::batch_fft_kernels_for_path(pc.path);
        for (const Case2d& c : cases_2d()) {
            const bl::BatchFft row(c.LW), col(c.LH);
            const bl::Box box{c.kh, c.kw};
            const bl::Fft2dBlock blk{&row.plan(), &col.plan(), c.rows, c.cols, c.r0, c.rs, c.c0, c.cs, box};
            const int64_t kc = c.kw + 1, R = bl::kept_rows(c.LH, box), K = R * kc;
            const int64_t stride = 17;
            // Arbitrary (non-Hermitian) kept coefficients: the inverse is the real part of
            // sum_{r,s} w_s Z[r][s] e^{+i theta}, w_s = 1 for columns 0 and LW/2, 2 otherwise (a
            // real inverse of each row's half spectrum after the columns' complex inverse).
            std::vector<float> re = random_floats(rng, K * stride + L), im = random_floats(rng, K * stride + L);
            const float scale = 1.0f / float(c.LH * c.LW);
            Buf Y(c.rows * c.cols * L), scratch(bl::fft2d_scratch_floats(c.LH, c.LW, kc));
            k.inverse_2d(blk, re.data(), im.data(), stride, c.valid, scale, Y.data(), scratch.data());
            CHECK_MSG(Y.guard_ok() && scratch.guard_ok(), "inverse guards");
            double num = 0, den = 0;
            bool zero_lanes = true;
            for (int64_t p = 0; p < L; ++p)
                for (int64_t i = 0; i < c.rows; ++i)
                    for (int64_t j = 0; j < c.cols; ++j) {
                        const float got = Y.data()[(i * c.cols + j) * L + p];
                        if (p >= c.valid) {
                            zero_lanes = zero_lanes && got == 0.0f;
                            continue;
                        }
                        const int64_t gr = c.r0 + i * c.rs, gc = c.c0 + j * c.cs;
                        double ref = 0;
                        for (int64_t q = 0; q < R; ++q)
                            for (int64_t s = 0; s < kc; ++s) {
                                const int64_t r = bl::kept_row(c.LH, box, q), kk = q * kc + s;
                                const bool once = s == 0 || 2 * s == c.LW;
                                const double zr = re[size_t(kk * stride + p)], zi = im[size_t(kk * stride + p)];
                                const double t = 2.0 * kPi * (double((gr * r) % c.LH) / double(c.LH) +
                                                              double((gc * s) % c.LW) / double(c.LW));
                                ref += (once ? 1.0 : 2.0) * (zr * std::cos(t) - zi * std::sin(t));
                            }
                        ref *= double(scale);
                        const double d = got - ref;
                        num += d * d;
                        den += ref * ref;
                    }
            CHECK_MSG(zero_lanes, "inverse 2d: lanes >= valid are not zero");
            check_err(bltest::fmt("%s inverse 2d %lldx%lld box %lld,%lld", pc.name, (long long)c.LH, (long long)c.LW,
                                  (long long)c.kh, (long long)c.kw),
                      std::sqrt(num / den), bound(double(c.LH * c.LW)));
        }
    }
}

BL_TEST("gather-scatter-transpose-exactly") {
    std::mt19937_64 rng(79);
    for (const PathCase& pc : paths()) {
        const bl::BatchFftKernels k = bl::batch_fft_kernels_for_path(pc.path);
        for (int64_t plane : {1, 3, 4, 8, 9, 15, 16, 17, 25, 196, 784, 1000, 1225}) {
            std::vector<std::vector<float>> planes;
            const float* src[L];
            for (int64_t p = 0; p < L; ++p) {
                planes.push_back(random_floats(rng, plane));
                src[p] = p % 5 == 3 ? nullptr : planes.back().data();  // some lanes absent
            }
            Buf S(plane * L);
            k.gather(src, plane, S.data());
            bool ok = S.guard_ok();
            for (int64_t p = 0; p < L; ++p)
                for (int64_t e = 0; e < plane; ++e)
                    ok = ok && S.data()[e * L + p] == (src[p] ? src[p][e] : 0.0f);
            CHECK_MSG(ok, bltest::fmt("%s gather plane=%lld", pc.name, (long long)plane));
            // Scatter back with a bias per lane, skipping the absent lanes.
            std::vector<std::vector<float>> out(size_t(L), std::vector<float>(size_t(plane + 1), kGuard));
            float* dst[L];
            float bias[L];
            for (int64_t p = 0; p < L; ++p) {
                dst[p] = src[p] ? out[size_t(p)].data() : nullptr;
                bias[p] = 0.25f * float(p);
            }
            k.scatter(S.data(), plane, dst, bias);
            ok = true;
            for (int64_t p = 0; p < L; ++p) {
                for (int64_t e = 0; e < plane && src[p]; ++e) ok = ok && out[size_t(p)][size_t(e)] == src[p][e] + bias[p];
                ok = ok && out[size_t(p)][size_t(plane)] == kGuard;
                if (!src[p]) ok = ok && out[size_t(p)][0] == kGuard;
            }
            CHECK_MSG(ok, bltest::fmt("%s scatter plane=%lld", pc.name, (long long)plane));
        }
    }
}

BL_TEST("constructor-throws-on-non-smooth") {
    bool threw = false;
    try {
        bl::BatchFft f(11);
    } catch (const std::invalid_argument&) {
        threw = true;
    }
    CHECK(threw);
}

BL_TEST("report-worst-ratio") { std::printf("    worst err/bound: %.3f\n", worst_ratio); }

BL_TEST_MAIN()
