// cuda_backend.cu -- the CUDA backend: the band-limited operator on a CUDA device, behind the
// plugin table of cpp/core/backend_plugin.h (the registry loads libbandlimit_cuda.so only when
// the CUDA backend is asked for).
//
// Data flow of a forward (ALGORITHM.md sections 2-4; every buffer in device memory):
//   x --place_planes (zero padding)--> LH x LW grids --cuFFT R2C--> half spectra
//     --gather_box--> compact X^ [k][n][c]   (energy mode: spectrum_energy picks the box first)
//   w --weight_dft (direct, K x K terms per kept coefficient)--> compact W^ [k][f][c]
//   Y^_k (n x F) = X^_k W^_k^H  (cgemm3m, 3-mult form, reduction over C fused)
//   Y^ --scatter_box--> half spectra --cuFFT C2R--> grids --crop_planes (stride, 1/(LH LW), bias)--> y
// Backward: dy placed on the strided grid and transformed once; dX^_k = dY^_k W^_k,
// dW^_k = dY^_k^H X^_k; dx by C2R and crop, dw by weight_idft (only the K x K support).
// Saved spectra: the 64-byte header, X^ for the call's n, then (INPUT_AND_WEIGHT) W^ -- the
// CPU backend's layout, re plane then im plane per spectrum.
//
// The layer ops (bandlimit.h, "Layer kernels") are layer_kernels.cu's; this file puts their table
// and buffer_zero in the plugin's.
//
// cuFFT plans come from the shared cache (fft_plans.h) at plan creation, for the whole batch
// and for one sample (a call with n < N runs the one-sample transforms n times); execute
// allocates nothing, runs on the context's stream and returns without synchronising, except in
// energy mode, which copies the coefficient energies to the host to pick the box.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "backend_plugin.h"
#include "fft_plans.h"
#include "geometry.h"
#include "kernels.h"
#include "layer_kernels.h"
#include "plugin_checks.h"

