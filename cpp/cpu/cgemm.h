// cgemm.h -- the per-frequency complex matrix product of the CPU backend, in 3-mult form, with
// one kernel per CPU code path (portable, AVX2, AVX-512; cpu_path.h).
//
// C (m x n) = A (m x p) B (p x n), complex, with three real products of split real and
// imaginary planes (ALGORITHM.md section 4.3): k1 = (a_re + a_im) b_re, k2 = a_re (b_im - b_re),
// k3 = a_im (b_re + b_im); C_re = k1 - k3, C_im = k1 + k2.
//
// The SIMD kernels live in their own translation units (cgemm_avx2.cpp, cgemm_avx512.cpp),
// compiled with per-file ISA flags, and are entered only after __builtin_cpu_supports has
// confirmed the ISA: the rest of the library is plain x86-64. Every path sums the reduction
// in the same fixed order whatever the thread count; paths differ from each other only by
// float32 rounding (FMA contraction, summation order inside a tile).
#pragma once

#include <cstdint>

namespace bl {

// Element (i, q) of an operand is (re + i im)[i * row + q * col], conjugated when conj is set.
struct CgemmOperand {
    const float* re;
    const float* im;
    int64_t row, col;
    bool conj;
};

// c_re / c_im: m x n row-major. scratch: cgemm_scratch_floats(m, n, p) floats, 64-byte aligned.
// stream: write C with streaming (non-temporal) stores where its tiles are whole aligned vectors
// (for a C far larger than the caches; stream_store.inc); the values are the same.
using CgemmFn = void (*)(int64_t m, int64_t n, int64_t p, const CgemmOperand& a,
                         const CgemmOperand& b, float* c_re, float* c_im, float* scratch, bool stream);

// Scratch any path needs for one product of these sizes.
int64_t cgemm_scratch_floats(int64_t m, int64_t n, int64_t p);

void cgemm_portable(int64_t m, int64_t n, int64_t p, const CgemmOperand& a, const CgemmOperand& b,
                    float* c_re, float* c_im, float* scratch, bool stream);
// Defined only in builds that compile the SIMD units (x86-64 with GCC/Clang).
void cgemm_avx2(int64_t m, int64_t n, int64_t p, const CgemmOperand& a, const CgemmOperand& b,
                float* c_re, float* c_im, float* scratch, bool stream);
void cgemm_avx512(int64_t m, int64_t n, int64_t p, const CgemmOperand& a, const CgemmOperand& b,
                  float* c_re, float* c_im, float* scratch, bool stream);
// Scratch floats of the SIMD kernels (each file knows its own tile sizes).
int64_t cgemm_avx2_scratch_floats(int64_t m, int64_t n, int64_t p);
int64_t cgemm_avx512_scratch_floats(int64_t m, int64_t n, int64_t p);

// The kernel of a CPU path (cpu_path.h); path must be supported.
CgemmFn cgemm_for_path(int path);

}  // namespace bl
