// thread_pool.h -- the CPU backend's worker threads: a fork/join over a static partition, with
// workers that sleep between calls instead of spinning.
//
// Why not OpenMP: the library runs inside a JVM, whose own threads (the caller's Java code, the
// JIT, the GC) need the same cores between native calls. libgomp's workers spin after each
// parallel region (its default wait policy), and the policy is read from the environment when
// libgomp loads, before this library could set it; on a 2-core machine the spinning workers
// halved the speed of a Java training step (issue 10). These workers spin only for a short
// bound (kSpinMicros) after a loop, which bridges the back-to-back loops of one execute call,
// then block on a condition variable. While spinning they yield the core every few
// microseconds, so a thread waiting for it (the caller, another process's) runs first.
//
// The partition is OpenMP's schedule(static): with T threads, thread t runs indices
// [t * ceil(n / T), min(n, (t + 1) * ceil(n / T))). Every loop of the backend writes each output
// element from exactly one index, so results are bitwise independent of T. The calling thread
// runs chunk 0, then every chunk whose worker has not started it yet (a sleeping worker takes
// microseconds to wake, an idle or shared core far longer): chunk t always gets tid t, whichever
// thread runs it, so it uses the same scratch either way. Concurrent callers share the pool: a caller that finds it busy runs its whole
// loop itself (still correct, only less parallel), so execute calls from several Java threads
// never wait on each other or deadlock.
#pragma once

#include <cstdint>

namespace bl {

// One loop body: runs index i on worker tid (0 <= tid < threads), e.g. to pick its scratch.
using LoopBody = void (*)(void* context, int64_t i, int tid);

class ThreadPool {
public:
    // The process-wide pool (workers start on the first reserve()).
    static ThreadPool& shared();

    // Starts workers so that loops of up to `threads` threads can run (plan creation calls
    // this: execute calls never start a thread).
    void reserve(int threads);

    // Runs body(context, i, tid) for every i in [0, n) on min(threads, workers + 1) threads.
    void run(int64_t n, int threads, LoopBody body, void* context);

    // Worker threads started so far.
    int workers() const;

    // Bound on a worker's spin after a loop before it blocks (microseconds).
    static constexpr int kSpinMicros = 50;

    struct Impl;

private:
    ThreadPool();
    Impl* impl_;
};

// The same with a lambda: parallel_for(n, threads, [&](int64_t i, int tid) { ... }).
template <typename Fn>
void parallel_for(int64_t n, int threads, Fn&& fn) {
    if (n <= 0) return;
    ThreadPool::shared().run(
        n, threads, [](void* c, int64_t i, int tid) { (*static_cast<Fn*>(c))(i, tid); }, &fn);
}

// CPUs this process may run on (its affinity mask; at least 1).
int available_cpus();

}  // namespace bl