namespace bl {
namespace cuda {
namespace {

void check_cufft(cufftResult r, const char* what) {
    if (r != CUFFT_SUCCESS) throw PassError{BL_ERR_INTERNAL, "", std::string("cuFFT: ") + what + ": " + cufft_result_name(r)};
}

// Device memory owned by the plan (its twiddle tables).
struct DeviceTable {
    void* p = nullptr;
    ~DeviceTable() {
        if (p) cudaFree(p);
    }
};

constexpr int64_t kAlign = 256;
int64_t align_bytes(int64_t b) { return (b + kAlign - 1) / kAlign * kAlign; }

// A compact spectrum: coefficient k of item j at re[k * items + j], im likewise.
struct Spectrum {
    float* re;
    float* im;
    int64_t items;
};
Spectrum spectrum_at(float* base, int64_t kept, int64_t items) { return {base, base + kept * items, items}; }

// The workspace regions of a plan (byte offsets, 256-aligned) and their total, given the
// cuFFT work area: shared by the plan and its estimate (plan_estimate), which passes 0 for the
// work area that only the built cuFFT plans know.
struct WorkspaceRegions {
    int64_t grid = 0, half = 0, fft = 0, x = 0, w = 0, y = 0, out = 0, energy = 0, total = 0;
};
WorkspaceRegions workspace_regions(const Geometry& g, const Box& cap, int64_t fft_work) {
    const int64_t kept = kept_count(g, cap), planes = g.N * std::max(g.C, g.F);
    WorkspaceRegions r;
    int64_t off = 0;
    auto region = [&off](int64_t bytes) {
        const int64_t at = off;
        off += align_bytes(bytes);
        return at;
    };
    r.grid = region(planes * g.LH * g.LW * 4);
    r.half = region(planes * g.LH * g.half_w * 8);
    r.fft = region(fft_work);
    r.x = region(kept * g.N * g.C * 8);
    r.w = region(kept * g.F * g.C * 8);
    r.y = region(kept * g.N * g.F * 8);
    r.out = region(kept * std::max(g.N * g.C, g.F * g.C) * 8);
    r.energy = region(g.LH * g.half_w * 8);
    r.total = off + kAlign;  // + kAlign: we align the base
    return r;
}

// Device bytes of the twiddle tables of a plan: (cos, sin) float pairs for LH and LW.
int64_t twiddle_table_bytes(const Geometry& g) { return 2 * (g.LH + g.LW) * int64_t(sizeof(float)); }

class CudaPlan {
public:
    CudaPlan(const Geometry& g, const bl_plugin_plan_spec& spec)
        : g_(g),
          device_(spec.device),
          mode_(spec.spectra_mode),
          energy_(spec.compression.kind == BL_COMPRESSION_ENERGY),
          energy_fraction_(spec.compression.value),
          cap_{spec.box.kh, spec.box.kw},
          chain_(box_chain(g)),
          x_at_{g.H, g.W, g.pad_top, 1, g.pad_left, 1},
          y_at_{g.Ho, g.Wo, 0, g.stride_h, 0, g.stride_w} {
        check_cuda(cudaSetDevice(device_), "cudaSetDevice");
        // The transforms: x and dy forward, y and dx inverse, for the whole batch and one sample.
        auto plan_for = [&](bool inverse, int64_t batch) { return fft_plan(FftKey{device_, inverse, g.LH, g.LW, batch}); };
        x_all_ = plan_for(false, g.N * g.C);
        x_one_ = plan_for(false, g.C);
        dy_all_ = plan_for(false, g.N * g.F);
        dy_one_ = plan_for(false, g.F);
        y_all_ = plan_for(true, g.N * g.F);
        y_one_ = plan_for(true, g.F);
        dx_all_ = plan_for(true, g.N * g.C);
        dx_one_ = plan_for(true, g.C);
        int64_t fft_work = 0;
        for (const auto* p : {&x_all_, &x_one_, &dy_all_, &dy_one_, &y_all_, &y_one_, &dx_all_, &dx_one_})
            fft_work = std::max(fft_work, (*p)->work_bytes());
        // Twiddles: (cos, sin)(2 pi m / L) in double, exact at quarter turns, stored as float.
        std::vector<float> host(size_t(twiddle_table_bytes(g) / int64_t(sizeof(float))));
        fill_twiddles(host.data(), g.LH);
        fill_twiddles(host.data() + 2 * g.LH, g.LW);
        table_bytes_ = int64_t(host.size() * sizeof(float));
        check_cuda(cudaMalloc(&twiddles_.p, size_t(table_bytes_)), "cudaMalloc (twiddle tables)");
        check_cuda(cudaMemcpy(twiddles_.p, host.data(), size_t(table_bytes_), cudaMemcpyHostToDevice),
                   "cudaMemcpy (twiddle tables)");
        const WorkspaceRegions r = workspace_regions(g, cap_, fft_work);
        off_grid_ = r.grid;
        off_half_ = r.half;
        off_fft_ = r.fft;
        off_x_ = r.x;
        off_w_ = r.w;
        off_y_ = r.y;
        off_out_ = r.out;
        off_energy_ = r.energy;
        workspace_bytes_ = r.total;
    }

    int64_t workspace_bytes() const { return workspace_bytes_; }
    int64_t table_bytes() const { return table_bytes_; }
    double executed_flops(int32_t pass, int64_t n, const Box& b) const;
    void forward(const bl_plugin_forward_args& a) const;
    void backward(const bl_plugin_backward_args& a) const;
    int device() const { return device_; }

private:
    BoxGrid box_grid(const Box& b) const { return BoxGrid{g_.LH, g_.LW, g_.half_w, b.kh, b.kw}; }
    Twiddles twiddles() const {
        const float* t = static_cast<const float*>(twiddles_.p);
        return Twiddles{t, t + 2 * g_.LH};
    }
    char* base(void* ws) const {
        auto p = reinterpret_cast<uintptr_t>(ws);
        return reinterpret_cast<char*>((p + kAlign - 1) / kAlign * kAlign);
    }
    // R2C (or C2R) of `planes` = n * per planes: the whole-batch plan when n == N, else the
    // one-sample plan n times.
    void transform(const FftPlan& all, const FftPlan& one, int64_t n, int64_t per, void* in, void* out,
                   void* work, cudaStream_t s) const {
        if (n == g_.N) return check_cufft(all.execute(in, out, work, s), "execute");
        const bool inverse = all.key().inverse;
        const int64_t real_plane = g_.LH * g_.LW * 4, half_plane = g_.LH * g_.half_w * 8;
        for (int64_t i = 0; i < n; ++i) {
            char* src = static_cast<char*>(in) + i * per * (inverse ? half_plane : real_plane);
            char* dst = static_cast<char*>(out) + i * per * (inverse ? real_plane : half_plane);
            check_cufft(one.execute(src, dst, work, s), "execute (one sample)");
        }
    }

