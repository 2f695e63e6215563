// reference.h -- slow, obviously-right float64 references of the operator (docs/ALGORITHM.md).
//
// Written from ALGORITHM.md alone and never calling the library, so that the library and the
// tests cannot share a misreading (the golden file checks this reference in turn):
//  - the dense operator of section 1 as direct sums (forward, dx, dw, db; stride = stride-1
//    result sampled every s, its backward scatters dy onto the stride-1 grid);
//  - the geometry of sections 2-3 in exact integer arithmetic (7-smooth FFT lengths, the box
//    chain, fixed and energy box rules, achieved rate);
//  - the band-limited operator of sections 2-3 through a NAIVE O(L^2)-per-axis complex DFT of
//    the whole LH x LW plane (no FFT library). The mask is applied on the full plane:
//    (r, s) is kept iff min(r, LH - r) <= kh and min(s, LW - s) <= kw, which is the half-plane
//    box of section 3 extended by conjugate symmetry, so the inverse is real up to rounding;
//  - error measures and bounds of section 5, deterministic random fills.
#pragma once

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

namespace blref {

using cd = std::complex<double>;

// ------------------------------------------------------------------------------------------
// Geometry (section 1)
// ------------------------------------------------------------------------------------------
struct Geom {
    int64_t N = 1, C = 1, H = 1, W = 1, F = 1, KH = 1, KW = 1;
    int64_t pt = 0, pb = 0, pl = 0, pr = 0;  // padding top, bottom, left, right
    int64_t sh = 1, sw = 1;                  // stride per axis

    int64_t Hp() const { return pt + H + pb; }
    int64_t Wp() const { return pl + W + pr; }
    // Stride-1 output (the grid the frequency domain computes).
    int64_t Ho1() const { return Hp() - KH + 1; }
    int64_t Wo1() const { return Wp() - KW + 1; }
    // Strided output.
    int64_t Ho() const { return (Hp() - KH) / sh + 1; }
    int64_t Wo() const { return (Wp() - KW) / sw + 1; }

