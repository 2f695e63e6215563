// test_dft.cpp -- the batched small-DFT kernels (dft.h) of every CPU path against a naive
// float64 DFT: forward (pruned 2D real DFT of a placed plane, kept box only) and inverse
// (Hermitian inverse of a compact spectrum, cropped / strided output), on awkward sizes.
#include "dft.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "bandlimit.h"
#include "cpu_path.h"
#include "kernel_paths.h"
#include "check.h"
#include "cost_model.h"
#include "geometry.h"

namespace {

using cd = std::complex<double>;
constexpr double kTwoPi = 6.283185307179586476925286766559;
constexpr int64_t L = bl::kDftLanes;

struct Case {
    int64_t LH, LW, rows, cols, r0, rs, c0, cs;
    bl::Box box;
};

// kh <= LH/2, kw <= LW/2; planes placed inside the grid. Odd, prime, plane = grid, strides,
// 1D (LH = 1), column counts that are not multiples of the register blocks.
std::vector<Case> cases() {
    return {
        {10, 10, 3, 3, 0, 1, 0, 1, {5, 5}},     // 3x3 weights, full box
        {10, 10, 8, 8, 1, 1, 1, 1, {4, 3}},     // 8x8 map, pad 1, pruned box
        {7, 11, 7, 11, 0, 1, 0, 1, {3, 5}},     // prime sizes, plane = whole grid, all rows
        {9, 13, 4, 5, 2, 2, 1, 3, {2, 6}},      // strided placement (y / dy of a strided layer)
        {1, 13, 1, 9, 0, 1, 2, 1, {0, 6}},      // 1D
        {1, 48, 1, 40, 0, 1, 4, 1, {0, 12}},    // 1D, 40 taps
        {35, 35, 32, 32, 1, 1, 1, 1, {17, 17}}, // ResNet-64 x planes
        {18, 18, 3, 3, 0, 1, 0, 1, {4, 4}},     // pruned 3x3
        {8, 8, 8, 8, 0, 1, 0, 1, {4, 4}},       // even sizes, Nyquist row and column kept
        {2, 5, 1, 2, 1, 1, 3, 1, {1, 2}},       // tiny
    };
}

double bound(const Case& c) {
    return 16.0 * std::ldexp(1.0, -24) * std::max(1.0, std::log2(double(c.LH * c.LW * c.rows * c.cols)));
}

std::vector<int64_t> kept_rows_of(const Case& c) {
    std::vector<int64_t> r;
    const int64_t R = bl::kept_rows(c.LH, c.box);
    for (int64_t q = 0; q < R; ++q) r.push_back(bl::kept_row(c.LH, c.box, q));
    return r;
}

void forward_case(const bl::DftKernels& k, const Case& c, int64_t lanes, std::mt19937& rng) {
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    const int64_t kc = c.box.kw + 1, U = bl::cpu::dft_row_freqs(c.LH, c.box), plane = c.rows * c.cols;
    std::vector<float> w(size_t(c.cols * kc * 2)), h(size_t(c.rows * U * 2));
    for (int64_t j = 0; j < c.cols; ++j)
        for (int64_t s = 0; s < kc; ++s) {
            const double t = kTwoPi * double((c.c0 + j * c.cs) * s % c.LW) / double(c.LW);
            w[size_t((j * kc + s) * 2)] = float(std::cos(t));
            w[size_t((j * kc + s) * 2 + 1)] = float(-std::sin(t));
        }
    for (int64_t a = 0; a < c.rows; ++a)
        for (int64_t u = 0; u < U; ++u) {
            const double t = kTwoPi * double((c.r0 + a * c.rs) * u % c.LH) / double(c.LH);
            h[size_t((a * U + u) * 2)] = float(std::cos(t));
            h[size_t((a * U + u) * 2 + 1)] = float(std::sin(t));
        }
    std::vector<float> S(size_t(plane * L), 0.0f), T(size_t(c.rows * kc * 2 * L)), PQ(size_t(U * kc * 4 * L));
    for (int64_t p = 0; p < lanes; ++p)
        for (int64_t e = 0; e < plane; ++e) S[size_t(e * L + p)] = dist(rng);
    k.forward(S.data(), c.rows, c.cols, kc, U, w.data(), kc, h.data(), U, T.data(), PQ.data());
    const std::vector<int64_t> kr = kept_rows_of(c);
    for (int64_t p = 0; p < lanes; ++p) {
        double err2 = 0, ref2 = 0;
        for (size_t q = 0; q < kr.size(); ++q) {
            const int64_t r = kr[q];
            for (int64_t s = 0; s < kc; ++s) {
                cd ref = 0;
                for (int64_t a = 0; a < c.rows; ++a)
                    for (int64_t j = 0; j < c.cols; ++j) {
                        const double ph = -kTwoPi * (double(r * (c.r0 + a * c.rs)) / double(c.LH) +
                                                     double(s * (c.c0 + j * c.cs)) / double(c.LW));
                        ref += double(S[size_t((a * c.cols + j) * L + p)]) * std::polar(1.0, ph);
                    }
                const bool mirrored = r > c.LH - r;
                const int64_t u = mirrored ? c.LH - r : r;
                const float* o = PQ.data() + (u * kc + s) * 4 * L;
                const double re = mirrored ? double(o[p] - o[3 * L + p]) : double(o[p] + o[3 * L + p]);
                const double im = mirrored ? double(o[L + p] + o[2 * L + p]) : double(o[L + p] - o[2 * L + p]);
                err2 += std::norm(cd(re, im) - ref);
                ref2 += std::norm(ref);
            }
        }
        CHECK(std::sqrt(err2) <= bound(c) * std::sqrt(ref2));
    }
    // The recombination into the frequency-major layout, with ordinary and with streaming
    // stores (whole aligned 16-lane runs only; others fall back), is P -/+ iQ bit for bit.
    const int64_t R = bl::kept_rows(c.LH, c.box), stride = 48;
    for (bool stream : {false, true}) {
        bltest::AlignedFloats buf(2 * R * kc * stride, -7.0f);
        float* re = buf.p;
        float* im = re + R * kc * stride;
        k.recombine(PQ.data(), c.LH, c.box, re, im, stride, lanes, stream, 1, 0);
        bool same = true;
        for (int64_t q = 0; q < R; ++q)
            for (int64_t s = 0; s < kc; ++s) {
                const int64_t r = kr[size_t(q)];
                const bool mirrored = r > c.LH - r;
                const int64_t u = mirrored ? c.LH - r : r;
                const float* o = PQ.data() + (u * kc + s) * 4 * L;
                for (int64_t p = 0; p < stride; ++p) {
                    const float* got = re + (q * kc + s) * stride + p;
                    const float* got_im = im + (q * kc + s) * stride + p;
                    if (p >= lanes) {
                        same = same && *got == -7.0f && *got_im == -7.0f;  // lanes >= valid untouched
                        continue;
                    }
                    const float want = mirrored ? o[p] - o[3 * L + p] : o[p] + o[3 * L + p];
                    const float want_im = mirrored ? o[L + p] + o[2 * L + p] : o[L + p] - o[2 * L + p];
                    same = same && *got == want && *got_im == want_im;
                }
            }
        CHECK_MSG(same, std::string("recombine ") + (stream ? "streamed" : "ordinary") + " lanes " +
                            std::to_string(lanes) + " differ from P -/+ iQ");
        if (lanes != L) continue;
        // Two consecutive blocks in one call (the second's PQ the same here): items 16..31 of
        // each coefficient equal items 0..15.
        bltest::AlignedFloats buf2(2 * R * kc * stride, -7.0f);
        float* re2 = buf2.p;
        float* im2 = re2 + R * kc * stride;
        k.recombine(PQ.data(), c.LH, c.box, re2, im2, stride, L, stream, 2, 0);
        bool twice = true;
        for (int64_t e = 0; e < R * kc; ++e)
            for (int64_t p = 0; p < L; ++p)
                twice = twice && re2[e * stride + p] == re[e * stride + p] && re2[e * stride + L + p] == re[e * stride + p] &&
                        im2[e * stride + p] == im[e * stride + p] && im2[e * stride + L + p] == im[e * stride + p];
        CHECK_MSG(twice, std::string("recombine of two blocks ") + (stream ? "streamed" : "ordinary") + " differs");
    }
}

void inverse_case(const bl::DftKernels& k, const Case& c, int64_t lanes, std::mt19937& rng) {
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    const int64_t kc = c.box.kw + 1, U = bl::cpu::dft_row_freqs(c.LH, c.box), plane = c.rows * c.cols;
    const int64_t R = bl::kept_rows(c.LH, c.box);
    const bool all_rows = R == c.LH;
    const double scale = 1.0 / double(c.LH * c.LW);
    std::vector<float> h(size_t(c.rows * U * 2)), b(size_t(kc * c.cols * 2));
    for (int64_t a = 0; a < c.rows; ++a)
        for (int64_t u = 0; u < U; ++u) {
            const double t = kTwoPi * double((c.r0 + a * c.rs) * u % c.LH) / double(c.LH);
            h[size_t((a * U + u) * 2)] = float(std::cos(t));
            h[size_t((a * U + u) * 2 + 1)] = float(std::sin(t));
        }
    for (int64_t s = 0; s < kc; ++s)
        for (int64_t j = 0; j < c.cols; ++j) {
            const double wgt = (s == 0 || 2 * s == c.LW ? 1.0 : 2.0) * scale;
            const double t = kTwoPi * double(s * (c.c0 + j * c.cs) % c.LW) / double(c.LW);
            b[size_t((s * c.cols + j) * 2)] = float(wgt * std::cos(t));
            b[size_t((s * c.cols + j) * 2 + 1)] = float(-wgt * std::sin(t));
        }
    // Compact spectrum Z[q][s] per lane (random; the inverse reads it as a Hermitian half
    // spectrum, ignoring the imaginary parts the real inverse ignores).
    std::vector<cd> Z(size_t(R * kc * L));
    for (auto& z : Z) z = cd(dist(rng), dist(rng));
    for (size_t i = 0; i < Z.size(); ++i) Z[i] = cd(float(Z[i].real()), float(Z[i].imag()));
    std::vector<float> SD(size_t(U * kc * 4 * L), 0.0f), G(size_t(c.rows * kc * 2 * L)), Y(size_t(plane * L));
    for (int64_t u = 0; u < U; ++u) {
        const bool paired = u > 0 && 2 * u != c.LH;
        const int64_t qm = all_rows ? c.LH - u : R - u;
        for (int64_t s = 0; s < kc; ++s)
            for (int64_t p = 0; p < lanes; ++p) {
                const cd zp = Z[size_t((u * kc + s) * L + p)];
                const cd zm = paired ? Z[size_t((qm * kc + s) * L + p)] : cd(0, 0);
                const cd sum = zp + zm, dif = paired ? zp - zm : cd(0, 0);
                float* o = SD.data() + (u * kc + s) * 4 * L;
                o[p] = float(sum.real());
                o[L + p] = float(sum.imag());
                o[2 * L + p] = float(dif.real());
                o[3 * L + p] = float(dif.imag());
            }
    }
    k.inverse(SD.data(), c.rows, c.cols, kc, U, h.data(), U, b.data(), G.data(), Y.data());
    const std::vector<int64_t> kr = kept_rows_of(c);
    for (int64_t p = 0; p < lanes; ++p) {
        double err2 = 0, ref2 = 0;
        for (int64_t a = 0; a < c.rows; ++a)
            for (int64_t j = 0; j < c.cols; ++j) {
                // Column pass (complex) over the kept rows, then the real row pass of the half
                // spectrum: weight 1 for column 0 and LW/2, 2 otherwise; Re() drops what the
                // real inverse ignores.
                double ref = 0;
                for (int64_t s = 0; s < kc; ++s) {
                    cd col = 0;
                    for (size_t q = 0; q < kr.size(); ++q)
                        col += Z[size_t((int64_t(q) * kc + s) * L + p)] *
                               std::polar(1.0, kTwoPi * double(kr[q] * (c.r0 + a * c.rs)) / double(c.LH));
                    if (s == 0 || 2 * s == c.LW) col = cd(col.real(), 0.0);
                    const double wgt = s == 0 || 2 * s == c.LW ? 1.0 : 2.0;
                    ref += wgt * (col * std::polar(1.0, kTwoPi * double(s * (c.c0 + j * c.cs)) / double(c.LW))).real();
                }
                ref *= scale;
                err2 += (double(Y[size_t((a * c.cols + j) * L + p)]) - ref) * (double(Y[size_t((a * c.cols + j) * L + p)]) - ref);
                ref2 += ref * ref;
            }
        CHECK(std::sqrt(err2) <= bound(c) * std::sqrt(ref2));
    }
}

template <class Fn>
void for_each_path(Fn fn) {
    for (int path : {int(BL_CPU_PATH_PORTABLE), int(BL_CPU_PATH_AVX2), int(BL_CPU_PATH_AVX512)}) {
        if (!bl::cpu_path_supported(path)) continue;
        fn(bl::dft_kernels_for_path(path));
    }
}

}  // namespace

