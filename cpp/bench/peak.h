// peak.h -- the machine's measured fp32 FMA peak (GFLOP/s on all threads), per ISA.
#pragma once

#include <omp.h>

// Each returns 0 when the machine lacks the ISA. The loop keeps 16 independent accumulator
// vectors per thread (more than latency x FMA ports on current x86 cores), so it is bound by
// FMA throughput alone.
double peak_gflops_avx512(int threads);
double peak_gflops_avx2(int threads);

// Best of 3 timed runs of kernel(iters) on `threads` threads at once, in GFLOP/s (kernel returns
// the FLOPs one thread did). The first run wakes the cores up.
template <typename Kernel>
double best_gflops(int threads, long iters, Kernel kernel) {
    double best = 0;
    for (int rep = 0; rep < 3; ++rep) {
        double flops = 0;
        const double t0 = omp_get_wtime();
#pragma omp parallel num_threads(threads) reduction(+ : flops)
        flops += kernel(iters);
        const double t = omp_get_wtime() - t0;
        if (flops / t > best) best = flops / t;
    }
    return best * 1e-9;
}