    int64_t x_size(int64_t n) const { return n * C * H * W; }
    int64_t w_size() const { return F * C * KH * KW; }
    int64_t y_size(int64_t n) const { return n * F * Ho() * Wo(); }
};

// ------------------------------------------------------------------------------------------
// Dense direct sums (section 1), float64
// ------------------------------------------------------------------------------------------

// Padded input value xp[n][c][p][q] (zero outside the input).
inline double xp_at(const Geom& g, const double* x, int64_t n, int64_t c, int64_t p, int64_t q) {
    int64_t h = p - g.pt, w = q - g.pl;
    if (h < 0 || h >= g.H || w < 0 || w >= g.W) return 0.0;
    return x[((n * g.C + c) * g.H + h) * g.W + w];
}

// y[n][f][i][j] = b[f] + sum_c sum_u sum_v xp[n][c][i*sh+u][j*sw+v] * w[f][c][u][v].
// b may be null (no bias).
inline std::vector<double> dense_forward(const Geom& g, int64_t n, const double* x,
                                         const double* w, const double* b) {
    const int64_t Ho = g.Ho(), Wo = g.Wo();
    std::vector<double> y(static_cast<size_t>(n * g.F * Ho * Wo), 0.0);
    for (int64_t in = 0; in < n; ++in)
        for (int64_t f = 0; f < g.F; ++f)
            for (int64_t i = 0; i < Ho; ++i)
                for (int64_t j = 0; j < Wo; ++j) {
                    double acc = b ? b[f] : 0.0;
                    for (int64_t c = 0; c < g.C; ++c)
                        for (int64_t u = 0; u < g.KH; ++u)
                            for (int64_t v = 0; v < g.KW; ++v)
                                acc += xp_at(g, x, in, c, i * g.sh + u, j * g.sw + v) *
                                       w[((f * g.C + c) * g.KH + u) * g.KW + v];
                    y[static_cast<size_t>(((in * g.F + f) * Ho + i) * Wo + j)] = acc;
                }
    return y;
}

// Backward of the dense operator: dx (like x), dw (like w), db (like b). dy[n][F][Ho][Wo]
// is scattered onto the stride-1 grid (the positions i*sh, j*sw); all other positions get 0.
inline void dense_backward(const Geom& g, int64_t n, const double* x, const double* w,
                           const double* dy, std::vector<double>& dx, std::vector<double>& dw,
                           std::vector<double>& db) {
    const int64_t Ho = g.Ho(), Wo = g.Wo();
    dx.assign(static_cast<size_t>(g.x_size(n)), 0.0);
    dw.assign(static_cast<size_t>(g.w_size()), 0.0);
    db.assign(static_cast<size_t>(g.F), 0.0);
    for (int64_t in = 0; in < n; ++in)
        for (int64_t f = 0; f < g.F; ++f)
            for (int64_t i = 0; i < Ho; ++i)
                for (int64_t j = 0; j < Wo; ++j) {
                    const double d = dy[((in * g.F + f) * Ho + i) * Wo + j];
                    db[static_cast<size_t>(f)] += d;
                    for (int64_t c = 0; c < g.C; ++c)
                        for (int64_t u = 0; u < g.KH; ++u)
                            for (int64_t v = 0; v < g.KW; ++v) {
                                const int64_t h = i * g.sh + u - g.pt, ww = j * g.sw + v - g.pl;
                                if (h < 0 || h >= g.H || ww < 0 || ww >= g.W) continue;
                                const size_t xi = static_cast<size_t>(((in * g.C + c) * g.H + h) * g.W + ww);
                                const size_t wi = static_cast<size_t>(((f * g.C + c) * g.KH + u) * g.KW + v);
                                dx[xi] += d * w[wi];
                                dw[wi] += d * x[xi];
                            }
                }
}

// ------------------------------------------------------------------------------------------
// Frequency-domain geometry (sections 2-3), exact integers
// ------------------------------------------------------------------------------------------

// Smallest 2^a 3^b 5^c 7^d >= n (n >= 1).
// Smallest power of two >= n (the paper baseline's FFT lengths, of padded input + kernel - 1).
inline int64_t next_pow2(int64_t n) {
    int64_t p = 1;
    while (p < n) p *= 2;
    return p;
}

inline int64_t next_7smooth(int64_t n) {
    if (n < 1) throw std::invalid_argument("next_7smooth: n < 1");
    for (int64_t m = n;; ++m) {
        int64_t r = m;
        for (int64_t p : {2, 3, 5, 7})
            while (r % p == 0) r /= p;
        if (r == 1) return m;
    }
}

struct Box {
    int64_t kh = 0, kw = 0;
    bool operator==(const Box& o) const { return kh == o.kh && kw == o.kw; }
    bool operator!=(const Box& o) const { return !(*this == o); }
};

inline int64_t half_cols(int64_t LW) { return LW / 2 + 1; }
inline int64_t total_coeffs(int64_t LH, int64_t LW) { return LH * half_cols(LW); }
inline int64_t kept_coeffs(int64_t LH, int64_t LW, Box b) {
    (void)LW;
    return std::min(2 * b.kh + 1, LH) * (b.kw + 1);
}
inline int64_t discarded_coeffs(int64_t LH, int64_t LW, Box b) {
    return total_coeffs(LH, LW) - kept_coeffs(LH, LW, b);
}
inline double box_rate(int64_t LH, int64_t LW, Box b) {
    return static_cast<double>(discarded_coeffs(LH, LW, b)) /
           static_cast<double>(total_coeffs(LH, LW));
}
inline Box full_box(int64_t LH, int64_t LW) { return Box{LH / 2, LW / 2}; }

// The chain B(t) = (floor(t*nh), floor(t*nw)), nh = floor(LH/2), nw = floor(LW/2), t in [0,1],
// enumerated exactly: the box only changes at t = i/nh or t = j/nw, where it is
// (i, floor(i*nw/nh)) resp. (floor(j*nh/nw), j). Sorted by t (= lexicographic order, both
// coordinates are non-decreasing in t), duplicates removed. First (0,0), last (nh,nw).
inline std::vector<Box> box_chain(int64_t LH, int64_t LW) {
    const int64_t nh = LH / 2, nw = LW / 2;
    std::vector<Box> boxes;
    boxes.push_back(Box{0, 0});
    for (int64_t i = 1; i <= nh; ++i) boxes.push_back(Box{i, nw == 0 ? 0 : (i * nw) / nh});
    for (int64_t j = 1; j <= nw; ++j) boxes.push_back(Box{nh == 0 ? 0 : (j * nh) / nw, j});
    std::sort(boxes.begin(), boxes.end(), [](const Box& a, const Box& b) {
        return a.kh != b.kh ? a.kh < b.kh : a.kw < b.kw;
    });
    boxes.erase(std::unique(boxes.begin(), boxes.end()), boxes.end());
    for (size_t k = 1; k < boxes.size(); ++k)  // a chain: both coordinates non-decreasing
        if (boxes[k].kw < boxes[k - 1].kw) throw std::logic_error("box_chain: not a chain");
    return boxes;
}

// Fixed compression: the chain box discarding the most with D <= rho * total + 1e-9. D strictly
// falls along the chain, so that is the first box (smallest t) satisfying it.
inline Box fixed_box(int64_t LH, int64_t LW, double rho) {
    const double limit = rho * static_cast<double>(total_coeffs(LH, LW)) + 1e-9;
    for (const Box& b : box_chain(LH, LW))
        if (static_cast<double>(discarded_coeffs(LH, LW, b)) <= limit) return b;
    return full_box(LH, LW);
}

// ------------------------------------------------------------------------------------------
// Naive DFT (complex, full plane)
// ------------------------------------------------------------------------------------------

// Twiddles e^{sign 2 pi i m / L}, m = 0..L-1 (index products are reduced mod L exactly).
inline std::vector<cd> twiddles(int64_t L, int sign) {
    std::vector<cd> t(static_cast<size_t>(L));
    const double pi = 3.14159265358979323846264338327950288;
    for (int64_t m = 0; m < L; ++m) {
        double a = sign * 2.0 * pi * static_cast<double>(m) / static_cast<double>(L);
        t[static_cast<size_t>(m)] = cd(std::cos(a), std::sin(a));
    }
    return t;
}

// In-place 2D DFT of an LH x LW complex array (row-major), unnormalised:
// out[r][s] = sum_{p,q} in[p][q] e^{sign 2 pi i (r p / LH + s q / LW)}. O(LH LW (LH + LW)).
inline void dft2(std::vector<cd>& a, int64_t LH, int64_t LW, int sign) {
    const std::vector<cd> th = twiddles(LH, sign), tw = twiddles(LW, sign);
    std::vector<cd> tmp(static_cast<size_t>(std::max(LH, LW)));
    for (int64_t p = 0; p < LH; ++p) {  // along W
        cd* row = &a[static_cast<size_t>(p * LW)];
        for (int64_t s = 0; s < LW; ++s) {
            cd acc = 0.0;
            for (int64_t q = 0; q < LW; ++q) acc += row[q] * tw[static_cast<size_t>((s * q) % LW)];
            tmp[static_cast<size_t>(s)] = acc;
        }
        for (int64_t s = 0; s < LW; ++s) row[s] = tmp[static_cast<size_t>(s)];
    }
    for (int64_t q = 0; q < LW; ++q) {  // along H
        for (int64_t r = 0; r < LH; ++r) {
            cd acc = 0.0;
            for (int64_t p = 0; p < LH; ++p)
                acc += a[static_cast<size_t>(p * LW + q)] * th[static_cast<size_t>((r * p) % LH)];
            tmp[static_cast<size_t>(r)] = acc;
        }
        for (int64_t r = 0; r < LH; ++r) a[static_cast<size_t>(r * LW + q)] = tmp[static_cast<size_t>(r)];
    }
}

// Full-plane mask of box b (see the file comment).
inline std::vector<double> mask_full(int64_t LH, int64_t LW, Box b) {
    std::vector<double> m(static_cast<size_t>(LH * LW), 0.0);
    for (int64_t r = 0; r < LH; ++r)
        for (int64_t s = 0; s < LW; ++s)
            if (std::min(r, LH - r) <= b.kh && std::min(s, LW - s) <= b.kw)
                m[static_cast<size_t>(r * LW + s)] = 1.0;
    return m;
}

// Spectra of the zero-extended padded input xp[n][c] (placed at [pt, pt+H) x [pl, pl+W)).
inline std::vector<std::vector<cd>> input_spectra(const Geom& g, int64_t n, const double* x,
                                                  int64_t LH, int64_t LW) {
    std::vector<std::vector<cd>> X(static_cast<size_t>(n * g.C));
    for (int64_t in = 0; in < n; ++in)
        for (int64_t c = 0; c < g.C; ++c) {
            std::vector<cd> a(static_cast<size_t>(LH * LW), 0.0);
            for (int64_t h = 0; h < g.H; ++h)
                for (int64_t w = 0; w < g.W; ++w)
                    a[static_cast<size_t>((h + g.pt) * LW + (w + g.pl))] =
                        x[((in * g.C + c) * g.H + h) * g.W + w];
            dft2(a, LH, LW, -1);
            X[static_cast<size_t>(in * g.C + c)] = std::move(a);
        }
    return X;
}

inline std::vector<std::vector<cd>> weight_spectra(const Geom& g, const double* w, int64_t LH,
                                                   int64_t LW) {
    std::vector<std::vector<cd>> Wf(static_cast<size_t>(g.F * g.C));
    for (int64_t f = 0; f < g.F; ++f)
        for (int64_t c = 0; c < g.C; ++c) {
            std::vector<cd> a(static_cast<size_t>(LH * LW), 0.0);
            for (int64_t u = 0; u < g.KH; ++u)
                for (int64_t v = 0; v < g.KW; ++v)
                    a[static_cast<size_t>(u * LW + v)] = w[((f * g.C + c) * g.KH + u) * g.KW + v];
            dft2(a, LH, LW, -1);
            Wf[static_cast<size_t>(f * g.C + c)] = std::move(a);
        }
    return Wf;
}

// Spectra of dy scattered onto the stride-1 grid and zero-extended to LH x LW.
inline std::vector<std::vector<cd>> grad_spectra(const Geom& g, int64_t n, const double* dy,
                                                 int64_t LH, int64_t LW) {
    const int64_t Ho = g.Ho(), Wo = g.Wo();
    std::vector<std::vector<cd>> D(static_cast<size_t>(n * g.F));
    for (int64_t in = 0; in < n; ++in)
        for (int64_t f = 0; f < g.F; ++f) {
            std::vector<cd> a(static_cast<size_t>(LH * LW), 0.0);
            for (int64_t i = 0; i < Ho; ++i)
                for (int64_t j = 0; j < Wo; ++j)
                    a[static_cast<size_t>(i * g.sh * LW + j * g.sw)] = dy[((in * g.F + f) * Ho + i) * Wo + j];
            dft2(a, LH, LW, -1);
            D[static_cast<size_t>(in * g.F + f)] = std::move(a);
        }
    return D;
}

// Inverse of a masked full-plane spectrum; returns the real part, normalised by 1/(LH LW).
// max_imag (optional) receives the largest |imaginary part| relative to the largest |value|
// (it must be ~1e-16: the masked spectrum is that of a real array).
inline std::vector<double> inverse_real(std::vector<cd> a, int64_t LH, int64_t LW,
                                        double* max_imag = nullptr) {
    dft2(a, LH, LW, +1);
    const double scale = 1.0 / static_cast<double>(LH * LW);
    std::vector<double> out(a.size());
    double mi = 0.0, mr = 0.0;
    for (size_t k = 0; k < a.size(); ++k) {
        out[k] = a[k].real() * scale;
        mi = std::max(mi, std::abs(a[k].imag()) * scale);
        mr = std::max(mr, std::abs(out[k]));
    }
    if (max_imag) *max_imag = mr > 0 ? mi / mr : mi;
    return out;
}

// ------------------------------------------------------------------------------------------
// Band-limited operator (sections 2-3), float64 via naive DFT
// ------------------------------------------------------------------------------------------

// Y^[n,f] = M . sum_c X^[n,c] . conj(W^[f,c]); y = real inverse, keep [0,Ho1) x [0,Wo1),
// sample every (sh, sw); plus bias (b may be null).
inline std::vector<double> bl_forward(const Geom& g, int64_t n, const double* x, const double* w,
                                      const double* b, int64_t LH, int64_t LW, Box box,
                                      double* max_imag = nullptr) {
    const auto X = input_spectra(g, n, x, LH, LW);
    const auto Wf = weight_spectra(g, w, LH, LW);
    const auto M = mask_full(LH, LW, box);
    const int64_t Ho = g.Ho(), Wo = g.Wo();
    std::vector<double> y(static_cast<size_t>(n * g.F * Ho * Wo));
    double worst_imag = 0.0;
    for (int64_t in = 0; in < n; ++in)
        for (int64_t f = 0; f < g.F; ++f) {
            std::vector<cd> acc(static_cast<size_t>(LH * LW), 0.0);
            for (int64_t c = 0; c < g.C; ++c) {
                const auto& xs = X[static_cast<size_t>(in * g.C + c)];
                const auto& ws = Wf[static_cast<size_t>(f * g.C + c)];
                for (size_t k = 0; k < acc.size(); ++k) acc[k] += xs[k] * std::conj(ws[k]);
            }
            for (size_t k = 0; k < acc.size(); ++k) acc[k] *= M[k];
            double mi = 0.0;
            const std::vector<double> full = inverse_real(std::move(acc), LH, LW, &mi);
            worst_imag = std::max(worst_imag, mi);
            for (int64_t i = 0; i < Ho; ++i)
                for (int64_t j = 0; j < Wo; ++j)
                    y[static_cast<size_t>(((in * g.F + f) * Ho + i) * Wo + j)] =
                        (b ? b[f] : 0.0) + full[static_cast<size_t>(i * g.sh * LW + j * g.sw)];
        }
    if (max_imag) *max_imag = worst_imag;
    return y;
}

// dX^[n,c] = sum_f M.dY^[n,f] . W^[f,c] -> keep [pt,pt+H) x [pl,pl+W);
// dW^[f,c] = sum_n X^[n,c] . conj(M.dY^[n,f]) -> keep [0,KH) x [0,KW); db = sum dy.
inline void bl_backward(const Geom& g, int64_t n, const double* x, const double* w,
                        const double* dy, int64_t LH, int64_t LW, Box box, std::vector<double>& dx,
                        std::vector<double>& dw, std::vector<double>& db) {
    const auto X = input_spectra(g, n, x, LH, LW);
    const auto Wf = weight_spectra(g, w, LH, LW);
    auto D = grad_spectra(g, n, dy, LH, LW);
    const auto M = mask_full(LH, LW, box);
    for (auto& d : D)
        for (size_t k = 0; k < d.size(); ++k) d[k] *= M[k];
    const size_t P = static_cast<size_t>(LH * LW);

    dx.assign(static_cast<size_t>(g.x_size(n)), 0.0);
    for (int64_t in = 0; in < n; ++in)
        for (int64_t c = 0; c < g.C; ++c) {
            std::vector<cd> acc(P, 0.0);
            for (int64_t f = 0; f < g.F; ++f) {
                const auto& ds = D[static_cast<size_t>(in * g.F + f)];
                const auto& ws = Wf[static_cast<size_t>(f * g.C + c)];
                for (size_t k = 0; k < P; ++k) acc[k] += ds[k] * ws[k];
            }
            const std::vector<double> full = inverse_real(std::move(acc), LH, LW);
            for (int64_t h = 0; h < g.H; ++h)
                for (int64_t ww = 0; ww < g.W; ++ww)
                    dx[static_cast<size_t>(((in * g.C + c) * g.H + h) * g.W + ww)] =
                        full[static_cast<size_t>((h + g.pt) * LW + (ww + g.pl))];
        }

    dw.assign(static_cast<size_t>(g.w_size()), 0.0);
    for (int64_t f = 0; f < g.F; ++f)
        for (int64_t c = 0; c < g.C; ++c) {
            std::vector<cd> acc(P, 0.0);
            for (int64_t in = 0; in < n; ++in) {
                const auto& xs = X[static_cast<size_t>(in * g.C + c)];
                const auto& ds = D[static_cast<size_t>(in * g.F + f)];
                for (size_t k = 0; k < P; ++k) acc[k] += xs[k] * std::conj(ds[k]);
            }
            const std::vector<double> full = inverse_real(std::move(acc), LH, LW);
            for (int64_t u = 0; u < g.KH; ++u)
                for (int64_t v = 0; v < g.KW; ++v)
                    dw[static_cast<size_t>(((f * g.C + c) * g.KH + u) * g.KW + v)] =
                        full[static_cast<size_t>(u * LW + v)];
        }

    db.assign(static_cast<size_t>(g.F), 0.0);
    const int64_t Ho = g.Ho(), Wo = g.Wo();
    for (int64_t in = 0; in < n; ++in)
        for (int64_t f = 0; f < g.F; ++f)
            for (int64_t k = 0; k < Ho * Wo; ++k) db[static_cast<size_t>(f)] += dy[(in * g.F + f) * Ho * Wo + k];
}

// ------------------------------------------------------------------------------------------
// Energy compression (section 3)
// ------------------------------------------------------------------------------------------

// Fraction of the energy of the zero-extended input spectrum (summed over the batch n of the
// call and all channels) that each chain box keeps. Half spectrum, Parseval weights: column 0
// and, for even LW, column LW/2 count once, every other column twice. The full box counts as
// exactly 1; a NaN total gives NaN fractions (the rule then picks the full box).
inline std::vector<double> chain_energy_fractions(const Geom& g, int64_t n, const double* x,
                                                  int64_t LH, int64_t LW) {
    const auto X = input_spectra(g, n, x, LH, LW);
    const int64_t HC = half_cols(LW);
    // e[r][s]: weighted energy of half-spectrum coefficient (r, s), summed over n, c.
    std::vector<double> e(static_cast<size_t>(LH * HC), 0.0);
    for (const auto& xs : X)
        for (int64_t r = 0; r < LH; ++r)
            for (int64_t s = 0; s < HC; ++s) {
                const double wgt = (s == 0 || (LW % 2 == 0 && s == LW / 2)) ? 1.0 : 2.0;
                e[static_cast<size_t>(r * HC + s)] += wgt * std::norm(xs[static_cast<size_t>(r * LW + s)]);
            }
    double total = 0.0;
    for (double v : e) total += v;
    const std::vector<Box> chain = box_chain(LH, LW);
    std::vector<double> frac;
    for (size_t k = 0; k < chain.size(); ++k) {
        if (k + 1 == chain.size()) {
            frac.push_back(std::isnan(total) ? total : 1.0);
            break;
        }
        double kept = 0.0;
        for (int64_t r = 0; r < LH; ++r)
            for (int64_t s = 0; s < HC; ++s)
                if (std::min(r, LH - r) <= chain[k].kh && s <= chain[k].kw)
                    kept += e[static_cast<size_t>(r * HC + s)];
        frac.push_back(kept / total);
    }
    return frac;
}

// First chain box keeping >= E of the energy; NaN energy -> the full box.
inline Box energy_box_from_fractions(int64_t LH, int64_t LW, const std::vector<double>& frac,
                                     double E) {
    const std::vector<Box> chain = box_chain(LH, LW);
    for (size_t k = 0; k < chain.size(); ++k) {
        if (std::isnan(frac[k])) return full_box(LH, LW);
        if (frac[k] >= E) return chain[k];
    }
    return full_box(LH, LW);
}

inline Box energy_box(const Geom& g, int64_t n, const double* x, int64_t LH, int64_t LW, double E) {
    return energy_box_from_fractions(LH, LW, chain_energy_fractions(g, n, x, LH, LW), E);
}

// ------------------------------------------------------------------------------------------
// Error measures (section 5)
// ------------------------------------------------------------------------------------------

// ||out - ref||_2 / ||ref||_2 (NaN if out has a NaN; ||out|| if ref is all zero).
template <class T>
inline double rel_l2_error(const T* out, const double* ref, size_t count) {
    double num = 0.0, den = 0.0;
    for (size_t k = 0; k < count; ++k) {
        const double d = static_cast<double>(out[k]) - ref[k];
        num += d * d;
        den += ref[k] * ref[k];
    }
    return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}
template <class T>
inline double rel_l2_error(const std::vector<T>& out, const std::vector<double>& ref) {
    if (out.size() != ref.size()) return INFINITY;
    return rel_l2_error(out.data(), ref.data(), ref.size());
}

// Section 5: a float32 result satisfies err <= 16 * 2^-24 * log2(LH * LW * R), R the
// reduction length: C*KH*KW for y, F*KH*KW for dx, N*Ho*Wo for dw. The argument of log2 is
// taken as at least 2 so that the degenerate LH = LW = R = 1 (one product, exact up to one
// rounding) does not give a bound of 0.
inline double err_bound(int64_t LH, int64_t LW, int64_t R) {
    const double arg = std::max(2.0, static_cast<double>(LH) * static_cast<double>(LW) * static_cast<double>(R));
    return 16.0 * std::ldexp(1.0, -24) * std::log2(arg);
}
inline double bound_y(const Geom& g, int64_t LH, int64_t LW) { return err_bound(LH, LW, g.C * g.KH * g.KW); }
inline double bound_dx(const Geom& g, int64_t LH, int64_t LW) { return err_bound(LH, LW, g.F * g.KH * g.KW); }
inline double bound_dw(const Geom& g, int64_t n, int64_t LH, int64_t LW) {
    return err_bound(LH, LW, n * g.Ho() * g.Wo());
}
// db is a plain sum of R = N*Ho*Wo values (no transform): the bound is the same form without the
// FFT factor, 16 * 2^-24 * log2(max(2, R)) -- generous for a pairwise or blocked sum, and still
// far below what a wrong reduction (a missing or doubled term) produces.
inline double bound_db(const Geom& g, int64_t n) { return err_bound(1, 1, n * g.Ho() * g.Wo()); }

// ------------------------------------------------------------------------------------------
// Deterministic random fills (own conversions: the std distributions are not portable)
// ------------------------------------------------------------------------------------------
inline double uniform01(std::mt19937_64& rng) {
    return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);  // [0, 1)
}
// Uniform [-1, 1), rounded to float32 (the tests feed the same values to both sides).
inline std::vector<float> random_uniform(std::mt19937_64& rng, size_t count) {
    std::vector<float> v(count);
    for (auto& e : v) e = static_cast<float>(2.0 * uniform01(rng) - 1.0);
    return v;
}
// Standard normal (Box-Muller), rounded to float32.
inline std::vector<float> random_normal(std::mt19937_64& rng, size_t count) {
    std::vector<float> v(count);
    const double two_pi = 6.28318530717958647692528676655900577;
    for (size_t k = 0; k < count; k += 2) {
        double u1 = 1.0 - uniform01(rng), u2 = uniform01(rng);
        double r = std::sqrt(-2.0 * std::log(u1));
        v[k] = static_cast<float>(r * std::cos(two_pi * u2));
        if (k + 1 < count) v[k + 1] = static_cast<float>(r * std::sin(two_pi * u2));
    }
    return v;
}
inline std::vector<double> to_double(const std::vector<float>& v) {
    return std::vector<double>(v.begin(), v.end());
}

}  // namespace blref
