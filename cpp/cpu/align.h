// align.h -- the one alignment rule of CPU workspace regions: every region starts on a 64-byte
// boundary (16 floats), so SIMD kernels may use aligned loads and threads never share a line.
#pragma once

#include <cstdint>

namespace bl {

constexpr int64_t kAlignFloats = 16;

// v rounded up to a whole number of 64-byte lines, in floats.
inline int64_t align_up(int64_t v) { return (v + kAlignFloats - 1) / kAlignFloats * kAlignFloats; }

}  // namespace bl
