// plugin_checks.h -- what every entry point of the plugin table shares (cuda_backend.cu: the
// convolution plans and buffers; layer_kernels.cu: the layer ops): the device-memory check of
// caller buffers and the way a failure inside an op becomes a bl_status plus a bl_plugin_error
// (nothing throws across the C table of backend_plugin.h).
#pragma once

#include <cuda_runtime.h>

#include <cstdio>
#include <initializer_list>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

#include "backend_plugin.h"
#include "fft_plans.h"

namespace bl {
namespace cuda {

inline void set_error(bl_plugin_error* e, const std::string& argument, const std::string& text) {
    if (!e) return;
    std::snprintf(e->argument, sizeof e->argument, "%s", argument.c_str());
    std::snprintf(e->text, sizeof e->text, "%s", text.c_str());
}

// A failed CUDA or cuFFT call inside an op, as the status the ABI returns.
struct PassError {
    bl_status status;
    std::string argument, text;
};

inline void check_cuda(cudaError_t err, const char* what) {
    if (err != cudaSuccess)
        throw PassError{BL_ERR_INTERNAL, "", std::string("CUDA: ") + what + ": " + cudaGetErrorString(err)};
}

// Whether p is memory that kernels on `device` can use: its device memory, or managed memory.
inline bool device_pointer_ok(const void* p, int device) {
    cudaPointerAttributes attr{};
    if (cudaPointerGetAttributes(&attr, p) != cudaSuccess) {
        (void)cudaGetLastError();  // clear the non-sticky error
        return false;
    }
    return attr.type == cudaMemoryTypeManaged || (attr.type == cudaMemoryTypeDevice && attr.device == device);
}

// BL_ERR_INVALID_ARGUMENT naming `name` unless p is NULL or memory of `device`.
inline bl_status check_buffer(const void* p, const std::string& name, int device, bl_plugin_error* e) {
    if (!p || device_pointer_ok(p, device)) return BL_OK;
    set_error(e, name,
              name + " is not device memory of CUDA device " + std::to_string(device) +
                  " (the CUDA backend's buffers are device or managed memory: copy host data to the device first)");
    return BL_ERR_INVALID_ARGUMENT;
}

// The first buffer that is not memory of `device`, as check_buffer reports it. NULL entries are
// optional buffers not passed.
inline bl_status check_buffers(int device, std::initializer_list<std::pair<const void*, const char*>> buffers,
                               bl_plugin_error* e) {
    for (const auto& [p, name] : buffers)
        if (bl_status st = check_buffer(p, name, device, e); st != BL_OK) return st;
    return BL_OK;
}

// Runs an op, turning exceptions into statuses.
template <typename Fn>
bl_status guarded(bl_plugin_error* e, Fn&& fn) {
    try {
        fn();
        return BL_OK;
    } catch (const PassError& err) {
        set_error(e, err.argument, err.text);
        return err.status;
    } catch (const FftError& err) {
        set_error(e, "", std::string("cuFFT: ") + err.what + ": " + cufft_result_name(err.result));
        return err.result == CUFFT_ALLOC_FAILED ? BL_ERR_OUT_OF_MEMORY : BL_ERR_INTERNAL;
    } catch (const std::bad_alloc&) {
        set_error(e, "", "out of host memory");
        return BL_ERR_OUT_OF_MEMORY;
    } catch (const std::exception& err) {
        set_error(e, "", std::string("CUDA backend: ") + err.what());
        return BL_ERR_INTERNAL;
    }
}

}  // namespace cuda
}  // namespace bl
