// test_fft.cpp -- ComplexFft / RealFft against a naive float64 DFT, plus 7-smooth helpers.
#include "fft.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.h"

namespace {

using cd = std::complex<double>;

constexpr double kPi = 3.14159265358979323846264338327950288;
constexpr float kGuard = 1.2345e7f;
constexpr int64_t kG = 16;  // guard floats on each side of a buffer

double worst_ratio = 0.0;  // max over all checks of err / bound

double bound(int64_t n) {
    return 16.0 * std::ldexp(1.0, -24) * std::max(1.0, std::log2(static_cast<double>(n)));
}

std::vector<int64_t> test_lengths() {
    std::vector<int64_t> v;
    for (int64_t n = 1; n <= 1200; ++n)
        if (bl::is_7smooth(n)) v.push_back(n);
    for (int64_t n : {2048, 2187, 2401, 3125, 4096, 4116, 5120, 8192}) v.push_back(n);
    return v;
}

// Naive DFT in double: out[k] = sum_j in[j] exp(sign 2 pi i j k / n).
std::vector<cd> naive_dft(const std::vector<cd>& in, int sign) {
    const int64_t n = static_cast<int64_t>(in.size());
    std::vector<double> c(static_cast<size_t>(n)), s(static_cast<size_t>(n));
    std::vector<double> xr(static_cast<size_t>(n)), xi(static_cast<size_t>(n));
    for (int64_t m = 0; m < n; ++m) {
        double a = 2.0 * kPi * static_cast<double>(m) / static_cast<double>(n);
        c[m] = std::cos(a);
        s[m] = sign * std::sin(a);
        xr[m] = in[m].real();
        xi[m] = in[m].imag();
    }
    std::vector<cd> out(static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k) {
        double re = 0, im = 0;
        int64_t idx = 0;
        for (int64_t j = 0; j < n; ++j) {
            re += xr[j] * c[idx] - xi[j] * s[idx];
            im += xr[j] * s[idx] + xi[j] * c[idx];
            idx += k;
            if (idx >= n) idx -= n;
        }
        out[k] = cd(re, im);
    }
    return out;
}

// Naive forward DFT of real input, bins 0..count-1 only.
std::vector<cd> naive_real_forward(const std::vector<double>& in, int64_t count) {
    const int64_t n = static_cast<int64_t>(in.size());
    std::vector<double> c(static_cast<size_t>(n)), s(static_cast<size_t>(n));
    for (int64_t m = 0; m < n; ++m) {
        double a = 2.0 * kPi * static_cast<double>(m) / static_cast<double>(n);
        c[m] = std::cos(a);
        s[m] = -std::sin(a);
    }
    std::vector<cd> out(static_cast<size_t>(count));
    for (int64_t k = 0; k < count; ++k) {
        double re = 0, im = 0;
        int64_t idx = 0;
        for (int64_t j = 0; j < n; ++j) {
            re += in[j] * c[idx];
            im += in[j] * s[idx];
            idx += k;
            if (idx >= n) idx -= n;
        }
        out[k] = cd(re, im);
    }
    return out;
}

// Real part of the naive inverse DFT (sign +1) of a full complex spectrum.
std::vector<double> naive_real_inverse(const std::vector<cd>& spec) {
    const int64_t n = static_cast<int64_t>(spec.size());
    std::vector<double> c(static_cast<size_t>(n)), s(static_cast<size_t>(n));
    for (int64_t m = 0; m < n; ++m) {
        double a = 2.0 * kPi * static_cast<double>(m) / static_cast<double>(n);
        c[m] = std::cos(a);
        s[m] = std::sin(a);
    }
    std::vector<double> out(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j) {
        double re = 0;
        int64_t idx = 0;
        for (int64_t k = 0; k < n; ++k) {
            re += spec[k].real() * c[idx] - spec[k].imag() * s[idx];
            idx += j;
            if (idx >= n) idx -= n;
        }
        out[j] = re;
    }
    return out;
}

// Relative L2 error of float data (count complex or real values) against a reference.
double rel_err_complex(const float* got, const std::vector<cd>& ref, int64_t count) {
    double num = 0, den = 0;
    for (int64_t k = 0; k < count; ++k) {
        double dr = got[2 * k] - ref[k].real(), di = got[2 * k + 1] - ref[k].imag();
        num += dr * dr + di * di;
        den += std::norm(ref[k]);
    }
    return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

double rel_err_real(const float* got, const std::vector<double>& ref) {
    double num = 0, den = 0;
    for (size_t k = 0; k < ref.size(); ++k) {
        double d = got[k] - ref[k];
        num += d * d;
        den += ref[k] * ref[k];
    }
    return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

// A buffer of `len` floats with kG guard floats on each side.
struct Guarded {
    std::vector<float> v;
    int64_t len;
    explicit Guarded(int64_t n, float fill = kGuard) : v(static_cast<size_t>(n + 2 * kG), fill), len(n) {
        std::fill(v.begin(), v.begin() + kG, kGuard);
        std::fill(v.end() - kG, v.end(), kGuard);
    }
    float* data() { return v.data() + kG; }
    void fill_nan() { std::fill(v.begin() + kG, v.end() - kG, std::numeric_limits<float>::quiet_NaN()); }
    bool guards_ok() const {
        for (int64_t i = 0; i < kG; ++i)
            if (!(v[i] == kGuard) || !(v[kG + len + i] == kGuard)) return false;
        return true;
    }
};

std::string msg(const char* what, int64_t n, double err) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "%s n=%lld err=%.3e bound=%.3e", what, static_cast<long long>(n),
                  err, bound(n));
    return buf;
}

void check_err(const char* what, int64_t n, double err, double factor = 1.0) {
    double b = bound(n) * factor;
    worst_ratio = std::max(worst_ratio, err / b);
    CHECK_MSG(std::isfinite(err) && err <= b, msg(what, n, err));
}

std::vector<float> random_floats(std::mt19937_64& rng, int64_t count) {
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> v(static_cast<size_t>(count));
    for (float& x : v) x = u(rng);
    return v;
}

}  // namespace

