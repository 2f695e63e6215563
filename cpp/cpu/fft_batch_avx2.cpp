// fft_batch_avx2.cpp -- the AVX2 + FMA instance of the batched FFT kernels (fft_batch.h);
// compiled with per-file ISA flags, entered only on the AVX2 CPU path.
#include "fft_batch.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#if defined(__AVX__)
#include <immintrin.h>  // stream_store.inc
#endif

namespace bl {
namespace avx2 {
#define BF_WIDTH 8
#include "fft_batch_kernel.inc"
#undef BF_WIDTH
}  // namespace avx2
}  // namespace bl