BL_TEST("dft forward: kept box of the placed plane = naive float64 DFT (16 and 5 lanes) [every CPU path]") {
    for_each_path([](const bl::DftKernels& k) {
        std::mt19937 rng(7);
        for (const Case& c : cases())
            for (int64_t lanes : {L, int64_t(5)}) forward_case(k, c, lanes, rng);
    });
}

BL_TEST("dft inverse: cropped / strided real output = naive float64 Hermitian inverse [every CPU path]") {
    for_each_path([](const bl::DftKernels& k) {
        std::mt19937 rng(11);
        for (const Case& c : cases())
            for (int64_t lanes : {L, int64_t(3)}) inverse_case(k, c, lanes, rng);
    });
}

BL_TEST("dft forward then inverse: a plane inside the grid comes back when the box keeps everything") {
    // Full box: inverse(forward(x)) restricted to the plane's own cells reproduces x.
    for_each_path([](const bl::DftKernels& k) {
        for (const Case& c0 : {Case{10, 10, 3, 3, 0, 1, 0, 1, {5, 5}}, Case{7, 9, 5, 4, 1, 1, 2, 1, {3, 4}},
                               Case{1, 12, 1, 7, 0, 1, 3, 1, {0, 6}}}) {
            const Case& c = c0;
            const int64_t kc = c.box.kw + 1, U = bl::cpu::dft_row_freqs(c.LH, c.box), plane = c.rows * c.cols;
            const int64_t R = bl::kept_rows(c.LH, c.box);
            CHECK(R == c.LH && kc == c.LW / 2 + 1);
            std::vector<float> w(size_t(c.cols * kc * 2)), h(size_t(c.rows * U * 2)), b(size_t(kc * c.cols * 2));
            for (int64_t j = 0; j < c.cols; ++j)
                for (int64_t s = 0; s < kc; ++s) {
                    const double t = kTwoPi * double((c.c0 + j) * s % c.LW) / double(c.LW);
                    const double wgt = (s == 0 || 2 * s == c.LW ? 1.0 : 2.0) / double(c.LH * c.LW);
                    w[size_t((j * kc + s) * 2)] = float(std::cos(t));
                    w[size_t((j * kc + s) * 2 + 1)] = float(-std::sin(t));
                    b[size_t((s * c.cols + j) * 2)] = float(wgt * std::cos(t));
                    b[size_t((s * c.cols + j) * 2 + 1)] = float(-wgt * std::sin(t));
                }
            for (int64_t a = 0; a < c.rows; ++a)
                for (int64_t u = 0; u < U; ++u) {
                    const double t = kTwoPi * double((c.r0 + a) * u % c.LH) / double(c.LH);
                    h[size_t((a * U + u) * 2)] = float(std::cos(t));
                    h[size_t((a * U + u) * 2 + 1)] = float(std::sin(t));
                }
            std::vector<float> S(size_t(plane * L)), T(size_t(c.rows * kc * 2 * L)), PQ(size_t(U * kc * 4 * L));
            for (size_t i = 0; i < S.size(); ++i) S[i] = float(std::sin(0.7 * double(i)) + 0.1);
            k.forward(S.data(), c.rows, c.cols, kc, U, w.data(), kc, h.data(), U, T.data(), PQ.data());
            // Forward gives P, Q per u; the inverse wants S = Z(u) + Z(LH-u) = 2P, D = -2iQ for
            // pairs, and S = P - iQ, D = 0 otherwise.
            std::vector<float> SD(size_t(U * kc * 4 * L)), G(size_t(c.rows * kc * 2 * L)), Y(size_t(plane * L));
            for (int64_t u = 0; u < U; ++u) {
                const bool paired = u > 0 && 2 * u != c.LH;
                for (int64_t s = 0; s < kc; ++s)
                    for (int64_t p = 0; p < L; ++p) {
                        const float* o = PQ.data() + (u * kc + s) * 4 * L;
                        float* d = SD.data() + (u * kc + s) * 4 * L;
                        const float pr = o[p], pi = o[L + p], qr = o[2 * L + p], qi = o[3 * L + p];
                        if (paired) {
                            d[p] = 2 * pr, d[L + p] = 2 * pi, d[2 * L + p] = 2 * qi, d[3 * L + p] = -2 * qr;
                        } else {
                            d[p] = pr + qi, d[L + p] = pi - qr, d[2 * L + p] = 0, d[3 * L + p] = 0;
                        }
                    }
            }
            k.inverse(SD.data(), c.rows, c.cols, kc, U, h.data(), U, b.data(), G.data(), Y.data());
            double err2 = 0, ref2 = 0;
            for (size_t i = 0; i < S.size(); ++i) {
                err2 += (double(Y[i]) - double(S[i])) * (double(Y[i]) - double(S[i]));
                ref2 += double(S[i]) * double(S[i]);
            }
            CHECK(std::sqrt(err2) <= bound(c) * std::sqrt(ref2));
        }
    });
}

