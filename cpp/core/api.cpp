// api.cpp -- the C ABI entry points: argument validation, status codes and the thread-local
// error, then dispatch through the backend registry to the plan's backend. Nothing here throws across the ABI,
// aborts, exits or prints; on failure no caller buffer is written.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "backend.h"
#include "bandlimit.h"
#include "context.h"
#include "cpu_path.h"
#include "errors.h"
#include "float_mode.h"
#include "geometry.h"
#include "plan.h"
#include "registry.h"

namespace bl {
namespace {

std::atomic<int64_t> g_allocated_bytes{0};

bool misaligned(const void* p) { return reinterpret_cast<uintptr_t>(p) % alignof(float) != 0; }

bl_status check_plan(bl_plan plan) {
    if (!plan) return fail_null("plan");
    return BL_OK;
}

bl_status check_batch(const Plan& p, int64_t n) {
    if (n < 1 || n > p.geometry.N)
        return fail(BL_ERR_INVALID_BATCH, "n", "n must be in [1, max_batch = " +
                                              std::to_string(p.geometry.N) + "], got " + std::to_string(n));
    return BL_OK;
}

bl_status check_data(const void* ptr, const char* name, bool required) {
    if (!ptr) return required ? fail_null(name) : BL_OK;
    if (misaligned(ptr)) return fail(BL_ERR_INVALID_ARGUMENT, name, std::string(name) + " is not aligned to 4 bytes");
    return BL_OK;
}

// The saved-spectra buffer of a forward (required = false: may be NULL, inference) or of a
// backward: aligned, and as large as the plan asks.
bl_status check_saved(const Plan& p, const void* saved, int64_t saved_bytes, bool required) {
    if (bl_status s = check_data(saved, "saved", required); s != BL_OK || !saved) return s;
    if (saved_bytes < p.saved_bytes)
        return fail(BL_ERR_BUFFER_TOO_SMALL, "saved_bytes", "saved_bytes is " + std::to_string(saved_bytes) +
                                                 ", the plan needs " + std::to_string(p.saved_bytes));
    return BL_OK;
}

bl_status check_workspace(const Plan& p, const void* workspace, int64_t workspace_bytes) {
    if (!workspace) return fail_null("workspace");
    const int64_t need = p.backend->workspace_bytes();
    if (workspace_bytes < need)
        return fail(BL_ERR_BUFFER_TOO_SMALL, "workspace_bytes", "workspace_bytes is " + std::to_string(workspace_bytes) +
                                                 ", the plan needs " + std::to_string(need));
    return BL_OK;
}

bl_status check_compression(bl_compression c) {
    if (c.kind == BL_COMPRESSION_FIXED) {
        if (!(c.value >= 0.0 && c.value < 1.0))  // false for NaN too
            return fail(BL_ERR_INVALID_COMPRESSION, "compression",
                        "compression rho must be in [0, 1), got " + std::to_string(c.value));
    } else if (c.kind == BL_COMPRESSION_ENERGY) {
        if (!(c.value > 0.0 && c.value <= 1.0))
            return fail(BL_ERR_INVALID_COMPRESSION, "compression",
                        "compression energy fraction E must be in (0, 1], got " + std::to_string(c.value));
    } else {
        return fail(BL_ERR_INVALID_COMPRESSION, "compression",
                    "compression kind must be BL_COMPRESSION_FIXED or BL_COMPRESSION_ENERGY, got " +
                        std::to_string(c.kind));
    }
    return BL_OK;
}

bl_status check_cpu_path(int32_t path, const char* argument) {
    switch (path) {
    case BL_CPU_PATH_AUTO: return BL_OK;
    case BL_CPU_PATH_PORTABLE:
    case BL_CPU_PATH_AVX2:
    case BL_CPU_PATH_AVX512:
        if (!cpu_path_supported(path))
            return fail(BL_ERR_UNSUPPORTED, argument,
                        std::string(argument) + ": " + cpu_path_name(path) + " is not supported by this machine or build");
        return BL_OK;
    default:
        return fail(BL_ERR_INVALID_ARGUMENT, argument,
                    std::string(argument) + " must be a bl_cpu_path, got " + std::to_string(path));
    }
}

int resolve_cpu_path(int32_t path) { return path == BL_CPU_PATH_AUTO ? cpu_path_best() : path; }

// The registered backend of a bl_backend value, or a recorded error: INVALID_ARGUMENT for an
// unknown value, UNSUPPORTED (with the registry's reason) for one that cannot run here.
bl_status usable_backend(int32_t kind, const char* argument, const Backend** out) {
    const Backend* b = find_backend(kind);
    if (!b)
        return fail(BL_ERR_INVALID_ARGUMENT, argument,
                    std::string(argument) + " must be a bl_backend, got " + std::to_string(kind));
    if (!b->status().available)
        return fail(BL_ERR_UNSUPPORTED, argument,
                    std::string(argument) + ": the " + b->name() + " backend is not available: " + b->status().reason);
    *out = b;
    return BL_OK;
}

// The FFT length along one axis against BL_MAX_FFT_LENGTH. The argument named is the
// description field that contributes most to the padded size (the one a typo is likely in).
bl_status check_fft_length(int64_t length, const char* axis, const char* size_name, int64_t size,
                           const char* pad_a_name, int64_t pad_a, const char* pad_b_name, int64_t pad_b) {
    if (length <= BL_MAX_FFT_LENGTH) return BL_OK;
    const char* at_fault = size_name;
    if (pad_a > size && pad_a >= pad_b) at_fault = pad_a_name;
    else if (pad_b > size && pad_b > pad_a) at_fault = pad_b_name;
    return fail(BL_ERR_TOO_LARGE, at_fault,
                std::string(at_fault) + ": the " + axis + " " + std::to_string(size) + " + " + pad_a_name + " " +
                    std::to_string(pad_a) + " + " + pad_b_name + " " + std::to_string(pad_b) +
                    " needs an FFT length of " + std::to_string(length) + " along the " + axis +
                    ", above BL_MAX_FFT_LENGTH = " + std::to_string(BL_MAX_FFT_LENGTH));
}

std::string gib(double bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3g GiB", bytes / double(int64_t(1) << 30));
    return text;
}

// Tables + workspace + saved spectra against the plan-byte limit (all >= 0; summed in double,
// which cannot overflow). known_all: false when the counts are only what is known so far (the message says "at least").
bl_status check_plan_bytes(double tables, double workspace, double saved, int64_t max_bytes, bool known_all) {
    const double total = tables + workspace + saved;
    if (total <= double(max_bytes)) return BL_OK;
    return fail(BL_ERR_TOO_LARGE, "options.max_bytes",
                "options.max_bytes: the plan would take " + std::string(known_all ? "" : "at least ") +
                    std::to_string(int64_t(std::min(total, 9.2e18))) + " bytes (" + gib(total) + ": tables " +
                    std::to_string(int64_t(std::min(tables, 9.2e18))) + ", workspace " +
                    std::to_string(int64_t(std::min(workspace, 9.2e18))) + ", saved spectra " +
                    std::to_string(int64_t(std::min(saved, 9.2e18))) + "), above the limit of " +
                    std::to_string(max_bytes) + " bytes (" + gib(double(max_bytes)) +
                    "); raise options.max_bytes if this plan is meant");
}

bl_status create_plan(bl_context context, const bl_conv2d_desc& desc, bool is_1d, bl_compression compression,
                      const bl_plan_options* options, bl_plan* out_plan) {
    bl_plan_options opts{BL_SPECTRA_INPUT_AND_WEIGHT, BL_PRODUCT_AUTO, BL_METHOD_BANDLIMIT, 0, 0};
    if (options) opts = *options;
    if (opts.spectra_mode != BL_SPECTRA_INPUT_AND_WEIGHT && opts.spectra_mode != BL_SPECTRA_INPUT_ONLY)
        return fail(BL_ERR_INVALID_ARGUMENT, "options.spectra_mode", "options.spectra_mode must be a bl_spectra_mode, got " +
                                                 std::to_string(opts.spectra_mode));
    if (opts.product != BL_PRODUCT_AUTO && opts.product != BL_PRODUCT_SPECTRAL && opts.product != BL_PRODUCT_SPATIAL)
        return fail(BL_ERR_INVALID_ARGUMENT, "options.product",
                    "options.product must be a bl_product, got " + std::to_string(opts.product));
    if (opts.method != BL_METHOD_BANDLIMIT && opts.method != BL_METHOD_PAPER_BASELINE)
        return fail(BL_ERR_INVALID_ARGUMENT, "options.method",
                    "options.method must be a bl_method, got " + std::to_string(opts.method));
    if (opts.reserved != 0)
        return fail(BL_ERR_INVALID_ARGUMENT, "options.reserved",
                    "options.reserved must be 0, got " + std::to_string(opts.reserved));
    if (opts.max_bytes < 0)
        return fail(BL_ERR_INVALID_ARGUMENT, "options.max_bytes",
                    "options.max_bytes must be >= 0 (0: the default limit), got " + std::to_string(opts.max_bytes));
    const int64_t max_bytes = opts.max_bytes == 0 ? BL_DEFAULT_MAX_PLAN_BYTES : opts.max_bytes;
    if (bl_status s = check_compression(compression); s != BL_OK) return s;
    Geometry g;
    GeometryError error;
    if (bl_status s = make_geometry(desc, is_1d, &g, &error, opts.method == BL_METHOD_PAPER_BASELINE); s != BL_OK)
        return fail(s, error.argument.c_str(), error.text);

    // Plan limits (bandlimit.h), checked before anything is allocated: the lengths, then the
    // bytes, first of what the core holds (box chain, saved spectra), then with the backend's
    // estimate of its tables and workspace.
    if (is_1d) {
        if (bl_status s = check_fft_length(g.LW, "length", "length", g.W, "pad_left", g.pad_left, "pad_right",
                                           g.pad_right); s != BL_OK)
            return s;
    } else {
        if (bl_status s = check_fft_length(g.LH, "height", "height", g.H, "pad_top", g.pad_top, "pad_bottom",
                                           g.pad_bottom); s != BL_OK)
            return s;
        if (bl_status s = check_fft_length(g.LW, "width", "width", g.W, "pad_left", g.pad_left, "pad_right",
                                           g.pad_right); s != BL_OK)
            return s;
    }
    const double chain_bytes = double(box_chain_length_bound(g)) * double(sizeof(Box));
    if (bl_status s = check_plan_bytes(chain_bytes, 0, 0, max_bytes, false); s != BL_OK) return s;

    auto handle = std::make_unique<bl_plan_s>();
    Plan& plan = handle->plan;
    plan.geometry = g;
    plan.compression = compression;
    plan.spectra_mode = static_cast<bl_spectra_mode>(opts.spectra_mode);
    plan.product = static_cast<bl_product>(opts.product);
    plan.chain = box_chain(g);
    plan.box = plan.energy_mode() ? plan.full_box() : fixed_box(g, plan.chain, compression.value);
    plan.box_rate = achieved_rate(g, plan.box);
    plan.saved_bytes = saved_spectra_bytes(g, plan.box, plan.spectra_mode);
    plan.context = context_of(context);
    plan.signature = plan_signature(plan);
    const double core_bytes = double(sizeof(bl_plan_s)) + double(plan.chain.capacity() * sizeof(Box));
    if (bl_status s = check_plan_bytes(core_bytes, 0, double(plan.saved_bytes), max_bytes, false); s != BL_OK)
        return s;
    const Backend& backend = plan.context->backend();
    PlanBytes estimate;
    if (bl_status s = backend.estimate_plan(plan, *plan.context, &estimate); s != BL_OK) return s;
    if (bl_status s = check_plan_bytes(core_bytes + double(estimate.tables), double(estimate.workspace),
                                       double(plan.saved_bytes), max_bytes, !estimate.lower_bound);
        s != BL_OK)
        return s;
    if (bl_status s = backend.create_plan(plan, plan.context, &plan.backend); s != BL_OK) return s;
    plan.held_bytes = int64_t(core_bytes) + plan.backend->table_bytes();
    // A backend whose estimate is a lower bound (CUDA, whose cuFFT work area is known only once
    // its plans exist) is checked again on what it built.
    if (estimate.lower_bound) {
        if (bl_status s = check_plan_bytes(double(plan.held_bytes), double(plan.backend->workspace_bytes()),
                                           double(plan.saved_bytes), max_bytes, true);
            s != BL_OK)
            return s;
    }
    g_allocated_bytes += plan.held_bytes;
    *out_plan = handle.release();
    return BL_OK;
}

Plan& as_plan(bl_plan p) { return p->plan; }

// Reads and validates the saved header against the plan and the batch.
bl_status read_saved(const Plan& p, int64_t n, const void* saved, int64_t saved_bytes, Box* box) {
    if (bl_status s = check_saved(p, saved, saved_bytes, true); s != BL_OK) return s;
    SavedHeader h{};
    p.backend->read_saved_header(saved, &h);  // may throw (a device copy): callers are guarded
    if (h.magic != kSavedMagic || h.check != saved_header_check(h))
        return fail(BL_ERR_INVALID_SAVED_SPECTRA, "saved", "saved was not written by a forward of this library");
    if (h.plan_signature != p.signature)
        return fail(BL_ERR_INVALID_SAVED_SPECTRA, "saved", "saved was written by a forward of a different plan");
    if (h.n != n)
        return fail(BL_ERR_INVALID_SAVED_SPECTRA, "saved", "saved holds a forward of batch " + std::to_string(h.n) +
                                                      ", the backward was called with n = " + std::to_string(n));
    const Box b{h.kh, h.kw};
    if (!box_in_chain(p.chain, b) || (!p.energy_mode() && b != p.box))
        return fail(BL_ERR_INVALID_SAVED_SPECTRA, "saved", "saved holds a box this plan cannot have used");
    *box = b;
    return BL_OK;
}

}  // namespace

// FNV-1a over raw bytes: identifies a plan's geometry + compression in saved buffers.
namespace {
uint64_t fnv1a(uint64_t h, const void* data, size_t bytes) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}
template <typename T>
uint64_t mix(uint64_t h, T v) { return fnv1a(h, &v, sizeof v); }
}  // namespace

