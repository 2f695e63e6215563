// test_concurrency.cpp -- the header's promise that "concurrent execute calls on one plan are
// safe when each uses its own output, saved-spectra and workspace buffers", and its neighbours:
//  - one plan shared by 8 threads (fixed and energy compression, 1D and 2D, both spectra
//    modes): every thread's forward and backward give, bitwise, what the same inputs gave on
//    one thread before, at every iteration, while another thread keeps changing the plan's
//    context's thread count (execute calls read it when they start; results do not depend on it);
//  - threads creating and destroying plans and contexts at once, with bl_allocated_bytes back at
//    its starting value afterwards;
//  - the layer kernels called from 8 threads on one context, bitwise equal to one thread's
//    results (sizes above the kernels' threshold for their own worker threads, so the callers
//    contend for the shared pool);
//  - each thread's last error stays its own while the others fail differently.
// The threads start together at a start line, so that the calls overlap; the checks are made on
// the main thread after the joins (check.h's counters are not thread-safe). Built into the tsan
// preset too, where ThreadSanitizer checks the same calls for data races.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "abi_fixtures.h"
#include "bandlimit.h"
#include "check.h"
#include "reference.h"

namespace {

using bltest::energy;
using bltest::fixed;
using bltest::fmt;

constexpr int kThreads = 8;

// Releases every thread at once when the last of them arrives.
class StartLine {
public:
    explicit StartLine(int parties) : waiting_(parties) {}
    void arrive_and_wait() {
        std::unique_lock<std::mutex> lock(m_);
        if (--waiting_ == 0) {
            cv_.notify_all();
            return;
        }
        cv_.wait(lock, [&] { return waiting_ == 0; });
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    int waiting_;
};

// Runs body(t) on kThreads threads started together; returns when all have finished.
template <class Body>
void run_together(Body body, int threads = kThreads) {
    StartLine start(threads);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            start.arrive_and_wait();
            body(t);
        });
    for (auto& th : pool) th.join();
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

int64_t allocated() {
    int64_t b = -1;
    bl_allocated_bytes(&b);
    return b;
}

// One layer's plan and the sizes of its tensors.
struct SharedPlan {
    bl_plan plan = nullptr;
    int64_t N = 0, x = 0, w = 0, y = 0, F = 0, saved_bytes = 0, ws_bytes = 0;
    ~SharedPlan() { bl_plan_destroy(plan); }
};

struct Layer {
    const char* name;
    bool one_d;
    bl_conv2d_desc d2;  // 1D: H = KH = 1, no vertical padding, stride_h 1
    bl_compression comp;
    int32_t mode;
};

bool make_plan(bl_context ctx, const Layer& L, SharedPlan* p) {
    bl_plan_options opt{};
    opt.spectra_mode = L.mode;
    bl_status s;
    if (L.one_d) {
        bl_conv1d_desc d{};
        d.max_batch = L.d2.max_batch;
        d.channels = L.d2.channels;
        d.length = L.d2.width;
        d.filters = L.d2.filters;
        d.kernel = L.d2.kernel_width;
        d.pad_left = L.d2.pad_left;
        d.pad_right = L.d2.pad_right;
        d.stride = L.d2.stride_w;
        s = bl_plan_create_1d(ctx, &d, L.comp, &opt, &p->plan);
    } else {
        s = bl_plan_create_2d(ctx, &L.d2, L.comp, &opt, &p->plan);
    }
    if (s != BL_OK) return false;
    int64_t ho = 0, wo = 0;
    bl_plan_output_size(p->plan, &ho, &wo);
    bl_plan_saved_spectra_bytes(p->plan, &p->saved_bytes);
    bl_plan_workspace_bytes(p->plan, &p->ws_bytes);
    const bl_conv2d_desc& d = L.d2;
    p->N = d.max_batch;
    p->F = d.filters;
    p->x = d.max_batch * d.channels * (L.one_d ? 1 : d.height) * d.width;
    p->w = d.filters * d.channels * (L.one_d ? 1 : d.kernel_height) * d.kernel_width;
    p->y = d.max_batch * d.filters * ho * wo;
    return true;
}

// One thread's inputs and what a forward + backward of them gives.
struct Work {
    std::vector<float> x, w, b, dy;
    std::vector<float> y, dx, dw, db;
    bl_box box{-1, -1};
};

// forward (saving spectra) then backward, with fresh buffers of this thread's own.
bl_status forward_backward(const SharedPlan& p, const Work& in, Work* out) {
    std::vector<unsigned char> saved(size_t(p.saved_bytes)), ws(size_t(p.ws_bytes));
    out->y.assign(size_t(p.y), -1.0f);
    out->dx.assign(size_t(p.x), -1.0f);
    out->dw.assign(size_t(p.w), -1.0f);
    out->db.assign(size_t(p.F), -1.0f);
    bl_status s = bl_forward(p.plan, p.N, in.x.data(), in.w.data(), in.b.data(), out->y.data(), saved.data(), p.saved_bytes,
                             ws.data(), p.ws_bytes, &out->box);
    if (s != BL_OK) return s;
    return bl_backward(p.plan, p.N, saved.data(), p.saved_bytes, in.w.data(), in.dy.data(), out->dx.data(), out->dw.data(),
                       out->db.data(), ws.data(), p.ws_bytes);
}

bl_conv2d_desc desc2d(int64_t N, int64_t C, int64_t H, int64_t W, int64_t F, int64_t K, int64_t pad, int64_t stride) {
    bl_conv2d_desc d{};
    d.max_batch = N;
    d.channels = C;
    d.height = H;
    d.width = W;
    d.filters = F;
    d.kernel_height = H == 1 ? 1 : K;
    d.kernel_width = K;
    d.pad_top = d.pad_bottom = H == 1 ? 0 : pad;
    d.pad_left = d.pad_right = pad;
    d.stride_h = H == 1 ? 1 : stride;
    d.stride_w = stride;
    return d;
}

}  // namespace