    Geometry g_;
    int device_;
    int32_t mode_;
    bool energy_;
    double energy_fraction_;
    Box cap_;
    std::vector<Box> chain_;
    Placement x_at_, y_at_;
    std::shared_ptr<const FftPlan> x_all_, x_one_, dy_all_, dy_one_, y_all_, y_one_, dx_all_, dx_one_;
    DeviceTable twiddles_;
    int64_t table_bytes_ = 0;
    int64_t off_grid_ = 0, off_half_ = 0, off_fft_ = 0, off_x_ = 0, off_w_ = 0, off_y_ = 0, off_out_ = 0,
            off_energy_ = 0;
    int64_t workspace_bytes_ = 0;
};

// What the kernels execute: full (unpruned) cuFFT transforms of the grids, 2.5 L log2 L each;
// the direct DFT / inverse of the weights, 8 FLOPs per tap and kept coefficient; the 3-mult
// products (3 real products of 2 m n p, the operand pre-sums and the output sums).
double CudaPlan::executed_flops(int32_t pass, int64_t n, const Box& b) const {
    const Geometry& g = g_;
    const double kept = double(kept_count(g, b)), L = double(g.LH) * double(g.LW);
    const double fft = 2.5 * L * std::log2(std::max(2.0, L));
    const double taps = double(g.KH) * double(g.KW);
    auto gauss = [&](double m, double nn, double p) {
        return g.paper_baseline ? kept * 8.0 * m * nn * p  // 4 real FMAs per complex multiply-add
                                : kept * (6.0 * m * nn * p + 2.0 * (m * p + p * nn) + 2.0 * m * nn);
    };
    const double N = double(n), C = double(g.C), F = double(g.F);
    const double w_dft = F * C * kept * taps * 8.0;
    switch (pass) {
    case BL_PASS_FORWARD: return N * C * fft + w_dft + gauss(N, F, C) + N * F * fft;
    case BL_PASS_BACKWARD_DATA:
        return N * F * fft + (mode_ == BL_SPECTRA_INPUT_ONLY ? w_dft : 0.0) + gauss(N, C, F) + N * C * fft;
    case BL_PASS_BACKWARD_WEIGHTS: return N * F * fft + gauss(F, C, N) + w_dft;
    default: return 0.0;
    }
}

void CudaPlan::forward(const bl_plugin_forward_args& a) const {
    const Geometry& g = g_;
    const cudaStream_t s = static_cast<cudaStream_t>(a.stream);
    check_cuda(cudaSetDevice(device_), "cudaSetDevice");
    char* ws = base(a.workspace);
    float* grid = reinterpret_cast<float*>(ws + off_grid_);
    float2* half = reinterpret_cast<float2*>(ws + off_half_);
    void* work = ws + off_fft_;
    const int64_t n = a.n;
    // x: padded onto the grid, transformed.
    check_cuda(place_planes(a.x, n * g.C, x_at_, g.LH, g.LW, grid, s), "place_planes (x)");
    transform(*x_all_, *x_one_, n, g.C, grid, half, work, s);
    Box b = cap_;
    if (energy_) {
        double* energy = reinterpret_cast<double*>(ws + off_energy_);
        check_cuda(spectrum_energy(half, n * g.C, g.LH, g.LW, energy, s), "spectrum_energy");
        std::vector<double> host(size_t(2 * g.LH * g.half_w));
        check_cuda(cudaMemcpyAsync(host.data(), energy, size_t(g.LH * g.half_w) * sizeof(double),
                                   cudaMemcpyDeviceToHost, s),
                   "cudaMemcpyAsync (energies)");
        check_cuda(cudaStreamSynchronize(s), "cudaStreamSynchronize (energies)");
        b = energy_box(g, chain_, energy_fraction_, host.data(), host.data() + g.LH * g.half_w);
    }
    const int64_t kept = kept_count(g, b);
    const BoxGrid bg = box_grid(b);
    float* saved = a.saved ? reinterpret_cast<float*>(a.saved + 64) : nullptr;
    const Spectrum X = spectrum_at(saved ? saved : reinterpret_cast<float*>(ws + off_x_), kept, n * g.C);
    check_cuda(gather_box(half, n * g.C, bg, X.re, X.im, s), "gather_box (x)");
    float* w_base = (saved && mode_ == BL_SPECTRA_INPUT_AND_WEIGHT) ? saved + 2 * kept * n * g.C
                                                                     : reinterpret_cast<float*>(ws + off_w_);
    const Spectrum W = spectrum_at(w_base, kept, g.F * g.C);
    check_cuda(weight_dft(a.w, g.F * g.C, g.KH, g.KW, bg, twiddles(), W.re, W.im, s), "weight_dft");
    // Y^_k[n][f] = sum_c X^_k[n][c] conj(W^_k[f][c])
    const Spectrum Y = spectrum_at(reinterpret_cast<float*>(ws + off_y_), kept, n * g.F);
    check_cuda(cgemm3m(forward_product(kept, n, g.C, g.F, X.re, X.im, W.re, W.im, Y.re, Y.im), s, g.paper_baseline),
               "cgemm3m (forward)");
    check_cuda(scatter_box(Y.re, Y.im, n * g.F, bg, half, s), "scatter_box (y)");
    transform(*y_all_, *y_one_, n, g.F, half, grid, work, s);
    const float scale = float(1.0 / (double(g.LH) * double(g.LW)));
    check_cuda(crop_planes(grid, n * g.F, y_at_, g.LH, g.LW, scale, a.bias, g.F, a.y, s), "crop_planes (y)");
    *a.box_used = bl_box{b.kh, b.kw};
}

void CudaPlan::backward(const bl_plugin_backward_args& a) const {
    const Geometry& g = g_;
    const cudaStream_t s = static_cast<cudaStream_t>(a.stream);
    check_cuda(cudaSetDevice(device_), "cudaSetDevice");
    const int64_t n = a.n;
    if (a.db) check_cuda(bias_grad(a.dy, n, g.F, g.Ho * g.Wo, a.db, s), "bias_grad");
    if (!a.dx && !a.dw) return;
    char* ws = base(a.workspace);
    float* grid = reinterpret_cast<float*>(ws + off_grid_);
    float2* half = reinterpret_cast<float2*>(ws + off_half_);
    void* work = ws + off_fft_;
    const Box b{a.box.kh, a.box.kw};
    const int64_t kept = kept_count(g, b);
    const BoxGrid bg = box_grid(b);
    float* saved = reinterpret_cast<float*>(const_cast<unsigned char*>(a.saved) + 64);
    const Spectrum X = spectrum_at(saved, kept, n * g.C);
    // dy: zero-extended from the strided output grid, transformed once.
    check_cuda(place_planes(a.dy, n * g.F, y_at_, g.LH, g.LW, grid, s), "place_planes (dy)");
    transform(*dy_all_, *dy_one_, n, g.F, grid, half, work, s);
    const Spectrum dY = spectrum_at(reinterpret_cast<float*>(ws + off_y_), kept, n * g.F);
    check_cuda(gather_box(half, n * g.F, bg, dY.re, dY.im, s), "gather_box (dy)");
    float* out = reinterpret_cast<float*>(ws + off_out_);  // dX^, then dW^
    if (a.dx) {
        Spectrum W{};
        if (mode_ == BL_SPECTRA_INPUT_AND_WEIGHT) {
            W = spectrum_at(saved + 2 * kept * n * g.C, kept, g.F * g.C);
        } else {
            W = spectrum_at(reinterpret_cast<float*>(ws + off_w_), kept, g.F * g.C);
            check_cuda(weight_dft(a.w, g.F * g.C, g.KH, g.KW, bg, twiddles(), W.re, W.im, s), "weight_dft");
        }
        // dX^_k[n][c] = sum_f dY^_k[n][f] W^_k[f][c]
        const Spectrum dX = spectrum_at(out, kept, n * g.C);
        check_cuda(cgemm3m(data_product(kept, n, g.C, g.F, dY.re, dY.im, W.re, W.im, dX.re, dX.im), s, g.paper_baseline),
                   "cgemm3m (backward data)");
        check_cuda(scatter_box(dX.re, dX.im, n * g.C, bg, half, s), "scatter_box (dx)");
        transform(*dx_all_, *dx_one_, n, g.C, half, grid, work, s);
        const float scale = float(1.0 / (double(g.LH) * double(g.LW)));
        check_cuda(crop_planes(grid, n * g.C, x_at_, g.LH, g.LW, scale, nullptr, 1, a.dx, s), "crop_planes (dx)");
    }
    if (a.dw) {
        // dW^_k[f][c] = sum_n conj(dY^_k[n][f]) X^_k[n][c]
        const Spectrum dW = spectrum_at(out, kept, g.F * g.C);
        check_cuda(cgemm3m(weight_product(kept, n, g.C, g.F, dY.re, dY.im, X.re, X.im, dW.re, dW.im), s, g.paper_baseline),
                   "cgemm3m (backward weights)");
        check_cuda(weight_idft(dW.re, dW.im, g.F * g.C, g.KH, g.KW, bg, twiddles(), a.dw, s), "weight_idft");
    }
}

// --- The plugin table. ---

char g_reason[256];

int32_t probe(const char** reason) {
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        std::snprintf(g_reason, sizeof g_reason, "no usable CUDA device (cudaGetDeviceCount: %s)", cudaGetErrorString(err));
    } else if (count == 0) {
        std::snprintf(g_reason, sizeof g_reason, "no CUDA device on this machine");
    } else {
        g_reason[0] = '\0';
        *reason = g_reason;
        return 1;
    }
    *reason = g_reason;
    return 0;
}

bl_status check_context(int32_t device, void* /*stream*/, bl_plugin_error* e) {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || device < 0 || device >= count) {
        set_error(e, "options.device",
                  "options.device is " + std::to_string(device) + ", not a CUDA device ordinal of this machine (" +
                      std::to_string(count) + " device(s))");
        return BL_ERR_INVALID_ARGUMENT;
    }
    return BL_OK;
}

// The geometry of a plan spec (validated by the core already; a failure is still reported).
bl_status spec_geometry(const bl_plugin_plan_spec* spec, Geometry* g, bl_plugin_error* e) {
    GeometryError ge;
    const bl_status st = make_geometry(spec->desc, spec->is_1d != 0, g, &ge, spec->method == BL_METHOD_PAPER_BASELINE);
    if (st != BL_OK) set_error(e, ge.argument, ge.text);
    return st;
}

bl_status plan_create(const bl_plugin_plan_spec* spec, void** out, bl_plugin_error* e) {
    Geometry g;
    if (bl_status st = spec_geometry(spec, &g, e); st != BL_OK) return st;
    CudaPlan* plan = nullptr;
    const bl_status st = guarded(e, [&] { plan = new CudaPlan(g, *spec); });
    if (st == BL_OK) *out = plan;
    return st;
}

bl_status plan_estimate(const bl_plugin_plan_spec* spec, int64_t* out_tables, int64_t* out_workspace,
                        bl_plugin_error* e) {
    Geometry g;
    if (bl_status st = spec_geometry(spec, &g, e); st != BL_OK) return st;
    *out_tables = twiddle_table_bytes(g);
    *out_workspace = workspace_regions(g, Box{spec->box.kh, spec->box.kw}, 0).total;
    return BL_OK;
}

void plan_destroy(void* plan) { delete static_cast<CudaPlan*>(plan); }
int64_t workspace_bytes(const void* plan) { return static_cast<const CudaPlan*>(plan)->workspace_bytes(); }
int64_t table_bytes(const void* plan) { return static_cast<const CudaPlan*>(plan)->table_bytes(); }
double executed_flops(const void* plan, int32_t pass, int64_t n, bl_box box) {
    return static_cast<const CudaPlan*>(plan)->executed_flops(pass, n, Box{box.kh, box.kw});
}

bl_status forward(const void* p, const bl_plugin_forward_args* a, bl_plugin_error* e) {
    const CudaPlan& plan = *static_cast<const CudaPlan*>(p);
    if (bl_status st = check_buffers(plan.device(), {{a->x, "x"}, {a->w, "w"}, {a->bias, "bias"}, {a->y, "y"},
                                                     {a->saved, "saved"}, {a->workspace, "workspace"}},
                                     e);
        st != BL_OK)
        return st;
    return guarded(e, [&] { plan.forward(*a); });
}

bl_status backward(const void* p, const bl_plugin_backward_args* a, bl_plugin_error* e) {
    const CudaPlan& plan = *static_cast<const CudaPlan*>(p);
    if (bl_status st = check_buffers(plan.device(), {{a->saved, "saved"}, {a->w, "w"}, {a->dy, "dy"}, {a->dx, "dx"},
                                                     {a->dw, "dw"}, {a->db, "db"}, {a->workspace, "workspace"}},
                                     e);
        st != BL_OK)
        return st;
    return guarded(e, [&] { plan.backward(*a); });
}

// The header lives in device memory like the rest of the saved buffer.
bl_status write_saved_header(const void*, void* saved, const void* header, int64_t bytes, void* stream,
                             bl_plugin_error* e) {
    cudaStream_t s = static_cast<cudaStream_t>(stream);
    if (cudaMemcpyAsync(saved, header, size_t(bytes), cudaMemcpyHostToDevice, s) != cudaSuccess ||
        cudaStreamSynchronize(s) != cudaSuccess) {
        (void)cudaGetLastError();
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
        (void)cudaGetLastError();
        set_error(e, "saved", "saved: reading the spectra header from device memory failed");
        return BL_ERR_INVALID_ARGUMENT;
    }
    return BL_OK;
}

bl_status buffer_alloc(int32_t device, int64_t bytes, void** out, bl_plugin_error* e) {
    if (cudaSetDevice(device) != cudaSuccess) {
        (void)cudaGetLastError();
        set_error(e, "context", "cudaSetDevice(" + std::to_string(device) + ") failed");
        return BL_ERR_INVALID_ARGUMENT;
    }
    const cudaError_t err = cudaMalloc(out, size_t(bytes));
    if (err != cudaSuccess) {
        (void)cudaGetLastError();
        set_error(e, "bytes", "bytes: cudaMalloc of " + std::to_string(bytes) + " bytes on CUDA device " +
                                  std::to_string(device) + " failed: " + cudaGetErrorString(err));
        return BL_ERR_OUT_OF_MEMORY;
    }
    return BL_OK;
}

bl_status buffer_free(int32_t device, void* buffer, bl_plugin_error* e) {
    if (!device_pointer_ok(buffer, device)) {
        set_error(e, "buffer", "buffer is not device memory of CUDA device " + std::to_string(device));
        return BL_ERR_INVALID_ARGUMENT;
    }
    if (const cudaError_t err = cudaFree(buffer); err != cudaSuccess) {
        (void)cudaGetLastError();
        set_error(e, "buffer", std::string("buffer: cudaFree failed: ") + cudaGetErrorString(err));
        return BL_ERR_INVALID_ARGUMENT;
    }
    return BL_OK;
}

bl_status buffer_copy(int32_t device, void* dst, const void* src, int64_t bytes, int32_t kind, void* stream,
                      bl_plugin_error* e) {
    // The buffer side(s) must be memory of this device: a stray host pointer would fault.
    const bool dst_buffer = kind != BL_COPY_BUFFER_TO_HOST, src_buffer = kind != BL_COPY_HOST_TO_BUFFER;
    if (dst_buffer && !device_pointer_ok(dst, device)) {
        set_error(e, "dst", "dst is not device memory of CUDA device " + std::to_string(device));
        return BL_ERR_INVALID_ARGUMENT;
    }
    if (src_buffer && !device_pointer_ok(src, device)) {
        set_error(e, "src", "src is not device memory of CUDA device " + std::to_string(device));
        return BL_ERR_INVALID_ARGUMENT;
    }
    const cudaMemcpyKind k = kind == BL_COPY_HOST_TO_BUFFER   ? cudaMemcpyHostToDevice
                             : kind == BL_COPY_BUFFER_TO_HOST ? cudaMemcpyDeviceToHost
                                                              : cudaMemcpyDeviceToDevice;
    cudaStream_t s = static_cast<cudaStream_t>(stream);
    cudaError_t err = cudaSetDevice(device);
    if (err == cudaSuccess) err = cudaMemcpyAsync(dst, src, size_t(bytes), k, s);
    if (err == cudaSuccess) err = cudaStreamSynchronize(s);
    if (err != cudaSuccess) {
        (void)cudaGetLastError();
        set_error(e, "", std::string("cudaMemcpyAsync / cudaStreamSynchronize failed: ") + cudaGetErrorString(err));
        return BL_ERR_INTERNAL;
    }
    return BL_OK;
}

bl_status synchronize(int32_t device, void* stream, bl_plugin_error* e) {
    cudaError_t err = cudaSetDevice(device);
    if (err == cudaSuccess) err = cudaStreamSynchronize(static_cast<cudaStream_t>(stream));
    if (err != cudaSuccess) {
        (void)cudaGetLastError();
        set_error(e, "", std::string("cudaStreamSynchronize failed: ") + cudaGetErrorString(err));
        return BL_ERR_INTERNAL;
    }
    return BL_OK;
}

// Queued on the stream like the ops around it: no synchronisation (no host memory is involved).
bl_status buffer_zero(int32_t device, void* buffer, int64_t bytes, void* stream, bl_plugin_error* e) {
    if (bytes <= 0) return BL_OK;
    if (bl_status st = check_buffer(buffer, "buffer", device, e); st != BL_OK) return st;
    cudaError_t err = cudaSetDevice(device);
    if (err == cudaSuccess) err = cudaMemsetAsync(buffer, 0, size_t(bytes), static_cast<cudaStream_t>(stream));
    if (err != cudaSuccess) {
        (void)cudaGetLastError();
        set_error(e, "", std::string("cudaMemsetAsync failed: ") + cudaGetErrorString(err));
        return BL_ERR_INTERNAL;
    }
    return BL_OK;
}

}  // namespace
}  // namespace cuda
}  // namespace bl

extern "C" __attribute__((visibility("default"))) bl_status bl_backend_plugin_v1(int32_t abi_version,
                                                                                 bl_backend_plugin* out) {
    using namespace bl::cuda;
    if (abi_version != BL_PLUGIN_ABI_VERSION || !out) return BL_ERR_UNSUPPORTED;
    *out = bl_backend_plugin{BL_PLUGIN_ABI_VERSION, BL_BACKEND_CUDA, BL_MEMORY_DEVICE, "cuda",
                             probe, check_context, plan_create, plan_estimate, plan_destroy, workspace_bytes, table_bytes,
                             executed_flops, forward, backward, write_saved_header, read_saved_header,
                             buffer_alloc, buffer_free, buffer_copy, synchronize, buffer_zero, layer_ops_table()};
    return BL_OK;
}