uint64_t plan_signature(const Plan& p) {
    const Geometry& g = p.geometry;
    uint64_t h = 0xcbf29ce484222325ull;
    const int64_t fields[] = {g.N, g.C, g.H, g.W, g.F, g.KH, g.KW, g.pad_top, g.pad_bottom,
                              g.pad_left, g.pad_right, g.stride_h, g.stride_w, g.is_1d ? 1 : 0, g.LH, g.LW};
    for (int64_t f : fields) h = mix(h, f);
    h = mix(h, p.compression.kind);
    h = mix(h, p.compression.value);
    h = mix(h, int32_t(p.spectra_mode));
    h = mix(h, int32_t(p.context->backend_kind()));
    return h;
}

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

}  // namespace bl

using namespace bl;

extern "C" {

const char* bl_status_name(bl_status status) {
    static_assert(sizeof(bl_status) == sizeof(int), "a C enum is an int on the supported ABIs");
    // Read as an int: a C caller may pass any int (-1, 99), and loading such a value as the C++
    // enum is undefined (clang's UBSan flags it; found by the fuzz driver).
    int code;
    std::memcpy(&code, &status, sizeof code);
    switch (code) {
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
    case BL_ERR_TOO_LARGE: return "BL_ERR_TOO_LARGE";
    }
    return "BL_ERR_UNKNOWN_STATUS";
}

const char* bl_last_error_message(void) { return last_error_message(); }

const char* bl_last_error_argument(void) { return last_error_argument(); }

bl_status bl_version(int32_t* major, int32_t* minor, int32_t* patch) {
    if (!major) return fail_null("major");
    if (!minor) return fail_null("minor");
    if (!patch) return fail_null("patch");
    *major = BL_VERSION_MAJOR;
    *minor = BL_VERSION_MINOR;
    *patch = BL_VERSION_PATCH;
    return BL_OK;
}

bl_status bl_plan_create_2d(bl_context context, const bl_conv2d_desc* desc, bl_compression compression,
                            const bl_plan_options* options, bl_plan* out_plan) {
    if (!desc) return fail_null("desc");
    if (!out_plan) return fail_null("out_plan");
    return guarded([&] { return create_plan(context, *desc, false, compression, options, out_plan); });
}

bl_status bl_plan_create_1d(bl_context context, const bl_conv1d_desc* desc, bl_compression compression,
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
    return guarded([&] { return create_plan(context, d, true, compression, options, out_plan); });
}

bl_status bl_plan_destroy(bl_plan plan) {
    if (!plan) return BL_OK;
    g_allocated_bytes -= plan->plan.held_bytes;
    delete plan;
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
        return fail(BL_ERR_INVALID_ARGUMENT, "box", "box must have 0 <= kh <= " + std::to_string(g.nyq_h) +
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

bl_status bl_plan_flops(bl_plan plan, int32_t pass_value, int64_t n, const bl_box* box, bl_flops* out) {
    if (bl_status s = check_plan(plan); s != BL_OK) return s;
    if (!out) return fail_null("out_flops");
    const Plan& p = as_plan(plan);
    // An int32_t, not a bl_pass, across the ABI: an out-of-range value is a caller's error to
    // report, not undefined behaviour to load.
    if (pass_value != BL_PASS_FORWARD && pass_value != BL_PASS_BACKWARD_DATA && pass_value != BL_PASS_BACKWARD_WEIGHTS)
        return fail(BL_ERR_INVALID_ARGUMENT, "pass", "pass must be a bl_pass, got " + std::to_string(pass_value));
    const bl_pass pass = static_cast<bl_pass>(pass_value);
    if (bl_status s = check_batch(p, n); s != BL_OK) return s;
    Box b = p.box;
    if (box) {
        b = Box{box->kh, box->kw};
        if (!box_in_chain(p.chain, b))
            return fail(BL_ERR_INVALID_ARGUMENT, "box", "box (" + std::to_string(b.kh) + ", " + std::to_string(b.kw) +
                                                     ") is not on this plan's box chain");
    }
    return guarded([&] {
        const FlopCount fc = count_flops(p.geometry, pass, n, b);
        *out = bl_flops{fc.nominal, p.backend->executed_flops(pass, n, b), fc.dense_equivalent};
        return BL_OK;
    });
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
    if (bl_status s = check_saved(p, saved, saved_bytes, false); s != BL_OK) return s;
    if (bl_status s = check_workspace(p, workspace, workspace_bytes); s != BL_OK) return s;
    return guarded([&] {
        const FlushSubnormals float_mode;  // float_mode.h
        Box used;
        ForwardArgs a{n, x, w, bias, y, static_cast<unsigned char*>(saved), workspace, &used};
        p.backend->forward(a);
        if (saved) {
            SavedHeader h{kSavedMagic, p.signature, n, used.kh, used.kw, 0};
            h.check = saved_header_check(h);
            p.backend->write_saved_header(saved, h);
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
    if (bl_status s = guarded([&] { return read_saved(p, n, saved, saved_bytes, &box); }); s != BL_OK) return s;
    if (bl_status s = check_workspace(p, workspace, workspace_bytes); s != BL_OK) return s;
    return guarded([&] {
        const FlushSubnormals float_mode;  // float_mode.h
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

bl_status bl_backend_query(int32_t backend, bl_backend_info* out_info) {
    if (!out_info) return fail_null("out_info");
    return guarded([&] {
        const Backend* b = find_backend(backend);
        if (!b)
            return fail(BL_ERR_INVALID_ARGUMENT, "backend", "backend must be a bl_backend, got " + std::to_string(backend));
        const BackendStatus& st = b->status();
        *out_info = bl_backend_info{st.available ? 1 : 0, b->buffer_memory(), b->name(), st.reason.c_str()};
        return BL_OK;
    });
}

bl_status bl_backend_available(int32_t backend, int32_t* out_available) {
    if (!out_available) return fail_null("out_available");
    bl_backend_info info;
    if (bl_status s = bl_backend_query(backend, &info); s != BL_OK) return s;
    *out_available = info.available;
    return BL_OK;
}

bl_status bl_context_create(const bl_context_options* options, bl_context* out_context) {
    if (!out_context) return fail_null("out_context");
    bl_context_options o{BL_BACKEND_CPU, 0, 0, BL_CPU_PATH_AUTO, nullptr};
    if (options) o = *options;
    return guarded([&] {
        const Backend* backend = nullptr;
        if (bl_status s = usable_backend(o.backend, "options.backend", &backend); s != BL_OK) return s;
        if (o.num_threads < 0)
            return fail(BL_ERR_INVALID_ARGUMENT, "options.num_threads",
                        "options.num_threads must be >= 0 (0: the number of CPUs), got " + std::to_string(o.num_threads));
        if (bl_status s = check_cpu_path(o.cpu_path, "options.cpu_path"); s != BL_OK) return s;
        if (bl_status s = backend->check_context(o); s != BL_OK) return s;
        auto handle = std::make_unique<bl_context_s>();
        handle->context = std::make_shared<Context>(backend, o.device, o.num_threads, resolve_cpu_path(o.cpu_path), o.stream);
        *out_context = handle.release();
        return BL_OK;
    });
}

bl_status bl_context_destroy(bl_context context) {
    delete context;  // plans hold their own reference
    return BL_OK;
}

bl_status bl_context_backend(bl_context context, int32_t* out_backend) {
    if (!out_backend) return fail_null("out_backend");
    *out_backend = context_of(context)->backend_kind();
    return BL_OK;
}

bl_status bl_context_buffer_memory(bl_context context, int32_t* out_memory_kind) {
    if (!out_memory_kind) return fail_null("out_memory_kind");
    *out_memory_kind = context_of(context)->backend().buffer_memory();
    return BL_OK;
}

bl_status bl_context_set_num_threads(bl_context context, int32_t num_threads) {
    if (num_threads < 1)
        return fail(BL_ERR_INVALID_ARGUMENT, "num_threads", "num_threads must be >= 1, got " + std::to_string(num_threads));
    context_of(context)->set_num_threads(num_threads);
    return BL_OK;
}

bl_status bl_context_get_num_threads(bl_context context, int32_t* out_num_threads) {
    if (!out_num_threads) return fail_null("out_num_threads");
    *out_num_threads = context_of(context)->num_threads();
    return BL_OK;
}

bl_status bl_context_set_cpu_path(bl_context context, int32_t path) {
    if (bl_status s = check_cpu_path(path, "path"); s != BL_OK) return s;
    context_of(context)->set_cpu_path(resolve_cpu_path(path));
    return BL_OK;
}

bl_status bl_context_get_cpu_path(bl_context context, int32_t* out_path) {
    if (!out_path) return fail_null("out_path");
    *out_path = context_of(context)->cpu_path();
    return BL_OK;
}

bl_status bl_context_set_stream(bl_context context, void* stream) {
    const std::shared_ptr<Context>& c = context_of(context);
    if (stream && c->backend().buffer_memory() == BL_MEMORY_HOST)
        return fail(BL_ERR_INVALID_ARGUMENT, "stream",
                    std::string("stream must be NULL for the ") + c->backend().name() + " backend");
    c->set_stream(stream);
    return BL_OK;
}

bl_status bl_buffer_alloc(bl_context context, int64_t bytes, void** out_buffer) {
    if (!out_buffer) return fail_null("out_buffer");
    if (bytes < 1) return fail(BL_ERR_INVALID_SIZE, "bytes", "bytes must be >= 1, got " + std::to_string(bytes));
    const std::shared_ptr<Context>& c = context_of(context);
    return guarded([&] { return c->backend().buffer_alloc(*c, bytes, out_buffer); });
}

bl_status bl_buffer_free(bl_context context, void* buffer) {
    if (!buffer) return BL_OK;
    const std::shared_ptr<Context>& c = context_of(context);
    return guarded([&] { return c->backend().buffer_free(*c, buffer); });
}

bl_status bl_buffer_copy(bl_context context, void* dst, const void* src, int64_t bytes, int32_t kind) {
    if (kind != BL_COPY_HOST_TO_BUFFER && kind != BL_COPY_BUFFER_TO_HOST && kind != BL_COPY_BUFFER_TO_BUFFER)
        return fail(BL_ERR_INVALID_ARGUMENT, "kind", "kind must be a bl_copy_kind (0, 1 or 2), got " + std::to_string(kind));
    if (bytes < 0) return fail(BL_ERR_INVALID_SIZE, "bytes", "bytes must be >= 0, got " + std::to_string(bytes));
    if (bytes == 0) return BL_OK;
    if (!dst) return fail_null("dst");
    if (!src) return fail_null("src");
    const std::shared_ptr<Context>& c = context_of(context);
    return guarded([&] { return c->backend().buffer_copy(*c, dst, src, bytes, static_cast<bl_copy_kind>(kind)); });
}

bl_status bl_context_synchronize(bl_context context) {
    const std::shared_ptr<Context>& c = context_of(context);
    return guarded([&] { return c->backend().synchronize(*c); });
}

bl_status bl_buffer_zero(bl_context context, void* buffer, int64_t bytes) {
    if (bytes < 0) return fail(BL_ERR_INVALID_SIZE, "bytes", "bytes must be >= 0, got " + std::to_string(bytes));
    if (bytes == 0) return BL_OK;
    if (!buffer) return fail_null("buffer");
    const std::shared_ptr<Context>& c = context_of(context);
    return guarded([&] { return c->backend().buffer_zero(*c, buffer, bytes); });
}

bl_status bl_set_num_threads(int32_t num_threads) { return bl_context_set_num_threads(nullptr, num_threads); }
bl_status bl_get_num_threads(int32_t* out_num_threads) { return bl_context_get_num_threads(nullptr, out_num_threads); }
bl_status bl_get_cpu_path(int32_t* out_path) { return bl_context_get_cpu_path(nullptr, out_path); }
bl_status bl_set_cpu_path(int32_t path) { return bl_context_set_cpu_path(nullptr, path); }

}  // extern "C"