BL_TEST("one plan, 8 threads: forward + backward bitwise equal to one thread's results, while the context's thread count changes") {
    // Large enough that the backend's loops go to its worker pool (above its 5 us threshold),
    // so the 8 callers contend for it.
    const Layer layers[] = {
        {"2d fixed rho 0.5", false, desc2d(2, 4, 16, 16, 4, 3, 1, 1), fixed(0.5), BL_SPECTRA_INPUT_AND_WEIGHT},
        {"2d energy E 0.9 input-only", false, desc2d(2, 4, 12, 14, 3, 3, 1, 1), energy(0.9), BL_SPECTRA_INPUT_ONLY},
        {"2d fixed rho 0 stride 2", false, desc2d(2, 3, 15, 13, 4, 3, 1, 2), fixed(0.0), BL_SPECTRA_INPUT_AND_WEIGHT},
        {"1d fixed rho 0.5", true, desc2d(3, 4, 1, 96, 4, 8, 4, 1), fixed(0.5), BL_SPECTRA_INPUT_ONLY},
        {"1d energy E 0.8", true, desc2d(2, 3, 1, 80, 3, 5, 2, 1), energy(0.8), BL_SPECTRA_INPUT_AND_WEIGHT},
    };
    const int kIterations = 16;
    bl_context_options o{};
    o.backend = BL_BACKEND_CPU;
    o.cpu_path = BL_CPU_PATH_AUTO;  // (0 would be BL_CPU_PATH_PORTABLE)
    o.num_threads = 2;
    bl_context ctx = nullptr;
    REQUIRE_OK(bl_context_create(&o, &ctx));
    for (const Layer& L : layers) {
        SharedPlan p;
        REQUIRE_MSG(make_plan(ctx, L, &p), std::string(L.name) + ": " + bl_last_error_message());
        // Each thread's inputs, and their results on this thread alone.
        std::vector<Work> in(kThreads), expect(kThreads);
        std::mt19937_64 rng(4400);
        for (Work& w : in) {
            w.x = blref::random_uniform(rng, size_t(p.x));
            w.w = blref::random_uniform(rng, size_t(p.w));
            w.b = blref::random_uniform(rng, size_t(p.F));
            w.dy = blref::random_uniform(rng, size_t(p.y));
        }
        for (int t = 0; t < kThreads; ++t) REQUIRE_OK(forward_backward(p, in[size_t(t)], &expect[size_t(t)]));
        std::vector<int> failures(kThreads, 0);
        std::vector<std::string> first(kThreads);
        std::atomic<bool> done{false};
        std::atomic<int> finished{0};
        // Threads 0..7 execute; one more keeps switching the context between 1, 2 and 3 threads.
        run_together(
            [&](int t) {
                if (t == kThreads) {
                    for (int k = 0; !done.load(); ++k) {
                        bl_context_set_num_threads(ctx, 1 + k % 3);
                        std::this_thread::yield();
                    }
                    return;
                }
                for (int it = 0; it < kIterations; ++it) {
                    Work got;
                    const bl_status s = forward_backward(p, in[size_t(t)], &got);
                    const Work& e = expect[size_t(t)];
                    const char* what = s != BL_OK ? "status" : !same_bits(got.y, e.y) ? "y" : !same_bits(got.dx, e.dx) ? "dx"
                                       : !same_bits(got.dw, e.dw) ? "dw" : !same_bits(got.db, e.db) ? "db"
                                       : (got.box.kh != e.box.kh || got.box.kw != e.box.kw) ? "box" : nullptr;
                    if (what && failures[size_t(t)]++ == 0) first[size_t(t)] = fmt("iteration %d: %s differs", it, what);
                }
                if (finished.fetch_add(1) + 1 == kThreads) done.store(true);
            },
            kThreads + 1);
        for (int t = 0; t < kThreads; ++t)
            CHECK_MSG(failures[size_t(t)] == 0, fmt("%s: thread %d: %d of %d iterations differ from one thread's results (%s)",
                                                    L.name, t, failures[size_t(t)], kIterations, first[size_t(t)].c_str()));
        bl_context_set_num_threads(ctx, 2);
    }
    CHECK_OK(bl_context_destroy(ctx));
}

