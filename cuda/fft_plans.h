// fft_plans.h -- cuFFT plans of the CUDA backend, shared through a bounded process-wide cache
// keyed by what a plan is (device, direction, lengths, batch), like PyTorch's cuFFT plan cache.
//
// Plans are made when a library plan is created, never in execute; they allocate no work area
// (cufftSetAutoAllocation(0)): execute hands them a part of the caller's workspace. One cuFFT
// handle may serve several library plans and threads: a handle's mutex covers setting its stream
// and work area and queueing the transform (the transform itself runs asynchronously).
#pragma once

#include <cuda_runtime.h>
#include <cufft.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace bl {
namespace cuda {

struct FftKey {
    int device;
    bool inverse;      // C2R (else R2C)
    int64_t LH, LW;    // LH == 1: a 1D transform of length LW
    int64_t batch;
    bool operator<(const FftKey& o) const;
};

class FftPlan {
public:
    explicit FftPlan(const FftKey& key);  // throws FftError
    ~FftPlan();
    FftPlan(const FftPlan&) = delete;
    FftPlan& operator=(const FftPlan&) = delete;

    const FftKey& key() const { return key_; }
    // Bytes of work area the transform needs.
    int64_t work_bytes() const { return work_bytes_; }
    // R2C: real [batch][LH][LW] -> half [batch][LH][LW/2+1]; C2R the reverse (unnormalised).
    cufftResult execute(void* in, void* out, void* work, cudaStream_t stream) const;

private:
    FftKey key_;
    cufftHandle handle_ = 0;
    int64_t work_bytes_ = 0;
    mutable std::mutex mutex_;
};

struct FftError {
    cufftResult result;
    std::string what;
};

// The cached plan for key (made when absent; may evict the least recently used entry that no
// library plan holds). Throws FftError.
std::shared_ptr<const FftPlan> fft_plan(const FftKey& key);

// Entries the cache keeps at most (held entries are never evicted).
constexpr size_t kFftCacheCapacity = 64;

const char* cufft_result_name(cufftResult r);

}  // namespace cuda
}  // namespace bl
