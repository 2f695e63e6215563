// layer_kernels.h -- the CUDA backend's layer ops (bandlimit.h, "Layer kernels"), as the table
// the plugin hands the core (backend_plugin.h, bl_plugin_layer_ops). Kernels in
// layer_kernels.cu, their per-element maths in layer_math.h.
#pragma once

#include "backend_plugin.h"

namespace bl {
namespace cuda {

// Static storage; every op checks that its buffers are device memory of exec->device, queues
// its kernels on exec->stream, allocates nothing and does not synchronise.
const bl_plugin_layer_ops* layer_ops_table();

}  // namespace cuda
}  // namespace bl
