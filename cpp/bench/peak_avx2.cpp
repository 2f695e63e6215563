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
    return best_gflops(threads, 20000000, run_avx2);
}