BL_TEST("plans and contexts created and destroyed by 8 threads at once; bl_allocated_bytes returns to its start") {
    const int64_t start = allocated();
    std::vector<int> failures(kThreads, 0);
    std::vector<std::string> first(kThreads);
    // A context shared by all the threads' plans, destroyed by its creator while they run: the
    // plans keep it alive.
    bl_context shared = nullptr;
    REQUIRE_OK(bl_context_create(nullptr, &shared));
    run_together([&](int t) {
        std::mt19937_64 rng(9100 + uint64_t(t));
        auto fail = [&](const std::string& what) {
            if (failures[size_t(t)]++ == 0) first[size_t(t)] = what + ": " + bl_last_error_message();
        };
        for (int it = 0; it < 12; ++it) {
            bl_context_options o{};
            o.backend = BL_BACKEND_CPU;
            o.cpu_path = BL_CPU_PATH_AUTO;       // the path of the shared and default contexts
            o.num_threads = int32_t(rng() % 4);  // 0: the number of CPUs
            bl_context own = nullptr;
            if (bl_context_create(&o, &own) != BL_OK) {
                fail("bl_context_create");
                continue;
            }
            // Plans in the thread's context, the shared one and the default one.
            const Layer L{"small", (rng() & 1) != 0, desc2d(2, 2, 9, 8 + int64_t(rng() % 5), 2, 3, 1, 1),
                          (rng() & 1) ? fixed(0.25) : energy(0.95), int32_t(rng() % 2)};
            SharedPlan a, b, c;
            if (!make_plan(own, L, &a) || !make_plan(shared, L, &b) || !make_plan(nullptr, L, &c)) {
                fail("bl_plan_create");
                bl_context_destroy(own);
                continue;
            }
            if (bl_context_destroy(own) != BL_OK) fail("bl_context_destroy");  // a keeps it alive
            Work in, out_a, out_b, out_c;
            in.x = blref::random_uniform(rng, size_t(a.x));
            in.w = blref::random_uniform(rng, size_t(a.w));
            in.b = blref::random_uniform(rng, size_t(a.F));
            in.dy = blref::random_uniform(rng, size_t(a.y));
            if (forward_backward(a, in, &out_a) != BL_OK || forward_backward(b, in, &out_b) != BL_OK ||
                forward_backward(c, in, &out_c) != BL_OK) {
                fail("execute");
                continue;
            }
            // The same plan in three contexts (all the best CPU path): the same bits.
            if (!same_bits(out_a.y, out_b.y) || !same_bits(out_a.y, out_c.y) || !same_bits(out_a.dw, out_c.dw))
                fail("plans of one geometry in three contexts disagree");
            int64_t now = -1;
            if (bl_allocated_bytes(&now) != BL_OK || now < 0) fail("bl_allocated_bytes");
        }
    });
    CHECK_OK(bl_context_destroy(shared));
    for (int t = 0; t < kThreads; ++t)
        CHECK_MSG(failures[size_t(t)] == 0, fmt("thread %d: %d failures, the first: %s", t, failures[size_t(t)], first[size_t(t)].c_str()));
    CHECK_MSG(allocated() == start, fmt("bl_allocated_bytes %lld after every plan is gone, %lld before",
                                        (long long)allocated(), (long long)start));
}

