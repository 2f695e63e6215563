/*
 * bandlimit.h -- the C ABI of the bandlimit library.
 *
 * Band-limited FFT convolution for CNN layers (Dziedzic et al., "Band-limited Training and
 * Inference for Convolutional Neural Networks", ICML 2019). The operator is specified in
 * docs/ALGORITHM.md; this header is the one contract between the native core and its callers
 * (the Java binding is generated from it by jextract).
 *
 * Conventions
 *  - Every entry point returns a bl_status. On failure the text of the error and the name of
 *    the argument at fault are kept thread-locally and read with bl_last_error_message() and
 *    bl_last_error_argument(); nothing aborts, exits or prints.
 *  - On failure no caller buffer is written (outputs, saved spectra, out-parameters).
 *  - Tensors are float32, C-contiguous: x[n][C][H][W], w[F][C][KH][KW], b[F],
 *    y[n][F][Ho][Wo], dy like y, dx like x, dw like w, db like b (1D: drop H and KH).
 *  - Sizes are int64_t. Every buffer, workspace included, is owned by the caller; execute
 *    calls allocate nothing.
 *  - A plan is immutable after creation; concurrent execute calls on one plan are safe when
 *    each uses its own output, saved-spectra and workspace buffers.
 *  - Host arithmetic of execute calls and layer kernels treats float32 subnormals (|v| <
 *    2^-126) as zero -- read as 0, flushed to 0 when produced (FTZ + DAZ), as TensorFlow does
 *    on CPU -- because each subnormal operation costs x86 a microcode assist (a 20x slower call
 *    on subnormal data). The caller's floating-point mode is restored before a call returns.
 *    CUDA kernels keep IEEE subnormals. docs/RELIABILITY.md states the range of magnitudes
 *    over which results keep their error bound (about 2^-100 to 2^110 of the data's scale).
 *  - Plans are created in an execution context (bl_context: backend, device, CPU threads and
 *    code path, CUDA stream) and their execute calls run in it. A NULL context is the default
 *    context: the CPU backend, with the library-wide settings bl_set_num_threads and
 *    bl_set_cpu_path.
 *
 * Memory of each buffer argument
 *  - Data buffers of execute calls -- x, w, bias, y, saved, workspace, dy, dx, dw, db -- live in
 *    the context's buffer memory (bl_context_buffer_memory): host memory for BL_BACKEND_CPU,
 *    device memory of the context's device for BL_BACKEND_CUDA (cudaMalloc, or managed memory).
 *  - Everything else is host memory for every backend: descriptions, options, out-parameters
 *    (out_box, out_bytes, out_flops, ...) and the strings the library returns.
 *  - A CUDA execute call is queued on the context's stream; its data buffers must stay valid
 *    until the stream has run it. out_box of an energy-mode forward is written before the call
 *    returns (the box choice synchronises the stream).
 */
#ifndef BANDLIMIT_H
#define BANDLIMIT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define BL_API __declspec(dllexport)
#else
#define BL_API __attribute__((visibility("default")))
#endif

#define BL_VERSION_MAJOR 0
#define BL_VERSION_MINOR 4
#define BL_VERSION_PATCH 0

/* ---------------------------------------------------------------------------------------- */
/* Status codes                                                                              */
/* ---------------------------------------------------------------------------------------- */

typedef enum bl_status {
    BL_OK = 0,
    /* A required pointer argument was NULL. */
    BL_ERR_NULL_POINTER = 1,
    /* A size is zero or negative, a kernel is larger than the padded input, a padding is
       negative or a stride is below 1. */
    BL_ERR_INVALID_SIZE = 2,
    /* rho outside [0, 1), energy fraction outside (0, 1], NaN, or an unknown kind. */
    BL_ERR_INVALID_COMPRESSION = 3,
    /* The batch n of an execute call is outside [1, max_batch]. */
    BL_ERR_INVALID_BATCH = 4,
    /* A product of sizes (elements, bytes, FLOPs) does not fit in 64 bits. */
    BL_ERR_SIZE_OVERFLOW = 5,
    /* A workspace or saved-spectra buffer is smaller than the plan requires. */
    BL_ERR_BUFFER_TOO_SMALL = 6,
    /* The saved-spectra buffer was not written by a forward of this plan (or is corrupt). */
    BL_ERR_INVALID_SAVED_SPECTRA = 7,
    /* An enum argument has an unknown value, or another argument is invalid. */
    BL_ERR_INVALID_ARGUMENT = 8,
    /* The requested backend or CPU code path is not available in this build or machine. */
    BL_ERR_UNSUPPORTED = 9,
    /* Plan creation could not allocate its tables. */
    BL_ERR_OUT_OF_MEMORY = 10,
    /* A bug: please report it with the message. */
    BL_ERR_INTERNAL = 11,
    /* A plan would exceed a limit (see "Plan limits"): an FFT length above
       BL_MAX_FFT_LENGTH, or more bytes than its options' max_bytes. Refused before anything
       is allocated. */
    BL_ERR_TOO_LARGE = 12
} bl_status;

