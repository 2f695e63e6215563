// peak_avx512.cpp -- fp32 FMA peak with avx512 (this file alone is compiled with its ISA flags and
// entered only after __builtin_cpu_supports confirmed the ISA).
#include <immintrin.h>
#include <omp.h>

#include "peak.h"

namespace {
volatile float g_sink_avx512;

// One thread: 16 independent FMA chains for iters steps; returns FLOPs done.
double run_avx512(long iters) {
    __m512 acc[16];
    for (int i = 0; i < 16; ++i) acc[i] = _mm512_set1_ps(1.0f + 1e-7f * float(i));
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    }
    for (int i = 1; i < 16; ++i) acc[0] = _mm512_add_ps(acc[0], acc[i]);
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, acc[0]);
    g_sink_avx512 = lanes[0];
    return 2.0 * 16 * 16.0 * double(iters);
}
}  // namespace

double peak_gflops_avx512(int threads) {
    if (!(__builtin_cpu_supports("avx512f"))) return 0.0;
    return best_gflops(threads, 20000000, run_avx512);
}
