// spatial_avx2.cpp -- the AVX2 + FMA instance of the spatial product's kernels
// (spatial.h); compiled with per-file ISA flags, entered only on the AVX2 CPU path.
#include "spatial.h"

namespace bl {
namespace avx2 {
#define SPATIAL_VEC 8
#define SPATIAL_FILTERS 4
#define SPATIAL_COLS 2
#include "spatial_kernel.inc"
}  // namespace avx2
}  // namespace bl
