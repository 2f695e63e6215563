// test_layers_backends.cpp -- every layer kernel (bandlimit.h, "Layer kernels") on every
// backend against the CPU's results on the same fresh random inputs. The inputs live in buffers
// of the target context (bl_buffer_alloc / bl_buffer_copy: device memory on CUDA), exactly as
// the Java nn package's device tapes hold them. test_layers checks the CPU kernels against
// float64 references; this file checks that another backend computes the same thing: on a
// second CPU context the results must be bitwise equal (the staging itself is then what is
// tested), on CUDA within float32 bounds stated per op. A backend that cannot run here prints
// "skipped: <backend>: <reason>".
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "abi_fixtures.h"
#include "bandlimit.h"
#include "check.h"

namespace {

using bltest::fmt;
using fvec = std::vector<float>;

std::mt19937_64& rng() {
    static std::mt19937_64 r(std::random_device{}());
    return r;
}

fvec random(size_t n, float lo = -1.0f, float hi = 1.0f) {
    std::uniform_real_distribution<float> u(lo, hi);
    fvec v(n);
    for (float& x : v) x = u(rng());
    return v;
}

// A target context and the buffers of one case, freed with it.
struct Target {
    bl_context ctx = nullptr;
    const char* tag = "";
    bool exact = false;  // a CPU context: results bitwise the reference's
    std::vector<void*> buffers;

    ~Target() {
        for (void* b : buffers) bl_buffer_free(ctx, b);
        if (ctx) bl_context_destroy(ctx);
    }

    template <typename T>
    T* up(const std::vector<T>& host) {
        void* b = nullptr;
        const int64_t bytes = static_cast<int64_t>(host.size() * sizeof(T));
        if (bl_buffer_alloc(ctx, bytes > 0 ? bytes : 1, &b) != BL_OK) throw std::runtime_error(bl_last_error_message());
        buffers.push_back(b);
        if (bytes > 0 && bl_buffer_copy(ctx, b, host.data(), bytes, BL_COPY_HOST_TO_BUFFER) != BL_OK)
            throw std::runtime_error(bl_last_error_message());
        return static_cast<T*>(b);
    }

    template <typename T>
    std::vector<T> down(const T* buffer, size_t n) {
        std::vector<T> host(n);
        if (bl_buffer_copy(ctx, host.data(), buffer, static_cast<int64_t>(n * sizeof(T)), BL_COPY_BUFFER_TO_HOST) !=
            BL_OK)
            throw std::runtime_error(bl_last_error_message());
        return host;
    }
};

// Relative L2 error of got against want (0 when both are zero).
template <typename T>
double rel_err(const std::vector<T>& got, const std::vector<T>& want) {
    double num = 0, den = 0;
    for (size_t i = 0; i < want.size(); i++) {
        const double d = double(got[i]) - double(want[i]);
        num += d * d;
        den += double(want[i]) * double(want[i]);
    }
    if (den == 0) return std::sqrt(num);
    return std::sqrt(num / den);
}

// Bitwise on a CPU target, within bound on another backend.
template <typename T>
void check_same(const Target& t, const char* what, const std::vector<T>& got, const std::vector<T>& want,
                double bound) {
    REQUIRE(got.size() == want.size());
    if (t.exact) {
        CHECK_MSG(std::memcmp(got.data(), want.data(), got.size() * sizeof(T)) == 0,
                  fmt("[%s] %s differs from the reference context's bits", t.tag, what));
    } else {
        const double e = rel_err(got, want);
        CHECK_MSG(e <= bound, fmt("[%s] %s rel err %.3e > bound %.3e", t.tag, what, e, bound));
    }
}

// Runs body(target) on a second CPU context and on CUDA where it runs; says why when not.
template <typename Body>
void for_each_backend(Body body) {
    struct Want {
        int32_t backend;
        const char* tag;
    };
    for (Want w : {Want{BL_BACKEND_CPU, "cpu"}, Want{BL_BACKEND_CUDA, "cuda"}}) {
        bl_backend_info info{};
        REQUIRE_OK(bl_backend_query(w.backend, &info));
        if (!info.available) {
            std::printf("    skipped: %s: %s\n", info.name, info.reason);
            continue;
        }
        Target t;
        t.tag = w.tag;
        t.exact = w.backend == BL_BACKEND_CPU;
        const bl_context_options o{w.backend, 0, 3, BL_CPU_PATH_AUTO, nullptr};
        if (bl_context_create(&o, &t.ctx) != BL_OK) {
            std::printf("    skipped: %s: %s\n", w.tag, bl_last_error_message());
            t.ctx = nullptr;
            continue;
        }
        std::printf("    -- %s\n", w.tag);
        body(t);
    }
}

// float32 bounds for CUDA, where the summation order differs (tree reductions, a tiled GEMM).
constexpr double kElementwise = 1e-6;  // the same float operations, maybe fused differently
constexpr double kReduced = 1e-5;      // float64 statistics, float32 results
constexpr double kGemm = 1e-5;         // float32 dot products of <= 200 terms in another order

}  // namespace

