// api.cpp -- the C ABI entry points: argument validation, status codes and the thread-local
// error text, then dispatch to the plan's backend. Nothing here throws across the ABI,
// aborts, exits or prints; on failure no caller buffer is written.
#include <omp.h>

#include <atomic>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include "bandlimit.h"
#include "cgemm.h"
#include "geometry.h"
#include "plan.h"

namespace bl {
namespace {

thread_local std::string t_last_error;
std::atomic<int64_t> g_allocated_bytes{0};
std::atomic<int> g_num_threads{0};  // 0: not set yet, use the number of CPUs

bl_status fail(bl_status status, const std::string& text) {
    t_last_error = text;
    return status;
}

bl_status fail_null(const char* arg) { return fail(BL_ERR_NULL_POINTER, std::string(arg) + " is NULL"); }

// FNV-1a over raw bytes: identifies a plan's geometry + compression in saved buffers.
uint64_t fnv1a(uint64_t h, const void* data, size_t bytes) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}
template <typename T>
uint64_t mix(uint64_t h, T v) { return fnv1a(h, &v, sizeof v); }

uint64_t plan_signature(const Plan& p) {
    const Geometry& g = p.geometry;
    uint64_t h = 0xcbf29ce484222325ull;
    const int64_t fields[] = {g.N, g.C, g.H, g.W, g.F, g.KH, g.KW, g.pad_top, g.pad_bottom,
                              g.pad_left, g.pad_right, g.stride_h, g.stride_w, g.is_1d ? 1 : 0};
    for (int64_t f : fields) h = mix(h, f);
    h = mix(h, p.compression.kind);
    h = mix(h, p.compression.value);
    h = mix(h, int32_t(p.spectra_mode));
    h = mix(h, int32_t(p.backend_kind));
    return h;
}

bool misaligned(const void* p) { return reinterpret_cast<uintptr_t>(p) % alignof(float) != 0; }

bl_status check_plan(bl_plan plan) {
    if (!plan) return fail_null("plan");
    return BL_OK;
}

bl_status check_batch(const Plan& p, int64_t n) {
    if (n < 1 || n > p.geometry.N)
        return fail(BL_ERR_INVALID_BATCH, "n must be in [1, max_batch = " +
                                              std::to_string(p.geometry.N) + "], got " + std::to_string(n));
    return BL_OK;
}

bl_status check_data(const void* ptr, const char* name, bool required) {
    if (!ptr) return required ? fail_null(name) : BL_OK;
    if (misaligned(ptr)) return fail(BL_ERR_INVALID_ARGUMENT, std::string(name) + " is not aligned to 4 bytes");
    return BL_OK;
}

bl_status check_workspace(const Plan& p, const void* workspace, int64_t workspace_bytes) {
    if (!workspace) return fail_null("workspace");
    const int64_t need = p.backend->workspace_bytes();
    if (workspace_bytes < need)
        return fail(BL_ERR_BUFFER_TOO_SMALL, "workspace_bytes is " + std::to_string(workspace_bytes) +
                                                 ", the plan needs " + std::to_string(need));
    return BL_OK;
}

bl_status check_compression(bl_compression c) {
    if (c.kind == BL_COMPRESSION_FIXED) {
        if (!(c.value >= 0.0 && c.value < 1.0))  // false for NaN too
            return fail(BL_ERR_INVALID_COMPRESSION,
                        "compression rho must be in [0, 1), got " + std::to_string(c.value));
    } else if (c.kind == BL_COMPRESSION_ENERGY) {
        if (!(c.value > 0.0 && c.value <= 1.0))
            return fail(BL_ERR_INVALID_COMPRESSION,
                        "compression energy fraction E must be in (0, 1], got " + std::to_string(c.value));
    } else {
        return fail(BL_ERR_INVALID_COMPRESSION,
                    "compression kind must be BL_COMPRESSION_FIXED or BL_COMPRESSION_ENERGY, got " +
                        std::to_string(c.kind));
    }
    return BL_OK;
}

bl_status create_plan(const bl_conv2d_desc& desc, bool is_1d, bl_compression compression,
                      const bl_plan_options* options, bl_plan* out_plan) {
    bl_plan_options opts{BL_BACKEND_CPU, BL_SPECTRA_INPUT_AND_WEIGHT};
    if (options) opts = *options;
    if (opts.backend != BL_BACKEND_CPU && opts.backend != BL_BACKEND_CUDA)
        return fail(BL_ERR_INVALID_ARGUMENT, "options.backend must be a bl_backend, got " +
                                                 std::to_string(opts.backend));
    if (opts.spectra_mode != BL_SPECTRA_INPUT_AND_WEIGHT && opts.spectra_mode != BL_SPECTRA_INPUT_ONLY)
        return fail(BL_ERR_INVALID_ARGUMENT, "options.spectra_mode must be a bl_spectra_mode, got " +
                                                 std::to_string(opts.spectra_mode));
    if (bl_status s = check_compression(compression); s != BL_OK) return s;
    Geometry g;
    std::string error;
    if (bl_status s = make_geometry(desc, is_1d, &g, &error); s != BL_OK) return fail(s, error);
    if (opts.backend == BL_BACKEND_CUDA)
        return fail(BL_ERR_UNSUPPORTED, "options.backend: the CUDA backend is not built into this library");

    auto plan = std::make_unique<Plan>();
    plan->geometry = g;
    plan->compression = compression;
    plan->backend_kind = static_cast<bl_backend>(opts.backend);
    plan->spectra_mode = static_cast<bl_spectra_mode>(opts.spectra_mode);
    plan->chain = box_chain(g);
    plan->box = plan->energy_mode() ? plan->full_box() : fixed_box(g, plan->chain, compression.value);
    plan->box_rate = achieved_rate(g, plan->box);
    plan->saved_bytes = saved_spectra_bytes(g, plan->box, plan->spectra_mode);
    plan->signature = plan_signature(*plan);
    plan->backend = make_cpu_backend(*plan, current_num_threads());
    plan->held_bytes = int64_t(sizeof(Plan)) + int64_t(plan->chain.capacity() * sizeof(Box)) +
                       plan->backend->table_bytes();
    g_allocated_bytes += plan->held_bytes;
    *out_plan = reinterpret_cast<bl_plan>(plan.release());
    return BL_OK;
}

// Converts anything thrown below the ABI into a status.
template <typename Fn>
bl_status guarded(Fn&& fn) {
    try {
        return fn();
    } catch (const std::bad_alloc&) {
        return fail(BL_ERR_OUT_OF_MEMORY, "out of memory");
    } catch (const std::exception& e) {
        return fail(BL_ERR_INTERNAL, std::string("internal error: ") + e.what());
    } catch (...) {
        return fail(BL_ERR_INTERNAL, "internal error");
    }
}

Plan& as_plan(bl_plan p) { return *reinterpret_cast<Plan*>(p); }

// Reads and validates the saved header against the plan and the batch.
bl_status read_saved(const Plan& p, int64_t n, const void* saved, int64_t saved_bytes, Box* box) {
    if (!saved) return fail_null("saved");
    if (misaligned(saved)) return fail(BL_ERR_INVALID_ARGUMENT, "saved is not aligned to 4 bytes");
    if (saved_bytes < p.saved_bytes)
        return fail(BL_ERR_BUFFER_TOO_SMALL, "saved_bytes is " + std::to_string(saved_bytes) +
                                                 ", the plan needs " + std::to_string(p.saved_bytes));
    SavedHeader h;
    std::memcpy(&h, saved, sizeof h);
    if (h.magic != kSavedMagic || h.check != saved_header_check(h))
        return fail(BL_ERR_INVALID_SAVED_SPECTRA, "saved was not written by a forward of this library");
    if (h.plan_signature != p.signature)
        return fail(BL_ERR_INVALID_SAVED_SPECTRA, "saved was written by a forward of a different plan");
    if (h.n != n)
        return fail(BL_ERR_INVALID_SAVED_SPECTRA, "saved holds a forward of batch " + std::to_string(h.n) +
                                                      ", the backward was called with n = " + std::to_string(n));
    const Box b{h.kh, h.kw};
    if (!box_in_chain(p.chain, b) || (!p.energy_mode() && b != p.box))
        return fail(BL_ERR_INVALID_SAVED_SPECTRA, "saved holds a box this plan cannot have used");
    *box = b;
    return BL_OK;
}

}  // namespace

