// registry.h -- which backends exist and are usable (ggml's backend registry). The CPU backend
// is compiled in and always available; the CUDA backend is its own shared library,
// libbandlimit_cuda.so, loaded on first use from the folder that holds libbandlimit (so a
// build without CUDA, or a machine without the library, reports why instead of failing to load).
#pragma once

#include <cstdint>

#include "backend.h"

namespace bl {

// The registered backend of a bl_backend value, or nullptr when the value is not a bl_backend.
// Never null for BL_BACKEND_CPU and BL_BACKEND_CUDA: an unavailable backend is registered with
// status().available == false and the reason.
const Backend* find_backend(int32_t kind);

}  // namespace bl