/* Static name of a status ("BL_OK", "BL_ERR_NULL_POINTER", ...); never NULL. */
BL_API const char* bl_status_name(bl_status status);

/* Text of the last error raised on the calling thread ("" when none). Valid until the next
   bandlimit call on the same thread. */
BL_API const char* bl_last_error_message(void);

/* Name of the argument at fault in the last error raised on the calling thread, as this header
   spells it ("n", "workspace_bytes", "compression", "options.spectra_mode", "kernel_width",
   "desc" for a size product that overflows, ...); "" when no single argument is at fault (out
   of memory, internal errors) or no error was raised. Valid like bl_last_error_message. */
BL_API const char* bl_last_error_argument(void);

/* Library version (major, minor, patch), e.g. to check that a binding matches. */
BL_API bl_status bl_version(int32_t* major, int32_t* minor, int32_t* patch);

/* ---------------------------------------------------------------------------------------- */
/* Backends and execution contexts                                                           */
/* ---------------------------------------------------------------------------------------- */

typedef enum bl_backend {
    BL_BACKEND_CPU = 0,
    BL_BACKEND_CUDA = 1
} bl_backend;

/* Where the data buffers of execute calls live (see "Memory of each buffer argument"). */
typedef enum bl_memory_kind {
    BL_MEMORY_HOST = 0,
    BL_MEMORY_DEVICE = 1
} bl_memory_kind;

typedef enum bl_cpu_path {
    BL_CPU_PATH_AUTO = -1,     /* only as a setting: the best the machine supports */
    BL_CPU_PATH_PORTABLE = 0,  /* plain C++, any x86-64 */
    BL_CPU_PATH_AVX2 = 1,
    BL_CPU_PATH_AVX512 = 2
} bl_cpu_path;

/* What the backend registry knows of a backend. The strings are static: valid for the life of
   the process. */
typedef struct bl_backend_info {
    int32_t available;      /* 1: usable in this build on this machine; 0: see reason */
    int32_t buffer_memory;  /* a bl_memory_kind */
    const char* name;       /* "cpu", "cuda" */
    const char* reason;     /* why it is not available; "" when it is */
} bl_backend_info;

BL_API bl_status bl_backend_query(int32_t backend, bl_backend_info* out_info);

/* Whether a backend is available in this build and on this machine (1) or not (0); the reason
   is in bl_backend_query. */
BL_API bl_status bl_backend_available(int32_t backend, int32_t* out_available);

typedef struct bl_context_s* bl_context;

typedef struct bl_context_options {
    int32_t backend;      /* a bl_backend (BL_ERR_UNSUPPORTED when not available) */
    int32_t device;       /* BL_BACKEND_CUDA: the device ordinal; BL_BACKEND_CPU: must be 0 */
    int32_t num_threads;  /* host threads of execute calls; 0: the number of CPUs */
    int32_t cpu_path;     /* a bl_cpu_path: the CPU code path (BL_CPU_PATH_AUTO: the best) */
    void* stream;         /* BL_BACKEND_CUDA: the cudaStream_t execute calls are queued on
                             (NULL: the default stream); BL_BACKEND_CPU: must be NULL */
} bl_context_options;

/* Creates a context; options may be NULL (CPU, all CPUs, the best path). */
BL_API bl_status bl_context_create(const bl_context_options* options, bl_context* out_context);

