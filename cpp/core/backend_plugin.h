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

#define BL_PLUGIN_ABI_VERSION 2

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

typedef struct bl_backend_plugin {
    int32_t abi_version;    /* BL_PLUGIN_ABI_VERSION */
    int32_t backend;        /* the bl_backend it implements */
    int32_t buffer_memory;  /* a bl_memory_kind */
    const char* name;
    /* 1 when usable on this machine; otherwise 0 and *reason (static storage) says why. */
    int32_t (*probe)(const char** reason);
    bl_status (*check_context)(int32_t device, void* stream, bl_plugin_error* error);
    bl_status (*plan_create)(const bl_plugin_plan_spec* spec, void** out_plan, bl_plugin_error* error);
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
} bl_backend_plugin;

/* The one symbol a plugin exports. Returns BL_OK and fills *out, or a status when the plugin
   was built for another ABI version. */
typedef bl_status (*bl_backend_plugin_entry)(int32_t abi_version, bl_backend_plugin* out);
#define BL_BACKEND_PLUGIN_ENTRY "bl_backend_plugin_v1"

#ifdef __cplusplus
}
#endif

#endif /* BANDLIMIT_BACKEND_PLUGIN_H */