BL_TEST("complex-forward-inverse-in-place-vs-naive") {
    std::mt19937_64 rng(12345);
    for (int64_t n : test_lengths()) {
        bl::ComplexFft fft(n);
        CHECK(fft.size() == n);
        CHECK(fft.table_bytes() >= 0);
        std::vector<float> x = random_floats(rng, 2 * n);
        std::vector<cd> xc(static_cast<size_t>(n));
        for (int64_t j = 0; j < n; ++j) xc[j] = cd(x[2 * j], x[2 * j + 1]);
        for (int sign : {-1, +1}) {
            std::vector<cd> ref = naive_dft(xc, sign);
            Guarded out(2 * n), scratch(fft.scratch_floats());
            out.fill_nan();
            scratch.fill_nan();
            std::vector<float> xin = x;
            if (sign < 0)
                fft.forward(xin.data(), out.data(), scratch.data());
            else
                fft.inverse(xin.data(), out.data(), scratch.data());
            check_err(sign < 0 ? "complex forward" : "complex inverse", n,
                      rel_err_complex(out.data(), ref, n));
            CHECK_MSG(out.guards_ok(), msg("complex out guard", n, 0));
            CHECK_MSG(scratch.guards_ok(), msg("complex scratch guard", n, 0));
            CHECK_MSG(xin == x, msg("complex input modified", n, 0));
            // In place (in == out), same reference.
            Guarded buf(2 * n);
            scratch.fill_nan();
            std::copy(x.begin(), x.end(), buf.data());
            if (sign < 0)
                fft.forward(buf.data(), buf.data(), scratch.data());
            else
                fft.inverse(buf.data(), buf.data(), scratch.data());
            check_err(sign < 0 ? "complex in-place forward" : "complex in-place inverse", n,
                      rel_err_complex(buf.data(), ref, n));
            CHECK_MSG(buf.guards_ok(), msg("in-place guard", n, 0));
            CHECK_MSG(scratch.guards_ok(), msg("in-place scratch guard", n, 0));
        }
    }
}

BL_TEST("complex-round-trip") {
    std::mt19937_64 rng(999);
    for (int64_t n : test_lengths()) {
        bl::ComplexFft fft(n);
        std::vector<float> x = random_floats(rng, 2 * n);
        std::vector<float> y(static_cast<size_t>(2 * n)), z(static_cast<size_t>(2 * n));
        std::vector<float> scratch(static_cast<size_t>(fft.scratch_floats()));
        fft.forward(x.data(), y.data(), scratch.data());
        fft.inverse(y.data(), z.data(), scratch.data());
        std::vector<cd> ref(static_cast<size_t>(n));
        for (int64_t j = 0; j < n; ++j) ref[j] = cd(x[2 * j], x[2 * j + 1]) * static_cast<double>(n);
        check_err("complex round trip", n, rel_err_complex(z.data(), ref, n), 2.0);
    }
}

