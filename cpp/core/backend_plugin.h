/*
 * backend_plugin.h -- the C interface between libbandlimit and a backend built as its own shared
 * library (the CUDA backend, cuda/). C, not C++, because the two libraries each link their own
 * static libstdc++: nothing that allocates or throws crosses this line.
 *
 * The plugin exports one function, bl_backend_plugin_v1, which fills a table of function
 * pointers. Errors are returned as a bl_status plus a bl_plugin_error filled by the plugin.
 * Geometry is passed as the validated description; the plugin compiles the core's pure
 * geometry (cpp/core/geometry.cpp) itself to derive lengths and boxes.
 */
#ifndef BANDLIMIT_BACKEND_PLUGIN_H
#define BANDLIMIT_BACKEND_PLUGIN_H

#include <stdint.h>

#include "bandlimit.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BL_PLUGIN_ABI_VERSION 4

typedef struct bl_plugin_error {
    char argument[64];
    char text[448];
} bl_plugin_error;

typedef struct bl_plugin_plan_spec {
    bl_conv2d_desc desc;  /* validated; a 1D plan as its 2D form (H = KH = 1) */
    int32_t is_1d;
    int32_t spectra_mode;  /* a bl_spectra_mode */
    bl_compression compression;
    bl_box box;           /* the fixed box, or the full box in energy mode */
    int32_t device;
    int32_t num_threads;  /* host threads the plugin may use */
    int32_t method;       /* a bl_method */
} bl_plugin_plan_spec;

typedef struct bl_plugin_forward_args {
    int64_t n;
    const float* x;
    const float* w;
    const float* bias;
    float* y;
    unsigned char* saved;
    void* workspace;
    void* stream;
    bl_box* box_used;  /* host */
} bl_plugin_forward_args;

typedef struct bl_plugin_backward_args {
    int64_t n;
    bl_box box;
    const unsigned char* saved;
    const float* w;
    const float* dy;
    float* dx;
    float* dw;
    float* db;
    void* workspace;
    void* stream;
} bl_plugin_backward_args;

/* Where a layer op runs: the context's device and stream. */
typedef struct bl_plugin_exec {
    int32_t device;
    void* stream;
} bl_plugin_exec;

/* The layer kernels (bandlimit.h, "Layer kernels"; cpp/core/layer_ops.h), with the ABI's
   arguments after validation by the core (sizes positive, products fit, flags 0 or 1, required
   pointers non-NULL, descriptions checked). Every pointer but the bl_param_slot array (host
   memory) is in the context's buffer memory; the plugin checks that it is, so a host pointer is
   refused with BL_ERR_INVALID_ARGUMENT, not faulted on. Work is queued on exec->stream. */
typedef struct bl_plugin_layer_ops {
    bl_status (*batchnorm_forward)(const bl_plugin_exec* exec, const bl_batchnorm_desc* desc, const float* x,
                                   const float* gamma, const float* beta, float* running_mean,
                                   float* running_var, float* y, double* out_mean, double* out_inv_std,
                                   bl_plugin_error* error);
    bl_status (*batchnorm_backward)(const bl_plugin_exec* exec, const bl_batchnorm_desc* desc, const float* x,
                                    const float* y, const float* dy, const float* gamma, const double* mean,
                                    const double* inv_std, float* dx, int32_t dx_accumulate, float* dgamma,
                                    float* dbeta, bl_plugin_error* error);
    bl_status (*relu_forward)(const bl_plugin_exec* exec, int64_t count, const float* x, float* y,
                              bl_plugin_error* error);
    bl_status (*relu_backward)(const bl_plugin_exec* exec, int64_t count, const float* x, const float* dy,
                               float* dx, int32_t accumulate, bl_plugin_error* error);
    bl_status (*maxpool2d_forward)(const bl_plugin_exec* exec, const bl_pool2d_desc* desc, const float* x,
                                   float* y, int32_t* winners, bl_plugin_error* error);
    bl_status (*maxpool2d_backward)(const bl_plugin_exec* exec, const bl_pool2d_desc* desc,
                                    const int32_t* winners, const float* dy, float* dx, int32_t accumulate,
                                    bl_plugin_error* error);
    bl_status (*linear_forward)(const bl_plugin_exec* exec, int64_t batch, int64_t in, int64_t out,
                                const float* x, const float* w, const float* b, float* y, bl_plugin_error* error);
    bl_status (*linear_backward)(const bl_plugin_exec* exec, int64_t batch, int64_t in, int64_t out,
                                 const float* x, const float* w, const float* dy, float* dx, float* dw, float* db,
                                 bl_plugin_error* error);
    bl_status (*add_into)(const bl_plugin_exec* exec, int64_t count, float* dst, const float* src,
                          bl_plugin_error* error);
    bl_status (*adam_step)(const bl_plugin_exec* exec, const bl_adam_desc* desc, const bl_param_slot* params,
                           int64_t param_count, bl_plugin_error* error);
    bl_status (*sgd_step)(const bl_plugin_exec* exec, const bl_sgd_desc* desc, const bl_param_slot* params,
                          int64_t param_count, bl_plugin_error* error);
    bl_status (*avgpool2d_forward)(const bl_plugin_exec* exec, const bl_pool2d_desc* desc, const float* x,
                                   float* y, bl_plugin_error* error);
    bl_status (*avgpool2d_backward)(const bl_plugin_exec* exec, const bl_pool2d_desc* desc, const float* dy,
                                    float* dx, int32_t accumulate, bl_plugin_error* error);
    bl_status (*dropout_forward)(const bl_plugin_exec* exec, int64_t count, double p, uint64_t seed,
                                 const float* x, float* y, uint8_t* mask, bl_plugin_error* error);
    bl_status (*dropout_backward)(const bl_plugin_exec* exec, int64_t count, double p, const uint8_t* mask,
                                  const float* dy, float* dx, int32_t accumulate, bl_plugin_error* error);
    bl_status (*softmax_xent_forward)(const bl_plugin_exec* exec, int64_t batch, int64_t classes,
                                      const float* logits, const int32_t* labels, float* loss, float* probs,
                                      bl_plugin_error* error);
    bl_status (*softmax_xent_backward)(const bl_plugin_exec* exec, int64_t batch, int64_t classes,
                                       const float* probs, const int32_t* labels, const float* dloss,
                                       float* dlogits, int32_t accumulate, bl_plugin_error* error);
} bl_plugin_layer_ops;