BL_TEST("batch norm forward (training, eval, fused ReLU) and backward") {
    for_each_backend([](Target& t) {
        for (int relu = 0; relu <= 1; relu++) {
            const bl_batchnorm_desc d{5, 3, 37, 1, relu, 0.1, 1e-5};
            const size_t n = 5 * 3 * 37, c = 3;
            const fvec x = random(n, -2.0f, 3.0f), gamma = random(c, 0.5f, 1.5f), beta = random(c);
            const fvec rm0 = random(c), rv0 = random(c, 0.5f, 2.0f), dy = random(n);
            fvec rm = rm0, rv = rv0, y(n), dx(n, 0.25f), dg(c, 0.5f), db(c, -0.5f);
            std::vector<double> mean(c), inv(c);
            REQUIRE_OK(bl_batchnorm_forward(nullptr, &d, x.data(), gamma.data(), beta.data(), rm.data(), rv.data(),
                                            y.data(), mean.data(), inv.data()));
            REQUIRE_OK(bl_batchnorm_backward(nullptr, &d, x.data(), y.data(), dy.data(), gamma.data(), mean.data(),
                                             inv.data(), dx.data(), 1, dg.data(), db.data()));
            float *tx = t.up(x), *tg = t.up(gamma), *tb = t.up(beta), *trm = t.up(rm0), *trv = t.up(rv0);
            float *ty = t.up(fvec(n)), *tdy = t.up(dy), *tdx = t.up(fvec(n, 0.25f));
            float *tdg = t.up(fvec(c, 0.5f)), *tdb = t.up(fvec(c, -0.5f));
            double *tmean = t.up(std::vector<double>(c)), *tinv = t.up(std::vector<double>(c));
            REQUIRE_OK(bl_batchnorm_forward(t.ctx, &d, tx, tg, tb, trm, trv, ty, tmean, tinv));
            REQUIRE_OK(bl_batchnorm_backward(t.ctx, &d, tx, ty, tdy, tg, tmean, tinv, tdx, 1, tdg, tdb));
            check_same(t, "y", t.down(ty, n), y, kReduced);
            check_same(t, "mean", t.down(tmean, c), mean, 1e-12);
            check_same(t, "inv_std", t.down(tinv, c), inv, 1e-12);
            check_same(t, "running_mean", t.down(trm, c), rm, kReduced);
            check_same(t, "running_var", t.down(trv, c), rv, kReduced);
            check_same(t, "dx", t.down(tdx, n), dx, kReduced);
            check_same(t, "dgamma", t.down(tdg, c), dg, kReduced);
            check_same(t, "dbeta", t.down(tdb, c), db, kReduced);
            // Evaluation: the running statistics.
            const bl_batchnorm_desc e{5, 3, 37, 0, relu, 0.1, 1e-5};
            fvec ye(n);
            REQUIRE_OK(bl_batchnorm_forward(nullptr, &e, x.data(), gamma.data(), beta.data(), rm.data(), rv.data(),
                                            ye.data(), nullptr, nullptr));
            REQUIRE_OK(bl_batchnorm_forward(t.ctx, &e, tx, tg, tb, trm, trv, ty, nullptr, nullptr));
            check_same(t, "eval y", t.down(ty, n), ye, kReduced);
        }
    });
}