BL_TEST("dft leading dimensions: bases built for a larger box give bitwise the same result [every CPU path]") {
    // The CPU backend builds one table per placement for the largest box an execute can take by
    // DFT and reads it with ldw >= kc, ldh >= U (b of fewer columns is a prefix): the result of a
    // smaller box must not depend on the table it is read from.
    for_each_path([](const bl::DftKernels& k) {
        std::mt19937 rng(13);
        std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
        for (const Case& c : cases()) {
            const int64_t kc = c.box.kw + 1, U = bl::cpu::dft_row_freqs(c.LH, c.box), plane = c.rows * c.cols;
            const int64_t ldw = kc + 3, ldh = U + 2, kcb = kc + 3;  // the larger table's sizes
            auto wv = [&](int64_t j, int64_t s, int q) {
                const double t = kTwoPi * double((c.c0 + j * c.cs) * s % c.LW) / double(c.LW);
                return q == 0 ? float(std::cos(t)) : float(-std::sin(t));
            };
            auto hv = [&](int64_t a, int64_t u, int q) {
                const double t = kTwoPi * double((c.r0 + a * c.rs) * u % c.LH) / double(c.LH);
                return q == 0 ? float(std::cos(t)) : float(std::sin(t));
            };
            auto bv = [&](int64_t s, int64_t j, int q) {
                const double wgt = (s == 0 || 2 * s == c.LW ? 1.0 : 2.0) / double(c.LH * c.LW);
                const double t = kTwoPi * double(s * (c.c0 + j * c.cs) % c.LW) / double(c.LW);
                return q == 0 ? float(wgt * std::cos(t)) : float(-wgt * std::sin(t));
            };
            std::vector<float> w(size_t(c.cols * kc * 2)), w_wide(size_t(c.cols * ldw * 2)), h(size_t(c.rows * U * 2)),
                h_wide(size_t(c.rows * ldh * 2)), b(size_t(kc * c.cols * 2)), b_wide(size_t(kcb * c.cols * 2));
            for (int q = 0; q < 2; ++q) {
                for (int64_t j = 0; j < c.cols; ++j) {
                    for (int64_t s = 0; s < kc; ++s) w[size_t((j * kc + s) * 2 + q)] = wv(j, s, q);
                    for (int64_t s = 0; s < ldw; ++s) w_wide[size_t((j * ldw + s) * 2 + q)] = wv(j, s, q);
                }
                for (int64_t a = 0; a < c.rows; ++a) {
                    for (int64_t u = 0; u < U; ++u) h[size_t((a * U + u) * 2 + q)] = hv(a, u, q);
                    for (int64_t u = 0; u < ldh; ++u) h_wide[size_t((a * ldh + u) * 2 + q)] = hv(a, u, q);
                }
                for (int64_t j = 0; j < c.cols; ++j) {
                    for (int64_t s = 0; s < kc; ++s) b[size_t((s * c.cols + j) * 2 + q)] = bv(s, j, q);
                    for (int64_t s = 0; s < kcb; ++s) b_wide[size_t((s * c.cols + j) * 2 + q)] = bv(s, j, q);
                }
            }
            std::vector<float> S(size_t(plane * L)), SD(size_t(U * kc * 4 * L));
            for (float& v : S) v = dist(rng);
            for (float& v : SD) v = dist(rng);
            std::vector<float> T(size_t(c.rows * kc * 2 * L)), PQ(size_t(U * kc * 4 * L)), PQ_wide(PQ.size());
            k.forward(S.data(), c.rows, c.cols, kc, U, w.data(), kc, h.data(), U, T.data(), PQ.data());
            k.forward(S.data(), c.rows, c.cols, kc, U, w_wide.data(), ldw, h_wide.data(), ldh, T.data(), PQ_wide.data());
            CHECK(std::memcmp(PQ.data(), PQ_wide.data(), PQ.size() * sizeof(float)) == 0);
            std::vector<float> G(size_t(c.rows * kc * 2 * L)), Y(size_t(plane * L)), Y_wide(Y.size());
            k.inverse(SD.data(), c.rows, c.cols, kc, U, h.data(), U, b.data(), G.data(), Y.data());
            k.inverse(SD.data(), c.rows, c.cols, kc, U, h_wide.data(), ldh, b_wide.data(), G.data(), Y_wide.data());
            CHECK(std::memcmp(Y.data(), Y_wide.data(), Y.size() * sizeof(float)) == 0);
        }
    });
}

BL_TEST("dft choice: 3x3 weights and small maps by DFT, large planes and long 1D rows by FFT") {
    bl::Geometry g;
    g.LH = 10, g.LW = 10;
    CHECK(bl::cpu::use_forward_dft(g, 3, 3, bl::Box{5, 5}) && bl::cpu::use_inverse_dft(g, 3, 3, bl::Box{5, 5}));
    g.LH = 1, g.LW = 4096;
    CHECK(!bl::cpu::use_forward_dft(g, 1, 4096, bl::Box{0, 2048}) && !bl::cpu::use_inverse_dft(g, 1, 4096, bl::Box{0, 2048}));
    // The executed count follows the choice.
    CHECK(bl::cpu::executed_forward_plane_flops(g, 1, 4096, bl::Box{0, 2048}) ==
          bl::cpu::executed_forward_transform_flops(g, 1, 2049));
}

BL_TEST_MAIN()
