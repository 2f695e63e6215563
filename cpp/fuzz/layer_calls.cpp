// layer_calls.cpp -- the fuzz driver's calls of the layer kernels (bandlimit.h, "Layer
// kernels"): batch norm, ReLU, max and average pooling, linear, add, dropout, softmax
// cross-entropy, Adam and SGD.
//
// Valid calls are compared with float64 references written here from the header's formulas
// (not from the library), element by element within a rounding bound: a float32 result of a
// reduction of R terms may differ from the exact value by about R 2^-24 times the sum of the
// terms' magnitudes (the classic a-priori bound), a float32 result of a float64 computation by
// one rounding; the slack factors below are stated where they are used. Inputs sometimes hold
// NaN or Inf: then the call must still succeed, and what the header defines element by element
// (ReLU's and dropout's masks, pooling winners) is checked; reductions over a non-finite value
// are not compared.
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <limits>

#include "driver.h"

namespace blfuzz {
namespace {

using dvec = std::vector<double>;
using fvec = std::vector<float>;

constexpr double kU = 0x1p-24;                                  // float32 unit roundoff
constexpr int64_t kTooMany = (int64_t(1) << 60) + 1;            // above the kernels' element limit
constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

bool finite_all(const fvec& v) {
    return std::all_of(v.begin(), v.end(), [](float e) { return std::isfinite(e); });
}

// |got[i] - ref[i]| <= allowed[i] for every i (NaN fails), else a mismatch naming the first
// that is not. The kernels' host arithmetic treats subnormals as zero (bandlimit.h: FTZ + DAZ),
// so a result below 2^-126 may be 0 and a subnormal input counts as 0: 2^-120 (a flushed value
// in each of up to 64 terms) is allowed on top, about 1e-36, far below any real error on data of
// ordinary size.
bool within(Driver& d, const fvec& got, const dvec& ref, const dvec& allowed, const char* what) {
    for (size_t i = 0; i < ref.size(); ++i) {
        const double e = std::fabs(double(got[i]) - ref[i]);
        if (!(e <= allowed[i] + 0x1p-120)) {
            d.mismatch(format("%s[%zu] = %.9g, the reference %.17g (|err| %.3e > %.3e)", what, i, double(got[i]), ref[i], e,
                              allowed[i]));
            return false;
        }
    }
    return true;
}

// got[i] == want[i], or both NaN.
bool same_values(Driver& d, const fvec& got, const fvec& want, const char* what) {
    for (size_t i = 0; i < want.size(); ++i)
        if (!(got[i] == want[i] || (std::isnan(got[i]) && std::isnan(want[i])))) {
            d.mismatch(format("%s[%zu] = %.9g, want %.9g", what, i, double(got[i]), double(want[i])));
            return false;
        }
    return true;
}

fvec floats_of(const GuardedBuffer& b) { return b.payload_floats(); }
dvec doubles_of(const GuardedBuffer& b) {
    dvec v(b.bytes() / sizeof(double));
    if (!v.empty()) std::memcpy(v.data(), b.data(), v.size() * sizeof(double));
    return v;
}
GuardedBuffer& copy_into(GuardedBuffer& b, const fvec& v) {
    b.fill_from(v.data(), v.size() * sizeof(float));
    return b;
}
size_t fbytes(int64_t count) { return sz(count) * sizeof(float); }

int64_t bad_count(Driver& d) {
    const int64_t v[] = {0, -1, -d.choose.between(2, 1000), kI64Min, kTooMany};
    return v[d.choose.below(5)];
}
int32_t bad_flag(Driver& d) {
    const int32_t v[] = {2, -1, 77, std::numeric_limits<int32_t>::min()};
    return v[d.choose.below(4)];
}
// Poisons a copy of v when the call is one of the special ones (1 in 10).
bool maybe_poison(Driver& d, fvec& v) {
    if (!d.choose.one_in(10)) return false;
    d.poison(v, 0, v.size());
    d.special_data();
    return true;
}

// ==========================================================================================
// Batch norm
// ==========================================================================================
struct BnRef {
    dvec y, mean, inv_std, running_mean, running_var, y_allowed, rm_allowed, rv_allowed;
};

BnRef bn_reference(const bl_batchnorm_desc& d, const dvec& x, const dvec& gamma, const dvec& beta, const dvec& rm,
                   const dvec& rv) {
    const int64_t N = d.batch, C = d.channels, S = d.spatial, M = N * S;
    BnRef r;
    r.y.assign(x.size(), 0);
    r.y_allowed.assign(x.size(), 0);
    r.mean.assign(sz(C), 0);
    r.inv_std.assign(sz(C), 0);
    r.running_mean = rm;
    r.running_var = rv;
    r.rm_allowed.assign(sz(C), 0);
    r.rv_allowed.assign(sz(C), 0);
    for (int64_t c = 0; c < C; ++c) {
        double mean = 0, var = 0;
        if (d.training) {
            for (int64_t n = 0; n < N; ++n)
                for (int64_t i = 0; i < S; ++i) mean += x[sz((n * C + c) * S + i)];
            mean /= double(M);
            double q = 0;
            for (int64_t n = 0; n < N; ++n)
                for (int64_t i = 0; i < S; ++i) q += (x[sz((n * C + c) * S + i)] - mean) * (x[sz((n * C + c) * S + i)] - mean);
            var = q / double(M);
            const double unbiased = q / double(M - 1);
            r.running_mean[sz(c)] = (1 - d.momentum) * rm[sz(c)] + d.momentum * mean;
            r.running_var[sz(c)] = (1 - d.momentum) * rv[sz(c)] + d.momentum * unbiased;
            // Two float32 roundings of a sum of two terms (factor 4 slack).
            r.rm_allowed[sz(c)] = 4 * kU * (std::fabs(rm[sz(c)]) + std::fabs(mean));
            r.rv_allowed[sz(c)] = 4 * kU * (std::fabs(rv[sz(c)]) + unbiased);
        } else {
            mean = rm[sz(c)];
            var = rv[sz(c)];
        }
        r.mean[sz(c)] = mean;
        r.inv_std[sz(c)] = 1 / std::sqrt(var + d.eps);
        for (int64_t n = 0; n < N; ++n)
            for (int64_t i = 0; i < S; ++i) {
                const size_t at = sz((n * C + c) * S + i);
                const double v = gamma[sz(c)] * (x[at] - mean) * r.inv_std[sz(c)] + beta[sz(c)];
                r.y[at] = d.relu && v < 0 ? 0 : v;
                // x - mean may be formed in float32 (one rounding of |x| + |mean|), then scaled
                // and shifted (a few roundings of the result): factor 8 slack.
                r.y_allowed[at] = 8 * kU *
                                  (std::fabs(gamma[sz(c)]) * r.inv_std[sz(c)] * (std::fabs(x[at]) + std::fabs(mean)) +
                                   std::fabs(beta[sz(c)]) + std::fabs(v));
            }
    }
    return r;
}

bl_batchnorm_desc random_bn_desc(Driver& d, bool training) {
    bl_batchnorm_desc desc{};
    desc.batch = d.choose.between(1, 4);
    desc.channels = d.choose.between(1, 4);
    desc.spatial = d.choose.between(1, 12);
    desc.training = training ? 1 : 0;
    desc.relu = d.choose.one_in(2) ? 1 : 0;
    const uint64_t m = d.choose.below(4);
    desc.momentum = m == 0 ? 0.0 : m == 1 ? 1.0 : d.choose.unit();
    const uint64_t e = d.choose.below(3);
    desc.eps = e == 0 ? 1e-5 : e == 1 ? 1e-3 : 1e-9 + 0.1 * d.choose.unit();
    if (training && desc.batch * desc.spatial < 2) desc.spatial = 2;
    return desc;
}

// The desc mutations both batch-norm calls share.
const char* break_bn_desc(bl_batchnorm_desc& desc, bool& desc_null, Driver& d) {
    switch (d.choose.below(8)) {
    case 0: desc_null = true; return "desc";
    case 1: {
        const uint64_t f = d.choose.below(3);
        (f == 0 ? desc.batch : f == 1 ? desc.channels : desc.spatial) = bad_count(d);
        return f == 0 ? "desc.batch" : f == 1 ? "desc.channels" : "desc.spatial";
    }
    case 2:  // each below 2^60, the product above
        desc.batch = int64_t(1) << 30;
        desc.channels = int64_t(1) << 30;
        desc.spatial = int64_t(1) << 10;
        return "desc";
    case 3: desc.training = bad_flag(d); return "desc.training";
    case 4: desc.relu = bad_flag(d); return "desc.relu";
    case 5: {
        const double v[] = {-1e-9, 1.0 + 1e-12, 2.0, kNaN, kInf, -kInf};
        desc.momentum = v[d.choose.below(6)];
        return "desc.momentum";
    }
    case 6: {
        const double v[] = {0.0, -0.0, -1e-5, kNaN, kInf, -kInf};
        desc.eps = v[d.choose.below(6)];
        return "desc.eps";
    }
    default:  // training needs two values per channel
        desc.training = 1;
        desc.batch = 1;
        desc.spatial = 1;
        return "desc";
    }
}

struct BnForwardCall {
    bl_context ctx;
    bl_batchnorm_desc desc;
    bool desc_null;
    const float *x, *gamma, *beta;
    float *rm, *rv, *y;
    double *mean, *inv_std;
    bl_status invoke() const {
        return bl_batchnorm_forward(ctx, desc_null ? nullptr : &desc, x, gamma, beta, rm, rv, y, mean, inv_std);
    }
};

const std::vector<Mutation<BnForwardCall>>& bn_forward_mutations() {
    static const std::vector<Mutation<BnForwardCall>> table = {
        {"a bad desc", [](BnForwardCall& c, Driver& d) -> const char* { return break_bn_desc(c.desc, c.desc_null, d); }},
        {"x NULL", [](BnForwardCall& c, Driver&) -> const char* { c.x = nullptr; return "x"; }},
        {"gamma NULL", [](BnForwardCall& c, Driver&) -> const char* { c.gamma = nullptr; return "gamma"; }},
        {"beta NULL", [](BnForwardCall& c, Driver&) -> const char* { c.beta = nullptr; return "beta"; }},
        {"running_mean NULL", [](BnForwardCall& c, Driver&) -> const char* { c.rm = nullptr; return "running_mean"; }},
        {"running_var NULL", [](BnForwardCall& c, Driver&) -> const char* { c.rv = nullptr; return "running_var"; }},
        {"y NULL", [](BnForwardCall& c, Driver&) -> const char* { c.y = nullptr; return "y"; }},
    };
    return table;
}

struct BnBackwardCall {
    bl_context ctx;
    bl_batchnorm_desc desc;
    bool desc_null;
    const float *x, *y, *dy, *gamma;
    const double *mean, *inv_std;
    float* dx;
    int32_t dx_accumulate;
    float *dgamma, *dbeta;
    bl_status invoke() const {
        return bl_batchnorm_backward(ctx, desc_null ? nullptr : &desc, x, y, dy, gamma, mean, inv_std, dx, dx_accumulate,
                                     dgamma, dbeta);
    }
};

const std::vector<Mutation<BnBackwardCall>>& bn_backward_mutations() {
    static const std::vector<Mutation<BnBackwardCall>> table = {
        {"a bad desc", [](BnBackwardCall& c, Driver& d) -> const char* { return break_bn_desc(c.desc, c.desc_null, d); }},
        {"desc.training 0 (the backward is a training one's)", [](BnBackwardCall& c, Driver&) -> const char* {
             c.desc.training = 0;
             return "desc.training";
         }},
        {"x NULL", [](BnBackwardCall& c, Driver&) -> const char* { c.x = nullptr; return "x"; }},
        {"y NULL with relu", [](BnBackwardCall& c, Driver&) -> const char* {
             if (!c.desc.relu) return nullptr;
             c.y = nullptr;
             return "y";
         }},
        {"dy NULL", [](BnBackwardCall& c, Driver&) -> const char* { c.dy = nullptr; return "dy"; }},
        {"gamma NULL", [](BnBackwardCall& c, Driver&) -> const char* { c.gamma = nullptr; return "gamma"; }},
        {"mean NULL", [](BnBackwardCall& c, Driver&) -> const char* { c.mean = nullptr; return "mean"; }},
        {"inv_std NULL", [](BnBackwardCall& c, Driver&) -> const char* { c.inv_std = nullptr; return "inv_std"; }},
        {"dx_accumulate not 0 or 1", [](BnBackwardCall& c, Driver& d) -> const char* {
             c.dx_accumulate = bad_flag(d);
             return "dx_accumulate";
         }},
    };
    return table;
}

void entry_batchnorm(Driver& d) {
    const bool backward = d.choose.one_in(2);
    bl_context ctx = d.random_context_handle();
    const bl_batchnorm_desc desc = random_bn_desc(d, backward || d.choose.one_in(2));
    const int64_t C = desc.channels, count = desc.batch * desc.channels * desc.spatial;
    const double scale = d.choose.one_in(3) ? 10.0 : 1.0, offset = d.choose.one_in(3) ? 5.0 : 0.0;
    fvec x = d.uniform(sz(count), offset - scale, offset + scale);
    const fvec gamma = d.uniform(sz(C)), beta = d.uniform(sz(C)), rm0 = d.uniform(sz(C)),
               rv0 = d.uniform(sz(C), 0.1, 2.0);
    const bool poisoned = !backward && maybe_poison(d, x);
    const bool with_stats = backward || !d.choose.one_in(4);
    d.note(format("[%s batch %" PRId64 " channels %" PRId64 " spatial %" PRId64 " training %d relu %d momentum %g eps %g%s]",
                  backward ? "backward" : "forward", desc.batch, desc.channels, desc.spatial, desc.training, desc.relu,
                  desc.momentum, desc.eps, poisoned ? " NaN/Inf in x" : ""));
    GuardedBuffer y(fbytes(count)), rm(fbytes(C)), rv(fbytes(C)), mean(sz(C) * sizeof(double)),
        inv_std(sz(C) * sizeof(double));
    copy_into(rm, rm0);
    copy_into(rv, rv0);
    BnForwardCall fc{ctx,       desc,         false,        x.data(),
                     gamma.data(), beta.data(), rm.floats(), rv.floats(),
                     y.floats(), with_stats ? static_cast<double*>(mean.data()) : nullptr,
                     with_stats ? static_cast<double*>(inv_std.data()) : nullptr};
    if (!backward && invalid_turn(d)) {
        const char* argument = nullptr;
        const Mutation<BnForwardCall>* m = mutate(d, bn_forward_mutations(), fc, &argument);
        if (!m) return;
        Untouched u;
        u.watch("y", y);
        u.watch("running_mean", rm);
        u.watch("running_var", rv);
        u.watch("out_mean", mean);
        u.watch("out_inv_std", inv_std);
        d.expect_refusal(fc.invoke(), m->name, argument, u);
        return;
    }
    if (!d.expect_ok(fc.invoke(), "bl_batchnorm_forward")) return;
    if (!d.guards_ok(y, "y") || !d.guards_ok(rm, "running_mean") || !d.guards_ok(rv, "running_var") ||
        !d.guards_ok(mean, "out_mean") || !d.guards_ok(inv_std, "out_inv_std"))
        return;
    const BnRef r = bn_reference(desc, blref::to_double(x), blref::to_double(gamma), blref::to_double(beta),
                                 blref::to_double(rm0), blref::to_double(rv0));
    const fvec yv = floats_of(y), rmv = floats_of(rm), rvv = floats_of(rv);
    const dvec mean_v = doubles_of(mean), inv_std_v = doubles_of(inv_std);
    if (!poisoned) {
        if (!within(d, yv, r.y, r.y_allowed, "batchnorm y")) return;
        if (desc.training) {
            if (!within(d, rmv, r.running_mean, r.rm_allowed, "running_mean") ||
                !within(d, rvv, r.running_var, r.rv_allowed, "running_var"))
                return;
        } else if (rmv != rm0 || rvv != rv0) {  // evaluation reads the running statistics only
            d.violation("a batch norm in evaluation changed running_mean or running_var");
            return;
        }
        if (with_stats)
            for (int64_t c = 0; c < C; ++c) {
                // float64 statistics of float32 inputs: a float64 reduction's error only.
                const double mean_tol = 1e-12 * (std::fabs(offset) + scale), inv_tol = 1e-6 * r.inv_std[sz(c)];
                if (!(std::fabs(mean_v[sz(c)] - r.mean[sz(c)]) <= mean_tol) ||
                    !(std::fabs(inv_std_v[sz(c)] - r.inv_std[sz(c)]) <= inv_tol)) {
                    d.mismatch(format("batchnorm channel %" PRId64 ": mean %.17g inv_std %.17g, the reference %.17g %.17g", c,
                                      mean_v[sz(c)], inv_std_v[sz(c)], r.mean[sz(c)], r.inv_std[sz(c)]));
                    return;
                }
            }
    }
    if (!backward) {
        d.passed();
        return;
    }

    // The backward of that training forward, with the mean and 1/std it wrote.
    const int64_t N = desc.batch, S = desc.spatial, M = N * S;
    const fvec dy = d.uniform(sz(count)), dx_prior = d.uniform(sz(count)), dg_prior = d.uniform(sz(C)),
               db_prior = d.uniform(sz(C));
    const bool with_dx = !d.choose.one_in(5), with_dg = !d.choose.one_in(4), with_db = !d.choose.one_in(4);
    const int32_t accumulate = d.choose.one_in(2) ? 1 : 0;
    GuardedBuffer dx(fbytes(count)), dgamma(fbytes(C)), dbeta(fbytes(C));
    copy_into(dx, dx_prior);
    copy_into(dgamma, dg_prior);
    copy_into(dbeta, db_prior);
    BnBackwardCall bc{ctx,          desc,        false,          x.data(), yv.data(), dy.data(), gamma.data(),
                      mean_v.data(), inv_std_v.data(), with_dx ? dx.floats() : nullptr, accumulate,
                      with_dg ? dgamma.floats() : nullptr, with_db ? dbeta.floats() : nullptr};
    if (invalid_turn(d)) {
        const char* argument = nullptr;
        const Mutation<BnBackwardCall>* m = mutate(d, bn_backward_mutations(), bc, &argument);
        if (!m) return;
        Untouched u;
        u.watch("dx", dx);
        u.watch("dgamma", dgamma);
        u.watch("dbeta", dbeta);
        d.expect_refusal(bc.invoke(), m->name, argument, u);
        return;
    }
    d.note(format("[dx %d accumulate %d dgamma %d dbeta %d]", with_dx, accumulate, with_dg, with_db));
    if (!d.expect_ok(bc.invoke(), "bl_batchnorm_backward")) return;
    if (!d.guards_ok(dx, "dx") || !d.guards_ok(dgamma, "dgamma") || !d.guards_ok(dbeta, "dbeta")) return;
    // Batch statistics: with xh = (x - mean) inv_std and g = dy (times the ReLU mask y > 0),
    // dbeta += sum g, dgamma += sum g xh, dx = gamma inv_std (g - sum g / M - xh sum(g xh) / M).
    dvec dx_ref(sz(count)), dx_allowed(sz(count)), dg_ref(sz(C)), dg_allowed(sz(C)), db_ref(sz(C)),
        db_allowed(sz(C));
    for (int64_t c = 0; c < C; ++c) {
        double sg = 0, sgx = 0, mag_g = 0, mag_gx = 0;
        auto g_at = [&](size_t at) { return desc.relu && !(yv[at] > 0) ? 0.0 : double(dy[at]); };
        for (int64_t n = 0; n < N; ++n)
            for (int64_t i = 0; i < S; ++i) {
                const size_t at = sz((n * C + c) * S + i);
                const double xh = (double(x[at]) - mean_v[sz(c)]) * inv_std_v[sz(c)], g = g_at(at);
                sg += g;
                sgx += g * xh;
                mag_g += std::fabs(g);
                mag_gx += std::fabs(g * xh);
            }
        db_ref[sz(c)] = (with_db ? double(db_prior[sz(c)]) : 0) + sg;
        dg_ref[sz(c)] = (with_dg ? double(dg_prior[sz(c)]) : 0) + sgx;
        // Sums of M float64 terms rounded once to float32 after the prior is added; the terms
        // may be formed from float32 x - mean (one more rounding each): factor 4 slack.
        db_allowed[sz(c)] = 4 * kU * (std::fabs(db_prior[sz(c)]) + mag_g);
        dg_allowed[sz(c)] = 4 * kU * (std::fabs(dg_prior[sz(c)]) + mag_gx) + 4 * kU * mag_gx;
        const double k = double(gamma[sz(c)]) * inv_std_v[sz(c)];
        for (int64_t n = 0; n < N; ++n)
            for (int64_t i = 0; i < S; ++i) {
                const size_t at = sz((n * C + c) * S + i);
                const double xh = (double(x[at]) - mean_v[sz(c)]) * inv_std_v[sz(c)], g = g_at(at);
                const double v = k * (g - sg / double(M) - xh * sgx / double(M));
                dx_ref[at] = (accumulate ? double(dx_prior[at]) : 0) + v;
                // A handful of roundings of each of the three terms (and of xh, whose float32
                // x - mean carries |x| + |mean| of rounding): factor 16 slack.
                const double xh_err = (std::fabs(x[at]) + std::fabs(mean_v[sz(c)])) * inv_std_v[sz(c)];
                dx_allowed[at] = 16 * kU *
                                     (std::fabs(k) * (std::fabs(g) + mag_g / double(M) +
                                                      (std::fabs(xh) + xh_err) * mag_gx / double(M))) +
                                 4 * kU * std::fabs(dx_ref[at]) + (accumulate ? 2 * kU * std::fabs(dx_prior[at]) : 0);
            }
    }
    bool ok = true;
    if (with_dx) ok = ok && within(d, floats_of(dx), dx_ref, dx_allowed, "batchnorm dx");
    if (with_dg) ok = ok && within(d, floats_of(dgamma), dg_ref, dg_allowed, "batchnorm dgamma");
    if (with_db) ok = ok && within(d, floats_of(dbeta), db_ref, db_allowed, "batchnorm dbeta");
    if (ok) d.passed();
}

// ==========================================================================================
// ReLU
// ==========================================================================================
struct ReluCall {
    bl_context ctx;
    bool backward;
    int64_t count;
    const float *x, *dy;
    float *y, *dx;
    int32_t accumulate;
    bl_status invoke() const {
        return backward ? bl_relu_backward(ctx, count, x, dy, dx, accumulate) : bl_relu_forward(ctx, count, x, y);
    }
};

const std::vector<Mutation<ReluCall>>& relu_mutations() {
    static const std::vector<Mutation<ReluCall>> table = {
        {"count < 1 or > 2^60", [](ReluCall& c, Driver& d) -> const char* { c.count = bad_count(d); return "count"; }},
        {"x NULL", [](ReluCall& c, Driver&) -> const char* { c.x = nullptr; return "x"; }},
        {"y NULL", [](ReluCall& c, Driver&) -> const char* {
             if (c.backward) return nullptr;
             c.y = nullptr;
             return "y";
         }},
        {"dy NULL", [](ReluCall& c, Driver&) -> const char* {
             if (!c.backward) return nullptr;
             c.dy = nullptr;
             return "dy";
         }},
        {"dx NULL", [](ReluCall& c, Driver&) -> const char* {
             if (!c.backward) return nullptr;
             c.dx = nullptr;
             return "dx";
         }},
        {"accumulate not 0 or 1", [](ReluCall& c, Driver& d) -> const char* {
             if (!c.backward) return nullptr;
             c.accumulate = bad_flag(d);
             return "accumulate";
         }},
    };
    return table;
}

int64_t random_count(Driver& d) {
    // Mostly short; sometimes past one SIMD block, the 2^14-element chunks or the 2^15-element
    // threshold for more threads.
    return d.choose.one_in(8) ? d.choose.between(1, 70000) : d.choose.between(1, 300);
}

void entry_relu(Driver& d) {
    const bool backward = d.choose.one_in(2);
    const int64_t count = random_count(d);
    fvec x = d.uniform(sz(count));
    for (float& v : x)
        if (d.choose.one_in(16)) v = d.choose.one_in(2) ? 0.0f : -0.0f;  // the gradient at 0 is 0
    const bool poisoned = maybe_poison(d, x);
    const fvec dy = d.uniform(sz(count)), prior = d.uniform(sz(count));
    const int32_t accumulate = d.choose.one_in(2) ? 1 : 0;
    const bool in_place = !backward && d.choose.one_in(4);  // "y may be x"
    GuardedBuffer out(fbytes(count));
    copy_into(out, backward ? prior : (in_place ? x : fvec(sz(count), 0.0f)));
    ReluCall call{d.random_context_handle(), backward, count, in_place ? out.floats() : x.data(), dy.data(),
                  out.floats(), out.floats(), accumulate};
    d.note(format("[%s count %" PRId64 "%s%s]", backward ? "backward" : "forward", count, in_place ? " in place" : "",
                  poisoned ? " NaN/Inf in x" : ""));
    if (invalid_turn(d)) {
        const char* argument = nullptr;
        const Mutation<ReluCall>* m = mutate(d, relu_mutations(), call, &argument);
        if (!m) return;
        Untouched u;
        u.watch(backward ? "dx" : "y", out);
        d.expect_refusal(call.invoke(), m->name, argument, u);
        return;
    }
    if (!d.expect_ok(call.invoke(), backward ? "bl_relu_backward" : "bl_relu_forward")) return;
    if (!d.guards_ok(out, backward ? "dx" : "y")) return;
    const fvec got = floats_of(out);
    fvec want(sz(count));
    for (size_t i = 0; i < want.size(); ++i) {
        if (backward) {  // dy where x > 0, else 0 (NaN > 0 is false): exact, one float add at most
            const float g = x[i] > 0 ? dy[i] : 0.0f;
            want[i] = accumulate ? prior[i] + g : g;
        } else if (std::isnan(x[i])) {
            want[i] = std::isnan(got[i]) ? got[i] : 0.0f;  // max(NaN, 0): either is a reading of the header
        } else {
            want[i] = x[i] > 0 ? x[i] : 0.0f;
        }
    }
    if (same_values(d, got, want, backward ? "relu dx" : "relu y")) d.passed();
}

// ==========================================================================================
// Max and average pooling
// ==========================================================================================
bl_pool2d_desc random_pool(Driver& d) {
    bl_pool2d_desc p{};
    p.planes = d.choose.between(1, 3);
    p.height = d.choose.between(1, 9);
    p.width = d.choose.between(1, 9);
    p.kernel_h = d.choose.between(1, p.height);
    p.kernel_w = d.choose.between(1, p.width);
    p.stride_h = d.choose.between(1, 3);
    p.stride_w = d.choose.between(1, 3);
    return p;
}
int64_t pool_ho(const bl_pool2d_desc& p) { return (p.height - p.kernel_h) / p.stride_h + 1; }
int64_t pool_wo(const bl_pool2d_desc& p) { return (p.width - p.kernel_w) / p.stride_w + 1; }

const char* break_pool_desc(bl_pool2d_desc& p, bool& desc_null, Driver& d) {
    switch (d.choose.below(6)) {
    case 0: desc_null = true; return "desc";
    case 1: {
        static const char* names[] = {"desc.planes", "desc.height", "desc.width", "desc.kernel_h",
                                      "desc.kernel_w", "desc.stride_h", "desc.stride_w"};
        int64_t* fields[] = {&p.planes, &p.height, &p.width, &p.kernel_h, &p.kernel_w, &p.stride_h, &p.stride_w};
        const uint64_t f = d.choose.below(7);
        *fields[f] = bad_count(d);
        return names[f];
    }
    case 2:
        if (d.choose.one_in(2)) {
            p.kernel_h = p.height + d.choose.between(1, 4);
            return "desc.kernel_h";
        }
        p.kernel_w = p.width + d.choose.between(1, 4);
        return "desc.kernel_w";
    case 3:  // a plane of 2^32 elements: more than int32 winners can index
        p.height = p.width = int64_t(1) << 16;
        return "desc";
    case 4:  // each below 2^60, the tensor above
        p.planes = int64_t(1) << 40;
        p.height = int64_t(1) << 15;
        p.width = int64_t(1) << 10;
        return "desc";
    default:
        p.stride_h = kI64Min;
        return "desc.stride_h";
    }
}

struct PoolCall {
    bl_context ctx;
    bool max, backward;
    bl_pool2d_desc desc;
    bool desc_null;
    const float *x, *dy;
    float *y, *dx;
    int32_t* winners;
    const int32_t* winners_in;
    int32_t accumulate;
    bl_status invoke() const {
        const bl_pool2d_desc* p = desc_null ? nullptr : &desc;
        if (max)
            return backward ? bl_maxpool2d_backward(ctx, p, winners_in, dy, dx, accumulate)
                            : bl_maxpool2d_forward(ctx, p, x, y, winners);
        return backward ? bl_avgpool2d_backward(ctx, p, dy, dx, accumulate) : bl_avgpool2d_forward(ctx, p, x, y);
    }
};

// Winners outside the plane: refused naming "winners" before anything is written (bandlimit.h;
// the CPU wrote outside dx before the fix; the contexts here are CPU ones).
const char* bad_winners(PoolCall& c, Driver& d) {
    if (!c.max || !c.backward) return nullptr;
    const int64_t outputs = c.desc.planes * pool_ho(c.desc) * pool_wo(c.desc);
    d.scratch.emplace_back(sz(outputs) * sizeof(int32_t));
    auto* w = reinterpret_cast<int32_t*>(d.scratch.back().data());
    std::memcpy(w, c.winners_in, sz(outputs) * sizeof(int32_t));
    w[d.choose.below(sz(outputs))] = d.choose.one_in(2) ? -1 : int32_t(c.desc.height * c.desc.width + 1000);
    c.winners_in = w;
    return "winners";
}

const std::vector<Mutation<PoolCall>>& pool_mutations() {
    static const std::vector<Mutation<PoolCall>> table = {
        {"a bad desc", [](PoolCall& c, Driver& d) -> const char* { return break_pool_desc(c.desc, c.desc_null, d); }},
        {"x NULL", [](PoolCall& c, Driver&) -> const char* {
             if (c.backward) return nullptr;
             c.x = nullptr;
             return "x";
         }},
        {"y NULL", [](PoolCall& c, Driver&) -> const char* {
             if (c.backward) return nullptr;
             c.y = nullptr;
             return "y";
         }},
        {"winners NULL", [](PoolCall& c, Driver&) -> const char* {
             if (!c.backward || !c.max) return nullptr;
             c.winners_in = nullptr;
             return "winners";
         }},
        {"dy NULL", [](PoolCall& c, Driver&) -> const char* {
             if (!c.backward) return nullptr;
             c.dy = nullptr;
             return "dy";
         }},
        {"dx NULL", [](PoolCall& c, Driver&) -> const char* {
             if (!c.backward) return nullptr;
             c.dx = nullptr;
             return "dx";
         }},
        {"accumulate not 0 or 1", [](PoolCall& c, Driver& d) -> const char* {
             if (!c.backward) return nullptr;
             c.accumulate = bad_flag(d);
             return "accumulate";
         }},
        {"winners outside the plane", bad_winners},
    };
    return table;
}

// The reference winners: the first maximum in scan order (rows, then columns), comparing with
// '>' (so a later NaN never wins). Also whether each window holds a NaN.
std::vector<int32_t> reference_winners(const bl_pool2d_desc& p, const fvec& x, std::vector<bool>* has_nan) {
    const int64_t ho = pool_ho(p), wo = pool_wo(p), plane = p.height * p.width;
    std::vector<int32_t> win(sz(p.planes * ho * wo));
    has_nan->assign(win.size(), false);
    for (int64_t q = 0; q < p.planes; ++q)
        for (int64_t i = 0; i < ho; ++i)
            for (int64_t j = 0; j < wo; ++j) {
                int64_t best = -1;
                bool nan = false;
                for (int64_t u = 0; u < p.kernel_h; ++u)
                    for (int64_t v = 0; v < p.kernel_w; ++v) {
                        const int64_t at = (i * p.stride_h + u) * p.width + j * p.stride_w + v;
                        nan = nan || std::isnan(x[sz(q * plane + at)]);
                        if (best < 0 || x[sz(q * plane + at)] > x[sz(q * plane + best)]) best = at;
                    }
                win[sz((q * ho + i) * wo + j)] = int32_t(best);
                (*has_nan)[sz((q * ho + i) * wo + j)] = nan;
            }
    return win;
}

bool in_window(const bl_pool2d_desc& p, int64_t k, int32_t index) {
    const int64_t ho = pool_ho(p), wo = pool_wo(p), i = (k / wo) % ho, j = k % wo;
    const int64_t r = index / p.width, c = index % p.width;
    return index >= 0 && index < p.height * p.width && r >= i * p.stride_h && r < i * p.stride_h + p.kernel_h &&
           c >= j * p.stride_w && c < j * p.stride_w + p.kernel_w;
}

void entry_pool(Driver& d, bool max) {
    const bool backward = d.choose.one_in(2);
    const bl_pool2d_desc p = random_pool(d);
    const int64_t ho = pool_ho(p), wo = pool_wo(p), plane = p.height * p.width, in = p.planes * plane,
                  out = p.planes * ho * wo;
    fvec x = d.uniform(sz(in));
    if (max && d.choose.one_in(2))  // small integers: ties, so the first-maximum rule is exercised
        for (float& v : x) v = float(d.choose.between(-2, 2));
    const bool poisoned = !backward && maybe_poison(d, x);
    std::vector<bool> has_nan;
    const std::vector<int32_t> ref_win = reference_winners(p, x, &has_nan);
    const fvec dy = d.uniform(sz(out)), prior = d.uniform(sz(in));
    const int32_t accumulate = d.choose.one_in(2) ? 1 : 0;
    const bool with_winners = !d.choose.one_in(4);
    GuardedBuffer y(fbytes(out)), winners(sz(out) * sizeof(int32_t)), dx(fbytes(in));
    copy_into(dx, prior);
    PoolCall call{d.random_context_handle(), max, backward, p, false, x.data(), dy.data(), y.floats(), dx.floats(),
                  with_winners ? static_cast<int32_t*>(winners.data()) : nullptr, ref_win.data(), accumulate};
    d.note(format("[%s %" PRId64 "x%" PRId64 "x%" PRId64 " kernel %" PRId64 "x%" PRId64 " stride %" PRId64 "x%" PRId64 "%s]",
                  backward ? "backward" : "forward", p.planes, p.height, p.width, p.kernel_h, p.kernel_w, p.stride_h,
                  p.stride_w, poisoned ? " NaN/Inf in x" : ""));
    if (invalid_turn(d)) {
        const char* argument = nullptr;
        const Mutation<PoolCall>* m = mutate(d, pool_mutations(), call, &argument);
        if (!m) return;
        Untouched u;
        u.watch("y", y);
        u.watch("winners", winners);
        u.watch("dx", dx);
        d.expect_refusal(call.invoke(), m->name, argument, u);
        return;
    }
    const char* name = max ? (backward ? "bl_maxpool2d_backward" : "bl_maxpool2d_forward")
                           : (backward ? "bl_avgpool2d_backward" : "bl_avgpool2d_forward");
    if (!d.expect_ok(call.invoke(), name)) return;
    if (!d.guards_ok(y, "y") || !d.guards_ok(winners, "winners") || !d.guards_ok(dx, "dx")) return;
    const double taps = double(p.kernel_h * p.kernel_w);
    if (!backward) {
        const fvec yv = floats_of(y);
        std::vector<int32_t> wv(sz(out));
        std::memcpy(wv.data(), winners.data(), wv.size() * sizeof(int32_t));
        for (int64_t k = 0; k < out; ++k) {
            const int64_t q = k / (ho * wo);
            if (max) {
                if (with_winners && !in_window(p, k, wv[sz(k)])) {
                    d.mismatch(format("maxpool winner %d of output %" PRId64 " is outside its window", wv[sz(k)], k));
                    return;
                }
                if (has_nan[sz(k)]) {  // a NaN window: the winner's value, whichever the header's rule picks
                    if (with_winners && std::memcmp(&yv[sz(k)], &x[sz(q * plane + wv[sz(k)])], sizeof(float)) != 0) {
                        d.mismatch(format("maxpool y[%" PRId64 "] is not the value of its winner", k));
                        return;
                    }
                    continue;
                }
                const int32_t want = ref_win[sz(k)];
                if ((with_winners && wv[sz(k)] != want) || yv[sz(k)] != x[sz(q * plane + want)]) {
                    d.mismatch(format("maxpool output %" PRId64 ": y %.9g winner %d, the reference %.9g at %d (first maximum)", k,
                                      double(yv[sz(k)]), with_winners ? wv[sz(k)] : -1,
                                      double(x[sz(q * plane + want)]), want));
                    return;
                }
            }
        }
        if (!max && !poisoned) {  // the window's mean, summed in float64: one rounding
            dvec ref(sz(out)), allowed(sz(out));
            const int64_t per = ho * wo;
            for (int64_t k = 0; k < out; ++k) {
                const int64_t q = k / per, i = (k % per) / wo, j = k % wo;
                double s = 0, mag = 0;
                for (int64_t u = 0; u < p.kernel_h; ++u)
                    for (int64_t v = 0; v < p.kernel_w; ++v) {
                        const double e = x[sz(q * plane + (i * p.stride_h + u) * p.width + j * p.stride_w + v)];
                        s += e;
                        mag += std::fabs(e);
                    }
                ref[sz(k)] = s / taps;
                allowed[sz(k)] = kU * std::fabs(ref[sz(k)]) + 1e-12 * mag / taps;
            }
            if (!within(d, yv, ref, allowed, "avgpool y")) return;
        }
        d.passed();
        return;
    }
    // Backward: the adjoint, added onto dx when accumulating (max: at the winners; average:
    // dy / taps over the covering windows, summed in float64).
    dvec ref(sz(in)), allowed(sz(in)), mag(sz(in), 0.0);
    std::vector<int> hits(sz(in), 0);
    for (int64_t i = 0; i < in; ++i) ref[sz(i)] = accumulate ? double(prior[sz(i)]) : 0.0;
    for (int64_t k = 0; k < out; ++k) {
        const int64_t q = k / (ho * wo), i = (k % (ho * wo)) / wo, j = k % wo;
        if (max) {
            const size_t at = sz(q * plane + ref_win[sz(k)]);
            ref[at] += dy[sz(k)];
            mag[at] += std::fabs(dy[sz(k)]);
            ++hits[at];
        } else {
            for (int64_t u = 0; u < p.kernel_h; ++u)
                for (int64_t v = 0; v < p.kernel_w; ++v) {
                    const size_t at = sz(q * plane + (i * p.stride_h + u) * p.width + j * p.stride_w + v);
                    ref[at] += dy[sz(k)] / taps;
                    mag[at] += std::fabs(dy[sz(k)]) / taps;
                    ++hits[at];
                }
        }
    }
    for (int64_t i = 0; i < in; ++i)  // one float32 rounding per add (max: in float32), plus the prior's
        allowed[sz(i)] = (hits[sz(i)] + 2) * kU * (mag[sz(i)] + (accumulate ? std::fabs(prior[sz(i)]) : 0.0));
    if (within(d, floats_of(dx), ref, allowed, max ? "maxpool dx" : "avgpool dx")) d.passed();
}

void entry_maxpool(Driver& d) { entry_pool(d, true); }
void entry_avgpool(Driver& d) { entry_pool(d, false); }

// ==========================================================================================
// Linear
// ==========================================================================================
struct LinearCall {
    bl_context ctx;
    bool backward;
    int64_t batch, in, out;
    const float *x, *w, *b, *dy;
    float *y, *dx, *dw, *db;
    bl_status invoke() const {
        return backward ? bl_linear_backward(ctx, batch, in, out, x, w, dy, dx, dw, db)
                        : bl_linear_forward(ctx, batch, in, out, x, w, b, y);
    }
};

const std::vector<Mutation<LinearCall>>& linear_mutations() {
    static const std::vector<Mutation<LinearCall>> table = {
        {"batch, in or out < 1 or > 2^60", [](LinearCall& c, Driver& d) -> const char* {
             const uint64_t f = d.choose.below(3);
             (f == 0 ? c.batch : f == 1 ? c.in : c.out) = bad_count(d);
             return f == 0 ? "batch" : f == 1 ? "in" : "out";
         }},
        {"a product of sizes > 2^60", [](LinearCall& c, Driver& d) -> const char* {
             switch (d.choose.below(3)) {
             case 0: c.batch = int64_t(1) << 40; c.in = int64_t(1) << 30; c.out = 1; return "in";
             case 1: c.batch = 1; c.out = int64_t(1) << 40; c.in = int64_t(1) << 30; return "in";
             default: c.batch = int64_t(1) << 40; c.out = int64_t(1) << 30; c.in = 1; return "out";
             }
         }},
        {"x NULL (forward, or dw wanted)", [](LinearCall& c, Driver&) -> const char* {
             if (c.backward && !c.dw) return nullptr;
             c.x = nullptr;
             return "x";
         }},
        {"w NULL (forward, or dx wanted)", [](LinearCall& c, Driver&) -> const char* {
             if (c.backward && !c.dx) return nullptr;
             c.w = nullptr;
             return "w";
         }},
        {"y NULL", [](LinearCall& c, Driver&) -> const char* {
             if (c.backward) return nullptr;
             c.y = nullptr;
             return "y";
         }},
        {"dy NULL", [](LinearCall& c, Driver&) -> const char* {
             if (!c.backward) return nullptr;
             c.dy = nullptr;
             return "dy";
         }},
    };
    return table;
}

void entry_linear(Driver& d) {
    const bool backward = d.choose.one_in(2);
    const int64_t B = d.choose.between(1, 6), I = d.choose.between(1, d.choose.one_in(6) ? 300 : 20), O = d.choose.between(1, 8);
    fvec x = d.uniform(sz(B * I));
    const fvec w = d.uniform(sz(O * I)), b = d.uniform(sz(O)), dy = d.uniform(sz(B * O)),
               dx0 = d.uniform(sz(B * I)), dw0 = d.uniform(sz(O * I)), db0 = d.uniform(sz(O));
    const bool poisoned = !backward && maybe_poison(d, x);
    const bool with_b = !d.choose.one_in(4), with_dx = !d.choose.one_in(4), with_dw = !d.choose.one_in(4),
               with_db = !d.choose.one_in(4);
    GuardedBuffer y(fbytes(B * O)), dx(fbytes(B * I)), dw(fbytes(O * I)), db(fbytes(O));
    copy_into(dx, dx0);
    copy_into(dw, dw0);
    copy_into(db, db0);
    LinearCall call{d.random_context_handle(), backward, B, I, O, x.data(), w.data(), with_b ? b.data() : nullptr, dy.data(),
                    y.floats(), with_dx ? dx.floats() : nullptr, with_dw ? dw.floats() : nullptr,
                    with_db ? db.floats() : nullptr};
    d.note(format("[%s batch %" PRId64 " in %" PRId64 " out %" PRId64 "%s]", backward ? "backward" : "forward", B, I, O,
                  poisoned ? " NaN/Inf in x" : ""));
    if (invalid_turn(d)) {
        const char* argument = nullptr;
        const Mutation<LinearCall>* m = mutate(d, linear_mutations(), call, &argument);
        if (!m) return;
        Untouched u;
        u.watch("y", y);
        u.watch("dx", dx);
        u.watch("dw", dw);
        u.watch("db", db);
        d.expect_refusal(call.invoke(), m->name, argument, u);
        return;
    }
    if (!d.expect_ok(call.invoke(), backward ? "bl_linear_backward" : "bl_linear_forward")) return;
    if (!d.guards_ok(y, "y") || !d.guards_ok(dx, "dx") || !d.guards_ok(dw, "dw") || !d.guards_ok(db, "db")) return;
    // float32 sums of R products: within (R + 2) 2^-24 times the sum of the terms' magnitudes.
    if (!backward) {
        if (poisoned) {
            d.passed();
            return;
        }
        dvec ref(sz(B * O)), allowed(sz(B * O));
        for (int64_t n = 0; n < B; ++n)
            for (int64_t o = 0; o < O; ++o) {
                double s = with_b ? double(b[sz(o)]) : 0.0, mag = std::fabs(s);
                for (int64_t i = 0; i < I; ++i) {
                    const double t = double(x[sz(n * I + i)]) * w[sz(o * I + i)];
                    s += t;
                    mag += std::fabs(t);
                }
                ref[sz(n * O + o)] = s;
                allowed[sz(n * O + o)] = double(I + 2) * kU * mag;
            }
        if (within(d, floats_of(y), ref, allowed, "linear y")) d.passed();
        return;
    }
    bool ok = true;
    if (with_dx) {  // dx[n][i] += sum_o dy[n][o] w[o][i]
        dvec ref(sz(B * I)), allowed(sz(B * I));
        for (int64_t n = 0; n < B; ++n)
            for (int64_t i = 0; i < I; ++i) {
                double s = dx0[sz(n * I + i)], mag = std::fabs(s);
                for (int64_t o = 0; o < O; ++o) {
                    const double t = double(dy[sz(n * O + o)]) * w[sz(o * I + i)];
                    s += t;
                    mag += std::fabs(t);
                }
                ref[sz(n * I + i)] = s;
                allowed[sz(n * I + i)] = double(O + 2) * kU * mag;
            }
        ok = ok && within(d, floats_of(dx), ref, allowed, "linear dx");
    }
    if (with_dw) {  // dw[o][i] += sum_n dy[n][o] x[n][i]
        dvec ref(sz(O * I)), allowed(sz(O * I));
        for (int64_t o = 0; o < O; ++o)
            for (int64_t i = 0; i < I; ++i) {
                double s = dw0[sz(o * I + i)], mag = std::fabs(s);
                for (int64_t n = 0; n < B; ++n) {
                    const double t = double(dy[sz(n * O + o)]) * x[sz(n * I + i)];
                    s += t;
                    mag += std::fabs(t);
                }
                ref[sz(o * I + i)] = s;
                allowed[sz(o * I + i)] = double(B + 2) * kU * mag;
            }
        ok = ok && within(d, floats_of(dw), ref, allowed, "linear dw");
    }
    if (with_db) {  // db[o] += sum_n dy[n][o]
        dvec ref(sz(O)), allowed(sz(O));
        for (int64_t o = 0; o < O; ++o) {
            double s = db0[sz(o)], mag = std::fabs(s);
            for (int64_t n = 0; n < B; ++n) {
                s += dy[sz(n * O + o)];
                mag += std::fabs(dy[sz(n * O + o)]);
            }
            ref[sz(o)] = s;
            allowed[sz(o)] = double(B + 2) * kU * mag;
        }
        ok = ok && within(d, floats_of(db), ref, allowed, "linear db");
    }
    if (ok) d.passed();
}

// ==========================================================================================
// Add
// ==========================================================================================
struct AddCall {
    bl_context ctx;
    int64_t count;
    float* dst;
    const float* src;
    bl_status invoke() const { return bl_add_into(ctx, count, dst, src); }
};

const std::vector<Mutation<AddCall>>& add_mutations() {
    static const std::vector<Mutation<AddCall>> table = {
        {"count < 1 or > 2^60", [](AddCall& c, Driver& d) -> const char* { c.count = bad_count(d); return "count"; }},
        {"dst NULL", [](AddCall& c, Driver&) -> const char* { c.dst = nullptr; return "dst"; }},
        {"src NULL", [](AddCall& c, Driver&) -> const char* { c.src = nullptr; return "src"; }},
    };
    return table;
}

void entry_add(Driver& d) {
    const int64_t count = random_count(d);
    fvec src = d.uniform(sz(count));
    const fvec dst0 = d.uniform(sz(count));
    const bool poisoned = maybe_poison(d, src);
    GuardedBuffer dst(fbytes(count));
    copy_into(dst, dst0);
    AddCall call{d.random_context_handle(), count, dst.floats(), src.data()};
    d.note(format("[count %" PRId64 "%s]", count, poisoned ? " NaN/Inf in src" : ""));
    if (invalid_turn(d)) {
        const char* argument = nullptr;
        const Mutation<AddCall>* m = mutate(d, add_mutations(), call, &argument);
        if (!m) return;
        Untouched u;
        u.watch("dst", dst);
        d.expect_refusal(call.invoke(), m->name, argument, u);
        return;
    }
    if (!d.expect_ok(call.invoke(), "bl_add_into") || !d.guards_ok(dst, "dst")) return;
    fvec want(sz(count));
    for (size_t i = 0; i < want.size(); ++i) want[i] = dst0[i] + src[i];  // one float add: exact to compare
    if (same_values(d, floats_of(dst), want, "add_into dst")) d.passed();
}

// ==========================================================================================
// Dropout
// ==========================================================================================

// bandlimit.h's mask, written from its text: u_i = (mix(mix(seed) + i) >> 40) 2^-24, kept when
// u_i >= p, with mix SplitMix64's finaliser.
uint64_t splitmix_finaliser(uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
bool header_keeps(uint64_t seed, int64_t i, double p) {
    const uint64_t u = splitmix_finaliser(splitmix_finaliser(seed) + static_cast<uint64_t>(i)) >> 40;
    return double(u) * 0x1p-24 >= p;
}

struct DropoutCall {
    bl_context ctx;
    bool backward;
    int64_t count;
    double p;
    uint64_t seed;
    const float *x, *dy;
    float *y, *dx;
    uint8_t* mask;
    const uint8_t* mask_in;
    int32_t accumulate;
    bl_status invoke() const {
        return backward ? bl_dropout_backward(ctx, count, p, mask_in, dy, dx, accumulate)
                        : bl_dropout_forward(ctx, count, p, seed, x, y, mask);
    }
};

const std::vector<Mutation<DropoutCall>>& dropout_mutations() {
    static const std::vector<Mutation<DropoutCall>> table = {
        {"count < 1 or > 2^60", [](DropoutCall& c, Driver& d) -> const char* { c.count = bad_count(d); return "count"; }},
        {"p outside [0, 1) or NaN", [](DropoutCall& c, Driver& d) -> const char* {
             const double v[] = {-1e-12, -0.5, 1.0, 1.5, kNaN, kInf, -kInf};
             c.p = v[d.choose.below(7)];
             return "p";
         }},
        {"x NULL", [](DropoutCall& c, Driver&) -> const char* {
             if (c.backward) return nullptr;
             c.x = nullptr;
             return "x";
         }},
        {"y NULL", [](DropoutCall& c, Driver&) -> const char* {
             if (c.backward) return nullptr;
             c.y = nullptr;
             return "y";
         }},
        {"mask NULL", [](DropoutCall& c, Driver&) -> const char* {
             if (!c.backward) return nullptr;
             c.mask_in = nullptr;
             return "mask";
         }},
        {"dy NULL", [](DropoutCall& c, Driver&) -> const char* {
             if (!c.backward) return nullptr;
             c.dy = nullptr;
             return "dy";
         }},
        {"dx NULL", [](DropoutCall& c, Driver&) -> const char* {
             if (!c.backward) return nullptr;
             c.dx = nullptr;
             return "dx";
         }},
        {"accumulate not 0 or 1", [](DropoutCall& c, Driver& d) -> const char* {
             if (!c.backward) return nullptr;
             c.accumulate = bad_flag(d);
             return "accumulate";
         }},
    };
    return table;
}

void entry_dropout(Driver& d) {
    const bool backward = d.choose.one_in(2);
    const int64_t count = random_count(d);
    const uint64_t pk = d.choose.below(4);
    const double p = pk == 0 ? 0.0 : pk == 1 ? 0.5 : 0.999 * d.choose.unit();
    const uint64_t seed = d.choose.bits();
    fvec x = d.uniform(sz(count));
    const bool poisoned = maybe_poison(d, x);
    const fvec dy = d.uniform(sz(count)), prior = d.uniform(sz(count));
    std::vector<uint8_t> ref_mask(sz(count));
    for (int64_t i = 0; i < count; ++i) ref_mask[sz(i)] = header_keeps(seed, i, p) ? 1 : 0;
    const int32_t accumulate = d.choose.one_in(2) ? 1 : 0;
    const bool with_mask = !d.choose.one_in(4);
    GuardedBuffer out(fbytes(count)), mask(sz(count));
    if (backward) copy_into(out, prior);
    DropoutCall call{d.random_context_handle(), backward, count, p, seed, x.data(), dy.data(), out.floats(), out.floats(),
                     with_mask ? static_cast<uint8_t*>(mask.data()) : nullptr, ref_mask.data(), accumulate};
    d.note(format("[%s count %" PRId64 " p %.17g seed %" PRIu64 "%s]", backward ? "backward" : "forward", count, p, seed,
                  poisoned ? " NaN/Inf in x" : ""));
    if (invalid_turn(d)) {
        const char* argument = nullptr;
        const Mutation<DropoutCall>* m = mutate(d, dropout_mutations(), call, &argument);
        if (!m) return;
        Untouched u;
        u.watch(backward ? "dx" : "y", out);
        u.watch("mask", mask);
        d.expect_refusal(call.invoke(), m->name, argument, u);
        return;
    }
    if (!d.expect_ok(call.invoke(), backward ? "bl_dropout_backward" : "bl_dropout_forward")) return;
    if (!d.guards_ok(out, backward ? "dx" : "y") || !d.guards_ok(mask, "mask")) return;
    const float scale = static_cast<float>(1.0 / (1.0 - p));  // as the header writes it
    if (!backward && with_mask &&
        std::memcmp(mask.data(), ref_mask.data(), ref_mask.size()) != 0) {
        d.mismatch("the dropout mask differs from the header's formula");
        return;
    }
    fvec want(sz(count));
    for (size_t i = 0; i < want.size(); ++i) {
        if (!backward) {
            want[i] = ref_mask[i] ? x[i] * scale : 0.0f;  // a dropped NaN is 0 too
        } else {
            const float g = ref_mask[i] ? dy[i] * scale : 0.0f;
            want[i] = accumulate ? prior[i] + g : g;
        }
    }
    const fvec got = floats_of(out);
    if (backward && accumulate) {  // prior + dy scale may be fused: one rounding either way
        dvec ref(want.size()), allowed(want.size());
        for (size_t i = 0; i < want.size(); ++i) {
            const double g = ref_mask[i] ? double(dy[i]) * double(scale) : 0.0;
            ref[i] = double(prior[i]) + g;
            allowed[i] = 2 * kU * (std::fabs(prior[i]) + std::fabs(g));
        }
        if (within(d, got, ref, allowed, "dropout dx")) d.passed();
        return;
    }
    if (same_values(d, got, want, backward ? "dropout dx" : "dropout y")) d.passed();
}

// ==========================================================================================
// Softmax cross-entropy
// ==========================================================================================
struct XentCall {
    bl_context ctx;
    bool backward;
    int64_t batch, classes;
    const float* logits;
    const int32_t* labels;
    float* loss;
    float* probs;
    const float* probs_in;
    const float* dloss;
    float* dlogits;
    int32_t accumulate;
    bl_status invoke() const {
        return backward ? bl_softmax_xent_backward(ctx, batch, classes, probs_in, labels, dloss, dlogits, accumulate)
                        : bl_softmax_xent_forward(ctx, batch, classes, logits, labels, loss, probs);
    }
};

const char* bad_label(XentCall& c, Driver& d) {
    // CPU contexts only (all the driver has): bandlimit.h refuses a label outside [0, classes) there.
    d.scratch.emplace_back(sz(c.batch) * sizeof(int32_t));
    auto* l = reinterpret_cast<int32_t*>(d.scratch.back().data());
    std::memcpy(l, c.labels, sz(c.batch) * sizeof(int32_t));
    const int32_t v[] = {-1, int32_t(c.classes), int32_t(c.classes) + 7, std::numeric_limits<int32_t>::min(),
                         std::numeric_limits<int32_t>::max()};
    l[d.choose.below(sz(c.batch))] = v[d.choose.below(5)];
    c.labels = l;
    return "labels";
}

const std::vector<Mutation<XentCall>>& xent_mutations() {
    static const std::vector<Mutation<XentCall>> table = {
        {"batch or classes < 1 or > 2^60", [](XentCall& c, Driver& d) -> const char* {
             if (d.choose.one_in(2)) {
                 c.batch = bad_count(d);
                 return "batch";
             }
             c.classes = bad_count(d);
             return "classes";
         }},
        {"batch * classes > 2^60", [](XentCall& c, Driver&) -> const char* {
             c.batch = int64_t(1) << 40;
             c.classes = int64_t(1) << 30;
             return "classes";
         }},
        {"a label outside [0, classes)", bad_label},
        {"logits NULL", [](XentCall& c, Driver&) -> const char* {
             if (c.backward) return nullptr;
             c.logits = nullptr;
             return "logits";
         }},
        {"labels NULL", [](XentCall& c, Driver&) -> const char* { c.labels = nullptr; return "labels"; }},
        {"loss NULL", [](XentCall& c, Driver&) -> const char* {
             if (c.backward) return nullptr;
             c.loss = nullptr;
             return "loss";
         }},
        {"probs NULL", [](XentCall& c, Driver&) -> const char* {
             if (!c.backward) return nullptr;
             c.probs_in = nullptr;
             return "probs";
         }},
        {"dloss NULL", [](XentCall& c, Driver&) -> const char* {
             if (!c.backward) return nullptr;
             c.dloss = nullptr;
             return "dloss";
         }},
        {"dlogits NULL", [](XentCall& c, Driver&) -> const char* {
             if (!c.backward) return nullptr;
             c.dlogits = nullptr;
             return "dlogits";
         }},
        {"accumulate not 0 or 1", [](XentCall& c, Driver& d) -> const char* {
             if (!c.backward) return nullptr;
             c.accumulate = bad_flag(d);
             return "accumulate";
         }},
    };
    return table;
}

void entry_xent(Driver& d) {
    const bool backward = d.choose.one_in(2);
    const int64_t B = d.choose.between(1, 5), K = d.choose.between(1, 10);
    const double spread = d.choose.one_in(3) ? 50.0 : 3.0;  // large logits: the row maximum must be subtracted
    fvec logits = d.uniform(sz(B * K), -spread, spread);
    const bool poisoned = !backward && maybe_poison(d, logits);
    std::vector<int32_t> labels(sz(B));
    for (auto& l : labels) l = int32_t(d.choose.below(sz(K)));
    // The reference softmax and loss (float64, each row shifted by its maximum).
    dvec ref_probs(sz(B * K));
    double ref_loss = 0;
    for (int64_t n = 0; n < B; ++n) {
        double m = logits[sz(n * K)];
        for (int64_t k = 1; k < K; ++k) m = std::max(m, double(logits[sz(n * K + k)]));
        double s = 0;
        for (int64_t k = 0; k < K; ++k) s += std::exp(double(logits[sz(n * K + k)]) - m);
        for (int64_t k = 0; k < K; ++k) ref_probs[sz(n * K + k)] = std::exp(double(logits[sz(n * K + k)]) - m) / s;
        ref_loss += m + std::log(s) - double(logits[sz(n * K + labels[sz(n)])]);
    }
    ref_loss /= double(B);
    fvec probs_in(ref_probs.begin(), ref_probs.end());
    const float dloss = float(d.uniform(1, -2.0, 2.0)[0]);
    const fvec prior = d.uniform(sz(B * K));
    const int32_t accumulate = d.choose.one_in(2) ? 1 : 0;
    const bool with_probs = !d.choose.one_in(4);
    GuardedBuffer loss(sizeof(float)), probs(fbytes(B * K)), dlogits(fbytes(B * K));
    copy_into(dlogits, prior);
    XentCall call{d.random_context_handle(), backward, B, K, logits.data(), labels.data(), loss.floats(),
                  with_probs ? probs.floats() : nullptr, probs_in.data(), &dloss, dlogits.floats(), accumulate};
    d.note(format("[%s batch %" PRId64 " classes %" PRId64 "%s]", backward ? "backward" : "forward", B, K,
                  poisoned ? " NaN/Inf in logits" : ""));
    if (invalid_turn(d)) {
        const char* argument = nullptr;
        const Mutation<XentCall>* m = mutate(d, xent_mutations(), call, &argument);
        if (!m) return;
        Untouched u;
        u.watch("loss", loss);
        u.watch("probs", probs);
        u.watch("dlogits", dlogits);
        d.expect_refusal(call.invoke(), m->name, argument, u);
        return;
    }
    if (!d.expect_ok(call.invoke(), backward ? "bl_softmax_xent_backward" : "bl_softmax_xent_forward")) return;
    if (!d.guards_ok(loss, "loss") || !d.guards_ok(probs, "probs") || !d.guards_ok(dlogits, "dlogits")) return;
    if (!backward) {
        if (poisoned) {
            d.passed();
            return;
        }
        // float64 throughout, rounded once: a few float32 roundings of the loss's magnitude.
        const double loss_tol = 4 * kU * (std::fabs(ref_loss) + 1e-3);
        if (!(std::fabs(double(loss.floats()[0]) - ref_loss) <= loss_tol)) {
            d.mismatch(format("xent loss %.9g, the reference %.17g", double(loss.floats()[0]), ref_loss));
            return;
        }
        if (with_probs) {
            dvec allowed(ref_probs.size());
            for (size_t i = 0; i < allowed.size(); ++i) allowed[i] = 2 * kU * ref_probs[i] + 1e-300;
            if (!within(d, floats_of(probs), ref_probs, allowed, "xent probs")) return;
        }
        d.passed();
        return;
    }
    // dlogits (+)= dloss (probs - onehot) / batch, in float64, rounded once.
    dvec ref(sz(B * K)), allowed(sz(B * K));
    for (int64_t n = 0; n < B; ++n)
        for (int64_t k = 0; k < K; ++k) {
            const size_t at = sz(n * K + k);
            const double g = double(dloss) * (double(probs_in[at]) - (k == labels[sz(n)] ? 1.0 : 0.0)) / double(B);
            ref[at] = (accumulate ? double(prior[at]) : 0.0) + g;
            allowed[at] = 2 * kU * (std::fabs(ref[at]) + std::fabs(g) + (accumulate ? std::fabs(prior[at]) : 0.0));
        }
    if (within(d, floats_of(dlogits), ref, allowed, "xent dlogits")) d.passed();
}

// ==========================================================================================
// Optimizers
// ==========================================================================================
struct SlotData {
    fvec data0, grad, s0, s1;  // the starting values
    GuardedBuffer data, state0, state1;
    explicit SlotData(size_t n) : data(fbytes(int64_t(n))), state0(fbytes(int64_t(n))), state1(fbytes(int64_t(n))) {}
};

struct OptimizerCall {
    bl_context ctx;
    bool adam;
    bl_adam_desc adam_desc;
    bl_sgd_desc sgd_desc;
    bool desc_null;
    std::vector<bl_param_slot> slots;
    bool params_null;
    int64_t param_count;
    bl_status invoke() const {
        const bl_param_slot* p = params_null ? nullptr : slots.data();
        return adam ? bl_adam_step(ctx, desc_null ? nullptr : &adam_desc, p, param_count)
                    : bl_sgd_step(ctx, desc_null ? nullptr : &sgd_desc, p, param_count);
    }
};

// A slot with elements, for the mutations that break one.
bl_param_slot* nonempty_slot(OptimizerCall& c, Driver& d) {
    std::vector<size_t> with;
    for (size_t k = 0; k < c.slots.size(); ++k)
        if (c.slots[k].count > 0) with.push_back(k);
    return with.empty() ? nullptr : &c.slots[d.choose.pick(with)];
}

double bad_nonnegative(Driver& d) {
    const double v[] = {-1e-9, -1.0, kNaN, kInf, -kInf};
    return v[d.choose.below(5)];
}

const std::vector<Mutation<OptimizerCall>>& optimizer_mutations() {
    static const std::vector<Mutation<OptimizerCall>> table = {
        {"desc NULL", [](OptimizerCall& c, Driver&) -> const char* { c.desc_null = true; return "desc"; }},
        {"lr < 0 or not finite", [](OptimizerCall& c, Driver& d) -> const char* {
             (c.adam ? c.adam_desc.lr : c.sgd_desc.lr) = bad_nonnegative(d);
             return "desc.lr";
         }},
        {"weight_decay < 0 or not finite", [](OptimizerCall& c, Driver& d) -> const char* {
             (c.adam ? c.adam_desc.weight_decay : c.sgd_desc.weight_decay) = bad_nonnegative(d);
             return "desc.weight_decay";
         }},
        {"beta1 / beta2 outside [0, 1) (Adam)", [](OptimizerCall& c, Driver& d) -> const char* {
             if (!c.adam) return nullptr;
             const double v[] = {1.0, -1e-9, 1.5, kNaN, kInf};
             if (d.choose.one_in(2)) {
                 c.adam_desc.beta1 = v[d.choose.below(5)];
                 return "desc.beta1";
             }
             c.adam_desc.beta2 = v[d.choose.below(5)];
             return "desc.beta2";
         }},
        {"eps < 0 or not finite (Adam)", [](OptimizerCall& c, Driver& d) -> const char* {
             if (!c.adam) return nullptr;
             c.adam_desc.eps = bad_nonnegative(d);
             return "desc.eps";
         }},
        {"step < 1 (Adam)", [](OptimizerCall& c, Driver& d) -> const char* {
             if (!c.adam) return nullptr;
             const int64_t v[] = {0, -1, kI64Min};
             c.adam_desc.step = v[d.choose.below(3)];
             return "desc.step";
         }},
        {"momentum < 0 or not finite (SGD)", [](OptimizerCall& c, Driver& d) -> const char* {
             if (c.adam) return nullptr;
             c.sgd_desc.momentum = bad_nonnegative(d);
             return "desc.momentum";
         }},
        {"param_count < 0 or > 2^60", [](OptimizerCall& c, Driver& d) -> const char* {
             const int64_t v[] = {-1, kI64Min, kTooMany};
             c.param_count = v[d.choose.below(3)];
             return "param_count";
         }},
        {"params NULL", [](OptimizerCall& c, Driver&) -> const char* { c.params_null = true; return "params"; }},
        {"a slot's count < 0 or > 2^60", [](OptimizerCall& c, Driver& d) -> const char* {
             const int64_t v[] = {-1, kI64Min, kTooMany};
             c.slots[d.choose.below(c.slots.size())].count = v[d.choose.below(3)];
             return "params";
         }},
        {"a slot's data or grad NULL", [](OptimizerCall& c, Driver& d) -> const char* {
             bl_param_slot* s = nonempty_slot(c, d);
             if (!s) return nullptr;
             if (d.choose.one_in(2)) s->data = nullptr;
             else s->grad = nullptr;
             return "params";
         }},
        {"a slot's state NULL where the optimizer needs it", [](OptimizerCall& c, Driver& d) -> const char* {
             bl_param_slot* s = nonempty_slot(c, d);
             if (!s) return nullptr;
             if (c.adam) {
                 if (d.choose.one_in(2)) s->state0 = nullptr;
                 else s->state1 = nullptr;
             } else {
                 if (c.sgd_desc.momentum == 0.0) return nullptr;
                 s->state0 = nullptr;
             }
             return "params";
         }},
    };
    return table;
}

void entry_optimizer(Driver& d, bool adam) {
    const size_t slot_count = sz(d.choose.between(1, 3));
    std::vector<std::unique_ptr<SlotData>> held;
    OptimizerCall call{};
    call.ctx = d.random_context_handle();
    call.adam = adam;
    call.adam_desc = bl_adam_desc{0.1 * d.choose.unit(), 0.999 * d.choose.unit(), 0.999999 * d.choose.unit(),
                                  d.choose.one_in(2) ? 1e-8 : 1e-8 + 1e-3 * d.choose.unit(),
                                  d.choose.one_in(2) ? 0.0 : 0.1 * d.choose.unit(), d.choose.between(1, 1000)};
    call.sgd_desc = bl_sgd_desc{0.1 * d.choose.unit(), d.choose.one_in(3) ? 0.0 : 0.99 * d.choose.unit(),
                                d.choose.one_in(2) ? 0.0 : 0.1 * d.choose.unit()};
    bool poisoned = false;
    for (size_t k = 0; k < slot_count; ++k) {
        const int64_t n = d.choose.one_in(5) ? 0 : d.choose.one_in(8) ? d.choose.between(1, 40000) : d.choose.between(1, 50);
        auto s = std::make_unique<SlotData>(sz(n));
        s->data0 = d.uniform(sz(n));
        s->grad = d.uniform(sz(n));
        s->s0 = d.uniform(sz(n), -0.1, 0.1);                     // first moment / momentum buffer
        s->s1 = d.uniform(sz(n), 0.0, 0.01);                     // second moment: >= 0
        poisoned = maybe_poison(d, s->grad) || poisoned;
        copy_into(s->data, s->data0);
        copy_into(s->state0, s->s0);
        copy_into(s->state1, s->s1);
        bl_param_slot slot{};
        slot.count = n;
        if (n > 0) {  // an empty slot's pointers may be NULL
            slot.data = s->data.floats();
            slot.grad = s->grad.data();
            slot.state0 = s->state0.floats();
            slot.state1 = adam || d.choose.one_in(2) ? s->state1.floats() : nullptr;  // SGD does not use state1
            if (!adam && call.sgd_desc.momentum == 0.0 && d.choose.one_in(2)) slot.state0 = nullptr;
        }
        call.slots.push_back(slot);
        held.push_back(std::move(s));
    }
    call.param_count = int64_t(slot_count);
    d.note(adam ? format("[adam lr %g beta1 %g beta2 %g eps %g wd %g step %" PRId64 ", %zu slots%s]", call.adam_desc.lr,
                         call.adam_desc.beta1, call.adam_desc.beta2, call.adam_desc.eps, call.adam_desc.weight_decay,
                         call.adam_desc.step, slot_count, poisoned ? ", NaN/Inf in a grad" : "")
                : format("[sgd lr %g momentum %g wd %g, %zu slots%s]", call.sgd_desc.lr, call.sgd_desc.momentum,
                         call.sgd_desc.weight_decay, slot_count, poisoned ? ", NaN/Inf in a grad" : ""));
    if (invalid_turn(d)) {
        const char* argument = nullptr;
        const Mutation<OptimizerCall>* m = mutate(d, optimizer_mutations(), call, &argument);
        if (!m) return;
        Untouched u;
        for (size_t k = 0; k < held.size(); ++k) {
            u.watch(format("params[%zu].data", k), held[k]->data);
            u.watch(format("params[%zu].state0", k), held[k]->state0);
            u.watch(format("params[%zu].state1", k), held[k]->state1);
        }
        d.expect_refusal(call.invoke(), m->name, argument, u);
        return;
    }
    if (!d.expect_ok(call.invoke(), adam ? "bl_adam_step" : "bl_sgd_step")) return;
    for (auto& s : held)
        if (!d.guards_ok(s->data, "data") || !d.guards_ok(s->state0, "state0") || !d.guards_ok(s->state1, "state1")) return;
    for (size_t k = 0; k < held.size(); ++k) {
        const SlotData& s = *held[k];
        const size_t n = s.data0.size();
        if (n == 0 || !finite_all(s.grad)) continue;
        dvec data(n), m(n), v(n), data_allowed(n), m_allowed(n), v_allowed(n);
        for (size_t i = 0; i < n; ++i) {
            if (adam) {  // the header's Adam, in float64
                const bl_adam_desc& a = call.adam_desc;
                const double g = double(s.grad[i]) + a.weight_decay * double(s.data0[i]);
                const double g_mag = std::fabs(s.grad[i]) + std::fabs(a.weight_decay * s.data0[i]);
                m[i] = a.beta1 * double(s.s0[i]) + (1 - a.beta1) * g;
                v[i] = a.beta2 * double(s.s1[i]) + (1 - a.beta2) * g * g;
                const double c1 = 1 - std::pow(a.beta1, double(a.step)), c2 = 1 - std::pow(a.beta2, double(a.step));
                const double root = std::sqrt(v[i]) / std::sqrt(c2), denom = root + a.eps;
                const double upd = (a.lr / c1) * m[i] / denom;
                data[i] = double(s.data0[i]) - upd;
                // First-order rounding bounds of the float32 steps (factor 4 slack on each):
                // m and v are sums of two rounded terms (g itself rounded once); the update
                // carries m's absolute error, half of v's relative error through the sqrt, and
                // a few roundings of its own; the data one more.
                m_allowed[i] = 4 * kU * (std::fabs(a.beta1 * s.s0[i]) + (1 - a.beta1) * g_mag);
                v_allowed[i] = 4 * kU * (std::fabs(a.beta2 * s.s1[i]) + 2 * (1 - a.beta2) * g_mag * g_mag);
                data_allowed[i] = (a.lr / c1) * m_allowed[i] / denom +
                                  std::fabs(upd) * (0.5 * v_allowed[i] / std::max(v[i], 1e-300) * root / denom + 8 * kU) +
                                  2 * kU * (std::fabs(s.data0[i]) + std::fabs(upd));
            } else {  // the header's SGD
                const bl_sgd_desc& a = call.sgd_desc;
                double dd = double(s.grad[i]) + a.weight_decay * double(s.data0[i]);
                double mag = std::fabs(s.grad[i]) + std::fabs(a.weight_decay * s.data0[i]);
                if (a.momentum != 0.0) {
                    m[i] = a.momentum * double(s.s0[i]) + dd;
                    m_allowed[i] = 4 * kU * (std::fabs(a.momentum * s.s0[i]) + mag);
                    mag = m_allowed[i] / (4 * kU);
                    dd = m[i];
                }
                data[i] = double(s.data0[i]) - a.lr * dd;
                data_allowed[i] = 4 * kU * (std::fabs(s.data0[i]) + a.lr * mag) + 4 * kU * a.lr * mag;
            }
        }
        const std::string tag = format("%s params[%zu]", adam ? "adam" : "sgd", k);
        if (!within(d, floats_of(s.data), data, data_allowed, (tag + ".data").c_str())) return;
        const bool with_state0 = adam || call.sgd_desc.momentum != 0.0;
        if (with_state0 && !within(d, floats_of(s.state0), m, m_allowed, (tag + ".state0").c_str())) return;
        if (adam && !within(d, floats_of(s.state1), v, v_allowed, (tag + ".state1").c_str())) return;
    }
    d.passed();
}

void entry_adam(Driver& d) { entry_optimizer(d, true); }
void entry_sgd(Driver& d) { entry_optimizer(d, false); }

}  // namespace

std::vector<Entry> layer_entries() {
    return {
        {"bl_batchnorm_forward/backward", 4, entry_batchnorm},
        {"bl_relu_forward/backward", 3, entry_relu},
        {"bl_maxpool2d_forward/backward", 3, entry_maxpool},
        {"bl_avgpool2d_forward/backward", 3, entry_avgpool},
        {"bl_linear_forward/backward", 3, entry_linear},
        {"bl_add_into", 2, entry_add},
        {"bl_dropout_forward/backward", 3, entry_dropout},
        {"bl_softmax_xent_forward/backward", 3, entry_xent},
        {"bl_adam_step", 3, entry_adam},
        {"bl_sgd_step", 2, entry_sgd},
    };
}

}  // namespace blfuzz