/* Releases the caller's context; plans created in it keep it alive until they are destroyed.
   NULL is accepted and ignored. Like bl_plan_destroy: not while another thread passes this
   handle to a call, and not used afterwards. */
BL_API bl_status bl_context_destroy(bl_context context);

/* In the functions below, context NULL means the default context. */
BL_API bl_status bl_context_backend(bl_context context, int32_t* out_backend);
BL_API bl_status bl_context_buffer_memory(bl_context context, int32_t* out_memory_kind);

/* Host threads of execute calls (set: >= 1; default: the number of CPUs). A plan sizes its
   workspace for the threads set when it was created: more threads set later are not used. */
BL_API bl_status bl_context_set_num_threads(bl_context context, int32_t num_threads);
BL_API bl_status bl_context_get_num_threads(bl_context context, int32_t* out_num_threads);

/* The CPU code path in use, and a way to force one (BL_ERR_UNSUPPORTED when the machine or the
   build lacks it). Execute calls read it when they start. */
BL_API bl_status bl_context_set_cpu_path(bl_context context, int32_t path);
BL_API bl_status bl_context_get_cpu_path(bl_context context, int32_t* out_path);

/* The CUDA stream of a CUDA context (BL_ERR_INVALID_ARGUMENT on a CPU context unless NULL). */
BL_API bl_status bl_context_set_stream(bl_context context, void* stream);

/* Buffers in the memory of a context's backend (bl_context_buffer_memory): device memory of
   the context's device for CUDA (cudaMalloc), 64-byte aligned host memory for the CPU. The
   data, saved-spectra and workspace arguments of execute calls on a CUDA context must be such
   buffers (or CUDA managed memory); bl_buffer_copy moves data between them and host memory.
   Buffers are the caller's: they are not counted by bl_allocated_bytes. */
typedef enum bl_copy_kind {
    BL_COPY_HOST_TO_BUFFER = 0,
    BL_COPY_BUFFER_TO_HOST = 1,
    BL_COPY_BUFFER_TO_BUFFER = 2
} bl_copy_kind;

/* Allocates bytes (>= 1) in the context's memory; BL_ERR_OUT_OF_MEMORY when it cannot. */
BL_API bl_status bl_buffer_alloc(bl_context context, int64_t bytes, void** out_buffer);

/* Frees a buffer of bl_buffer_alloc in the same context; NULL is accepted and ignored. */
BL_API bl_status bl_buffer_free(bl_context context, void* buffer);

/* Copies bytes (>= 0) between host memory and buffers (kind: a bl_copy_kind). Runs after the
   work already queued on the context's stream and returns when the copy is complete, so the
   results of execute calls are visible to it. */
BL_API bl_status bl_buffer_copy(bl_context context, void* dst, const void* src, int64_t bytes, int32_t kind);

/* Waits until the work queued by execute calls on the context's stream is done (and reports
   an error a queued kernel raised); returns at once on the CPU. */
BL_API bl_status bl_context_synchronize(bl_context context);

/* Sets bytes (>= 0) of a buffer of the context's memory to zero, in the order of the work
   queued on the context's stream (a device memset on CUDA). */
BL_API bl_status bl_buffer_zero(bl_context context, void* buffer, int64_t bytes);

/* ---------------------------------------------------------------------------------------- */
/* Plan description                                                                          */
/* ---------------------------------------------------------------------------------------- */

typedef enum bl_compression_kind {
    /* Fixed coefficient compression: value = rho in [0, 1), the requested fraction of the
       half-spectrum coefficients to discard (ALGORITHM.md section 3). */
    BL_COMPRESSION_FIXED = 0,
    /* Energy compression: value = E in (0, 1], the fraction of the input spectrum's energy to
       keep; the box is chosen per forward call and reused by the backward. */
    BL_COMPRESSION_ENERGY = 1
} bl_compression_kind;

typedef struct bl_compression {
    int32_t kind;  /* a bl_compression_kind */
    double value;  /* rho or E */
} bl_compression;

typedef enum bl_spectra_mode {
    /* The forward saves compact input and weight spectra; the backward transforms only dy. */
    BL_SPECTRA_INPUT_AND_WEIGHT = 0,
    /* The forward saves only the input spectra; the backward recomputes the weight spectra
       from w (less memory: for a 3x3 kernel on a 32x32 map the weight spectra are ~150x the
       weights). */
    BL_SPECTRA_INPUT_ONLY = 1
} bl_spectra_mode;