typedef struct bl_backend_plugin {
    int32_t abi_version;    /* BL_PLUGIN_ABI_VERSION */
    int32_t backend;        /* the bl_backend it implements */
    int32_t buffer_memory;  /* a bl_memory_kind */
    const char* name;
    /* 1 when usable on this machine; otherwise 0 and *reason (static storage) says why. */
    int32_t (*probe)(const char** reason);
    bl_status (*check_context)(int32_t device, void* stream, bl_plugin_error* error);
    bl_status (*plan_create)(const bl_plugin_plan_spec* spec, void** out_plan, bl_plugin_error* error);
    /* What plan_create would take, without allocating (the plan limits of bandlimit.h): the
       bytes table_bytes will report and lower bounds of the workspace (without the parts known
       only once the plan is built, such as cuFFT's work area). */
    bl_status (*plan_estimate)(const bl_plugin_plan_spec* spec, int64_t* out_table_bytes,
                               int64_t* out_workspace_bytes, bl_plugin_error* error);
    void (*plan_destroy)(void* plan);
    int64_t (*workspace_bytes)(const void* plan);
    int64_t (*table_bytes)(const void* plan);
    double (*executed_flops)(const void* plan, int32_t pass, int64_t n, bl_box box);
    bl_status (*forward)(const void* plan, const bl_plugin_forward_args* args, bl_plugin_error* error);
    bl_status (*backward)(const void* plan, const bl_plugin_backward_args* args, bl_plugin_error* error);
    bl_status (*write_saved_header)(const void* plan, void* saved, const void* header, int64_t bytes,
                                    void* stream, bl_plugin_error* error);
    bl_status (*read_saved_header)(const void* plan, const void* saved, void* header, int64_t bytes,
                                   void* stream, bl_plugin_error* error);
    /* Buffers of the backend's memory on `device` (bl_buffer_alloc and friends; arguments
       validated by the core: bytes >= 1, pointers non-NULL, kind known). */
    bl_status (*buffer_alloc)(int32_t device, int64_t bytes, void** out_buffer, bl_plugin_error* error);
    bl_status (*buffer_free)(int32_t device, void* buffer, bl_plugin_error* error);
    bl_status (*buffer_copy)(int32_t device, void* dst, const void* src, int64_t bytes, int32_t kind,
                             void* stream, bl_plugin_error* error);
    bl_status (*synchronize)(int32_t device, void* stream, bl_plugin_error* error);
    bl_status (*buffer_zero)(int32_t device, void* buffer, int64_t bytes, void* stream, bl_plugin_error* error);
    /* The layer kernels, or NULL when the plugin has none (the core then reports UNSUPPORTED). */
    const bl_plugin_layer_ops* layer_ops;
} bl_backend_plugin;

/* The one symbol a plugin exports. Returns BL_OK and fills *out, or a status when the plugin
   was built for another ABI version. */
typedef bl_status (*bl_backend_plugin_entry)(int32_t abi_version, bl_backend_plugin* out);
#define BL_BACKEND_PLUGIN_ENTRY "bl_backend_plugin_v1"

#ifdef __cplusplus
}
#endif

#endif /* BANDLIMIT_BACKEND_PLUGIN_H */