BL_TEST("relu, add_into and dropout") {
    for_each_backend([](Target& t) {
        const size_t n = 10007;  // not a multiple of any vector or block width
        const fvec x = random(n), dy = random(n), base = random(n);
        fvec y(n), dx = base, sum = base;
        REQUIRE_OK(bl_relu_forward(nullptr, n, x.data(), y.data()));
        REQUIRE_OK(bl_relu_backward(nullptr, n, x.data(), dy.data(), dx.data(), 1));
        REQUIRE_OK(bl_add_into(nullptr, n, sum.data(), dy.data()));
        float *tx = t.up(x), *ty = t.up(fvec(n)), *tdy = t.up(dy), *tdx = t.up(base), *tsum = t.up(base);
        REQUIRE_OK(bl_relu_forward(t.ctx, n, tx, ty));
        REQUIRE_OK(bl_relu_backward(t.ctx, n, tx, tdy, tdx, 1));
        REQUIRE_OK(bl_add_into(t.ctx, n, tsum, tdy));
        check_same(t, "relu y", t.down(ty, n), y, 0);
        check_same(t, "relu dx", t.down(tdx, n), dx, kElementwise);
        check_same(t, "add_into", t.down(tsum, n), sum, kElementwise);

        const double p = 0.3;
        const uint64_t seed = rng()();
        std::vector<uint8_t> mask(n);
        fvec yd(n), dxd = base;
        REQUIRE_OK(bl_dropout_forward(nullptr, n, p, seed, x.data(), yd.data(), mask.data()));
        REQUIRE_OK(bl_dropout_backward(nullptr, n, p, mask.data(), dy.data(), dxd.data(), 1));
        uint8_t* tmask = t.up(std::vector<uint8_t>(n));
        float* tdxd = t.up(base);
        REQUIRE_OK(bl_dropout_forward(t.ctx, n, p, seed, tx, ty, tmask));
        REQUIRE_OK(bl_dropout_backward(t.ctx, n, p, tmask, tdy, tdxd, 1));
        const std::vector<uint8_t> got_mask = t.down(tmask, n);
        CHECK_MSG(got_mask == mask, fmt("[%s] dropout mask differs: it must be a function of (seed, i) only", t.tag));
        check_same(t, "dropout y", t.down(ty, n), yd, 0);
        check_same(t, "dropout dx", t.down(tdxd, n), dxd, kElementwise);
    });
}

BL_TEST("max and average pooling, overlapping and global windows") {
    for_each_backend([](Target& t) {
        const bl_pool2d_desc shapes[] = {{6, 11, 13, 3, 3, 2, 2},   // overlapping windows
                                         {4, 12, 12, 2, 2, 2, 2},   // the CNN's 2 x 2
                                         {3, 9, 10, 2, 3, 3, 1},    // non-square, stride > kernel in rows
                                         {8, 1, 49, 1, 49, 1, 49}}; // global (a plane as one row)
        for (const bl_pool2d_desc& d : shapes) {
            const int64_t ho = (d.height - d.kernel_h) / d.stride_h + 1, wo = (d.width - d.kernel_w) / d.stride_w + 1;
            const size_t in = d.planes * d.height * d.width, out = d.planes * ho * wo;
            const fvec x = random(in), dy = random(out), base = random(in);
            fvec y(out), ya(out), dx = base, dxa = base;
            std::vector<int32_t> win(out);
            REQUIRE_OK(bl_maxpool2d_forward(nullptr, &d, x.data(), y.data(), win.data()));
            REQUIRE_OK(bl_maxpool2d_backward(nullptr, &d, win.data(), dy.data(), dx.data(), 1));
            REQUIRE_OK(bl_avgpool2d_forward(nullptr, &d, x.data(), ya.data()));
            REQUIRE_OK(bl_avgpool2d_backward(nullptr, &d, dy.data(), dxa.data(), 1));
            float *tx = t.up(x), *ty = t.up(fvec(out)), *tdy = t.up(dy), *tdx = t.up(base), *tdxa = t.up(base);
            int32_t* twin = t.up(std::vector<int32_t>(out));
            REQUIRE_OK(bl_maxpool2d_forward(t.ctx, &d, tx, ty, twin));
            CHECK_MSG(t.down(twin, out) == win, fmt("[%s] max-pool winners differ", t.tag));
            check_same(t, "maxpool y", t.down(ty, out), y, 0);
            REQUIRE_OK(bl_maxpool2d_backward(t.ctx, &d, twin, tdy, tdx, 1));
            check_same(t, "maxpool dx", t.down(tdx, in), dx, kElementwise);
            REQUIRE_OK(bl_avgpool2d_forward(t.ctx, &d, tx, ty));
            check_same(t, "avgpool y", t.down(ty, out), ya, kElementwise);
            REQUIRE_OK(bl_avgpool2d_backward(t.ctx, &d, tdy, tdxa, 1));
            check_same(t, "avgpool dx", t.down(tdxa, in), dxa, kElementwise);
        }
    });
}

