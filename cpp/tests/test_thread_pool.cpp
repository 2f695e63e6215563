// test_thread_pool.cpp -- the CPU backend's workers (cpp/cpu/thread_pool.h): every index runs
// exactly once on the static partition, concurrent callers are served, and -- what the pool is
// for -- the workers do not burn CPU between calls (a Java caller needs the cores then).
#include "thread_pool.h"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

#include "abi_fixtures.h"
#include "bandlimit.h"
#include "check.h"

namespace {

double process_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

}  // namespace

BL_TEST("parallel_for: each index once, on the thread of OpenMP's static partition") {
    bl::ThreadPool::shared().reserve(4);
    CHECK(bl::ThreadPool::shared().workers() >= 3);
    for (int threads : {1, 2, 3, 4, 7}) {
        for (int64_t n : {1, 2, 3, 5, 16, 17, 1000}) {
            std::vector<std::atomic<int>> runs(static_cast<size_t>(n));
            std::vector<int> owner(static_cast<size_t>(n), -1);
            bl::parallel_for(n, threads, [&](int64_t i, int tid) {
                runs[size_t(i)].fetch_add(1);
                owner[size_t(i)] = tid;
            });
            // With T = min(threads, workers + 1, n) threads, index i belongs to i / ceil(n / T).
            const int64_t T = std::min<int64_t>(std::min(threads, bl::ThreadPool::shared().workers() + 1), n);
            const int64_t chunk = (n + T - 1) / T;
            for (int64_t i = 0; i < n; ++i) {
                CHECK_MSG(runs[size_t(i)].load() == 1, bltest::fmt("threads %d n %lld: index %lld ran %d times",
                                                                   threads, (long long)n, (long long)i,
                                                                   runs[size_t(i)].load()));
                CHECK_MSG(owner[size_t(i)] == int(i / chunk), bltest::fmt("threads %d n %lld: index %lld on %d",
                                                                          threads, (long long)n, (long long)i,
                                                                          owner[size_t(i)]));
            }
        }
    }
    int calls = 0;
    bl::parallel_for(0, 4, [&](int64_t, int) { ++calls; });
    CHECK(calls == 0);
}

BL_TEST("parallel_for: with sleeping workers (the caller takes over their chunks) each index once, on its chunk's tid") {
    bl::ThreadPool::shared().reserve(4);
    const int64_t T = std::min(4, bl::ThreadPool::shared().workers() + 1);
    for (int rep = 0; rep < 40; ++rep) {
        // Past the workers' spin bound they block; a short loop is then usually done by the
        // caller before they wake, a longer one is shared. Either way each index runs once.
        std::this_thread::sleep_for(std::chrono::microseconds(rep % 2 ? 300 : 20));
        const int64_t n = 1 + rep % 17;
        const int work = rep % 3 == 0 ? 20000 : 0;
        std::vector<std::atomic<int>> runs(static_cast<size_t>(n));
        std::vector<int> owner(static_cast<size_t>(n), -1);
        std::vector<double> sink(static_cast<size_t>(n), 0.0);
        bl::parallel_for(n, 4, [&](int64_t i, int tid) {
            double x = double(i);
            for (int k = 0; k < work; ++k) x = x * 0.999 + 1.0;
            sink[size_t(i)] = x;
            runs[size_t(i)].fetch_add(1);
            owner[size_t(i)] = tid;
        });
        const int64_t t = std::min<int64_t>(T, n), chunk = (n + t - 1) / t;
        for (int64_t i = 0; i < n; ++i) {
            CHECK_MSG(runs[size_t(i)].load() == 1, bltest::fmt("rep %d n %lld: index %lld ran %d times", rep,
                                                               (long long)n, (long long)i, runs[size_t(i)].load()));
            CHECK_MSG(owner[size_t(i)] == int(i / chunk), bltest::fmt("rep %d n %lld: index %lld on %d", rep,
                                                                      (long long)n, (long long)i, owner[size_t(i)]));
        }
    }
}

BL_TEST("parallel_for: callers on several threads at once all complete (a busy pool runs the loop on the caller)") {
    bl::ThreadPool::shared().reserve(2);
    constexpr int kCallers = 4, kLoops = 300;
    std::vector<int64_t> sums(kCallers, 0);
    std::vector<std::thread> callers;
    for (int c = 0; c < kCallers; ++c)
        callers.emplace_back([&sums, c] {
            for (int loop = 0; loop < kLoops; ++loop) {
                std::vector<int64_t> part(64, 0);
                bl::parallel_for(64, 2, [&](int64_t i, int) { part[size_t(i)] = i * (c + 1); });
                for (int64_t v : part) sums[size_t(c)] += v;
            }
        });
    for (auto& t : callers) t.join();
    for (int c = 0; c < kCallers; ++c)
        CHECK_MSG(sums[size_t(c)] == int64_t(kLoops) * (c + 1) * (63 * 64 / 2), bltest::fmt("caller %d", c));
}

BL_TEST("idle: after an execute call the workers sleep (process CPU time during a 200 ms pause < 20 ms)") {
    bl_context ctx = nullptr;
    const bl_context_options o{BL_BACKEND_CPU, 0, 2, BL_CPU_PATH_AUTO, nullptr};
    REQUIRE_OK(bl_context_create(&o, &ctx));
    const bl_conv2d_desc d{8, 8, 16, 16, 8, 3, 3, 1, 1, 1, 1, 1, 1};
    bl_plan plan = nullptr;
    REQUIRE_OK(bl_plan_create_2d(ctx, &d, bltest::fixed(0.5), nullptr, &plan));
    int64_t ws_bytes = 0;
    REQUIRE_OK(bl_plan_workspace_bytes(plan, &ws_bytes));
    std::vector<unsigned char> ws(static_cast<size_t>(ws_bytes));
    std::vector<float> x(8 * 8 * 16 * 16, 0.25f), w(8 * 8 * 9, 0.5f), y(8 * 8 * 16 * 16);
    for (size_t i = 0; i < x.size(); ++i) x[i] = float(i % 13) - 6.0f;
    for (int rep = 0; rep < 5; ++rep)
        REQUIRE_OK(bl_forward(plan, 8, x.data(), w.data(), nullptr, y.data(), nullptr, 0, ws.data(), ws_bytes, nullptr));
    const double cpu0 = process_cpu_seconds();
    const auto wall0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // what a Java caller's own work looks like to us
    const double busy = process_cpu_seconds() - cpu0;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    std::printf("    process CPU %.2f ms during a %.0f ms pause after 5 forwards on 2 threads\n", 1e3 * busy, 1e3 * wall);
    CHECK_MSG(busy < 0.020, bltest::fmt("the workers used %.1f ms of CPU while the caller slept", 1e3 * busy));
    CHECK_OK(bl_plan_destroy(plan));
    CHECK_OK(bl_context_destroy(ctx));
}

BL_TEST_MAIN()
