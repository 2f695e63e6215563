// layers_avx2.cpp -- the AVX2 + FMA instance of the layer chunk kernels (layers.h); compiled with
// per-file ISA flags, entered only on the AVX2 CPU path.
#include "layers.h"

namespace bl {
namespace avx2 {
#include "layers_kernel.inc"
}  // namespace avx2
}  // namespace bl
