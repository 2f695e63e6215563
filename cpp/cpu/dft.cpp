// dft.cpp -- the portable instance of the batched small-DFT kernels and their dispatch (dft.h).
#include "dft.h"

#include <cstdint>
#include <cstring>
#if defined(__AVX__)
#include <immintrin.h>  // stream_store.inc
#endif

#include "bandlimit.h"

#define BLD_WIDE 0
namespace bl {
namespace portable {
#include "dft_kernel.inc"
}  // namespace portable

DftKernels dft_kernels_for_path(int path) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (path == BL_CPU_PATH_AVX512) return avx512::kDftKernels;
    if (path == BL_CPU_PATH_AVX2) return avx2::kDftKernels;
#endif
    (void)path;
    return portable::kDftKernels;
}
}  // namespace bl