/* Geometry of a 2D layer. Padding is per side; stride per axis. */
typedef struct bl_conv2d_desc {
    int64_t max_batch;      /* N: the largest batch an execute call may pass */
    int64_t channels;       /* C */
    int64_t height;         /* H */
    int64_t width;          /* W */
    int64_t filters;        /* F */
    int64_t kernel_height;  /* KH */
    int64_t kernel_width;   /* KW */
    int64_t pad_top;
    int64_t pad_bottom;
    int64_t pad_left;
    int64_t pad_right;
    int64_t stride_h;
    int64_t stride_w;
} bl_conv2d_desc;

/* Geometry of a 1D layer: x[N][C][L], w[F][C][K]. Maps onto the 2D plan with H = KH = 1. */
typedef struct bl_conv1d_desc {
    int64_t max_batch;  /* N */
    int64_t channels;   /* C */
    int64_t length;     /* L */
    int64_t filters;    /* F */
    int64_t kernel;     /* K */
    int64_t pad_left;
    int64_t pad_right;
    int64_t stride;
} bl_conv1d_desc;

/* How a backend computes the per-frequency product of the forward and the weight gradient.
   SPECTRAL: the product of spectra, then inverse transforms of the outputs (ALGORITHM.md).
   SPATIAL (the CPU backend, stride 1, at most 49 kernel taps; BL_ERR_UNSUPPORTED otherwise):
   the same operator as direct sums over the band-limited input P(x) (the box applied to x
   alone, which commutes with the convolution), with no transform of the outputs: cheaper for
   few input channels and small kernels, such as a CNN's first layer. The data gradient is
   always spectral. AUTO (0): the backend's cost model picks per pass and batch. */
typedef enum bl_product {
    BL_PRODUCT_AUTO = 0,
    BL_PRODUCT_SPECTRAL = 1,
    BL_PRODUCT_SPATIAL = 2
} bl_product;

typedef enum bl_method {
    /* The operator of ALGORITHM.md: FFT lengths the smallest 7-smooth sizes >= the padded
       input, 3-mult (Gauss) complex products. */
    BL_METHOD_BANDLIMIT = 0,
    /* The paper's implementation, as a baseline for benchmarks only (ALGORITHM.md section 2
       allows it, flagged): FFT lengths the smallest powers of two >= padded input + kernel - 1
       per axis, and on the CUDA backend 4-mult complex products (the CPU keeps its kernels).
       The same box chain on the larger grid, so at rho > 0 the results differ from
       BL_METHOD_BANDLIMIT's (both are exact for their lengths at rho = 0). */
    BL_METHOD_PAPER_BASELINE = 1
} bl_method;

/* Plan limits. A typo in a size must not freeze the caller while gigabytes of tables are
   built: plan creation computes, from the description alone and before allocating anything,
   the FFT lengths and the bytes the plan would take -- its own tables (bl_allocated_bytes),
   one workspace (bl_plan_workspace_bytes) and one saved-spectra buffer
   (bl_plan_saved_spectra_bytes) -- and refuses with BL_ERR_TOO_LARGE, in well under a
   millisecond, a plan that exceeds either limit:
    - BL_MAX_FFT_LENGTH: the largest FFT length along an axis (LH or LW), for every backend;
    - options.max_bytes: the largest total of those three byte counts (0:
      BL_DEFAULT_MAX_PLAN_BYTES, 16 GiB; a caller who needs more raises it, up to INT64_MAX). */
#define BL_MAX_FFT_LENGTH ((int64_t)1 << 24)
#define BL_DEFAULT_MAX_PLAN_BYTES ((int64_t)1 << 34)

typedef struct bl_plan_options {
    int32_t spectra_mode;  /* a bl_spectra_mode */
    int32_t product;       /* a bl_product (0: AUTO) */
    int32_t method;        /* a bl_method (0: BANDLIMIT) */
    int32_t reserved;      /* must be 0 */
    int64_t max_bytes;     /* >= 0: the plan-byte limit above (0: BL_DEFAULT_MAX_PLAN_BYTES) */
} bl_plan_options;

