// dft_avx512.cpp -- the AVX-512 (F, DQ, VL) + FMA instance of the batched small-DFT kernels
// (dft.h); compiled with per-file ISA flags, entered only on the AVX-512 CPU path.
#include "dft.h"

#include <cstdint>
#include <cstring>
#if defined(__AVX__)
#include <immintrin.h>  // stream_store.inc
#endif

#define BLD_WIDE 1
namespace bl {
namespace avx512 {
#include "dft_kernel.inc"
}  // namespace avx512
}  // namespace bl
