// thread_pool.cpp -- see thread_pool.h.
#include "thread_pool.h"

#include "float_mode.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace bl {

namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

// Spins on pred for at most kSpinMicros, then returns whether it became true. Every 64 pauses
// (a few microseconds) it yields: on an oversubscribed machine a spinning worker that shares a
// core with the caller (or the caller waiting for a preempted worker) would otherwise hold that
// core for the whole bound; with other processes on the 2-core bench machine a small layer's
// call (N=1, C=F=4, 4x4, 200 us apart) took 62-64 us that way, 8-10 us with the yield.
template <typename Pred>
bool spin_until(Pred pred) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(ThreadPool::kSpinMicros);
    for (int k = 0;; ++k) {
        if (pred()) return true;
        cpu_relax();
        if ((k & 63) == 63) {
            if (std::chrono::steady_clock::now() >= until) return pred();
            std::this_thread::yield();  // a thread waiting for this core runs first
        }
    }
}

}  // namespace

struct ThreadPool::Impl {
    // The job of the current loop, written by the caller before it bumps the generation.
    struct Job {
        int64_t n = 0;
        int threads = 0;
        LoopBody body = nullptr;
        void* context = nullptr;
    };

    // One worker: it runs chunk `index` of every job whose generation it has not seen, unless
    // the caller claimed that chunk first. claimed is the last generation whose chunk `index`
    // someone claimed (generation - 1 while it is up for grabs).
    struct Worker {
        int index = 0;
        std::atomic<uint64_t> generation{0};
        std::atomic<uint64_t> claimed{0};
        std::mutex m;
        std::condition_variable wake;
        std::thread thread;
    };

    std::mutex grow;  // serialises reserve()
    std::mutex busy;  // held by the caller of a parallel run
    std::vector<std::unique_ptr<Worker>> workers;  // grows under both locks, never shrinks
    Job job;
    std::atomic<int> remaining{0};
    std::mutex done_m;
    std::condition_variable done;

    static void run_chunk(const Job& j, int t) {
        const int64_t chunk = (j.n + j.threads - 1) / j.threads;
        const int64_t begin = int64_t(t) * chunk, end = std::min(j.n, begin + chunk);
        for (int64_t i = begin; i < end; ++i) j.body(j.context, i, t);
    }

    void worker_loop(Worker* w) {
        set_flush_subnormals();  // the mode of execute calls (float_mode.h), for this thread's life
        uint64_t seen = 0;
        for (;;) {
            if (!spin_until([&] { return w->generation.load(std::memory_order_acquire) != seen; })) {
                std::unique_lock<std::mutex> lock(w->m);
                w->wake.wait(lock, [&] { return w->generation.load(std::memory_order_acquire) != seen; });
            }
            seen = w->generation.load(std::memory_order_acquire);
            // The job of generation `seen` is still the current one while its chunk is
            // unclaimed (the caller cannot finish it without this chunk).
            uint64_t expect = seen - 1;
            if (!w->claimed.compare_exchange_strong(expect, seen, std::memory_order_acq_rel)) continue;
            run_chunk(job, w->index);
            if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                std::lock_guard<std::mutex> lock(done_m);  // pairs with the caller's wait
                done.notify_one();
            }
        }
    }
};

ThreadPool::ThreadPool() : impl_(new Impl) {}

ThreadPool& ThreadPool::shared() {
    // Never destroyed: workers may be blocked in wait() at process exit.
    static ThreadPool* pool = new ThreadPool();
    return *pool;
}

void ThreadPool::reserve(int threads) {
    Impl& p = *impl_;
    std::lock_guard<std::mutex> grow(p.grow);
    std::lock_guard<std::mutex> busy(p.busy);  // no loop runs while the worker list grows
    while (int(p.workers.size()) < threads - 1) {
        auto w = std::make_unique<Impl::Worker>();
        w->index = int(p.workers.size()) + 1;
        Impl::Worker* raw = w.get();
        w->thread = std::thread([&p, raw] { p.worker_loop(raw); });
        w->thread.detach();
        p.workers.push_back(std::move(w));
    }
}

int ThreadPool::workers() const {
    std::lock_guard<std::mutex> grow(impl_->grow);
    return int(impl_->workers.size());
}

void ThreadPool::run(int64_t n, int threads, LoopBody body, void* context) {
    Impl& p = *impl_;
    int t = int(std::min<int64_t>(std::max(1, threads), n));
    std::unique_lock<std::mutex> busy(p.busy, std::try_to_lock);
    if (t > 1 && busy.owns_lock()) t = std::min(t, int(p.workers.size()) + 1);
    else t = 1;  // one thread asked, or the pool serves another caller: run here, in order
    if (t == 1) {
        for (int64_t i = 0; i < n; ++i) body(context, i, 0);
        return;
    }
    p.job = Impl::Job{n, t, body, context};
    p.remaining.store(t - 1, std::memory_order_relaxed);
    for (int k = 0; k < t - 1; ++k) {
        Impl::Worker& w = *p.workers[size_t(k)];
        {
            std::lock_guard<std::mutex> lock(w.m);  // a worker between its check and wait() sees it
            w.generation.fetch_add(1, std::memory_order_release);
        }
        w.wake.notify_one();
    }
    Impl::run_chunk(p.job, 0);
    // Chunks whose worker has not woken up yet run here: a worker that has to be woken from
    // its condition variable (or waits for a core) takes microseconds to start, longer than
    // a short chunk.
    for (int k = 0; k < t - 1; ++k) {
        Impl::Worker& w = *p.workers[size_t(k)];
        const uint64_t g = w.generation.load(std::memory_order_relaxed);  // written by this thread
        uint64_t expect = g - 1;
        if (w.claimed.compare_exchange_strong(expect, g, std::memory_order_acq_rel)) {
            Impl::run_chunk(p.job, w.index);
            p.remaining.fetch_sub(1, std::memory_order_acq_rel);
        }
    }
    if (!spin_until([&] { return p.remaining.load(std::memory_order_acquire) == 0; })) {
        std::unique_lock<std::mutex> lock(p.done_m);
        p.done.wait(lock, [&] { return p.remaining.load(std::memory_order_acquire) == 0; });
    }
}

int available_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
    return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace bl
