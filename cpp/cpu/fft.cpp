// fft.cpp -- mixed-radix (2, 3, 4, 5, 7) Stockham autosort FFTs; see fft.h.
//
// ComplexFft: decimation-in-frequency Stockham. With the current sub-length l (initially n),
// the stride s (initially 1), a stage of radix r and m = l / r computes, for p < m, q < s:
//     a_j = x[q + s*(p + j*m)],               j = 0..r-1
//     y[q + s*(r*p + k)] = (DFT_r a)_k * w^(p*k),   w = exp(sign * 2*pi*i / l)
// then l = m, s = s*r. After the last stage the spectrum is in natural order. Stages ping-pong
// between `out` and `scratch`, arranged so that the last stage writes `out`.
//
// RealFft, even n = 2h: z[j] = x[2j] + i x[2j+1], Z = FFT_h(z), then
//     E = (Z[k] + conj Z[h-k]) / 2,  O = (Z[k] - conj Z[h-k]) / (2i),  X[k] = E + W^k O,
// with W = exp(-2*pi*i/n); the inverse runs the same relations backwards. Odd n goes through a
// full-length complex FFT.
#include "fft.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>

namespace bl {

// ---------------------------------------------------------------------------------------------
// 7-smooth helpers

namespace {

// Largest length accepted; beyond it the tables alone would not fit in memory, and the
// scratch sizes (a few * n) must stay far from int64 overflow.
constexpr int64_t kMaxLength = int64_t(1) << 40;

constexpr double kTwoPi = 6.283185307179586476925286766559;

struct C {
    float r, i;
};

inline C ld(const float* p, int64_t idx) { return {p[2 * idx], p[2 * idx + 1]}; }
inline void st(float* p, int64_t idx, C v) {
    p[2 * idx] = v.r;
    p[2 * idx + 1] = v.i;
}
inline C add(C a, C b) { return {a.r + b.r, a.i + b.i}; }
inline C sub(C a, C b) { return {a.r - b.r, a.i - b.i}; }
inline C scale(C a, float f) { return {a.r * f, a.i * f}; }
inline C mul(C a, C w) { return {a.r * w.r - a.i * w.i, a.r * w.i + a.i * w.r}; }
inline C conj(C a) { return {a.r, -a.i}; }
// a * (sigma * i) with sigma = +1 (INV) or -1 (forward).
template <bool INV>
inline C mul_si(C a) {
    return INV ? C{-a.i, a.r} : C{a.i, -a.r};
}

// In-place DFT of size R on a[0..R-1] with kernel exp(sigma * 2*pi*i*j*k/R).
template <int R, bool INV>
inline void bfly(C* a);

template <>
inline void bfly<2, false>(C* a) {
    C t = a[0];
    a[0] = add(t, a[1]);
    a[1] = sub(t, a[1]);
}
template <>
inline void bfly<2, true>(C* a) {
    bfly<2, false>(a);
}

template <bool INV>
inline void bfly4(C* a) {
    C t0 = add(a[0], a[2]), t1 = sub(a[0], a[2]);
    C t2 = add(a[1], a[3]), t3 = mul_si<INV>(sub(a[1], a[3]));
    a[0] = add(t0, t2);
    a[2] = sub(t0, t2);
    a[1] = add(t1, t3);
    a[3] = sub(t1, t3);
}
template <>
inline void bfly<4, false>(C* a) {
    bfly4<false>(a);
}
template <>
inline void bfly<4, true>(C* a) {
    bfly4<true>(a);
}

template <bool INV>
inline void bfly3(C* a) {
    const float s = 0.86602540378443864676f;  // sin(2*pi/3)
    C t = add(a[1], a[2]);
    C d = mul_si<INV>(scale(sub(a[1], a[2]), s));
    C m = sub(a[0], scale(t, 0.5f));
    a[0] = add(a[0], t);
    a[1] = add(m, d);
    a[2] = sub(m, d);
}
template <>
inline void bfly<3, false>(C* a) {
    bfly3<false>(a);
}
template <>
inline void bfly<3, true>(C* a) {
    bfly3<true>(a);
}

template <bool INV>
inline void bfly5(C* a) {
    const float c1 = 0.30901699437494742410f;   // cos(2*pi/5)
    const float c2 = -0.80901699437494742410f;  // cos(4*pi/5)
    const float s1 = 0.95105651629515357212f;   // sin(2*pi/5)
    const float s2 = 0.58778525229247312917f;   // sin(4*pi/5)
    C t1 = add(a[1], a[4]), d1 = sub(a[1], a[4]);
    C t2 = add(a[2], a[3]), d2 = sub(a[2], a[3]);
    C r1 = {a[0].r + c1 * t1.r + c2 * t2.r, a[0].i + c1 * t1.i + c2 * t2.i};
    C r2 = {a[0].r + c2 * t1.r + c1 * t2.r, a[0].i + c2 * t1.i + c1 * t2.i};
    C i1 = mul_si<INV>(C{s1 * d1.r + s2 * d2.r, s1 * d1.i + s2 * d2.i});
    C i2 = mul_si<INV>(C{s2 * d1.r - s1 * d2.r, s2 * d1.i - s1 * d2.i});
    a[0] = add(a[0], add(t1, t2));
    a[1] = add(r1, i1);
    a[4] = sub(r1, i1);
    a[2] = add(r2, i2);
    a[3] = sub(r2, i2);
}
template <>
inline void bfly<5, false>(C* a) {
    bfly5<false>(a);
}
template <>
inline void bfly<5, true>(C* a) {
    bfly5<true>(a);
}

template <bool INV>
inline void bfly7(C* a) {
    const float c1 = 0.62348980185873353053f;   // cos(2*pi/7)
    const float c2 = -0.22252093395631440429f;  // cos(4*pi/7)
    const float c3 = -0.90096886790241912624f;  // cos(6*pi/7)
    const float s1 = 0.78183148246802980871f;   // sin(2*pi/7)
    const float s2 = 0.97492791218182360702f;   // sin(4*pi/7)
    const float s3 = 0.43388373911755812048f;   // sin(6*pi/7)
    C t1 = add(a[1], a[6]), d1 = sub(a[1], a[6]);
    C t2 = add(a[2], a[5]), d2 = sub(a[2], a[5]);
    C t3 = add(a[3], a[4]), d3 = sub(a[3], a[4]);
    // k = 1: cos indices 1,2,3; sin indices 1,2,3.
    // k = 2: cos indices 2,4=3',6=1' -> c2,c3,c1; sin 2, 4 (=-s3), 6 (=-s1).
    // k = 3: cos indices 3,6=1',9=2' -> c3,c1,c2; sin 3, 6 (=-s1), 9=2 (s2).
    C r1 = {a[0].r + c1 * t1.r + c2 * t2.r + c3 * t3.r, a[0].i + c1 * t1.i + c2 * t2.i + c3 * t3.i};
    C r2 = {a[0].r + c2 * t1.r + c3 * t2.r + c1 * t3.r, a[0].i + c2 * t1.i + c3 * t2.i + c1 * t3.i};
    C r3 = {a[0].r + c3 * t1.r + c1 * t2.r + c2 * t3.r, a[0].i + c3 * t1.i + c1 * t2.i + c2 * t3.i};
    C i1 = mul_si<INV>(
        C{s1 * d1.r + s2 * d2.r + s3 * d3.r, s1 * d1.i + s2 * d2.i + s3 * d3.i});
    C i2 = mul_si<INV>(
        C{s2 * d1.r - s3 * d2.r - s1 * d3.r, s2 * d1.i - s3 * d2.i - s1 * d3.i});
    C i3 = mul_si<INV>(
        C{s3 * d1.r - s1 * d2.r + s2 * d3.r, s3 * d1.i - s1 * d2.i + s2 * d3.i});
    a[0] = add(a[0], add(t1, add(t2, t3)));
    a[1] = add(r1, i1);
    a[6] = sub(r1, i1);
    a[2] = add(r2, i2);
    a[5] = sub(r2, i2);
    a[3] = add(r3, i3);
    a[4] = sub(r3, i3);
}
template <>
inline void bfly<7, false>(C* a) {
    bfly7<false>(a);
}
template <>
inline void bfly<7, true>(C* a) {
    bfly7<true>(a);
}

// One Stockham stage of radix R: sub-length l = R*m, stride s. tw holds, for p < m and
// k = 1..R-1, exp(-2*pi*i*p*k/l) at complex index p*(R-1) + k-1.
template <int R, bool INV>
void pass(int64_t m, int64_t s, const float* tw, const float* x, float* y) {
    const int64_t sm = s * m;
    for (int64_t p = 0; p < m; ++p) {
        C w[R];
        for (int k = 1; k < R; ++k) {
            C t = ld(tw, p * (R - 1) + (k - 1));
            w[k] = INV ? conj(t) : t;
        }
        const float* xp = x + 2 * (s * p);
        float* yp = y + 2 * (s * R * p);
        if (p == 0) {
            for (int64_t q = 0; q < s; ++q) {
                C a[R];
                for (int j = 0; j < R; ++j) a[j] = ld(xp, q + j * sm);
                bfly<R, INV>(a);
                for (int k = 0; k < R; ++k) st(yp, q + k * s, a[k]);
            }
        } else {
            for (int64_t q = 0; q < s; ++q) {
                C a[R];
                for (int j = 0; j < R; ++j) a[j] = ld(xp, q + j * sm);
                bfly<R, INV>(a);
                st(yp, q, a[0]);
                for (int k = 1; k < R; ++k) st(yp, q + k * s, mul(a[k], w[k]));
            }
        }
    }
}

template <bool INV>
void dispatch(int r, int64_t m, int64_t s, const float* tw, const float* x, float* y) {
    switch (r) {
        case 2: pass<2, INV>(m, s, tw, x, y); break;
        case 3: pass<3, INV>(m, s, tw, x, y); break;
        case 4: pass<4, INV>(m, s, tw, x, y); break;
        case 5: pass<5, INV>(m, s, tw, x, y); break;
        case 7: pass<7, INV>(m, s, tw, x, y); break;
        default: break;  // unreachable: factors_ holds only these radices
    }
}

void check_length(int64_t n, const char* who) {
    if (!is_7smooth(n)) {
        throw std::invalid_argument(std::string(who) + ": length " + std::to_string(n) +
                                    " is not a positive 7-smooth integer");
    }
    if (n > kMaxLength) throw std::bad_alloc();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// ComplexFft

ComplexFft::ComplexFft(int64_t n) : n_(n) {
    check_length(n, "ComplexFft");
    int64_t rest = n;
    while (rest % 4 == 0) {
        factors_.push_back(4);
        rest /= 4;
    }
    for (int r : {2, 3, 5, 7}) {
        while (rest % r == 0) {
            factors_.push_back(r);
            rest /= r;
        }
    }
    // Twiddles: stage by stage, exp(-2*pi*i*p*k/l) for p < m, k = 1..r-1 (p*k < l).
    int64_t total = 0, l = n;
    for (int r : factors_) {
        int64_t m = l / r;
        total += m * (r - 1);
        l = m;
    }
    twiddles_.resize(static_cast<size_t>(2 * total));
    int64_t idx = 0;
    l = n;
    for (int r : factors_) {
        int64_t m = l / r;
        for (int64_t p = 0; p < m; ++p) {
            for (int k = 1; k < r; ++k) {
                double ang = kTwoPi * static_cast<double>(p * k) / static_cast<double>(l);
                twiddles_[2 * idx] = static_cast<float>(std::cos(ang));
                twiddles_[2 * idx + 1] = static_cast<float>(-std::sin(ang));
                ++idx;
            }
        }
        l = m;
    }
}

int64_t ComplexFft::scratch_floats() const { return scratch_floats_for(n_); }

int64_t ComplexFft::scratch_floats_for(int64_t n) { return 2 * n; }

int64_t ComplexFft::table_bytes_for(int64_t n) {
    // The constructor's factors (4s first, then 2, 3, 5, 7), pushed one by one: the vector's
    // capacity grows by doubling from 1. Its twiddles: sum over stages of (l / r)(r - 1) =
    // sum (l - l / r), which telescopes to n - 1 complex values.
    int64_t factors = 0, rest = n;
    while (rest % 4 == 0) rest /= 4, ++factors;
    for (int64_t r : {2, 3, 5, 7})
        while (rest % r == 0) rest /= r, ++factors;
    int64_t capacity = factors == 0 ? 0 : 1;
    while (capacity < factors) capacity *= 2;
    return capacity * int64_t(sizeof(int)) + 2 * (n - 1) * int64_t(sizeof(float));
}

int64_t ComplexFft::table_bytes() const {
    return static_cast<int64_t>(factors_.capacity() * sizeof(int) +
                                twiddles_.capacity() * sizeof(float));
}

void ComplexFft::forward(const float* in, float* out, float* scratch) const {
    run(in, out, scratch, false);
}

void ComplexFft::inverse(const float* in, float* out, float* scratch) const {
    run(in, out, scratch, true);
}

void ComplexFft::run(const float* in, float* out, float* scratch, bool inverse) const {
    const size_t nstages = factors_.size();
    if (nstages == 0) {  // n == 1
        if (out != in) std::memcpy(out, in, 2 * sizeof(float));
        return;
    }
    // Stage t writes `out` when (nstages - 1 - t) is even, so the last stage writes `out`.
    const bool first_to_out = (nstages % 2) == 1;
    const float* src = in;
    if (first_to_out && in == out) {
        std::memcpy(scratch, in, static_cast<size_t>(2 * n_) * sizeof(float));
        src = scratch;
    }
    float* dst = first_to_out ? out : scratch;
    int64_t l = n_, s = 1;
    const float* tw = twiddles_.data();
    for (int r : factors_) {
        const int64_t m = l / r;
        if (inverse) {
            dispatch<true>(r, m, s, tw, src, dst);
        } else {
            dispatch<false>(r, m, s, tw, src, dst);
        }
        tw += 2 * m * (r - 1);
        src = dst;
        dst = (dst == out) ? scratch : out;
        l = m;
        s *= r;
    }
}

// ---------------------------------------------------------------------------------------------
// RealFft

RealFft::RealFft(int64_t n) : n_(n) {
    check_length(n, "RealFft");
    if (n % 2 == 0) {
        const int64_t h = n / 2;
        complex_.reserve(1);
        complex_.emplace_back(h);
        // W^k = exp(-2*pi*i*k/n) for k = 0..h/2.
        const int64_t cnt = h / 2 + 1;
        twiddles_.resize(static_cast<size_t>(2 * cnt));
        for (int64_t k = 0; k < cnt; ++k) {
            double ang = kTwoPi * static_cast<double>(k) / static_cast<double>(n);
            twiddles_[2 * k] = static_cast<float>(std::cos(ang));
            twiddles_[2 * k + 1] = static_cast<float>(-std::sin(ang));
        }
    } else {
        complex_.reserve(1);
        complex_.emplace_back(n);
    }
}

int64_t RealFft::scratch_floats() const { return scratch_floats_for(n_); }

int64_t RealFft::table_bytes_for(int64_t n) {
    // One complex FFT (half length for even n, plus h / 2 + 1 untangling twiddles).
    const int64_t complex = int64_t(sizeof(ComplexFft));
    if (n % 2 != 0) return complex + ComplexFft::table_bytes_for(n);
    const int64_t h = n / 2;
    return complex + ComplexFft::table_bytes_for(h) + 2 * (h / 2 + 1) * int64_t(sizeof(float));
}

int64_t RealFft::scratch_floats_for(int64_t n) {
    // Even: h complex for the packed spectrum + the half-length FFT's scratch (2h) = 2n.
    // Odd: n complex work buffer + the full-length FFT's scratch (2n) = 4n.
    return n % 2 == 0 ? 2 * n : 4 * n;
}

int64_t RealFft::table_bytes() const {
    int64_t b = static_cast<int64_t>(complex_.capacity() * sizeof(ComplexFft) +
                                     twiddles_.capacity() * sizeof(float));
    for (const ComplexFft& c : complex_) b += c.table_bytes();
    return b;
}

void RealFft::forward(const float* in, float* out, float* scratch) const {
    const int64_t n = n_;
    if (n % 2 == 0) {
        const int64_t h = n / 2;
        // Z = FFT_h(x as h complex) straight into out[0 .. 2h), then untangle in place.
        complex_[0].forward(in, out, scratch);
        const C z0 = ld(out, 0);
        st(out, 0, C{z0.r + z0.i, 0.0f});
        st(out, h, C{z0.r - z0.i, 0.0f});
        const float* tw = twiddles_.data();
        for (int64_t k = 1; 2 * k <= h; ++k) {
            const C zk = ld(out, k), zm = conj(ld(out, h - k));
            const C e = scale(add(zk, zm), 0.5f);
            const C dd = sub(zk, zm);
            const C o = {0.5f * dd.i, -0.5f * dd.r};  // (zk - conj zm) / (2i)
            const C t = mul(o, ld(tw, k));
            st(out, k, add(e, t));
            st(out, h - k, conj(sub(e, t)));
        }
    } else {
        float* a = scratch;
        for (int64_t j = 0; j < n; ++j) st(a, j, C{in[j], 0.0f});
        complex_[0].forward(a, a, scratch + 2 * n);
        std::memcpy(out, a, static_cast<size_t>(2 * (n / 2 + 1)) * sizeof(float));
    }
}

void RealFft::inverse(const float* in, float* out, float* scratch) const {
    const int64_t n = n_;
    if (n % 2 == 0) {
        const int64_t h = n / 2;
        float* z = scratch;
        const float x0 = in[0], xh = in[2 * h];
        st(z, 0, C{x0 + xh, x0 - xh});
        const float* tw = twiddles_.data();
        for (int64_t k = 1; 2 * k <= h; ++k) {
            const C xk = ld(in, k), xm = ld(in, h - k);
            const C w = ld(tw, k);
            // Z'[k] = (X[k] + conj X[h-k]) + i (X[k] - conj X[h-k]) conj(W^k)
            {
                const C s = add(xk, conj(xm));
                const C d = mul(sub(xk, conj(xm)), conj(w));
                st(z, k, C{s.r - d.i, s.i + d.r});
            }
            // Z'[h-k] = (X[h-k] + conj X[k]) + i (X[h-k] - conj X[k]) (-W^k)
            {
                const C s = add(xm, conj(xk));
                const C d = mul(sub(xm, conj(xk)), w);
                st(z, h - k, C{s.r + d.i, s.i - d.r});
            }
        }
        complex_[0].inverse(z, out, scratch + 2 * h);
    } else {
        float* a = scratch;
        st(a, 0, C{in[0], 0.0f});
        for (int64_t k = 1; 2 * k < n; ++k) {
            const C x = ld(in, k);
            st(a, k, x);
            st(a, n - k, conj(x));
        }
        complex_[0].inverse(a, a, scratch + 2 * n);
        for (int64_t j = 0; j < n; ++j) out[j] = a[2 * j];
    }
}

}  // namespace bl
