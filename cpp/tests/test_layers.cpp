// test_layers.cpp -- the layer kernels (bandlimit.h, "Layer kernels") on every CPU path
// against float64 references on fresh random inputs: batch norm (forward against the formula,
// backward against central differences of a float64 forward), ReLU, max pooling (first
// maximum on ties; backward by the dot-product test), the linear layer (against float64 sums;
// backward by dot-product tests), add, Adam and SGD (against float64 updates), average
// pooling (overlapping, non-square and global windows; backward against a float64 scatter and
// by the dot-product test), dropout (the mask against the documented hash, its statistics, the
// backward by the dot-product test) and softmax cross-entropy (against a float64 log-sum-exp;
// the gradient against central differences); results bitwise independent of the thread count;
// and every invalid argument reported, naming it, with no output written.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "abi_fixtures.h"
#include "bandlimit.h"
#include "check.h"
#include "dropout_mask.h"

namespace {

using fvec = std::vector<float>;
using dvec = std::vector<double>;

struct Context {
    bl_context handle = nullptr;
    Context(int32_t path, int32_t threads) {
        const bl_context_options o{BL_BACKEND_CPU, 0, threads, path, nullptr};
        if (bl_context_create(&o, &handle) != BL_OK) handle = nullptr;
    }
    ~Context() {
        if (handle) bl_context_destroy(handle);
    }
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;
};

struct Path {
    int32_t path;
    const char* tag;
};

// The CPU paths this machine runs; prints the others as skipped.
std::vector<Path> paths() {
    std::vector<Path> out;
    for (Path p : {Path{BL_CPU_PATH_PORTABLE, "portable"}, Path{BL_CPU_PATH_AVX2, "avx2"},
                   Path{BL_CPU_PATH_AVX512, "avx512"}}) {
        Context c(p.path, 2);
        if (c.handle)
            out.push_back(p);
        else
            std::printf("    skipped: cpu/%s: %s\n", p.tag, bl_last_error_message());
    }
    return out;
}

std::mt19937_64& rng() {
    static std::mt19937_64 r(std::random_device{}());
    return r;
}

fvec normal(size_t n, double mean = 0.0, double sd = 1.0) {
    std::normal_distribution<double> d(mean, sd);
    fvec v(n);
    for (float& x : v) x = float(d(rng()));
    return v;
}

dvec widen(const fvec& v) { return dvec(v.begin(), v.end()); }

// max |a - ref| / max |ref|: a normwise relative error.
double rel_err(const fvec& a, const dvec& ref) {
    double e = 0, m = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        e = std::max(e, std::fabs(double(a[i]) - ref[i]));
        m = std::max(m, std::fabs(ref[i]));
    }
    return m > 0 ? e / m : e;
}

double dot(const dvec& a, const dvec& b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

// ---- batch norm: a float64 reference -------------------------------------------------------

struct BnRef {
    dvec y, mean, inv_std, running_mean, running_var;
};

BnRef bn_reference(const bl_batchnorm_desc& d, const dvec& x, const dvec& gamma, const dvec& beta,
                   dvec running_mean, dvec running_var) {
    const int64_t N = d.batch, C = d.channels, S = d.spatial, M = N * S;
    BnRef r;
    r.y.assign(x.size(), 0);
    r.mean.assign(size_t(C), 0);
    r.inv_std.assign(size_t(C), 0);
    for (int64_t c = 0; c < C; ++c) {
        double mean, var;
        if (d.training) {
            double s = 0;
            for (int64_t n = 0; n < N; ++n)
                for (int64_t i = 0; i < S; ++i) s += x[size_t((n * C + c) * S + i)];
            mean = s / double(M);
            double q = 0;
            for (int64_t n = 0; n < N; ++n)
                for (int64_t i = 0; i < S; ++i) q += std::pow(x[size_t((n * C + c) * S + i)] - mean, 2);
            var = q / double(M);
            running_mean[size_t(c)] = (1 - d.momentum) * running_mean[size_t(c)] + d.momentum * mean;
            running_var[size_t(c)] = (1 - d.momentum) * running_var[size_t(c)] + d.momentum * q / double(M - 1);
        } else {
            mean = running_mean[size_t(c)];
            var = running_var[size_t(c)];
        }
        r.mean[size_t(c)] = mean;
        r.inv_std[size_t(c)] = 1 / std::sqrt(var + d.eps);
        for (int64_t n = 0; n < N; ++n)
            for (int64_t i = 0; i < S; ++i) {
                const size_t at = size_t((n * C + c) * S + i);
                const double v = gamma[size_t(c)] * (x[at] - mean) * r.inv_std[size_t(c)] + beta[size_t(c)];
                r.y[at] = d.relu && v < 0 ? 0 : v;
            }
    }
    r.running_mean = running_mean;
    r.running_var = running_var;
    return r;
}

}  // namespace

BL_TEST("batchnorm forward: float64 reference, training and evaluation, with and without ReLU") {
    for (const Path& p : paths()) {
        Context ctx(p.path, 2);
        for (int training : {1, 0})
            for (int relu : {0, 1})
                for (auto shape : {std::vector<int64_t>{4, 3, 25}, std::vector<int64_t>{64, 16, 196},
                                   std::vector<int64_t>{7, 5, 1}}) {
                    const bl_batchnorm_desc d{shape[0], shape[1], shape[2], training, relu, 0.1, 1e-5};
                    const size_t n = size_t(d.batch * d.channels * d.spatial), C = size_t(d.channels);
                    // A large mean against the spread: the shifted sums must not cancel.
                    const fvec x = normal(n, 40.0, 0.5), gamma = normal(C, 1.0, 0.3), beta = normal(C);
                    fvec rm = normal(C), rv(C);
                    for (float& v : rv) v = 0.5f + std::fabs(normal(1)[0]);
                    const fvec rm0 = rm, rv0 = rv;
                    fvec y(n);
                    dvec mean(C), inv_std(C);
                    REQUIRE_OK(bl_batchnorm_forward(ctx.handle, &d, x.data(), gamma.data(), beta.data(), rm.data(),
                                                    rv.data(), y.data(), mean.data(), inv_std.data()));
                    const BnRef r = bn_reference(d, widen(x), widen(gamma), widen(beta), widen(rm0), widen(rv0));
                    const std::string tag = bltest::fmt("[%s] training %d relu %d shape %lldx%lldx%lld: ", p.tag,
                                                        training, relu, (long long)d.batch, (long long)d.channels,
                                                        (long long)d.spatial);
                    // float32 output of a normalised value of size ~1: a few ulps of 1 (the input
                    // itself carries 2^-24 * 40 / 0.5 ~ 5e-6 of relative rounding).
                    CHECK_MSG(rel_err(y, r.y) < 2e-5, tag + bltest::fmt("y err %.3g", rel_err(y, r.y)));
                    CHECK_MSG(rel_err(rm, r.running_mean) < 1e-6, tag + "running_mean");
                    CHECK_MSG(rel_err(rv, r.running_var) < 1e-5, tag + "running_var");
                    for (size_t c = 0; c < C; ++c) {
                        CHECK_MSG(std::fabs(mean[c] - r.mean[c]) < 1e-6 * std::fabs(r.mean[c]) + 1e-7, tag + "mean");
                        CHECK_MSG(std::fabs(inv_std[c] - r.inv_std[c]) < 1e-6 * r.inv_std[c], tag + "inv_std");
                    }
                }
    }
}