BL_TEST("linear forward and backward") {
    for_each_backend([](Target& t) {
        const int64_t batch = 17, in = 200, out = 33;  // no tile divides these
        const fvec x = random(batch * in), w = random(out * in), b = random(out), dy = random(batch * out);
        const fvec dx0 = random(batch * in), dw0 = random(out * in), db0 = random(out);
        fvec y(batch * out), dx = dx0, dw = dw0, db = db0;
        REQUIRE_OK(bl_linear_forward(nullptr, batch, in, out, x.data(), w.data(), b.data(), y.data()));
        REQUIRE_OK(bl_linear_backward(nullptr, batch, in, out, x.data(), w.data(), dy.data(), dx.data(), dw.data(),
                                      db.data()));
        float *tx = t.up(x), *tw = t.up(w), *tb = t.up(b), *ty = t.up(fvec(batch * out)), *tdy = t.up(dy);
        float *tdx = t.up(dx0), *tdw = t.up(dw0), *tdb = t.up(db0);
        REQUIRE_OK(bl_linear_forward(t.ctx, batch, in, out, tx, tw, tb, ty));
        REQUIRE_OK(bl_linear_backward(t.ctx, batch, in, out, tx, tw, tdy, tdx, tdw, tdb));
        check_same(t, "y", t.down(ty, batch * out), y, kGemm);
        check_same(t, "dx", t.down(tdx, batch * in), dx, kGemm);
        check_same(t, "dw", t.down(tdw, out * in), dw, kGemm);
        check_same(t, "db", t.down(tdb, out), db, kGemm);
    });
}

BL_TEST("softmax cross-entropy forward and backward") {
    for_each_backend([](Target& t) {
        const int64_t batch = 37, classes = 10;
        const fvec logits = random(batch * classes, -8.0f, 8.0f), base = random(batch * classes);
        std::vector<int32_t> labels(batch);
        for (int32_t& l : labels) l = static_cast<int32_t>(rng()() % classes);
        const fvec dloss = {0.75f};
        fvec loss(1), probs(batch * classes), dz = base;
        REQUIRE_OK(bl_softmax_xent_forward(nullptr, batch, classes, logits.data(), labels.data(), loss.data(),
                                           probs.data()));
        REQUIRE_OK(bl_softmax_xent_backward(nullptr, batch, classes, probs.data(), labels.data(), dloss.data(),
                                            dz.data(), 1));
        float *tz = t.up(logits), *tloss = t.up(fvec(1)), *tprobs = t.up(fvec(batch * classes));
        float *tdloss = t.up(dloss), *tdz = t.up(base);
        int32_t* tlabels = t.up(labels);
        REQUIRE_OK(bl_softmax_xent_forward(t.ctx, batch, classes, tz, tlabels, tloss, tprobs));
        REQUIRE_OK(bl_softmax_xent_backward(t.ctx, batch, classes, tprobs, tlabels, tdloss, tdz, 1));
        check_same(t, "loss", t.down(tloss, 1), loss, kElementwise);
        check_same(t, "probs", t.down(tprobs, batch * classes), probs, kElementwise);
        check_same(t, "dlogits", t.down(tdz, batch * classes), dz, kElementwise);
    });
}