uint64_t saved_header_check(const SavedHeader& h) {
    uint64_t c = 0x9e3779b97f4a7c15ull;
    c = mix(c, h.magic);
    c = mix(c, h.plan_signature);
    c = mix(c, h.n);
    c = mix(c, h.kh);
    c = mix(c, h.kw);
    return c;
}

int64_t saved_spectra_bytes(const Geometry& g, const Box& box, bl_spectra_mode mode) {
    // Compact complex float32 spectra (8 bytes a coefficient) of x for max_batch, and of w.
    const int64_t kept = kept_count(g, box);
    const int64_t items = g.N * g.C + (mode == BL_SPECTRA_INPUT_AND_WEIGHT ? g.F * g.C : 0);
    return kSavedHeaderBytes + 8 * kept * items;
}

int current_num_threads() {
    const int t = g_num_threads.load();
    return t > 0 ? t : std::max(1, omp_get_num_procs());
}

}  // namespace bl

using namespace bl;

extern "C" {

const char* bl_status_name(bl_status status) {
    switch (status) {
    case BL_OK: return "BL_OK";
    case BL_ERR_NULL_POINTER: return "BL_ERR_NULL_POINTER";
    case BL_ERR_INVALID_SIZE: return "BL_ERR_INVALID_SIZE";
    case BL_ERR_INVALID_COMPRESSION: return "BL_ERR_INVALID_COMPRESSION";
    case BL_ERR_INVALID_BATCH: return "BL_ERR_INVALID_BATCH";
    case BL_ERR_SIZE_OVERFLOW: return "BL_ERR_SIZE_OVERFLOW";
    case BL_ERR_BUFFER_TOO_SMALL: return "BL_ERR_BUFFER_TOO_SMALL";
    case BL_ERR_INVALID_SAVED_SPECTRA: return "BL_ERR_INVALID_SAVED_SPECTRA";
    case BL_ERR_INVALID_ARGUMENT: return "BL_ERR_INVALID_ARGUMENT";
    case BL_ERR_UNSUPPORTED: return "BL_ERR_UNSUPPORTED";
    case BL_ERR_OUT_OF_MEMORY: return "BL_ERR_OUT_OF_MEMORY";
    case BL_ERR_INTERNAL: return "BL_ERR_INTERNAL";
    }
    return "BL_ERR_UNKNOWN_STATUS";
}

const char* bl_last_error_message(void) { return t_last_error.c_str(); }

bl_status bl_version(int32_t* major, int32_t* minor, int32_t* patch) {
    if (!major) return fail_null("major");
    if (!minor) return fail_null("minor");
    if (!patch) return fail_null("patch");
    *major = BL_VERSION_MAJOR;
    *minor = BL_VERSION_MINOR;
    *patch = BL_VERSION_PATCH;
    return BL_OK;
}

bl_status bl_plan_create_2d(const bl_conv2d_desc* desc, bl_compression compression,
                            const bl_plan_options* options, bl_plan* out_plan) {
    if (!desc) return fail_null("desc");
    if (!out_plan) return fail_null("out_plan");
    return guarded([&] { return create_plan(*desc, false, compression, options, out_plan); });
}

bl_status bl_plan_create_1d(const bl_conv1d_desc* desc, bl_compression compression,
                            const bl_plan_options* options, bl_plan* out_plan) {
    if (!desc) return fail_null("desc");
    if (!out_plan) return fail_null("out_plan");
    // A 1D layer is the 2D operator with H = KH = 1 and no vertical padding (LH = 1).
    bl_conv2d_desc d{};
    d.max_batch = desc->max_batch;
    d.channels = desc->channels;
    d.height = 1;
    d.width = desc->length;
    d.filters = desc->filters;
    d.kernel_height = 1;
    d.kernel_width = desc->kernel;
    d.pad_left = desc->pad_left;
    d.pad_right = desc->pad_right;
    d.stride_h = 1;
    d.stride_w = desc->stride;
    return guarded([&] { return create_plan(d, true, compression, options, out_plan); });
}

bl_status bl_plan_destroy(bl_plan plan) {
    if (!plan) return BL_OK;
    Plan* p = &as_plan(plan);
    g_allocated_bytes -= p->held_bytes;
    delete p;
    return BL_OK;
}

bl_status bl_plan_desc(bl_plan plan, bl_conv2d_desc* out) {
    if (bl_status s = check_plan(plan); s != BL_OK) return s;
    if (!out) return fail_null("out_desc");
    const Geometry& g = as_plan(plan).geometry;
    *out = bl_conv2d_desc{g.N, g.C, g.H, g.W, g.F, g.KH, g.KW, g.pad_top, g.pad_bottom,
                          g.pad_left, g.pad_right, g.stride_h, g.stride_w};
    return BL_OK;
}

bl_status bl_plan_output_size(bl_plan plan, int64_t* out_height, int64_t* out_width) {
    if (bl_status s = check_plan(plan); s != BL_OK) return s;
    if (!out_height) return fail_null("out_height");
    if (!out_width) return fail_null("out_width");
    *out_height = as_plan(plan).geometry.Ho;
    *out_width = as_plan(plan).geometry.Wo;
    return BL_OK;
}

bl_status bl_plan_fft_lengths(bl_plan plan, int64_t* lh, int64_t* lw) {
    if (bl_status s = check_plan(plan); s != BL_OK) return s;
    if (!lh) return fail_null("lh");
    if (!lw) return fail_null("lw");
    *lh = as_plan(plan).geometry.LH;
    *lw = as_plan(plan).geometry.LW;
    return BL_OK;
}

bl_status bl_plan_box(bl_plan plan, bl_box* out_box, double* out_achieved_rate) {
    if (bl_status s = check_plan(plan); s != BL_OK) return s;
    if (!out_box) return fail_null("out_box");
    if (!out_achieved_rate) return fail_null("out_achieved_rate");
    const Plan& p = as_plan(plan);
    *out_box = bl_box{p.box.kh, p.box.kw};
    *out_achieved_rate = p.box_rate;
    return BL_OK;
}

bl_status bl_plan_box_rate(bl_plan plan, bl_box box, double* out_rate) {
    if (bl_status s = check_plan(plan); s != BL_OK) return s;
    if (!out_rate) return fail_null("out_rate");
    const Geometry& g = as_plan(plan).geometry;
    if (box.kh < 0 || box.kh > g.nyq_h || box.kw < 0 || box.kw > g.nyq_w)
        return fail(BL_ERR_INVALID_ARGUMENT, "box must have 0 <= kh <= " + std::to_string(g.nyq_h) +
                                                 " and 0 <= kw <= " + std::to_string(g.nyq_w));
    *out_rate = achieved_rate(g, Box{box.kh, box.kw});
    return BL_OK;
}

bl_status bl_plan_saved_spectra_bytes(bl_plan plan, int64_t* out_bytes) {
    if (bl_status s = check_plan(plan); s != BL_OK) return s;
    if (!out_bytes) return fail_null("out_bytes");
    *out_bytes = as_plan(plan).saved_bytes;
    return BL_OK;
}

bl_status bl_plan_workspace_bytes(bl_plan plan, int64_t* out_bytes) {
    if (bl_status s = check_plan(plan); s != BL_OK) return s;
    if (!out_bytes) return fail_null("out_bytes");
    *out_bytes = as_plan(plan).backend->workspace_bytes();
    return BL_OK;
}

bl_status bl_plan_flops(bl_plan plan, bl_pass pass, int64_t n, const bl_box* box, bl_flops* out) {
    if (bl_status s = check_plan(plan); s != BL_OK) return s;
    if (!out) return fail_null("out_flops");
    const Plan& p = as_plan(plan);
    if (pass != BL_PASS_FORWARD && pass != BL_PASS_BACKWARD_DATA && pass != BL_PASS_BACKWARD_WEIGHTS)
        return fail(BL_ERR_INVALID_ARGUMENT, "pass must be a bl_pass, got " + std::to_string(int(pass)));
    if (bl_status s = check_batch(p, n); s != BL_OK) return s;
    Box b = p.box;
    if (box) {
        b = Box{box->kh, box->kw};
        if (!box_in_chain(p.chain, b))
            return fail(BL_ERR_INVALID_ARGUMENT, "box (" + std::to_string(b.kh) + ", " + std::to_string(b.kw) +
                                                     ") is not on this plan's box chain");
    }
    const FlopCount fc = count_flops(p.geometry, pass, n, b, p.spectra_mode);
    *out = bl_flops{fc.nominal, fc.executed, fc.dense_equivalent};
    return BL_OK;
}

bl_status bl_forward(bl_plan plan, int64_t n, const float* x, const float* w, const float* bias,
                     float* y, void* saved, int64_t saved_bytes, void* workspace,
                     int64_t workspace_bytes, bl_box* out_box) {
    if (bl_status s = check_plan(plan); s != BL_OK) return s;
    const Plan& p = as_plan(plan);
    if (bl_status s = check_batch(p, n); s != BL_OK) return s;
    if (bl_status s = check_data(x, "x", true); s != BL_OK) return s;
    if (bl_status s = check_data(w, "w", true); s != BL_OK) return s;
    if (bl_status s = check_data(bias, "bias", false); s != BL_OK) return s;
    if (bl_status s = check_data(y, "y", true); s != BL_OK) return s;
    if (bl_status s = check_data(saved, "saved", false); s != BL_OK) return s;
    if (saved && saved_bytes < p.saved_bytes)
        return fail(BL_ERR_BUFFER_TOO_SMALL, "saved_bytes is " + std::to_string(saved_bytes) +
                                                 ", the plan needs " + std::to_string(p.saved_bytes));
    if (bl_status s = check_workspace(p, workspace, workspace_bytes); s != BL_OK) return s;
    return guarded([&] {
        Box used;
        ForwardArgs a{n, x, w, bias, y, static_cast<unsigned char*>(saved), workspace, &used};
        p.backend->forward(a);
        if (saved) {
            SavedHeader h{kSavedMagic, p.signature, n, used.kh, used.kw, 0};
            h.check = saved_header_check(h);
            std::memcpy(saved, &h, sizeof h);
        }
        if (out_box) *out_box = bl_box{used.kh, used.kw};
        return BL_OK;
    });
}

bl_status bl_backward(bl_plan plan, int64_t n, const void* saved, int64_t saved_bytes, const float* w,
                      const float* dy, float* dx, float* dw, float* db, void* workspace,
                      int64_t workspace_bytes) {
    if (bl_status s = check_plan(plan); s != BL_OK) return s;
    const Plan& p = as_plan(plan);
    if (bl_status s = check_batch(p, n); s != BL_OK) return s;
    if (bl_status s = check_data(dy, "dy", true); s != BL_OK) return s;
    if (bl_status s = check_data(dx, "dx", false); s != BL_OK) return s;
    if (bl_status s = check_data(dw, "dw", false); s != BL_OK) return s;
    if (bl_status s = check_data(db, "db", false); s != BL_OK) return s;
    const bool needs_w = dx && !p.saves_weight_spectra();
    if (bl_status s = check_data(w, "w", needs_w); s != BL_OK) return s;
    Box box;
    if (bl_status s = read_saved(p, n, saved, saved_bytes, &box); s != BL_OK) return s;
    if (bl_status s = check_workspace(p, workspace, workspace_bytes); s != BL_OK) return s;
    return guarded([&] {
        BackwardArgs a{n, box, static_cast<const unsigned char*>(saved), w, dy, dx, dw, db, workspace};
        p.backend->backward(a);
        return BL_OK;
    });
}

bl_status bl_backward_data(bl_plan plan, int64_t n, const void* saved, int64_t saved_bytes,
                           const float* w, const float* dy, float* dx, void* workspace,
                           int64_t workspace_bytes) {
    if (!dx) return fail_null("dx");
    return bl_backward(plan, n, saved, saved_bytes, w, dy, dx, nullptr, nullptr, workspace,
                       workspace_bytes);
}

bl_status bl_backward_weights(bl_plan plan, int64_t n, const void* saved, int64_t saved_bytes,
                              const float* dy, float* dw, float* db, void* workspace,
                              int64_t workspace_bytes) {
    if (!dw) return fail_null("dw");
    return bl_backward(plan, n, saved, saved_bytes, nullptr, dy, nullptr, dw, db, workspace,
                       workspace_bytes);
}

bl_status bl_allocated_bytes(int64_t* out_bytes) {
    if (!out_bytes) return fail_null("out_bytes");
    *out_bytes = g_allocated_bytes.load();
    return BL_OK;
}

bl_status bl_set_num_threads(int32_t num_threads) {
    if (num_threads < 1)
        return fail(BL_ERR_INVALID_ARGUMENT, "num_threads must be >= 1, got " + std::to_string(num_threads));
    g_num_threads = num_threads;
    return BL_OK;
}

bl_status bl_get_num_threads(int32_t* out_num_threads) {
    if (!out_num_threads) return fail_null("out_num_threads");
    *out_num_threads = current_num_threads();
    return BL_OK;
}

bl_status bl_get_cpu_path(int32_t* out_path) {
    if (!out_path) return fail_null("out_path");
    *out_path = cpu_path_current();
    return BL_OK;
}

bl_status bl_set_cpu_path(int32_t path) {
    switch (path) {
    case BL_CPU_PATH_AUTO: cpu_path_set(cpu_path_best()); return BL_OK;
    case BL_CPU_PATH_PORTABLE:
    case BL_CPU_PATH_AVX2:
    case BL_CPU_PATH_AVX512:
        if (!cpu_path_supported(path))
            return fail(BL_ERR_UNSUPPORTED, std::string("path: ") +
                                                (path == BL_CPU_PATH_AVX2 ? "AVX2 + FMA" : "AVX-512 (F, DQ, VL) + FMA") +
                                                " is not supported by this machine or build");
        cpu_path_set(path);
        return BL_OK;
    default:
        return fail(BL_ERR_INVALID_ARGUMENT, "path must be a bl_cpu_path, got " + std::to_string(path));
    }
}

bl_status bl_backend_available(int32_t backend, int32_t* out_available) {
    if (!out_available) return fail_null("out_available");
    if (backend != BL_BACKEND_CPU && backend != BL_BACKEND_CUDA)
        return fail(BL_ERR_INVALID_ARGUMENT, "backend must be a bl_backend, got " + std::to_string(backend));
    *out_available = backend == BL_BACKEND_CPU ? 1 : 0;
    return BL_OK;
}

}  // extern "C"
