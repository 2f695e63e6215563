// peak.h -- the machine's measured fp32 FMA peak (GFLOP/s on all threads), per ISA.
#pragma once

// Each returns 0 when the machine lacks the ISA. The loop keeps 16 independent accumulator
// vectors per thread (more than latency x FMA ports on current x86 cores), so it is bound by
// FMA throughput alone.
double peak_gflops_avx512(int threads);
double peak_gflops_avx2(int threads);
