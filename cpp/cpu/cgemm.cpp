// cgemm.cpp -- the portable 3-mult complex product and the choice of kernel by CPU path (see cgemm.h).
#include "cgemm.h"

#include <algorithm>

#include "align.h"
#include "bandlimit.h"

namespace bl {
namespace {


int64_t portable_scratch_floats(int64_t m, int64_t n, int64_t p) {
    return align_up(3 * m * p) + align_up(3 * p * n) + align_up(3 * n);
}

}  // namespace

int64_t cgemm_scratch_floats(int64_t m, int64_t n, int64_t p) {
    int64_t s = portable_scratch_floats(m, n, p);
#if defined(__x86_64__)
    s = std::max(s, cgemm_avx2_scratch_floats(m, n, p));
    s = std::max(s, cgemm_avx512_scratch_floats(m, n, p));
#endif
    return align_up(s);
}

void cgemm_portable(int64_t m, int64_t n, int64_t p, const CgemmOperand& A, const CgemmOperand& B,
                    float* c_re, float* c_im, float* scratch, bool /*stream: ordinary stores here*/) {
    // Operands are packed row-major (with the pre-sums) so the inner loop runs over
    // contiguous output columns; the compiler vectorises it with the baseline ISA.
    float* a_re = scratch;
    float* a_im = a_re + m * p;
    float* a_sum = a_im + m * p;
    float* b_re = scratch + align_up(3 * m * p);
    float* b_dm = b_re + p * n;  // d - c
    float* b_dp = b_dm + p * n;  // c + d
    float* acc = scratch + align_up(3 * m * p) + align_up(3 * p * n);
    const float a_sign = A.conj ? -1.0f : 1.0f, b_sign = B.conj ? -1.0f : 1.0f;
    for (int64_t i = 0; i < m; ++i)
        for (int64_t q = 0; q < p; ++q) {
            const float re = A.re[i * A.row + q * A.col], im = a_sign * A.im[i * A.row + q * A.col];
            a_re[i * p + q] = re;
            a_im[i * p + q] = im;
            a_sum[i * p + q] = re + im;
        }
    for (int64_t q = 0; q < p; ++q)
        for (int64_t j = 0; j < n; ++j) {
            const float re = B.re[q * B.row + j * B.col], im = b_sign * B.im[q * B.row + j * B.col];
            b_re[q * n + j] = re;
            b_dm[q * n + j] = im - re;
            b_dp[q * n + j] = re + im;
        }
    float* k1 = acc;
    float* k2 = acc + n;
    float* k3 = acc + 2 * n;
    for (int64_t i = 0; i < m; ++i) {
        std::fill(acc, acc + 3 * n, 0.0f);
        for (int64_t q = 0; q < p; ++q) {
            const float s = a_sum[i * p + q], r = a_re[i * p + q], t = a_im[i * p + q];
            const float* br = b_re + q * n;
            const float* bm = b_dm + q * n;
            const float* bp = b_dp + q * n;
            for (int64_t j = 0; j < n; ++j) {
                k1[j] += s * br[j];
                k2[j] += r * bm[j];
                k3[j] += t * bp[j];
            }
        }
        for (int64_t j = 0; j < n; ++j) {
            c_re[i * n + j] = k1[j] - k3[j];
            c_im[i * n + j] = k1[j] + k2[j];
        }
    }
}

CgemmFn cgemm_for_path(int path) {
#if defined(__x86_64__)
    if (path == BL_CPU_PATH_AVX512) return cgemm_avx512;
    if (path == BL_CPU_PATH_AVX2) return cgemm_avx2;
#endif
    (void)path;
    return cgemm_portable;
}

}  // namespace bl
