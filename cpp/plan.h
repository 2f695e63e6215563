// plan.h -- the plan object behind the opaque bl_plan handle, and the backend interface.
//
// A plan owns the validated geometry, the compression choice, the box chain and the backend
// that executes it. It is immutable after creation: execute calls get every buffer from the
// caller, so concurrent calls with distinct buffers are safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bandlimit.h"
#include "geometry.h"

namespace bl {

struct Plan;

// Everything a pass needs besides the plan; pointers are the caller's, already validated.
struct ForwardArgs {
    int64_t n;
    const float* x;
    const float* w;
    const float* bias;  // may be null
    float* y;
    unsigned char* saved;  // may be null (inference)
    void* workspace;
    Box* box_used;  // out
};

struct BackwardArgs {
    int64_t n;
    Box box;                    // the forward's box, read from the saved header
    const unsigned char* saved;  // compact spectra written by the forward
    const float* w;             // for BL_SPECTRA_INPUT_ONLY when dx is wanted
    const float* dy;
    float* dx;  // each of dx, dw, db may be null
    float* dw;
    float* db;
    void* workspace;
};

// One backend, one implementation of this table (CPU now; CUDA later).
class Backend {
public:
    virtual ~Backend() = default;
    virtual int64_t workspace_bytes() const = 0;
    // Bytes of tables the backend holds (FFT twiddles, ...), for bl_allocated_bytes.
    virtual int64_t table_bytes() const = 0;
    virtual void forward(const ForwardArgs& args) const = 0;
    virtual void backward(const BackwardArgs& args) const = 0;
};

// The saved-spectra buffer: this header, then the compact spectra (backend layout).
struct SavedHeader {
    uint64_t magic;
    uint64_t plan_signature;  // hash of geometry + compression + mode
    int64_t n;
    int64_t kh, kw;
    uint64_t check;  // hash of the fields above, so a stray buffer is rejected
};
constexpr uint64_t kSavedMagic = 0x62616e646c696d31ull;  // "bandlim1"
constexpr int64_t kSavedHeaderBytes = 64;                // spectra start 64 bytes in

uint64_t saved_header_check(const SavedHeader& h);

struct Plan {
    Geometry geometry;
    bl_compression compression{};
    bl_backend backend_kind = BL_BACKEND_CPU;
    bl_spectra_mode spectra_mode = BL_SPECTRA_INPUT_AND_WEIGHT;
    std::vector<Box> chain;
    Box box;             // fixed box, or the full box in energy mode
    double box_rate = 0;  // achieved rate of box
    int64_t saved_bytes = 0;
    uint64_t signature = 0;
    std::unique_ptr<Backend> backend;
    int64_t held_bytes = 0;  // counted in the library total while the plan lives

    bool energy_mode() const { return compression.kind == BL_COMPRESSION_ENERGY; }
    bool saves_weight_spectra() const { return spectra_mode == BL_SPECTRA_INPUT_AND_WEIGHT; }
    Box full_box() const { return chain.back(); }
};

// Saved bytes for a plan: header + compact X^ (and W^) for max_batch at its box.
int64_t saved_spectra_bytes(const Geometry& g, const Box& box, bl_spectra_mode mode);

// Threads the execute calls may use now (the library-wide setting).
int current_num_threads();

std::unique_ptr<Backend> make_cpu_backend(const Plan& plan, int thread_slots);

}  // namespace bl
