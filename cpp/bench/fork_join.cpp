// fork_join.cpp -- what a fork/join of the CPU backend's worker pool (cpu/thread_pool.h) costs,
// to size the backend's threshold below which a loop runs on the calling thread alone
// (kMinParallelNs in cpu_backend.cpp).
//
// For each loop, the median wall time per parallel_for call over many calls, on 1 thread and
// on T threads (--threads, default 2):
//   - trivial loops (n indices that store one value): the fork/join overhead itself, with the
//     workers still spinning from the previous call ("warm", back-to-back calls, as the loops of
//     one execute call are) and with them asleep ("cold", a pause of 4 x the pool's spin bound
//     between calls, as at the first loop of an execute call after other work);
//   - loops of n = 16 indices doing a scalar multiply-add chain of total length `work`
//     (about 4 cycles per step): where T threads start to beat 1.
// Usage: bl_fork_join [--threads T] [--calls N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "thread_pool.h"

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// Busy-waits (does not sleep: a sleeping caller would let the scheduler move things around).
void pause_us(double us) {
    const auto until = Clock::now() + std::chrono::nanoseconds(int64_t(us * 1e3));
    while (Clock::now() < until) {
    }
}

// Median microseconds per call of parallel_for(n, threads, body), with `gap_us` of idle
// waiting before each call.
template <typename Body>
double time_loop(int64_t n, int threads, int calls, double gap_us, Body body) {
    std::vector<double> t(static_cast<size_t>(calls));
    for (int r = -calls / 10; r < calls; ++r) {  // a tenth untimed, to warm up
        if (gap_us > 0) pause_us(gap_us);
        const auto a = Clock::now();
        bl::parallel_for(n, threads, [&](int64_t i, int tid) { body(i, tid); });
        const double us = std::chrono::duration<double, std::micro>(Clock::now() - a).count();
        if (r >= 0) t[size_t(r)] = us;
    }
    return median(t);
}

}  // namespace

int main(int argc, char** argv) {
    int threads = 2, calls = 20000;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--threads" && i + 1 < argc) {
            threads = std::max(2, std::atoi(argv[++i]));
        } else if (a == "--calls" && i + 1 < argc) {
            calls = std::max(100, std::atoi(argv[++i]));
        } else {
            std::fprintf(stderr, "usage: %s [--threads T] [--calls N]\n", argv[0]);
            return 1;
        }
    }
    bl::ThreadPool::shared().reserve(threads);
    std::printf("# fork/join of the worker pool: median us per parallel_for call (%d calls each), %d CPUs\n\n",
                calls, bl::available_cpus());
    std::vector<double> out(1024);
    std::printf("| trivial loop | 1 thread | %d threads warm | %d threads cold (%d us gap) |\n", threads, threads,
                4 * bl::ThreadPool::kSpinMicros);
    std::printf("|---|---|---|---|\n");
    for (int64_t n : {2, 16, 256}) {
        auto body = [&](int64_t i, int) { out[size_t(i)] = double(i); };
        const double one = time_loop(n, 1, calls, 0, body);
        const double warm = time_loop(n, threads, calls, 0, body);
        const double cold = time_loop(n, threads, calls / 10, 4 * bl::ThreadPool::kSpinMicros, body);
        std::printf("| n = %lld | %.3f | %.3f | %.3f |\n", (long long)n, one, warm, cold);
    }
    std::printf("\n| multiply-add steps (n = 16) | 1 thread | %d threads warm | speed-up | %d threads cold | speed-up |\n",
                threads, threads);
    std::printf("|---|---|---|---|---|---|\n");
    for (int64_t work : {1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000}) {
        const int64_t n = 16, per = work / n;
        auto body = [&](int64_t i, int) {
            double x = double(i) * 1e-3;
            for (int64_t k = 0; k < per; ++k) x = x * 0.999999 + 1e-7;
            out[size_t(i)] = x;
        };
        const int c = std::max(200, int(calls / (1 + work / 4000)));
        const double one = time_loop(n, 1, c, 0, body);
        const double warm = time_loop(n, threads, c, 0, body);
        const double cold = time_loop(n, threads, std::max(100, c / 10), 4 * bl::ThreadPool::kSpinMicros, body);
        std::printf("| %lld | %.2f | %.2f | %.2fx | %.2f | %.2fx |\n", (long long)work, one, warm, one / warm, cold,
                    one / cold);
    }
    return 0;
}