BL_TEST("batchnorm backward: central differences of the float64 forward, accumulate, ReLU mask") {
    for (const Path& p : paths()) {
        Context ctx(p.path, 2);
        for (int relu : {0, 1}) {
            const bl_batchnorm_desc d{3, 4, 5, 1, relu, 0.1, 1e-3};
            const size_t n = 60, C = 4;
            const fvec x = normal(n, 2.0, 1.5), gamma = normal(C, 1.0, 0.5), beta = normal(C, 0.2, 0.5);
            const fvec r = normal(n);  // the loss is L = sum r y
            fvec rm(C, 0.0f), rv(C, 1.0f), y(n);
            dvec mean(C), inv_std(C);
            REQUIRE_OK(bl_batchnorm_forward(ctx.handle, &d, x.data(), gamma.data(), beta.data(), rm.data(), rv.data(),
                                            y.data(), mean.data(), inv_std.data()));
            const fvec prior = normal(n);  // dx_accumulate adds onto this
            fvec dx = prior, dgamma(C, 0.25f), dbeta(C, -0.5f);
            REQUIRE_OK(bl_batchnorm_backward(ctx.handle, &d, x.data(), y.data(), r.data(), gamma.data(), mean.data(),
                                             inv_std.data(), dx.data(), 1, dgamma.data(), dbeta.data()));
            // L(x, gamma, beta) in float64 and its central differences.
            auto loss = [&](const dvec& xv, const dvec& g, const dvec& b) {
                return dot(bn_reference(d, xv, g, b, dvec(C, 0.0), dvec(C, 1.0)).y, widen(r));
            };
            const dvec xd = widen(x), gd = widen(gamma), bd = widen(beta);
            const double h = 1e-6;
            dvec fd_x(n), fd_g(C), fd_b(C);
            for (size_t i = 0; i < n; ++i) {
                dvec a = xd, b = xd;
                a[i] += h;
                b[i] -= h;
                fd_x[i] = (loss(a, gd, bd) - loss(b, gd, bd)) / (2 * h) + prior[i];
            }
            for (size_t c = 0; c < C; ++c) {
                dvec a = gd, b = gd;
                a[c] += h;
                b[c] -= h;
                fd_g[c] = (loss(xd, a, bd) - loss(xd, b, bd)) / (2 * h) + 0.25;
                a = bd;
                b = bd;
                a[c] += h;
                b[c] -= h;
                fd_b[c] = (loss(xd, gd, a) - loss(xd, gd, b)) / (2 * h) - 0.5;
            }
            const std::string tag = bltest::fmt("[%s] relu %d: ", p.tag, relu);
            CHECK_MSG(rel_err(dx, fd_x) < 1e-4, tag + bltest::fmt("dx err %.3g", rel_err(dx, fd_x)));
            CHECK_MSG(rel_err(dgamma, fd_g) < 1e-4, tag + bltest::fmt("dgamma err %.3g", rel_err(dgamma, fd_g)));
            CHECK_MSG(rel_err(dbeta, fd_b) < 1e-4, tag + bltest::fmt("dbeta err %.3g", rel_err(dbeta, fd_b)));
            // Written (not accumulated): the same less the prior.
            fvec dx_w(n, 1e30f);
            REQUIRE_OK(bl_batchnorm_backward(ctx.handle, &d, x.data(), y.data(), r.data(), gamma.data(), mean.data(),
                                             inv_std.data(), dx_w.data(), 0, nullptr, nullptr));
            dvec fd_w(n);
            for (size_t i = 0; i < n; ++i) fd_w[i] = fd_x[i] - prior[i];
            CHECK_MSG(rel_err(dx_w, fd_w) < 1e-4, tag + bltest::fmt("written dx err %.3g", rel_err(dx_w, fd_w)));
        }
    }
}

BL_TEST("relu: forward and backward (written and added) exactly") {
    for (const Path& p : paths()) {
        Context ctx(p.path, 2);
        for (int64_t count : {1, 17, 100000}) {
            const size_t m = static_cast<size_t>(count);
            const fvec x = normal(m), dy = normal(m), prior = normal(m);
            fvec y(m), dx(m), acc = prior;
            REQUIRE_OK(bl_relu_forward(ctx.handle, count, x.data(), y.data()));
            REQUIRE_OK(bl_relu_backward(ctx.handle, count, x.data(), dy.data(), dx.data(), 0));
            REQUIRE_OK(bl_relu_backward(ctx.handle, count, x.data(), dy.data(), acc.data(), 1));
            bool ok = true;
            for (size_t i = 0; i < m; ++i) {
                ok &= y[i] == (x[i] > 0 ? x[i] : 0.0f);
                ok &= dx[i] == (x[i] > 0 ? dy[i] : 0.0f);
                ok &= acc[i] == prior[i] + (x[i] > 0 ? dy[i] : 0.0f);
            }
            CHECK_MSG(ok, bltest::fmt("[%s] count %lld", p.tag, (long long)count));
        }
    }
}