namespace {

// The layer kernels' outputs for one thread's inputs (sizes above 2^15 elements, where the
// kernels ask the context for more threads).
struct LayerWork {
    std::vector<float> x, gamma, beta, dy, lw, logits, grad;
    std::vector<int32_t> labels;
    std::vector<float> relu_y, bn_y, bn_dx, dgamma, dbeta, pool_y, avg_y, lin_y, drop_y, probs, dlogits, param, m, v;
    std::vector<int32_t> winners;
    std::vector<double> mean, inv_std;
    float loss = 0;
};

constexpr int64_t kBatch = 4, kChannels = 8, kSide = 32, kPlane = kSide * kSide, kCount = kBatch * kChannels * kPlane;
constexpr int64_t kIn = kChannels * kPlane / 16, kOut = 10, kClasses = 10, kParam = 40000;

LayerWork layer_inputs(std::mt19937_64& rng) {
    LayerWork w;
    w.x = blref::random_uniform(rng, size_t(kCount));
    w.gamma = blref::random_uniform(rng, size_t(kChannels));
    w.beta = blref::random_uniform(rng, size_t(kChannels));
    w.dy = blref::random_uniform(rng, size_t(kCount));
    w.lw = blref::random_uniform(rng, size_t(kOut * kIn));
    w.logits = blref::random_uniform(rng, size_t(kBatch * 1024 * kClasses));
    w.grad = blref::random_uniform(rng, size_t(kParam));
    w.labels.resize(size_t(kBatch * 1024));
    for (auto& l : w.labels) l = int32_t(rng() % kClasses);
    return w;
}

// Every layer kernel once on this thread's buffers; the first failing call's name, or nullptr.
const char* run_layers(bl_context ctx, const LayerWork& in, LayerWork* out) {
    const bl_batchnorm_desc bn{kBatch, kChannels, kPlane, 1, 1, 0.1, 1e-5};
    const bl_pool2d_desc pool{kBatch * kChannels, kSide, kSide, 2, 2, 2, 2};
    const int64_t pooled = kCount / 4;
    out->relu_y.assign(size_t(kCount), 0);
    out->bn_y.assign(size_t(kCount), 0);
    out->bn_dx.assign(size_t(kCount), 0);
    out->dgamma.assign(size_t(kChannels), 0);
    out->dbeta.assign(size_t(kChannels), 0);
    out->pool_y.assign(size_t(pooled), 0);
    out->winners.assign(size_t(pooled), 0);
    out->avg_y.assign(size_t(pooled), 0);
    out->lin_y.assign(size_t(kBatch * 16 * kOut), 0);
    out->drop_y.assign(size_t(kCount), 0);
    out->probs.assign(size_t(kBatch * 1024 * kClasses), 0);
    out->dlogits.assign(size_t(kBatch * 1024 * kClasses), 0);
    out->mean.assign(size_t(kChannels), 0);
    out->inv_std.assign(size_t(kChannels), 0);
    out->param = in.x;
    out->param.resize(size_t(kParam));
    out->m.assign(size_t(kParam), 0);
    out->v.assign(size_t(kParam), 0);
    std::vector<float> rm(size_t(kChannels), 0), rv(size_t(kChannels), 1);
    const float dloss = 1.0f;
    if (bl_relu_forward(ctx, kCount, in.x.data(), out->relu_y.data()) != BL_OK) return "bl_relu_forward";
    if (bl_batchnorm_forward(ctx, &bn, in.x.data(), in.gamma.data(), in.beta.data(), rm.data(), rv.data(), out->bn_y.data(),
                             out->mean.data(), out->inv_std.data()) != BL_OK)
        return "bl_batchnorm_forward";
    if (bl_batchnorm_backward(ctx, &bn, in.x.data(), out->bn_y.data(), in.dy.data(), in.gamma.data(), out->mean.data(),
                              out->inv_std.data(), out->bn_dx.data(), 0, out->dgamma.data(), out->dbeta.data()) != BL_OK)
        return "bl_batchnorm_backward";
    if (bl_maxpool2d_forward(ctx, &pool, in.x.data(), out->pool_y.data(), out->winners.data()) != BL_OK)
        return "bl_maxpool2d_forward";
    if (bl_avgpool2d_forward(ctx, &pool, in.x.data(), out->avg_y.data()) != BL_OK) return "bl_avgpool2d_forward";
    if (bl_linear_forward(ctx, kBatch * 16, kIn, kOut, in.x.data(), in.lw.data(), nullptr, out->lin_y.data()) != BL_OK)
        return "bl_linear_forward";
    if (bl_dropout_forward(ctx, kCount, 0.3, 77, in.x.data(), out->drop_y.data(), nullptr) != BL_OK) return "bl_dropout_forward";
    if (bl_add_into(ctx, kCount, out->drop_y.data(), in.dy.data()) != BL_OK) return "bl_add_into";
    if (bl_softmax_xent_forward(ctx, kBatch * 1024, kClasses, in.logits.data(), in.labels.data(), &out->loss,
                                out->probs.data()) != BL_OK)
        return "bl_softmax_xent_forward";
    if (bl_softmax_xent_backward(ctx, kBatch * 1024, kClasses, out->probs.data(), in.labels.data(), &dloss,
                                 out->dlogits.data(), 0) != BL_OK)
        return "bl_softmax_xent_backward";
    const bl_adam_desc adam{1e-3, 0.9, 0.999, 1e-8, 0.0, 1};
    const bl_param_slot slot{out->param.data(), in.grad.data(), out->m.data(), out->v.data(), kParam};
    if (bl_adam_step(ctx, &adam, &slot, 1) != BL_OK) return "bl_adam_step";
    return nullptr;
}

const char* first_difference(const LayerWork& a, const LayerWork& b) {
    const std::pair<const char*, std::pair<const std::vector<float>*, const std::vector<float>*>> pairs[] = {
        {"relu y", {&a.relu_y, &b.relu_y}},     {"batchnorm y", {&a.bn_y, &b.bn_y}},
        {"batchnorm dx", {&a.bn_dx, &b.bn_dx}}, {"dgamma", {&a.dgamma, &b.dgamma}},
        {"dbeta", {&a.dbeta, &b.dbeta}},        {"maxpool y", {&a.pool_y, &b.pool_y}},
        {"avgpool y", {&a.avg_y, &b.avg_y}},    {"linear y", {&a.lin_y, &b.lin_y}},
        {"dropout + add", {&a.drop_y, &b.drop_y}}, {"probs", {&a.probs, &b.probs}},
        {"dlogits", {&a.dlogits, &b.dlogits}},  {"adam data", {&a.param, &b.param}},
        {"adam m", {&a.m, &b.m}},               {"adam v", {&a.v, &b.v}}};
    for (const auto& p : pairs)
        if (!same_bits(*p.second.first, *p.second.second)) return p.first;
    if (a.winners != b.winners) return "winners";
    if (std::memcmp(&a.loss, &b.loss, sizeof a.loss) != 0) return "loss";
    if (std::memcmp(a.mean.data(), b.mean.data(), a.mean.size() * sizeof(double)) != 0 ||
        std::memcmp(a.inv_std.data(), b.inv_std.data(), a.inv_std.size() * sizeof(double)) != 0)
        return "batchnorm statistics";
    return nullptr;
}

}  // namespace

