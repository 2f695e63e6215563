// fft_plans.cu -- see fft_plans.h.
#include "fft_plans.h"

#include <list>
#include <map>
#include <tuple>

namespace bl {
namespace cuda {

bool FftKey::operator<(const FftKey& o) const {
    return std::tie(device, inverse, LH, LW, batch) < std::tie(o.device, o.inverse, o.LH, o.LW, o.batch);
}

const char* cufft_result_name(cufftResult r) {
    switch (r) {
    case CUFFT_SUCCESS: return "CUFFT_SUCCESS";
    case CUFFT_INVALID_PLAN: return "CUFFT_INVALID_PLAN";
    case CUFFT_ALLOC_FAILED: return "CUFFT_ALLOC_FAILED";
    case CUFFT_INVALID_VALUE: return "CUFFT_INVALID_VALUE";
    case CUFFT_INTERNAL_ERROR: return "CUFFT_INTERNAL_ERROR";
    case CUFFT_EXEC_FAILED: return "CUFFT_EXEC_FAILED";
    case CUFFT_SETUP_FAILED: return "CUFFT_SETUP_FAILED";
    case CUFFT_INVALID_SIZE: return "CUFFT_INVALID_SIZE";
    default: return "cufftResult (other)";
    }
}

FftPlan::FftPlan(const FftKey& key) : key_(key) {
    auto check = [](cufftResult r, const char* what) {
        if (r != CUFFT_SUCCESS) throw FftError{r, what};
    };
    if (cudaSetDevice(key.device) != cudaSuccess) throw FftError{CUFFT_INVALID_VALUE, "cudaSetDevice"};
    check(cufftCreate(&handle_), "cufftCreate");
    try {
        check(cufftSetAutoAllocation(handle_, 0), "cufftSetAutoAllocation");
        const long long half_w = key.LW / 2 + 1;
        long long dims[2] = {key.LH, key.LW};
        const int rank = key.LH == 1 ? 1 : 2;
        long long* n = rank == 1 ? dims + 1 : dims;
        const long long real_dist = key.LH * key.LW, half_dist = key.LH * half_w;
        size_t work = 0;
        // Packed layouts (no embedding): the grids and half spectra are contiguous per plane.
        check(cufftMakePlanMany64(handle_, rank, n, nullptr, 1, key.inverse ? half_dist : real_dist, nullptr, 1,
                                  key.inverse ? real_dist : half_dist, key.inverse ? CUFFT_C2R : CUFFT_R2C,
                                  key.batch, &work),
              "cufftMakePlanMany64");
        work_bytes_ = int64_t(work);
    } catch (...) {
        cufftDestroy(handle_);
        throw;
    }
}

FftPlan::~FftPlan() { cufftDestroy(handle_); }

cufftResult FftPlan::execute(void* in, void* out, void* work, cudaStream_t stream) const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cufftResult r = cufftSetStream(handle_, stream); r != CUFFT_SUCCESS) return r;
    if (cufftResult r = cufftSetWorkArea(handle_, work); r != CUFFT_SUCCESS) return r;
    return key_.inverse ? cufftExecC2R(handle_, static_cast<cufftComplex*>(in), static_cast<cufftReal*>(out))
                        : cufftExecR2C(handle_, static_cast<cufftReal*>(in), static_cast<cufftComplex*>(out));
}

std::shared_ptr<const FftPlan> fft_plan(const FftKey& key) {
    // The cache: most recently used first. Leaked on purpose: plans may be destroyed after
    // static destructors have run (and the CUDA context with them).
    static std::mutex* mutex = new std::mutex;
    static auto* lru = new std::list<std::shared_ptr<const FftPlan>>;
    static auto* index = new std::map<FftKey, std::list<std::shared_ptr<const FftPlan>>::iterator>;
    std::lock_guard<std::mutex> lock(*mutex);
    if (auto it = index->find(key); it != index->end()) {
        lru->splice(lru->begin(), *lru, it->second);
        return *it->second;
    }
    auto plan = std::make_shared<const FftPlan>(key);
    lru->push_front(plan);
    (*index)[key] = lru->begin();
    // Evict from the least recently used end the entries held only by the cache (the new one is
    // held by `plan`).
    for (auto it = lru->end(); lru->size() > kFftCacheCapacity && it != lru->begin();) {
        --it;
        if (it->use_count() == 1) {
            index->erase((*it)->key());
            it = lru->erase(it);
        }
    }
    return plan;
}

}  // namespace cuda
}  // namespace bl
