// dft_avx2.cpp -- the AVX2 + FMA instance of the batched small-DFT kernels (dft.h); compiled
// with -mavx2 -mfma for this file only, entered only on the AVX2 CPU path.
#include "dft.h"

#include <cstdint>
#include <cstring>
#if defined(__AVX__)
#include <immintrin.h>  // stream_store.inc
#endif

#define BLD_WIDE 0
namespace bl {
namespace avx2 {
#include "dft_kernel.inc"
}  // namespace avx2
}  // namespace bl
