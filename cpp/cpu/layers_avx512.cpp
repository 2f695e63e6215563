// layers_avx512.cpp -- the AVX-512 (F, DQ, VL) + FMA instance of the layer chunk kernels
// (layers.h); compiled with per-file ISA flags, entered only on the AVX-512 CPU path.
#include "layers.h"

namespace bl {
namespace avx512 {
#include "layers_kernel.inc"
}  // namespace avx512
}  // namespace bl
