// spatial_avx512.cpp -- the AVX-512 (F, DQ, VL) + FMA instance of the spatial product's kernels
// (spatial.h); compiled with per-file ISA flags, entered only on the AVX-512 CPU path.
#include "spatial.h"

namespace bl {
namespace avx512 {
#define SPATIAL_VEC 16
#define SPATIAL_FILTERS 8
#define SPATIAL_COLS 2
#include "spatial_kernel.inc"
}  // namespace avx512
}  // namespace bl