BL_TEST("layer kernels from 8 threads on one context: bitwise equal to one thread's results") {
    bl_context_options o{};
    o.backend = BL_BACKEND_CPU;
    o.cpu_path = BL_CPU_PATH_AUTO;  // (0 would be BL_CPU_PATH_PORTABLE)
    o.num_threads = 2;
    bl_context ctx = nullptr;
    REQUIRE_OK(bl_context_create(&o, &ctx));
    std::vector<LayerWork> in, expect(kThreads);
    std::mt19937_64 rng(5500);
    for (int t = 0; t < kThreads; ++t) in.push_back(layer_inputs(rng));
    for (int t = 0; t < kThreads; ++t) {
        const char* failed = run_layers(ctx, in[size_t(t)], &expect[size_t(t)]);
        REQUIRE_MSG(!failed, std::string(failed ? failed : "") + ": " + bl_last_error_message());
    }
    std::vector<std::string> problems(kThreads);
    run_together([&](int t) {
        for (int it = 0; it < 2 && problems[size_t(t)].empty(); ++it) {
            LayerWork got;
            if (const char* failed = run_layers(ctx, in[size_t(t)], &got))
                problems[size_t(t)] = std::string(failed) + " failed: " + bl_last_error_message();
            else if (const char* diff = first_difference(got, expect[size_t(t)]))
                problems[size_t(t)] = fmt("iteration %d: %s differs", it, diff);
        }
    });
    for (int t = 0; t < kThreads; ++t) CHECK_MSG(problems[size_t(t)].empty(), fmt("thread %d: ", t) + problems[size_t(t)]);
    CHECK_OK(bl_context_destroy(ctx));
}