BL_TEST("maxpool2d: the first maximum on ties; the backward is the gather's adjoint") {
    struct Shape {
        int64_t planes, h, w, kh, kw, sh, sw;
    };
    for (const Path& p : paths()) {
        Context ctx(p.path, 2);
        for (Shape s : {Shape{3, 6, 8, 2, 2, 2, 2}, Shape{2, 7, 5, 2, 2, 2, 2}, Shape{4, 9, 9, 3, 3, 2, 2},
                        Shape{2, 6, 7, 3, 2, 1, 2}, Shape{1024, 28, 28, 2, 2, 2, 2}}) {
            const bl_pool2d_desc d{s.planes, s.h, s.w, s.kh, s.kw, s.sh, s.sw};
            const int64_t ho = (s.h - s.kh) / s.sh + 1, wo = (s.w - s.kw) / s.sw + 1;
            const size_t in = size_t(s.planes * s.h * s.w), out = size_t(s.planes * ho * wo);
            // Small integers: many ties, so the tie rule is exercised.
            std::uniform_int_distribution<int> small(-3, 3);
            fvec x(in);
            for (float& v : x) v = float(small(rng()));
            fvec y(out);
            std::vector<int32_t> winners(out);
            REQUIRE_OK(bl_maxpool2d_forward(ctx.handle, &d, x.data(), y.data(), winners.data()));
            bool ok = true;
            for (int64_t q = 0; q < s.planes; ++q)
                for (int64_t i = 0; i < ho; ++i)
                    for (int64_t j = 0; j < wo; ++j) {
                        int64_t best = -1;
                        for (int64_t u = 0; u < s.kh; ++u)
                            for (int64_t v = 0; v < s.kw; ++v) {
                                const int64_t at = (i * s.sh + u) * s.w + j * s.sw + v;
                                if (best < 0 || x[size_t(q * s.h * s.w + at)] > x[size_t(q * s.h * s.w + best)]) best = at;
                            }
                        const size_t k = size_t((q * ho + i) * wo + j);
                        ok &= winners[k] == best && y[k] == x[size_t(q * s.h * s.w + best)];
                    }
            const std::string tag = bltest::fmt("[%s] %lldx%lld k %lldx%lld s %lldx%lld: ", p.tag, (long long)s.h,
                                                (long long)s.w, (long long)s.kh, (long long)s.kw, (long long)s.sh,
                                                (long long)s.sw);
            CHECK_MSG(ok, tag + "forward");
            // <dy, G v> = <G^T dy, v> with G v = v at the winners.
            const fvec dy = normal(out), v = normal(in), prior = normal(in);
            fvec dx(in, 7.0f), acc = prior;
            REQUIRE_OK(bl_maxpool2d_backward(ctx.handle, &d, winners.data(), dy.data(), dx.data(), 0));
            REQUIRE_OK(bl_maxpool2d_backward(ctx.handle, &d, winners.data(), dy.data(), acc.data(), 1));
            double lhs = 0;
            for (int64_t q = 0; q < s.planes; ++q)
                for (int64_t k = 0; k < ho * wo; ++k)
                    lhs += double(dy[size_t(q * ho * wo + k)]) * v[size_t(q * s.h * s.w + winners[size_t(q * ho * wo + k)])];
            const double rhs = dot(widen(dx), widen(v));
            CHECK_MSG(std::fabs(lhs - rhs) <= 1e-5 * (std::fabs(lhs) + 1), tag + bltest::fmt("adjoint %.9g vs %.9g", lhs, rhs));
            double worst = 0;
            for (size_t i = 0; i < in; ++i) worst = std::max(worst, std::fabs(double(acc[i]) - prior[i] - dx[i]));
            CHECK_MSG(worst < 1e-5, tag + "accumulate");
        }
    }
}

BL_TEST("linear: float64 sums forward; backward by dot-product tests and float64 sums") {
    for (const Path& p : paths()) {
        Context ctx(p.path, 2);
        for (auto dims : {std::vector<int64_t>{1, 1, 1}, std::vector<int64_t>{5, 37, 3}, std::vector<int64_t>{64, 1568, 10}}) {
            const int64_t B = dims[0], I = dims[1], O = dims[2];
            const fvec x = normal(size_t(B * I)), w = normal(size_t(O * I)), b = normal(size_t(O));
            fvec y(size_t(B * O));
            REQUIRE_OK(bl_linear_forward(ctx.handle, B, I, O, x.data(), w.data(), b.data(), y.data()));
            dvec ref(size_t(B * O));
            for (int64_t n = 0; n < B; ++n)
                for (int64_t o = 0; o < O; ++o) {
                    double s = b[size_t(o)];
                    for (int64_t i = 0; i < I; ++i) s += double(x[size_t(n * I + i)]) * w[size_t(o * I + i)];
                    ref[size_t(n * O + o)] = s;
                }
            const std::string tag = bltest::fmt("[%s] %lldx%lldx%lld: ", p.tag, (long long)B, (long long)I, (long long)O);
            // Sums of I products of size ~1: error ~ sqrt(I) 2^-24 against a result ~ sqrt(I).
            CHECK_MSG(rel_err(y, ref) < 1e-5, tag + bltest::fmt("forward err %.3g", rel_err(y, ref)));
            const fvec dy = normal(size_t(B * O));
            fvec dx(size_t(B * I), 0.0f), dw(size_t(O * I), 0.0f), db(size_t(O), 0.0f);
            REQUIRE_OK(bl_linear_backward(ctx.handle, B, I, O, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data()));
            // <dy, x w^T> = <dx, x> = <dw, w>; db = sum_n dy.
            double yw = 0;
            for (int64_t n = 0; n < B; ++n)
                for (int64_t o = 0; o < O; ++o) yw += double(dy[size_t(n * O + o)]) * (ref[size_t(n * O + o)] - b[size_t(o)]);
            const double dxx = dot(widen(dx), widen(x)), dww = dot(widen(dw), widen(w));
            const double scale = std::sqrt(double(B * I * O)) + 1;
            CHECK_MSG(std::fabs(yw - dxx) < 1e-5 * scale, tag + bltest::fmt("adjoint in x %.9g vs %.9g", yw, dxx));
            CHECK_MSG(std::fabs(yw - dww) < 1e-5 * scale, tag + bltest::fmt("adjoint in w %.9g vs %.9g", yw, dww));
            dvec dbr(size_t(O), 0), dwr(size_t(O * I), 0);
            for (int64_t n = 0; n < B; ++n)
                for (int64_t o = 0; o < O; ++o) {
                    dbr[size_t(o)] += dy[size_t(n * O + o)];
                    for (int64_t i = 0; i < I; ++i) dwr[size_t(o * I + i)] += double(dy[size_t(n * O + o)]) * x[size_t(n * I + i)];
                }
            CHECK_MSG(rel_err(db, dbr) < 1e-5, tag + "db");
            CHECK_MSG(rel_err(dw, dwr) < 1e-5, tag + "dw");
            // Only some gradients: the others untouched (NULL).
            fvec dw2(size_t(O * I), 0.0f);
            REQUIRE_OK(bl_linear_backward(ctx.handle, B, I, O, x.data(), nullptr, dy.data(), nullptr, dw2.data(), nullptr));
            CHECK_MSG(dw2 == dw, tag + "dw alone");
        }
    }
}