/* The low-frequency box of ALGORITHM.md section 3: rows 0..kh and LH-kh..LH-1, columns
   0..kw of the half spectrum. */
typedef struct bl_box {
    int64_t kh;
    int64_t kw;
} bl_box;

typedef struct bl_plan_s* bl_plan;

/* Creates a plan in a context (NULL: the default context). options may be NULL
   (BL_SPECTRA_INPUT_AND_WEIGHT, BL_PRODUCT_AUTO, BL_METHOD_BANDLIMIT, the default byte limit);
   a zeroed bl_plan_options means the same. The plan keeps its context alive. A plan over the
   limits above is BL_ERR_TOO_LARGE, its message naming the axis (or the byte counts) at fault. */
BL_API bl_status bl_plan_create_2d(bl_context context, const bl_conv2d_desc* desc,
                                   bl_compression compression, const bl_plan_options* options,
                                   bl_plan* out_plan);
BL_API bl_status bl_plan_create_1d(bl_context context, const bl_conv1d_desc* desc,
                                   bl_compression compression, const bl_plan_options* options,
                                   bl_plan* out_plan);

/* Destroys a plan; NULL is accepted and ignored. As with free(), the handle must not be used
   afterwards, nor destroyed while another thread executes the plan (undefined behaviour: the
   library cannot tell a stale pointer from a live one; the Java binding counts its calls in
   flight and destroys after the last). */
BL_API bl_status bl_plan_destroy(bl_plan plan);

/* ---------------------------------------------------------------------------------------- */
/* Plan queries                                                                              */
/* ---------------------------------------------------------------------------------------- */

/* The geometry as a 2D description (a 1D plan reports H = KH = 1, no vertical padding). */
BL_API bl_status bl_plan_desc(bl_plan plan, bl_conv2d_desc* out_desc);

/* Output size: Ho = floor((Hp - KH) / sh) + 1, Wo likewise (1D: Ho = 1). */
BL_API bl_status bl_plan_output_size(bl_plan plan, int64_t* out_height, int64_t* out_width);

/* FFT lengths LH, LW (ALGORITHM.md section 2; 1D: LH = 1). */
BL_API bl_status bl_plan_fft_lengths(bl_plan plan, int64_t* lh, int64_t* lw);

/* The fixed box and its achieved rate (discarded / total coefficients). In energy mode this
   is the full box (rate 0): the box used is chosen per forward and returned by it. */
BL_API bl_status bl_plan_box(bl_plan plan, bl_box* out_box, double* out_achieved_rate);

/* Achieved compression rate of any box of this plan's half spectrum. */
BL_API bl_status bl_plan_box_rate(bl_plan plan, bl_box box, double* out_rate);

/* Bytes of the saved-spectra buffer (for max_batch; energy mode: sized for the full box). */
BL_API bl_status bl_plan_saved_spectra_bytes(bl_plan plan, int64_t* out_bytes);

/* Bytes of workspace an execute call needs (the maximum over all passes). */
BL_API bl_status bl_plan_workspace_bytes(bl_plan plan, int64_t* out_bytes);

typedef enum bl_pass {
    BL_PASS_FORWARD = 0,
    BL_PASS_BACKWARD_DATA = 1,
    BL_PASS_BACKWARD_WEIGHTS = 2
} bl_pass;

/* FLOPs of one pass (ALGORITHM.md section 5).
   nominal: unpruned FFT convolution count (2.5 L log2 L per real transform, 8 per complex
            multiply-add on kept coefficients);
   executed: what this backend does (pruned transforms, 3-mult products);
   dense_equivalent: 2 N F C Ho Wo KH KW. */
typedef struct bl_flops {
    double nominal;
    double executed;
    double dense_equivalent;
} bl_flops;

/* FLOPs of a pass (a bl_pass) for batch n and box (box NULL = the plan's box). */
BL_API bl_status bl_plan_flops(bl_plan plan, int32_t pass, int64_t n, const bl_box* box,
                               bl_flops* out_flops);

/* ---------------------------------------------------------------------------------------- */
/* Execute                                                                                   */
/* ---------------------------------------------------------------------------------------- */

