// fft_batch_avx512.cpp -- the AVX-512 (F, DQ, VL) + FMA instance of the batched FFT kernels (fft_batch.h);
// compiled with per-file ISA flags, entered only on the AVX-512 CPU path.
#include "fft_batch.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#if defined(__AVX__)
#include <immintrin.h>  // stream_store.inc
#endif

namespace bl {
namespace avx512 {
#define BF_WIDTH 16
#include "fft_batch_kernel.inc"
#undef BF_WIDTH
}  // namespace avx512
}  // namespace bl
