// kernel_launch.h -- the launch shapes the kernel files share (kernels.cu, layer_kernels.cu):
// grid-stride loops over int64 indices and the fixed-order block reduction. Included from .cu
// files only (device code).
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

namespace bl {
namespace cuda {

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over `total` elements.
inline unsigned blocks_for(int64_t total) {
    const int64_t b = (total + kThreads - 1) / kThreads;
    return unsigned(std::max<int64_t>(1, std::min<int64_t>(b, int64_t(1) << 20)));
}

// Blocks for a loop of one block per item (a channel, a coefficient) that strides by gridDim.x.
inline unsigned blocks_per_item(int64_t items) {
    return unsigned(std::max<int64_t>(1, std::min<int64_t>(items, 65535)));
}

__device__ __forceinline__ int64_t first_index() { return int64_t(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t grid_step() { return int64_t(gridDim.x) * blockDim.x; }

// A fixed-order tree over the block's partial sums (blockDim.x == kThreads; every thread of the
// block calls it), so that the total does not depend on timing. Returns the total to every
// thread; `shared` (kThreads doubles) may be passed to the next call at once.
__device__ inline double block_sum(double v, double* shared) {
    shared[threadIdx.x] = v;
    __syncthreads();
    for (int half = kThreads / 2; half > 0; half /= 2) {
        if (int(threadIdx.x) < half) shared[threadIdx.x] += shared[threadIdx.x + half];
        __syncthreads();
    }
    const double total = shared[0];
    __syncthreads();  // every thread has read shared[0] before a later call overwrites it
    return total;
}

}  // namespace cuda
}  // namespace bl