/* Forward: y = band-limited conv(x, w) + b for batch n (1 <= n <= max_batch).
   bias may be NULL (no bias). saved may be NULL (inference: nothing is saved); otherwise it
   must hold saved_bytes >= bl_plan_saved_spectra_bytes and receives the compact spectra and
   the box for the backward. out_box (may be NULL) receives the box used. */
BL_API bl_status bl_forward(bl_plan plan, int64_t n, const float* x, const float* w,
                            const float* bias, float* y, void* saved, int64_t saved_bytes,
                            void* workspace, int64_t workspace_bytes, bl_box* out_box);

/* Backward of the forward that wrote saved (same n). Transforms dy once and computes
   dx (may be NULL), dw (may be NULL) and db (may be NULL). w is read only in
   BL_SPECTRA_INPUT_ONLY mode when dx is wanted (it may be NULL otherwise). */
BL_API bl_status bl_backward(bl_plan plan, int64_t n, const void* saved, int64_t saved_bytes,
                             const float* w, const float* dy, float* dx, float* dw, float* db,
                             void* workspace, int64_t workspace_bytes);

/* dx = the adjoint of the band-limited forward applied to dy. */
BL_API bl_status bl_backward_data(bl_plan plan, int64_t n, const void* saved,
                                  int64_t saved_bytes, const float* w, const float* dy,
                                  float* dx, void* workspace, int64_t workspace_bytes);

/* dw (and db, which may be NULL) of the band-limited forward. */
BL_API bl_status bl_backward_weights(bl_plan plan, int64_t n, const void* saved,
                                     int64_t saved_bytes, const float* dy, float* dw,
                                     float* db, void* workspace, int64_t workspace_bytes);

/* ---------------------------------------------------------------------------------------- */
/* Layer kernels: the dense ops around the convolutions of a CNN                             */
/* ---------------------------------------------------------------------------------------- */
/*
 * Batch norm, ReLU, max pooling, a linear layer, an element-wise add and the optimizers'
 * updates, for callers (the Java nn package) whose training step would otherwise run these
 * loops outside the native core. The conventions above hold: caller-owned float32 buffers in
 * the context's buffer memory (host memory on the CPU, device memory on CUDA), validated
 * descriptions, a status. They run on the
 * context's threads (NULL = the default context) and every output element is computed in a
 * fixed order, so results are bitwise independent of the thread count. Reductions (batch-norm
 * statistics and gradient sums) are summed in float64.
 *
 * "accumulate" arguments choose between writing an output (0) and adding into it (1). Where
 * a gradient output may be NULL, NULL means "not wanted".
 */

/* Batch normalisation over x[batch][channels][spatial] (spatial = H W, L, or 1), per channel.
   training = 1: normalise with the batch mean and biased variance, and update
   running_mean / running_var in place as PyTorch (r = (1 - momentum) r + momentum s, with the
   unbiased variance); batch * spatial must be >= 2. training = 0: use the running
   statistics. relu = 1 fuses a ReLU: y = max(batch_norm(x), 0). */
typedef struct bl_batchnorm_desc {
    int64_t batch;
    int64_t channels;
    int64_t spatial;
    int32_t training;
    int32_t relu;
    double momentum;  /* in [0, 1] */
    double eps;       /* > 0 */
} bl_batchnorm_desc;

/* y = gamma (x - mean) / sqrt(var + eps) + beta (then ReLU when desc.relu). Writes the mean and
   1 / sqrt(var + eps) used, per channel, to out_mean and out_inv_std (float64, for the
   backward; either may be NULL). running_mean / running_var are read (evaluation) or updated
   (training). */
BL_API bl_status bl_batchnorm_forward(bl_context context, const bl_batchnorm_desc* desc,
                                      const float* x, const float* gamma, const float* beta,
                                      float* running_mean, float* running_var, float* y,
                                      double* out_mean, double* out_inv_std);

/* Backward of a training forward with the same desc: mean / inv_std are what it wrote, y its
   output (read only when desc.relu, for the ReLU's mask; may be NULL otherwise). dx (written, or
   added into when dx_accumulate) may be NULL; dgamma and dbeta are added into and may be NULL. */
