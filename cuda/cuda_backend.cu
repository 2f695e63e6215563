// cuda_backend.cu -- the CUDA backend's plugin entry (cpp/core/backend_plugin.h).
//
// This is the seam the CUDA backend attaches to: the registry loads libbandlimit_cuda.so,
// asks probe() whether the backend can run, and reaches plans through the table below. The
// operator itself (cuFFT plans, padding, L-shaped masking and the per-frequency products as
// hand-written kernels) is the CUDA issue's work; until it lands, probe() reports the backend
// unavailable with the reason, so every caller and the cross-backend test say "skipped: cuda:
// ..." instead of running half a backend.
#include <cuda_runtime.h>

#include <cstdio>
#include <cstring>

#include "backend_plugin.h"

namespace {

void set_error(bl_plugin_error* e, const char* argument, const char* text) {
    if (!e) return;
    std::snprintf(e->argument, sizeof e->argument, "%s", argument);
    std::snprintf(e->text, sizeof e->text, "%s", text);
}

char g_reason[256];

int32_t probe(const char** reason) {
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        std::snprintf(g_reason, sizeof g_reason, "no usable CUDA device (cudaGetDeviceCount: %s)",
                      cudaGetErrorString(err));
    } else if (count == 0) {
        std::snprintf(g_reason, sizeof g_reason, "no CUDA device on this machine");
    } else {
        std::snprintf(g_reason, sizeof g_reason,
                      "%d CUDA device(s) found, but this build's CUDA backend has no operator yet "
                      "(the plugin seam only)", count);
    }
    *reason = g_reason;
    return 0;
}

bl_status check_context(int32_t device, void* /*stream*/, bl_plugin_error* e) {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || device < 0 || device >= count) {
        set_error(e, "options.device", "options.device is not a CUDA device ordinal of this machine");
        return BL_ERR_INVALID_ARGUMENT;
    }
    return BL_OK;
}

bl_status unsupported(bl_plugin_error* e) {
    set_error(e, "options.backend", "options.backend: the CUDA operator is not implemented in this build");
    return BL_ERR_UNSUPPORTED;
}

bl_status plan_create(const bl_plugin_plan_spec*, void**, bl_plugin_error* e) { return unsupported(e); }
void plan_destroy(void*) {}
int64_t zero_bytes(const void*) { return 0; }
double no_flops(const void*, int32_t, int64_t, bl_box) { return 0.0; }
bl_status forward(const void*, const bl_plugin_forward_args*, bl_plugin_error* e) { return unsupported(e); }
bl_status backward(const void*, const bl_plugin_backward_args*, bl_plugin_error* e) { return unsupported(e); }

// The header lives in device memory like the rest of the saved buffer.
bl_status write_saved_header(const void*, void* saved, const void* header, int64_t bytes, void* stream,
                             bl_plugin_error* e) {
    cudaStream_t s = static_cast<cudaStream_t>(stream);
    if (cudaMemcpyAsync(saved, header, size_t(bytes), cudaMemcpyHostToDevice, s) != cudaSuccess ||
        cudaStreamSynchronize(s) != cudaSuccess) {
        set_error(e, "saved", "saved: writing the spectra header to device memory failed");
        return BL_ERR_INVALID_ARGUMENT;
    }
    return BL_OK;
}

bl_status read_saved_header(const void*, const void* saved, void* header, int64_t bytes, void* stream,
                            bl_plugin_error* e) {
    cudaStream_t s = static_cast<cudaStream_t>(stream);
    if (cudaMemcpyAsync(header, saved, size_t(bytes), cudaMemcpyDeviceToHost, s) != cudaSuccess ||
        cudaStreamSynchronize(s) != cudaSuccess) {
        set_error(e, "saved", "saved: reading the spectra header from device memory failed");
        return BL_ERR_INVALID_ARGUMENT;
    }
    return BL_OK;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) bl_status bl_backend_plugin_v1(int32_t abi_version,
                                                                                 bl_backend_plugin* out) {
    if (abi_version != BL_PLUGIN_ABI_VERSION || !out) return BL_ERR_UNSUPPORTED;
    *out = bl_backend_plugin{BL_PLUGIN_ABI_VERSION, BL_BACKEND_CUDA, BL_MEMORY_DEVICE, "cuda",
                             probe, check_context, plan_create, plan_destroy, zero_bytes, zero_bytes,
                             no_flops, forward, backward, write_saved_header, read_saved_header};
    return BL_OK;
}
