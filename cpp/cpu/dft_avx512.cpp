// dft_avx512.cpp -- the AVX-512 (F, DQ, VL) + FMA instance of the batched small-DFT kernels
// (dft.h); compiled with per-file ISA flags, entered only on the AVX-512 CPU path.
#include "dft.h"

#include <cstring>

#define BLD_WIDE 1
namespace bl {
namespace avx512 {
#include "dft_kernel.inc"
}  // namespace avx512
}  // namespace bl