BL_API bl_status bl_batchnorm_backward(bl_context context, const bl_batchnorm_desc* desc,
                                       const float* x, const float* y, const float* dy,
                                       const float* gamma, const double* mean,
                                       const double* inv_std, float* dx, int32_t dx_accumulate,
                                       float* dgamma, float* dbeta);

/* y = max(x, 0) over count elements (y may be x). */
BL_API bl_status bl_relu_forward(bl_context context, int64_t count, const float* x, float* y);

/* dx (=, or += when accumulate) dy where x > 0, else 0 (the gradient at 0 is 0). */
BL_API bl_status bl_relu_backward(bl_context context, int64_t count, const float* x,
                                  const float* dy, float* dx, int32_t accumulate);

/* Max pooling of `planes` planes of height x width over kernel windows every stride, no
   padding: out_height = (height - kernel_h) / stride_h + 1, likewise the width. */
typedef struct bl_pool2d_desc {
    int64_t planes;
    int64_t height;
    int64_t width;
    int64_t kernel_h;
    int64_t kernel_w;
    int64_t stride_h;
    int64_t stride_w;
} bl_pool2d_desc;

/* y[p][i][j] = the window's maximum; winners (may be NULL) receives, per output, the index
   within its input plane of the first maximum in scan order (as PyTorch). A NaN in a window
   is not propagated (comparisons with NaN are false). */
BL_API bl_status bl_maxpool2d_forward(bl_context context, const bl_pool2d_desc* desc,
                                      const float* x, float* y, int32_t* winners);

/* dx[p][winner] += dy[p][k] for every output k; with accumulate = 0 dx is zeroed first. A winner
   outside [0, height * width) is BL_ERR_INVALID_ARGUMENT ("winners") on the CPU, before anything
   is written; on CUDA, where checking would cost a device-to-host copy, it adds to no element. */
BL_API bl_status bl_maxpool2d_backward(bl_context context, const bl_pool2d_desc* desc,
                                       const int32_t* winners, const float* dy, float* dx,
                                       int32_t accumulate);

/* y[n][o] = b[o] + sum_i x[n][i] w[o][i]: x[batch][in], w[out][in] (as PyTorch), b[out] (may be
   NULL), y[batch][out]. */
BL_API bl_status bl_linear_forward(bl_context context, int64_t batch, int64_t in, int64_t out,
                                   const float* x, const float* w, const float* b, float* y);

/* Adds the gradients of bl_linear_forward into dx[batch][in], dw[out][in] and db[out] (each
   may be NULL): dx += dy w, dw += dy^T x, db += sum_n dy. */
BL_API bl_status bl_linear_backward(bl_context context, int64_t batch, int64_t in, int64_t out,
                                    const float* x, const float* w, const float* dy, float* dx,
                                    float* dw, float* db);

/* dst[i] += src[i] for count elements. */
BL_API bl_status bl_add_into(bl_context context, int64_t count, float* dst, const float* src);

/* Average pooling with max pooling's geometry (bl_pool2d_desc): y = the window's mean, summed
   in float64. A 1D or global pooling is a plane of height 1, or a window of the whole plane. */
BL_API bl_status bl_avgpool2d_forward(bl_context context, const bl_pool2d_desc* desc,
                                      const float* x, float* y);

/* dx (=, or += when accumulate) the adjoint of bl_avgpool2d_forward: each input element gets
   the sum, over the windows that cover it, of dy / (kernel_h kernel_w), summed in float64 in
   the order of the windows (rows, then columns). */
BL_API bl_status bl_avgpool2d_backward(bl_context context, const bl_pool2d_desc* desc,
                                       const float* dy, float* dx, int32_t accumulate);

/* Inverted dropout over count elements: element i is kept when u_i >= p, where
   u_i = (bl_mix64(bl_mix64(seed) + i) >> 40) 2^-24 and bl_mix64 is SplitMix64's finaliser
   (z += 0x9E3779B97F4A7C15; z = (z ^ z >> 30) 0xBF58476D1CE4E5B9; z = (z ^ z >> 27)
   0x94D049BB133111EB; z ^ z >> 31), so the mask is a pure function of (seed, i), the same on
   every backend and thread count. Kept elements are scaled by (float) (1 / (1 - p)), dropped
   ones are 0; mask[i] (may be NULL) is 1 where kept, 0 where dropped. p in [0, 1). */