BL_TEST("real-forward-vs-naive") {
    std::mt19937_64 rng(4242);
    for (int64_t n : test_lengths()) {
        bl::RealFft fft(n);
        CHECK(fft.size() == n);
        CHECK(fft.table_bytes() >= 0);
        const int64_t nh = n / 2 + 1;
        std::vector<float> x = random_floats(rng, n);
        std::vector<cd> ref = naive_real_forward(std::vector<double>(x.begin(), x.end()), nh);
        Guarded out(2 * nh), scratch(fft.scratch_floats());
        out.fill_nan();
        scratch.fill_nan();
        std::vector<float> xin = x;
        fft.forward(xin.data(), out.data(), scratch.data());
        check_err("real forward", n, rel_err_complex(out.data(), ref, nh));
        CHECK_MSG(out.guards_ok(), msg("real forward out guard", n, 0));
        CHECK_MSG(scratch.guards_ok(), msg("real forward scratch guard", n, 0));
        CHECK_MSG(xin == x, msg("real forward input modified", n, 0));
    }
}

BL_TEST("real-inverse-vs-naive") {
    std::mt19937_64 rng(31337);
    for (int64_t n : test_lengths()) {
        bl::RealFft fft(n);
        const int64_t nh = n / 2 + 1;
        std::vector<float> spec = random_floats(rng, 2 * nh);
        // Garbage in the imaginary parts that must be ignored.
        spec[1] = 1.0e3f;
        if (n % 2 == 0) spec[2 * (nh - 1) + 1] = -7.0e2f;
        std::vector<cd> full(static_cast<size_t>(n));
        for (int64_t k = 0; k < nh; ++k) {
            cd v(spec[2 * k], spec[2 * k + 1]);
            if (k == 0 || (n % 2 == 0 && k == n / 2)) v = cd(v.real(), 0.0);
            full[k] = v;
            if (k > 0 && n - k != k) full[n - k] = std::conj(v);
        }
        std::vector<double> ref = naive_real_inverse(full);
        Guarded out(n), scratch(fft.scratch_floats());
        out.fill_nan();
        scratch.fill_nan();
        std::vector<float> spec_in = spec;
        fft.inverse(spec_in.data(), out.data(), scratch.data());
        check_err("real inverse", n, rel_err_real(out.data(), ref));
        CHECK_MSG(out.guards_ok(), msg("real inverse out guard", n, 0));
        CHECK_MSG(scratch.guards_ok(), msg("real inverse scratch guard", n, 0));
        CHECK_MSG(spec_in == spec, msg("real inverse input modified", n, 0));
    }
}

BL_TEST("real-round-trip") {
    std::mt19937_64 rng(2024);
    for (int64_t n : test_lengths()) {
        bl::RealFft fft(n);
        std::vector<float> x = random_floats(rng, n);
        std::vector<float> y(static_cast<size_t>(2 * (n / 2 + 1))), z(static_cast<size_t>(n));
        std::vector<float> scratch(static_cast<size_t>(fft.scratch_floats()));
        fft.forward(x.data(), y.data(), scratch.data());
        fft.inverse(y.data(), z.data(), scratch.data());
        std::vector<double> ref(static_cast<size_t>(n));
        for (int64_t j = 0; j < n; ++j) ref[j] = static_cast<double>(x[j]) * static_cast<double>(n);
        check_err("real round trip", n, rel_err_real(z.data(), ref), 2.0);
    }
}

BL_TEST("is-7smooth") {
    CHECK(!bl::is_7smooth(0));
    CHECK(!bl::is_7smooth(-1));
    CHECK(!bl::is_7smooth(-8));
    CHECK(!bl::is_7smooth(std::numeric_limits<int64_t>::min()));
    CHECK(!bl::is_7smooth(std::numeric_limits<int64_t>::max()));
    CHECK(bl::is_7smooth(1));
    for (int64_t n : {2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 35, 4116, 5120, 8192, 2187, 2401, 3125})
        CHECK_MSG(bl::is_7smooth(n), std::to_string(n));
    for (int64_t n : {11, 13, 17, 22, 26, 33, 34, 4097, 5119})
        CHECK_MSG(!bl::is_7smooth(n), std::to_string(n));
    CHECK(bl::is_7smooth(int64_t(1) << 62));
    CHECK(!bl::is_7smooth((int64_t(1) << 62) + 1));
}

