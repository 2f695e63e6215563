// cgemm_avx512.cpp -- the AVX-512 (F, DQ, VL + FMA) complex GEMM kernel; compiled with
// -mavx512f -mavx512dq -mavx512vl -mfma for this file only and entered only when
// cpu_path_supported(BL_CPU_PATH_AVX512). The kernel itself is cgemm_kernel.inc.
#include <immintrin.h>

#include "cgemm.h"

#define BLV __m512
#define BLV_LANES 16
#define BLV_ZERO() _mm512_setzero_ps()
#define BLV_LOAD(p) _mm512_loadu_ps(p)
#define BLV_BCAST(p) _mm512_set1_ps(*(p))
#define BLV_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define BLV_ADD(a, b) _mm512_add_ps(a, b)
#define BLV_SUB(a, b) _mm512_sub_ps(a, b)
#define BLV_MUL(a, b) _mm512_mul_ps(a, b)
#define BLV_SET1(x) _mm512_set1_ps(x)
#define BLV_STORE(p, v) _mm512_storeu_ps(p, v)
#define BLV_STREAM(p, v) _mm512_stream_ps(p, v)
// 4 x 32 tile: 24 accumulators + 6 B vectors of the 32 zmm registers; narrow: 8 x 16 (24 + 3).
#define BLK_MR_WIDE 4
#define BLK_NV_WIDE 2
#define BLK_MR_NARROW 8
#define BLK_SCRATCH_FN cgemm_avx512_scratch_floats
#define BLK_CGEMM_FN cgemm_avx512

namespace bl {
namespace avx512 {
#include "cgemm_kernel.inc"
}  // namespace avx512
int64_t cgemm_avx512_scratch_floats(int64_t m, int64_t n, int64_t p) {
    return avx512::cgemm_avx512_scratch_floats(m, n, p);
}
void cgemm_avx512(int64_t m, int64_t n, int64_t p, const CgemmOperand& a, const CgemmOperand& b,
                  float* c_re, float* c_im, float* scratch, bool stream) {
    avx512::cgemm_avx512(m, n, p, a, b, c_re, c_im, scratch, stream);
}
}  // namespace bl