BL_TEST("add_into, adam and sgd against float64 updates") {
    for (const Path& p : paths()) {
        Context ctx(p.path, 2);
        const fvec a = normal(40000), b = normal(40000);
        fvec sum = a;
        REQUIRE_OK(bl_add_into(ctx.handle, 40000, sum.data(), b.data()));
        bool ok = true;
        for (size_t i = 0; i < a.size(); ++i) ok &= sum[i] == a[i] + b[i];
        CHECK_MSG(ok, std::string("[") + p.tag + "] add_into");

        // Two parameters (one empty), three steps.
        const size_t n0 = 20000, n1 = 7;
        fvec data0 = normal(n0), data1 = normal(n1), m0(n0, 0), v0(n0, 0), m1(n1, 0), v1(n1, 0);
        dvec rd0 = widen(data0), rd1 = widen(data1), rm0(n0, 0), rv0(n0, 0), rm1(n1, 0), rv1(n1, 0);
        const bl_adam_desc base{0.01, 0.9, 0.999, 1e-8, 1e-2, 0};
        for (int64_t step = 1; step <= 3; ++step) {
            const fvec g0 = normal(n0), g1 = normal(n1);
            bl_param_slot slots[3] = {{data0.data(), g0.data(), m0.data(), v0.data(), int64_t(n0)},
                                      {nullptr, nullptr, nullptr, nullptr, 0},
                                      {data1.data(), g1.data(), m1.data(), v1.data(), int64_t(n1)}};
            bl_adam_desc d = base;
            d.step = step;
            REQUIRE_OK(bl_adam_step(ctx.handle, &d, slots, 3));
            auto update = [&](dvec& w, dvec& m, dvec& v, const fvec& g) {
                for (size_t i = 0; i < w.size(); ++i) {
                    const double gi = g[i] + d.weight_decay * w[i];
                    m[i] = d.beta1 * m[i] + (1 - d.beta1) * gi;
                    v[i] = d.beta2 * v[i] + (1 - d.beta2) * gi * gi;
                    w[i] -= d.lr / (1 - std::pow(d.beta1, double(step))) * m[i] /
                            (std::sqrt(v[i]) / std::sqrt(1 - std::pow(d.beta2, double(step))) + d.eps);
                }
            };
            update(rd0, rm0, rv0, g0);
            update(rd1, rm1, rv1, g1);
        }
        CHECK_MSG(rel_err(data0, rd0) < 1e-6 && rel_err(data1, rd1) < 1e-6,
                  bltest::fmt("[%s] adam err %.3g %.3g", p.tag, rel_err(data0, rd0), rel_err(data1, rd1)));
        CHECK_MSG(rel_err(m0, rm0) < 1e-5 && rel_err(v0, rv0) < 1e-5,
                  bltest::fmt("[%s] adam moments err %.3g %.3g", p.tag, rel_err(m0, rm0), rel_err(v0, rv0)));

        for (double momentum : {0.0, 0.9}) {
            fvec w = normal(n0), buf(n0, 0);
            dvec rw = widen(w), rbuf(n0, 0);
            const bl_sgd_desc d{0.05, momentum, 5e-4};
            for (int step = 0; step < 3; ++step) {
                const fvec g = normal(n0);
                bl_param_slot slot{w.data(), g.data(), momentum != 0 ? buf.data() : nullptr, nullptr, int64_t(n0)};
                REQUIRE_OK(bl_sgd_step(ctx.handle, &d, &slot, 1));
                for (size_t i = 0; i < n0; ++i) {
                    double di = g[i] + d.weight_decay * rw[i];
                    if (momentum != 0) di = rbuf[i] = momentum * rbuf[i] + di;
                    rw[i] -= d.lr * di;
                }
            }
            CHECK_MSG(rel_err(w, rw) < 1e-6, bltest::fmt("[%s] sgd momentum %g err %.3g", p.tag, momentum, rel_err(w, rw)));
        }
    }
}

BL_TEST("layer kernels: results bitwise independent of the thread count") {
    const bl_batchnorm_desc d{64, 16, 784, 1, 1, 0.1, 1e-5};
    const size_t n = size_t(64 * 16 * 784);
    const fvec x = normal(n, 1.0, 2.0), gamma = normal(16), beta = normal(16), dy = normal(n);
    const bl_pool2d_desc pool{64 * 16, 28, 28, 2, 2, 2, 2};
    const fvec lx = normal(64 * 1568), lw = normal(10 * 1568), ldy = normal(640);
    for (const Path& p : paths()) {
        std::vector<fvec> outputs;
        for (int32_t threads : {1, 2, 3}) {
            Context ctx(p.path, threads);
            REQUIRE(ctx.handle);
            fvec rm(16, 0), rv(16, 1), y(n), dx(n), dg(16, 0), dbeta(16, 0), pooled(n / 4), pdx(n);
            dvec mean(16), inv_std(16);
            std::vector<int32_t> winners(n / 4);
            REQUIRE_OK(bl_batchnorm_forward(ctx.handle, &d, x.data(), gamma.data(), beta.data(), rm.data(), rv.data(),
                                            y.data(), mean.data(), inv_std.data()));
            REQUIRE_OK(bl_batchnorm_backward(ctx.handle, &d, x.data(), y.data(), dy.data(), gamma.data(), mean.data(),
                                             inv_std.data(), dx.data(), 0, dg.data(), dbeta.data()));
            REQUIRE_OK(bl_maxpool2d_forward(ctx.handle, &pool, y.data(), pooled.data(), winners.data()));
            REQUIRE_OK(bl_maxpool2d_backward(ctx.handle, &pool, winners.data(), dy.data(), pdx.data(), 0));
            fvec ly(640), ldx(64 * 1568, 0), ldw(10 * 1568, 0);
            REQUIRE_OK(bl_linear_forward(ctx.handle, 64, 1568, 10, lx.data(), lw.data(), nullptr, ly.data()));
            REQUIRE_OK(bl_linear_backward(ctx.handle, 64, 1568, 10, lx.data(), lw.data(), ldy.data(), ldx.data(),
                                          ldw.data(), nullptr));
            fvec all;
            for (const fvec* v : {&rm, &rv, &y, &dx, &dg, &dbeta, &pooled, &pdx, &ly, &ldx, &ldw}) all.insert(all.end(), v->begin(), v->end());
            outputs.push_back(all);
        }
        CHECK_MSG(outputs[0] == outputs[1] && outputs[0] == outputs[2], std::string("[") + p.tag + "]");
    }
}

