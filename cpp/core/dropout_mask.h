// dropout_mask.h -- which elements inverted dropout keeps (bandlimit.h, bl_dropout_forward): a
// pure function of (seed, index), so that every backend, thread count and launch shape draws the
// same mask. Compiled by the host compiler and by nvcc (the CUDA kernels include it too).
#pragma once

#include <stdint.h>

#if defined(__CUDACC__)
#define BL_HOST_DEVICE __host__ __device__
#else
#define BL_HOST_DEVICE
#endif

namespace bl {

// SplitMix64's finaliser (Steele, Lea, Flood 2014): a bijection of 64-bit words whose output
// bits each depend on every input bit.
BL_HOST_DEVICE inline uint64_t mix64(uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// u_i in [0, 1) with 24 bits, exact in float and double; element i is kept when u_i >= p.
// mixed_seed is mix64(seed), computed once per call.
BL_HOST_DEVICE inline bool dropout_keeps(uint64_t mixed_seed, int64_t i, double p) {
    const uint64_t bits = mix64(mixed_seed + static_cast<uint64_t>(i)) >> 40;
    return static_cast<double>(bits) * (1.0 / 16777216.0) >= p;
}

// The scale of kept elements, as the ABI states it: (float) (1 / (1 - p)).
BL_HOST_DEVICE inline float dropout_scale(double p) { return static_cast<float>(1.0 / (1.0 - p)); }

}  // namespace bl