BL_API bl_status bl_dropout_forward(bl_context context, int64_t count, double p, uint64_t seed,
                                    const float* x, float* y, uint8_t* mask);

/* dx (=, or += when accumulate) dy (float) (1 / (1 - p)) where mask[i] is 1, else 0. */
BL_API bl_status bl_dropout_backward(bl_context context, int64_t count, double p,
                                     const uint8_t* mask, const float* dy, float* dx,
                                     int32_t accumulate);

/* Mean softmax cross-entropy of logits[batch][classes] against labels[batch] (int32 class
   indices in [0, classes), in the context's buffer memory): loss[0] (written) =
   (1 / batch) sum_n (logsumexp(logits_n) - logits_n[label_n]), each row's log-sum-exp taken
   in float64 after subtracting the row's maximum, the rows summed in float64 in order.
   probs[batch][classes] (may be NULL) receives the softmax for the backward. A label outside
   [0, classes) is BL_ERR_INVALID_ARGUMENT on the CPU; on CUDA, where checking would cost a
   device-to-host copy, it makes the loss (and, in the backward, that row's gradient) NaN. */
BL_API bl_status bl_softmax_xent_forward(bl_context context, int64_t batch, int64_t classes,
                                         const float* logits, const int32_t* labels,
                                         float* loss, float* probs);

/* dlogits (=, or += when accumulate) dloss[0] (probs - onehot(labels)) / batch, with probs the
   forward's softmax; dloss is one float in the context's buffer memory (the loss's
   gradient). */
BL_API bl_status bl_softmax_xent_backward(bl_context context, int64_t batch, int64_t classes,
                                          const float* probs, const int32_t* labels,
                                          const float* dloss, float* dlogits,
                                          int32_t accumulate);

/* One parameter tensor of an optimizer step: data is updated in place from grad; state0 and
   state1 are the optimizer's per-element state (Adam: first and second moments; SGD: the
   momentum buffer in state0, state1 unused and may be NULL; both may be NULL for SGD
   without momentum). */
typedef struct bl_param_slot {
    float* data;
    const float* grad;
    float* state0;
    float* state1;
    int64_t count;
} bl_param_slot;

/* Adam (torch.optim.Adam without amsgrad) at step `step` (1 for the first): with
   g = grad + weight_decay data, m = beta1 m + (1 - beta1) g, v = beta2 v + (1 - beta2) g^2,
   data -= (lr / (1 - beta1^step)) m / (sqrt(v) / sqrt(1 - beta2^step) + eps), in float32
   with the bias corrections in float64. All parameters in one call. */
typedef struct bl_adam_desc {
    double lr;
    double beta1;
    double beta2;
    double eps;
    double weight_decay;
    int64_t step;
} bl_adam_desc;

BL_API bl_status bl_adam_step(bl_context context, const bl_adam_desc* desc,
                              const bl_param_slot* params, int64_t param_count);

/* SGD (torch.optim.SGD, no dampening, no Nesterov): d = grad + weight_decay data; with
   momentum, buf = momentum buf + d and d = buf; data -= lr d, in float32. The caller zeroes
   buf (state0) before the first step, which is torch's buf = d on the first step. */
typedef struct bl_sgd_desc {
    double lr;
    double momentum;
    double weight_decay;
} bl_sgd_desc;

BL_API bl_status bl_sgd_step(bl_context context, const bl_sgd_desc* desc,
                             const bl_param_slot* params, int64_t param_count);

/* ---------------------------------------------------------------------------------------- */
/* Library-wide settings and counters                                                        */
/* ---------------------------------------------------------------------------------------- */

/* Bytes the library itself currently holds (plans and their tables). */
BL_API bl_status bl_allocated_bytes(int64_t* out_bytes);

/* The default context's settings (bl_context_set_num_threads / _cpu_path with NULL). */
BL_API bl_status bl_set_num_threads(int32_t num_threads);
BL_API bl_status bl_get_num_threads(int32_t* out_num_threads);
BL_API bl_status bl_get_cpu_path(int32_t* out_path);
BL_API bl_status bl_set_cpu_path(int32_t path);

#ifdef __cplusplus
}
#endif

#endif /* BANDLIMIT_H */
