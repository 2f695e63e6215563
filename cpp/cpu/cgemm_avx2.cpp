// cgemm_avx2.cpp -- the AVX2 + FMA complex GEMM kernel; compiled with -mavx2 -mfma for this
// file only and entered only when cpu_path_supported(BL_CPU_PATH_AVX2). The kernel itself is
// cgemm_kernel.inc.
#include <immintrin.h>

#include "cgemm.h"

#define BLV __m256
#define BLV_LANES 8
#define BLV_ZERO() _mm256_setzero_ps()
#define BLV_LOAD(p) _mm256_loadu_ps(p)
#define BLV_BCAST(p) _mm256_broadcast_ss(p)
#define BLV_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define BLV_ADD(a, b) _mm256_add_ps(a, b)
#define BLV_SUB(a, b) _mm256_sub_ps(a, b)
#define BLV_MUL(a, b) _mm256_mul_ps(a, b)
#define BLV_SET1(x) _mm256_set1_ps(x)
#define BLV_STORE(p, v) _mm256_storeu_ps(p, v)
#define BLV_STREAM(p, v) _mm256_stream_ps(p, v)
// 4 x 8 tile: 12 accumulators + 3 B vectors of the 16 ymm registers (+ 1 for broadcasts);
// the narrow tile is the same shape.
#define BLK_MR_WIDE 4
#define BLK_NV_WIDE 1
#define BLK_MR_NARROW 4
#define BLK_SCRATCH_FN cgemm_avx2_scratch_floats
#define BLK_CGEMM_FN cgemm_avx2

namespace bl {
namespace avx2 {
#include "cgemm_kernel.inc"
}  // namespace avx2
int64_t cgemm_avx2_scratch_floats(int64_t m, int64_t n, int64_t p) {
    return avx2::cgemm_avx2_scratch_floats(m, n, p);
}
void cgemm_avx2(int64_t m, int64_t n, int64_t p, const CgemmOperand& a, const CgemmOperand& b,
                float* c_re, float* c_im, float* scratch, bool stream) {
    avx2::cgemm_avx2(m, n, p, a, b, c_re, c_im, scratch, stream);
}
}  // namespace bl
