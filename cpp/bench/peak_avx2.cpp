// peak_avx2.cpp -- fp32 FMA peak with avx2 (this file alone is compiled with its ISA flags and
// entered only after __builtin_cpu_supports confirmed the ISA).
#include <immintrin.h>
#include <omp.h>

#include "peak.h"

namespace {
volatile float g_sink_avx2;

// One thread: 16 independent FMA chains for iters steps; returns FLOPs done.
double run_avx2(long iters) {
    __m256 acc[16];
    for (int i = 0; i < 16; ++i) acc[i] = _mm256_set1_ps(1.0f + 1e-7f * float(i));
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    }
    for (int i = 1; i < 16; ++i) acc[0] = _mm256_add_ps(acc[0], acc[i]);
    g_sink_avx2 = acc[0][0];
    return 2.0 * 8 * 16.0 * double(iters);
}
}  // namespace

double peak_gflops_avx2(int threads) {
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return 0.0;
    const long iters = 20000000;
    double best = 0;
    for (int rep = 0; rep < 3; ++rep) {  // best of 3: the first wakes the cores up
        double flops = 0;
        const double t0 = omp_get_wtime();
#pragma omp parallel num_threads(threads) reduction(+ : flops)
        flops += run_avx2(iters);
        const double t = omp_get_wtime() - t0;
        if (flops / t > best) best = flops / t;
    }
    return best * 1e-9;
}