BL_TEST("adam and sgd steps over several parameters") {
    for_each_backend([](Target& t) {
        const int64_t sizes[] = {7, 1000, 65};
        // Adam, two steps (the bias corrections change), with weight decay.
        std::vector<fvec> data, grad, m, v;
        std::vector<float*> tdata, tgrad, tm, tv;
        for (int64_t s : sizes) {
            data.push_back(random(s));
            grad.push_back(random(s));
            m.push_back(fvec(s, 0.0f));
            v.push_back(fvec(s, 0.0f));
            tdata.push_back(t.up(data.back()));
            tgrad.push_back(t.up(grad.back()));
            tm.push_back(t.up(m.back()));
            tv.push_back(t.up(v.back()));
        }
        for (int64_t step = 1; step <= 2; step++) {
            const bl_adam_desc d{1e-2, 0.9, 0.999, 1e-8, 1e-3, step};
            std::vector<bl_param_slot> host, dev;
            for (size_t k = 0; k < data.size(); k++) {
                host.push_back({data[k].data(), grad[k].data(), m[k].data(), v[k].data(), sizes[k]});
                dev.push_back({tdata[k], tgrad[k], tm[k], tv[k], sizes[k]});
            }
            REQUIRE_OK(bl_adam_step(nullptr, &d, host.data(), static_cast<int64_t>(host.size())));
            REQUIRE_OK(bl_adam_step(t.ctx, &d, dev.data(), static_cast<int64_t>(dev.size())));
        }
        for (size_t k = 0; k < data.size(); k++) {
            check_same(t, "adam data", t.down(tdata[k], sizes[k]), data[k], kElementwise);
            check_same(t, "adam m", t.down(tm[k], sizes[k]), m[k], kElementwise);
            check_same(t, "adam v", t.down(tv[k], sizes[k]), v[k], kElementwise);
        }
        // SGD with momentum.
        const bl_sgd_desc s{0.05, 0.9, 1e-4};
        std::vector<bl_param_slot> host, dev;
        for (size_t k = 0; k < data.size(); k++) {
            host.push_back({data[k].data(), grad[k].data(), m[k].data(), nullptr, sizes[k]});
            dev.push_back({tdata[k], tgrad[k], tm[k], nullptr, sizes[k]});
        }
        REQUIRE_OK(bl_sgd_step(nullptr, &s, host.data(), static_cast<int64_t>(host.size())));
        REQUIRE_OK(bl_sgd_step(t.ctx, &s, dev.data(), static_cast<int64_t>(dev.size())));
        for (size_t k = 0; k < data.size(); k++) {
            check_same(t, "sgd data", t.down(tdata[k], sizes[k]), data[k], kElementwise);
            check_same(t, "sgd momentum", t.down(tm[k], sizes[k]), m[k], kElementwise);
        }
    });
}

BL_TEST("buffer_zero clears exactly its range") {
    for_each_backend([](Target& t) {
        const fvec v = random(1000, 1.0f, 2.0f);  // no zeros before
        float* b = t.up(v);
        REQUIRE_OK(bl_buffer_zero(t.ctx, b + 100, 400 * sizeof(float)));
        const fvec got = t.down(b, v.size());
        for (size_t i = 0; i < v.size(); i++) {
            const bool inside = i >= 100 && i < 500;
            if (inside ? got[i] != 0.0f : got[i] != v[i]) {
                CHECK_MSG(false, fmt("[%s] element %zu is %g", t.tag, i, double(got[i])));
                break;
            }
        }
    });
}

BL_TEST_MAIN()