namespace {

// sum |a_i b_i|: the scale of the rounding in a float64 dot product of float32 results.
double abs_dot(const dvec& a, const dvec& b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += std::fabs(a[i] * b[i]);
    return s;
}

// ---- average pooling: float64 references -----------------------------------------------------

struct PoolShape {
    int64_t planes, h, w, kh, kw, sh, sw;
    int64_t ho() const { return (h - kh) / sh + 1; }
    int64_t wo() const { return (w - kw) / sw + 1; }
    bl_pool2d_desc desc() const { return bl_pool2d_desc{planes, h, w, kh, kw, sh, sw}; }
    std::string tag() const {
        return bltest::fmt("%lldx%lldx%lld k %lldx%lld s %lldx%lld", (long long)planes, (long long)h, (long long)w,
                           (long long)kh, (long long)kw, (long long)sh, (long long)sw);
    }
};

// Each window's mean, by direct sums.
dvec avgpool_reference(const PoolShape& s, const dvec& x) {
    const int64_t ho = s.ho(), wo = s.wo();
    dvec y(size_t(s.planes * ho * wo));
    for (int64_t q = 0; q < s.planes; ++q)
        for (int64_t i = 0; i < ho; ++i)
            for (int64_t j = 0; j < wo; ++j) {
                double acc = 0;
                for (int64_t u = 0; u < s.kh; ++u)
                    for (int64_t v = 0; v < s.kw; ++v) acc += x[size_t((q * s.h + i * s.sh + u) * s.w + j * s.sw + v)];
                y[size_t((q * ho + i) * wo + j)] = acc / double(s.kh * s.kw);
            }
    return y;
}

// The adjoint as a scatter (each window spreads dy / taps over its elements): the library
// gathers per input element, so the two cannot share an indexing mistake.
dvec avgpool_adjoint_reference(const PoolShape& s, const dvec& dy) {
    const int64_t ho = s.ho(), wo = s.wo();
    dvec dx(size_t(s.planes * s.h * s.w), 0.0);
    for (int64_t q = 0; q < s.planes; ++q)
        for (int64_t i = 0; i < ho; ++i)
            for (int64_t j = 0; j < wo; ++j)
                for (int64_t u = 0; u < s.kh; ++u)
                    for (int64_t v = 0; v < s.kw; ++v)
                        dx[size_t((q * s.h + i * s.sh + u) * s.w + j * s.sw + v)] +=
                            dy[size_t((q * ho + i) * wo + j)] / double(s.kh * s.kw);
    return dx;
}

// ---- dropout: the mask as bandlimit.h words it -------------------------------------------------

// SplitMix64's finaliser, transcribed from the comment of bl_dropout_forward (not taken from
// dropout_mask.h), so that the documented formula and the implementation check each other.
uint64_t documented_mix64(uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Element i is kept when u_i = (mix64(mix64(seed) + i) >> 40) 2^-24 >= p.
bool documented_keep(uint64_t seed, int64_t i, double p) {
    return std::ldexp(double(documented_mix64(documented_mix64(seed) + uint64_t(i)) >> 40), -24) >= p;
}

// ---- softmax cross-entropy: a float64 reference ------------------------------------------------

struct XentRef {
    double loss;
    dvec probs;
};

// (1 / B) sum_n (lse(z_n) - z_n[label_n]) and softmax(z_n), with lse = m + log sum exp(z - m).
XentRef xent_reference(int64_t B, int64_t K, const dvec& z, const std::vector<int32_t>& labels) {
    XentRef r{0.0, dvec(z.size())};
    for (int64_t n = 0; n < B; ++n) {
        const double* row = z.data() + n * K;
        const double m = *std::max_element(row, row + K);
        double s = 0;
        for (int64_t k = 0; k < K; ++k) s += std::exp(row[k] - m);
        const double lse = m + std::log(s);
        r.loss += lse - row[labels[size_t(n)]];
        for (int64_t k = 0; k < K; ++k) r.probs[size_t(n * K + k)] = std::exp(row[k] - lse);
    }
    r.loss /= double(B);
    return r;
}

std::vector<int32_t> random_labels(int64_t B, int64_t K) {
    std::uniform_int_distribution<int32_t> pick(0, int32_t(K - 1));
    std::vector<int32_t> labels(static_cast<size_t>(B));
    for (int32_t& l : labels) l = pick(rng());
    return labels;
}

// Logits of spread 3, with every third row shifted by 800: exp(800) overflows float64, so
// those rows pass only if the row maximum is subtracted first.
fvec random_logits(int64_t B, int64_t K) {
    fvec z = normal(size_t(B * K), 0.0, 3.0);
    for (int64_t n = 0; n < B; n += 3)
        for (int64_t k = 0; k < K; ++k) z[size_t(n * K + k)] += 800.0f;
    return z;
}

}  // namespace

BL_TEST("avgpool2d: float64 window means; backward against a float64 scatter and by the dot-product test, written and added") {
    for (const Path& p : paths()) {
        Context ctx(p.path, 2);
        for (PoolShape s : {PoolShape{3, 6, 8, 2, 2, 2, 2},       // windows that tile the plane
                            PoolShape{2, 7, 5, 3, 2, 1, 2},       // overlapping rows, non-square
                            PoolShape{4, 9, 9, 3, 3, 2, 2},       // overlapping both ways
                            PoolShape{2, 10, 11, 3, 4, 4, 3},     // rows the stride skips; overlapping columns
                            PoolShape{5, 7, 6, 7, 6, 1, 1},       // global: the window is the plane
                            PoolShape{3, 1, 17, 1, 5, 1, 2},      // 1D: planes of height 1
                            PoolShape{1024, 28, 28, 3, 3, 2, 2}}) {  // enough work for several threads
            const bl_pool2d_desc d = s.desc();
            const size_t in = size_t(s.planes * s.h * s.w), out = size_t(s.planes * s.ho() * s.wo());
            const fvec x = normal(in, 0.5, 2.0);
            fvec y(out, 1e30f);
            REQUIRE_OK(bl_avgpool2d_forward(ctx.handle, &d, x.data(), y.data()));
            const std::string tag = bltest::fmt("[%s] %s: ", p.tag, s.tag().c_str());
            // A float64 sum rounded once to float32: 2^-24 relative per output.
            const dvec y_ref = avgpool_reference(s, widen(x));
            CHECK_MSG(rel_err(y, y_ref) < 1e-6, tag + bltest::fmt("forward err %.3g", rel_err(y, y_ref)));

            const fvec dy = normal(out), prior = normal(in);
            fvec dx(in, 1e30f), acc = prior;  // written: the sentinel must go, uncovered inputs included
            REQUIRE_OK(bl_avgpool2d_backward(ctx.handle, &d, dy.data(), dx.data(), 0));
            REQUIRE_OK(bl_avgpool2d_backward(ctx.handle, &d, dy.data(), acc.data(), 1));
            const dvec dx_ref = avgpool_adjoint_reference(s, widen(dy));
            CHECK_MSG(rel_err(dx, dx_ref) < 1e-6, tag + bltest::fmt("backward err %.3g", rel_err(dx, dx_ref)));
            // <dy, A x> = <A^T dy, x>, each side from float32 results rounded once (2^-24 each).
            const double lhs = dot(widen(dy), widen(y)), rhs = dot(widen(dx), widen(x));
            const double bound = 1e-6 * (abs_dot(widen(dy), widen(y)) + abs_dot(widen(dx), widen(x)));
            CHECK_MSG(std::fabs(lhs - rhs) <= bound, tag + bltest::fmt("adjoint %.9g vs %.9g", lhs, rhs));
            // Added: the written gradient plus the prior, in float32, exactly.
            bool added = true;
            for (size_t i = 0; i < in; ++i) added &= acc[i] == prior[i] + dx[i];
            CHECK_MSG(added, tag + "accumulate");
        }
    }
}

BL_TEST("dropout: the mask is the documented hash of (seed, i); kept fraction ~ 1 - p; backward by the dot-product test") {
    const int64_t count = 100003;
    const size_t m = size_t(count);
    for (const Path& path : paths()) {
        Context ctx(path.path, 2);
        for (double p : {0.0, 0.1, 0.5, 0.9}) {
            const uint64_t seed = rng()();
            const std::string tag = bltest::fmt("[%s] p %g seed %llu: ", path.tag, p, (unsigned long long)seed);
            const fvec x = normal(m);
            fvec y(m, 1e30f);
            std::vector<uint8_t> mask(m, 7);
            REQUIRE_OK(bl_dropout_forward(ctx.handle, count, p, seed, x.data(), y.data(), mask.data()));
            const float scale = float(1.0 / (1.0 - p));
            const uint64_t mixed = bl::mix64(seed);
            bool hash = true, formula = true, scaled = true;
            int64_t kept = 0;
            for (size_t i = 0; i < m; ++i) {
                const bool keep = documented_keep(seed, int64_t(i), p);
                hash &= mask[i] == (keep ? 1 : 0) && bl::dropout_keeps(mixed, int64_t(i), p) == keep;
                formula &= y[i] == (keep ? x[i] * scale : 0.0f);
                // Against x / (1 - p) in float64: the scale and the product each rounded once.
                const double ref = keep ? double(x[i]) / (1.0 - p) : 0.0;
                scaled &= std::fabs(double(y[i]) - ref) <= 2.5e-7 * std::fabs(ref);
                kept += keep;
            }
            CHECK_MSG(hash, tag + "mask is not the documented hash");
            CHECK_MSG(formula, tag + "y is not x (float) (1 / (1 - p)) where kept, 0 elsewhere");
            CHECK_MSG(scaled, tag + "y against x / (1 - p) in float64");
            // 1e5 draws: the kept fraction's standard deviation is below 0.0016.
            const double frac = double(kept) / double(count);
            CHECK_MSG(std::fabs(frac - (1 - p)) < 0.01, tag + bltest::fmt("kept fraction %.4f", frac));
            if (p == 0.0) CHECK_MSG(kept == count && y == x, tag + "p = 0 keeps everything unchanged");

            // The same seed draws the same mask, with or without it being stored, and in place.
            fvec again(m), in_place = x;
            std::vector<uint8_t> mask_again(m, 9);
            REQUIRE_OK(bl_dropout_forward(ctx.handle, count, p, seed, x.data(), again.data(), mask_again.data()));
            CHECK_MSG(mask_again == mask && again == y, tag + "the same seed redrew another mask");
            REQUIRE_OK(bl_dropout_forward(ctx.handle, count, p, seed, in_place.data(), in_place.data(), nullptr));
            CHECK_MSG(in_place == y, tag + "in place, without a mask");
            // Another seed: an independent mask, differing at a fraction 2 p (1 - p).
            std::vector<uint8_t> other(m);
            REQUIRE_OK(bl_dropout_forward(ctx.handle, count, p, seed + 1, x.data(), again.data(), other.data()));
            int64_t differ = 0;
            for (size_t i = 0; i < m; ++i) differ += other[i] != mask[i];
            const double differ_frac = double(differ) / double(count);
            CHECK_MSG(std::fabs(differ_frac - 2 * p * (1 - p)) < 0.01, tag + bltest::fmt("seed + 1 differs at %.4f", differ_frac));
            if (p > 0) CHECK_MSG(differ > 0, tag + "seed + 1 drew the same mask");

            // Backward: written (over a sentinel) and added.
            const fvec dy = normal(m), prior = normal(m);
            fvec dx(m, 1e30f), acc = prior;
            REQUIRE_OK(bl_dropout_backward(ctx.handle, count, p, mask.data(), dy.data(), dx.data(), 0));
            REQUIRE_OK(bl_dropout_backward(ctx.handle, count, p, mask.data(), dy.data(), acc.data(), 1));
            bool grad = true, added = true;
            dvec dx_ref(m);
            for (size_t i = 0; i < m; ++i) {
                dx_ref[i] = mask[i] ? double(dy[i]) / (1.0 - p) : 0.0;
                grad &= dx[i] == (mask[i] ? dy[i] * scale : 0.0f);
                added &= acc[i] == prior[i] + dx[i];
            }
            CHECK_MSG(grad, tag + "dx is not dy (float) (1 / (1 - p)) where kept");
            CHECK_MSG(added, tag + "accumulate");
            CHECK_MSG(rel_err(dx, dx_ref) < 2.5e-7, tag + bltest::fmt("dx against float64 err %.3g", rel_err(dx, dx_ref)));
            // <dy, D x> = <D^T dy, x> with D = diag(mask / (1 - p)).
            const double lhs = dot(widen(dy), widen(y)), rhs = dot(widen(dx), widen(x));
            const double bound = 1e-6 * (abs_dot(widen(dy), widen(y)) + abs_dot(widen(dx), widen(x)));
            CHECK_MSG(std::fabs(lhs - rhs) <= bound, tag + bltest::fmt("adjoint %.9g vs %.9g", lhs, rhs));
        }
    }
}

BL_TEST("softmax cross-entropy: float64 log-sum-exp and softmax; gradient against central differences and the analytic formula, written and added") {
    struct Shape {
        int64_t batch, classes;
    };
    for (const Path& p : paths()) {
        Context ctx(p.path, 2);
        for (Shape s : {Shape{1, 1}, Shape{1, 2}, Shape{4, 10}, Shape{33, 7}, Shape{64, 1000}, Shape{2, 40000}}) {
            const int64_t B = s.batch, K = s.classes;
            const size_t n = size_t(B * K);
            const std::string tag = bltest::fmt("[%s] %lldx%lld: ", p.tag, (long long)B, (long long)K);
            const fvec z = random_logits(B, K);
            const std::vector<int32_t> labels = random_labels(B, K);
            float loss = 1e30f;
            fvec probs(n, 1e30f);
            REQUIRE_OK(bl_softmax_xent_forward(ctx.handle, B, K, z.data(), labels.data(), &loss, probs.data()));
            const XentRef r = xent_reference(B, K, widen(z), labels);
            // The loss is rounded once to float32; the float64 sums around an offset of 800 lose
            // ~1e-13 absolute.
            CHECK_MSG(std::fabs(double(loss) - r.loss) <= 1e-6 * std::fabs(r.loss) + 1e-10,
                      tag + bltest::fmt("loss %.9g vs %.9g", double(loss), r.loss));
            // Each probability rounded once (2^-24 relative); 1e-37 covers float32 subnormals.
            bool probs_ok = true;
            for (size_t i = 0; i < n; ++i) probs_ok &= std::fabs(double(probs[i]) - r.probs[i]) <= 2.5e-7 * r.probs[i] + 1e-37;
            CHECK_MSG(probs_ok, tag + "probs");
            float loss_alone = 1e30f;
            REQUIRE_OK(bl_softmax_xent_forward(ctx.handle, B, K, z.data(), labels.data(), &loss_alone, nullptr));
            CHECK_MSG(loss_alone == loss, tag + "the loss without probs");

            const float dloss = float(0.5 + std::fabs(normal(1)[0]));
            fvec dz(n, 1e30f);
            REQUIRE_OK(bl_softmax_xent_backward(ctx.handle, B, K, probs.data(), labels.data(), &dloss, dz.data(), 0));
            dvec analytic(n);
            for (size_t i = 0; i < n; ++i)
                analytic[i] = double(dloss) * (r.probs[i] - (int64_t(i % size_t(K)) == labels[i / size_t(K)] ? 1.0 : 0.0)) /
                              double(B);
            // Elementwise: the float32 probs carry 2^-24 p_i each, scaled by g = dloss / B (which
            // is all that is left of p - 1 when the label's probability is near 1), and the
            // result is rounded once (2^-24 of it). 2.5e-7 is twice both.
            const double g = double(dloss) / double(B);
            auto worst_excess = [&](const fvec& got, const dvec& want, double absolute) {
                double worst = 0;  // > 1: outside the bound
                for (size_t i = 0; i < n; ++i)
                    worst = std::max(worst, std::fabs(double(got[i]) - want[i]) /
                                                (2.5e-7 * (std::fabs(want[i]) + g * r.probs[i]) + absolute));
                return worst;
            };
            CHECK_MSG(worst_excess(dz, analytic, 1e-300) <= 1,
                      tag + bltest::fmt("dlogits: %.3g x the bound", worst_excess(dz, analytic, 1e-300)));
            if (n <= 400) {
                // dloss * dL/dz by central differences of the float64 loss, to 1e-8 dloss: the
                // truncation is h^2 / 6 times a third derivative below 1 (< 2e-9), the rounding
                // ~ 1e-16 * 800 / h (~ 1e-9).
                const dvec zd = widen(z);
                const double h = 1e-4;
                dvec fd(n);
                for (size_t i = 0; i < n; ++i) {
                    dvec a = zd, b = zd;
                    a[i] += h;
                    b[i] -= h;
                    fd[i] = double(dloss) * (xent_reference(B, K, a, labels).loss - xent_reference(B, K, b, labels).loss) /
                            (2 * h);
                }
                CHECK_MSG(worst_excess(dz, fd, 1e-8 * double(dloss)) <= 1,
                          tag + bltest::fmt("dlogits against central differences: %.3g x the bound",
                                            worst_excess(dz, fd, 1e-8 * double(dloss))));
            }
            const fvec prior = normal(n);
            fvec acc = prior;
            REQUIRE_OK(bl_softmax_xent_backward(ctx.handle, B, K, probs.data(), labels.data(), &dloss, acc.data(), 1));
            dvec acc_ref(n);
            for (size_t i = 0; i < n; ++i) acc_ref[i] = prior[i] + analytic[i];
            CHECK_MSG(worst_excess(acc, acc_ref, 1e-300) <= 1,
                      tag + bltest::fmt("accumulated dlogits: %.3g x the bound", worst_excess(acc, acc_ref, 1e-300)));
        }
    }
}

BL_TEST("avgpool, dropout and softmax cross-entropy: results bitwise independent of the thread count") {
    // Overlapping windows on many planes, and one global window on a few large planes (split by rows).
    const PoolShape pools[] = {PoolShape{64 * 16, 28, 28, 3, 3, 2, 2}, PoolShape{3, 200, 256, 200, 256, 1, 1}};
    std::vector<fvec> pool_x, pool_dy;
    for (const PoolShape& s : pools) {
        pool_x.push_back(normal(size_t(s.planes * s.h * s.w)));
        pool_dy.push_back(normal(size_t(s.planes * s.ho() * s.wo())));
    }
    const int64_t count = (int64_t(1) << 20) + 3;
    const size_t elements = static_cast<size_t>(count);
    const uint64_t seed = rng()();
    const fvec dx_in = normal(elements), ddy = normal(elements), dprior = normal(elements);
    const int64_t B = 256, K = 1000;
    const fvec z = random_logits(B, K), zprior = normal(size_t(B * K));
    const std::vector<int32_t> labels = random_labels(B, K);
    const float dloss = 1.25f;
    for (const Path& p : paths()) {
        std::vector<fvec> outputs;
        for (int32_t threads : {1, 2, 3}) {
            Context ctx(p.path, threads);
            REQUIRE(ctx.handle);
            fvec all;
            for (size_t k = 0; k < 2; ++k) {
                const bl_pool2d_desc d = pools[k].desc();
                fvec y(pool_dy[k].size()), dx(pool_x[k].size());
                REQUIRE_OK(bl_avgpool2d_forward(ctx.handle, &d, pool_x[k].data(), y.data()));
                REQUIRE_OK(bl_avgpool2d_backward(ctx.handle, &d, pool_dy[k].data(), dx.data(), 0));
                all.insert(all.end(), y.begin(), y.end());
                all.insert(all.end(), dx.begin(), dx.end());
            }
            fvec y(elements), dx = dprior;
            std::vector<uint8_t> mask(elements);
            REQUIRE_OK(bl_dropout_forward(ctx.handle, count, 0.3, seed, dx_in.data(), y.data(), mask.data()));
            REQUIRE_OK(bl_dropout_backward(ctx.handle, count, 0.3, mask.data(), ddy.data(), dx.data(), 1));
            all.insert(all.end(), y.begin(), y.end());
            all.insert(all.end(), dx.begin(), dx.end());
            all.insert(all.end(), mask.begin(), mask.end());
            float loss = 0;
            fvec probs(size_t(B * K)), dz = zprior;
            REQUIRE_OK(bl_softmax_xent_forward(ctx.handle, B, K, z.data(), labels.data(), &loss, probs.data()));
            REQUIRE_OK(bl_softmax_xent_backward(ctx.handle, B, K, probs.data(), labels.data(), &dloss, dz.data(), 1));
            all.push_back(loss);
            all.insert(all.end(), probs.begin(), probs.end());
            all.insert(all.end(), dz.begin(), dz.end());
            outputs.push_back(all);
        }
        CHECK_MSG(outputs[0] == outputs[1] && outputs[0] == outputs[2], std::string("[") + p.tag + "]");
    }
}

BL_TEST("layer kernels: invalid arguments name the argument and write nothing") {
    float buf[64];
    std::fill(buf, buf + 64, 3.0f);
    const float in[64] = {};
    double mean[4], inv_std[4];
    auto expect = [&](bl_status s, bl_status want, const char* argument, const char* what) {
        const std::string arg = bl_last_error_argument(), msg = bl_last_error_message();
        CHECK_MSG(s == want, std::string(what) + ": got " + bltest::status_text(s));
        CHECK_MSG(arg == argument, std::string(what) + ": argument " + arg + ", expected " + argument);
        CHECK_MSG(msg.rfind(argument, 0) == 0, std::string(what) + ": message \"" + msg + "\" starts with the argument");
        bool untouched = true;
        for (float v : buf) untouched &= v == 3.0f;
        CHECK_MSG(untouched, std::string(what) + ": an output was written");
    };
    const bl_batchnorm_desc ok{2, 4, 8, 1, 0, 0.1, 1e-5};
    bl_batchnorm_desc d = ok;
    expect(bl_batchnorm_forward(nullptr, nullptr, in, in, in, buf, buf, buf, mean, inv_std), BL_ERR_NULL_POINTER, "desc", "null desc");
    d.channels = 0;
    expect(bl_batchnorm_forward(nullptr, &d, in, in, in, buf, buf, buf, mean, inv_std), BL_ERR_INVALID_SIZE, "desc.channels", "channels 0");
    d = ok;
    d.eps = 0;
    expect(bl_batchnorm_forward(nullptr, &d, in, in, in, buf, buf, buf, mean, inv_std), BL_ERR_INVALID_ARGUMENT, "desc.eps", "eps 0");
    d = ok;
    d.momentum = std::nan("");
    expect(bl_batchnorm_forward(nullptr, &d, in, in, in, buf, buf, buf, mean, inv_std), BL_ERR_INVALID_ARGUMENT, "desc.momentum", "NaN momentum");
    d = ok;
    d.relu = 2;
    expect(bl_batchnorm_forward(nullptr, &d, in, in, in, buf, buf, buf, mean, inv_std), BL_ERR_INVALID_ARGUMENT, "desc.relu", "relu 2");
    d = ok;
    d.batch = 1;
    d.spatial = 1;
    expect(bl_batchnorm_forward(nullptr, &d, in, in, in, buf, buf, buf, mean, inv_std), BL_ERR_INVALID_ARGUMENT, "desc", "one value per channel");
    d = ok;
    d.batch = int64_t(1) << 40;
    d.spatial = int64_t(1) << 30;
    expect(bl_batchnorm_forward(nullptr, &d, in, in, in, buf, buf, buf, mean, inv_std), BL_ERR_SIZE_OVERFLOW, "desc", "overflow");
    expect(bl_batchnorm_forward(nullptr, &ok, nullptr, in, in, buf, buf, buf, mean, inv_std), BL_ERR_NULL_POINTER, "x", "null x");
    expect(bl_batchnorm_forward(nullptr, &ok, in, in, in, buf, buf, nullptr, mean, inv_std), BL_ERR_NULL_POINTER, "y", "null y");
    d = ok;
    d.training = 0;
    expect(bl_batchnorm_backward(nullptr, &d, in, in, in, in, mean, inv_std, buf, 0, buf, buf), BL_ERR_INVALID_ARGUMENT, "desc.training", "backward of evaluation");
    d = ok;
    d.relu = 1;
    expect(bl_batchnorm_backward(nullptr, &d, in, nullptr, in, in, mean, inv_std, buf, 0, buf, buf), BL_ERR_NULL_POINTER, "y", "relu without y");
    expect(bl_batchnorm_backward(nullptr, &ok, in, nullptr, in, in, mean, inv_std, buf, 3, buf, buf), BL_ERR_INVALID_ARGUMENT, "dx_accumulate", "accumulate 3");
    expect(bl_relu_forward(nullptr, 0, in, buf), BL_ERR_INVALID_SIZE, "count", "relu count 0");
    expect(bl_relu_backward(nullptr, 4, in, nullptr, buf, 0), BL_ERR_NULL_POINTER, "dy", "relu null dy");
    const bl_pool2d_desc pool{1, 4, 4, 2, 2, 2, 2};
    bl_pool2d_desc pd = pool;
    pd.kernel_h = 5;
    expect(bl_maxpool2d_forward(nullptr, &pd, in, buf, nullptr), BL_ERR_INVALID_ARGUMENT, "desc.kernel_h", "kernel taller than the plane");
    pd = pool;
    pd.stride_w = 0;
    expect(bl_maxpool2d_forward(nullptr, &pd, in, buf, nullptr), BL_ERR_INVALID_SIZE, "desc.stride_w", "stride 0");
    pd = pool;
    pd.height = pd.width = int64_t(1) << 16;
    expect(bl_maxpool2d_forward(nullptr, &pd, in, buf, nullptr), BL_ERR_SIZE_OVERFLOW, "desc", "plane of 2^32");
    expect(bl_maxpool2d_backward(nullptr, &pool, nullptr, in, buf, 0), BL_ERR_NULL_POINTER, "winners", "null winners");
    expect(bl_linear_forward(nullptr, 2, -1, 3, in, in, nullptr, buf), BL_ERR_INVALID_SIZE, "in", "linear in -1");
    expect(bl_linear_backward(nullptr, 2, 3, 4, nullptr, in, in, buf, buf, buf), BL_ERR_NULL_POINTER, "x", "dw without x");
    expect(bl_add_into(nullptr, 4, buf, nullptr), BL_ERR_NULL_POINTER, "src", "add null src");
    const float g[4] = {1, 2, 3, 4};
    bl_param_slot slot{buf, g, buf + 8, nullptr, 4};
    bl_adam_desc ad{0.01, 0.9, 0.999, 1e-8, 0, 1};
    expect(bl_adam_step(nullptr, &ad, &slot, 1), BL_ERR_NULL_POINTER, "params", "adam without state1");
    slot.state1 = buf + 16;
    ad.beta1 = 1.0;
    expect(bl_adam_step(nullptr, &ad, &slot, 1), BL_ERR_INVALID_ARGUMENT, "desc.beta1", "beta1 1");
    ad.beta1 = 0.9;
    ad.step = 0;
    expect(bl_adam_step(nullptr, &ad, &slot, 1), BL_ERR_INVALID_ARGUMENT, "desc.step", "step 0");
    ad.step = 1;
    slot.count = -2;
    expect(bl_adam_step(nullptr, &ad, &slot, 1), BL_ERR_INVALID_SIZE, "params", "count -2");
    slot.count = 4;
    const bl_sgd_desc sd{0.1, 0.9, 0};
    bl_param_slot no_buf{buf, g, nullptr, nullptr, 4};
    expect(bl_sgd_step(nullptr, &sd, &no_buf, 1), BL_ERR_NULL_POINTER, "params", "momentum without buffer");
    expect(bl_sgd_step(nullptr, nullptr, &no_buf, 1), BL_ERR_NULL_POINTER, "desc", "sgd null desc");
    // No parameters is a valid (empty) step.
    CHECK_OK(bl_sgd_step(nullptr, &sd, nullptr, 0));
}

BL_TEST_MAIN()