BL_TEST("the last error is each thread's own while 8 threads fail at once, each on another argument") {
    // Each thread breaks its own argument of bl_forward, over and over, and must read back its
    // own argument and a message that starts with it.
    bl_conv2d_desc d = desc2d(1, 1, 6, 6, 1, 3, 1, 1);
    SharedPlan p;
    const Layer L{"small", false, d, fixed(0.0), BL_SPECTRA_INPUT_AND_WEIGHT};
    REQUIRE(make_plan(nullptr, L, &p));
    std::vector<float> x(size_t(p.x), 0.5f), w(size_t(p.w), 0.25f);
    std::vector<unsigned char> ws(size_t(p.ws_bytes));
    std::vector<int> wrong(kThreads, 0);
    std::vector<std::string> seen(kThreads);
    run_together([&](int t) {
        // Arguments the header names, one per thread (some twice).
        static const char* const kArgument[kThreads] = {"n", "x", "w", "y", "workspace", "workspace_bytes", "n", "x"};
        const std::string want = kArgument[t];
        for (int it = 0; it < 200; ++it) {
            const int64_t n = want == "n" ? 0 : 1;
            const float* xp = want == "x" ? nullptr : x.data();
            const float* wp = want == "w" ? nullptr : w.data();
            void* wsp = want == "workspace" ? nullptr : ws.data();
            const int64_t wb = want == "workspace_bytes" ? p.ws_bytes - 1 : p.ws_bytes;
            std::vector<float> own_y(size_t(p.y));
            const bl_status s =
                bl_forward(p.plan, n, xp, wp, nullptr, want == "y" ? nullptr : own_y.data(), nullptr, 0, wsp, wb, nullptr);
            const std::string arg = bl_last_error_argument(), msg = bl_last_error_message();
            if (s == BL_OK || arg != want || msg.compare(0, arg.size(), arg) != 0) {
                if (wrong[size_t(t)]++ == 0) seen[size_t(t)] = arg + " / " + msg;
            }
        }
    });
    for (int t = 0; t < kThreads; ++t)
        CHECK_MSG(wrong[size_t(t)] == 0, fmt("thread %d: %d calls read another error (e.g. \"%s\")", t, wrong[size_t(t)],
                                             seen[size_t(t)].c_str()));
}

BL_TEST_MAIN()