BL_TEST("next-7smooth") {
    struct KV {
        int64_t n, want;
    };
    for (KV kv : {KV{34, 35}, KV{33, 35}, KV{17, 18}, KV{10, 10}, KV{11, 12}, KV{4097, 4116},
                  KV{5120, 5120}, KV{8192, 8192}, KV{1, 1}, KV{2, 2}, KV{13, 14}, KV{0, -1},
                  KV{-1, -1}, KV{-100, -1}}) {
        CHECK_MSG(bl::next_7smooth(kv.n) == kv.want,
                  "n=" + std::to_string(kv.n) + " got " + std::to_string(bl::next_7smooth(kv.n)));
    }
    const int64_t kMax = std::numeric_limits<int64_t>::max();
    CHECK(bl::next_7smooth(std::numeric_limits<int64_t>::min()) == -1);
    CHECK(bl::next_7smooth(kMax) == -1);
    CHECK(bl::next_7smooth(kMax - 1) == -1);
    CHECK(bl::next_7smooth(int64_t(1) << 62) == (int64_t(1) << 62));
    // Largest 7-smooth value in int64, by independent enumeration in unsigned 128-bit.
    __extension__ typedef unsigned __int128 u128;
    const u128 lim = static_cast<u128>(kMax);
    int64_t largest = 1;
    for (u128 a = 1; a <= lim; a *= 2)
        for (u128 b = a; b <= lim; b *= 3)
            for (u128 c = b; c <= lim; c *= 5)
                for (u128 d = c; d <= lim; d *= 7)
                    largest = std::max(largest, static_cast<int64_t>(d));
    CHECK(bl::is_7smooth(largest));
    CHECK(bl::next_7smooth(largest) == largest);
    CHECK(bl::next_7smooth(largest - 1) == largest);
    CHECK(bl::next_7smooth(largest + 1) == -1);
    // Brute force for small n.
    int bad = 0;
    for (int64_t n = 1; n <= 5000; ++n) {
        int64_t want = n;
        while (!bl::is_7smooth(want)) ++want;
        if (bl::next_7smooth(n) != want && ++bad <= 5)
            CHECK_MSG(false, "n=" + std::to_string(n) + " want " + std::to_string(want) + " got " +
                                 std::to_string(bl::next_7smooth(n)));
    }
    CHECK(bad == 0);
}

BL_TEST("constructors-throw") {
    for (int64_t n : {0, 11, 13, 22, -1, -8}) {
        bool threw_c = false, threw_r = false;
        try {
            bl::ComplexFft f(n);
        } catch (const std::invalid_argument&) {
            threw_c = true;
        }
        try {
            bl::RealFft f(n);
        } catch (const std::invalid_argument&) {
            threw_r = true;
        }
        CHECK_MSG(threw_c, "ComplexFft n=" + std::to_string(n));
        CHECK_MSG(threw_r, "RealFft n=" + std::to_string(n));
    }
}

BL_TEST("length-one-identity") {
    bl::ComplexFft c(1);
    float in[2] = {0.75f, -0.5f}, out[2] = {0, 0};
    std::vector<float> sc(static_cast<size_t>(c.scratch_floats()) + 1);
    c.forward(in, out, sc.data());
    CHECK(out[0] == 0.75f && out[1] == -0.5f);
    c.inverse(in, in, sc.data());
    CHECK(in[0] == 0.75f && in[1] == -0.5f);
    bl::RealFft r(1);
    std::vector<float> rs(static_cast<size_t>(r.scratch_floats()) + 1);
    float x = 0.3f, X[2] = {9, 9}, y = 0;
    r.forward(&x, X, rs.data());
    CHECK(X[0] == 0.3f && X[1] == 0.0f);
    X[1] = 5.0f;  // ignored
    r.inverse(X, &y, rs.data());
    CHECK(y == 0.3f);
}

BL_TEST("report-worst-ratio") {
    std::printf("    worst err/bound ratio over all accuracy checks: %.4f\n", worst_ratio);
    CHECK(worst_ratio < 1.0);
}

BL_TEST_MAIN()
