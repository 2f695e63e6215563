// backend.h -- the seam between the backend-neutral core and a backend (ggml's backend table,
// in C++): a Backend is registered once per kind (registry.h) and creates its part of each
// plan, a BackendPlan, which owns everything backend-specific: its workspace size, its tables,
// its executed-FLOP model and its transform method, the execute passes, and reading and writing
// the saved-spectra header in the memory the backend's buffers live in (host or device).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "bandlimit.h"
#include "geometry.h"

namespace bl {

class Context;
class LayerOps;
struct Plan;

// Everything a pass needs besides the plan; pointers are the caller's, already validated, in
// the backend's buffer memory (Backend::buffer_memory).
struct ForwardArgs {
    int64_t n;
    const float* x;
    const float* w;
    const float* bias;     // may be null
    float* y;
    unsigned char* saved;  // may be null (inference); the spectra start kSavedHeaderBytes in
    void* workspace;
    Box* box_used;         // out, host memory
};

struct BackwardArgs {
    int64_t n;
    Box box;                     // the forward's box, read from the saved header
    const unsigned char* saved;  // compact spectra written by the forward
    const float* w;              // for BL_SPECTRA_INPUT_ONLY when dx is wanted
    const float* dy;
    float* dx;  // each of dx, dw, db may be null
    float* dw;
    float* db;
    void* workspace;
};

// The saved-spectra buffer: this header, then the compact spectra (backend layout).
struct SavedHeader {
    uint64_t magic;
    uint64_t plan_signature;  // hash of geometry + compression + mode + backend
    int64_t n;
    int64_t kh, kw;
    uint64_t check;  // hash of the fields above, so a stray buffer is rejected
};
constexpr uint64_t kSavedMagic = 0x62616e646c696d31ull;  // "bandlim1"
constexpr int64_t kSavedHeaderBytes = 64;                // spectra start 64 bytes in
static_assert(sizeof(SavedHeader) <= kSavedHeaderBytes, "the header fits its slot");

// A backend's part of one plan. Immutable after creation; execute calls may run concurrently
// with distinct buffers. Methods may throw (std::bad_alloc, std::runtime_error): the ABI layer
// turns that into a status.
class BackendPlan {
public:
    virtual ~BackendPlan() = default;
    // Workspace bytes an execute call needs (the maximum over all passes).
    virtual int64_t workspace_bytes() const = 0;
    // Bytes of tables the backend holds for this plan (twiddles, ...), for bl_allocated_bytes.
    virtual int64_t table_bytes() const = 0;
    // What this backend executes for one pass (pruned transforms, its product form).
    virtual double executed_flops(bl_pass pass, int64_t n, const Box& b) const = 0;
    virtual void forward(const ForwardArgs& args) const = 0;
    virtual void backward(const BackwardArgs& args) const = 0;
    // The header occupies the first bytes of `saved`, which is in the backend's buffer memory:
    // a host memcpy for the CPU, a device copy for CUDA.
    virtual void write_saved_header(void* saved, const SavedHeader& header) const = 0;
    virtual void read_saved_header(const void* saved, SavedHeader* header) const = 0;
};

// What a backend's part of a plan would take, computed before it is built (the plan limits of
// bandlimit.h): the bytes of its tables (what table_bytes() will report) and its workspace.
struct PlanBytes {
    int64_t tables = 0;
    int64_t workspace = 0;
    // True when these are only lower bounds (the core then checks the limit again on the
    // built plan); false when they bound what the plan will report from above.
    bool lower_bound = false;
};

// Whether a backend can run here, and why not.
struct BackendStatus {
    bool available = false;
    std::string reason;  // "" when available
};

// One backend kind, registered once. status() is probed once and cached.
class Backend {
public:
    virtual ~Backend() = default;
    virtual bl_backend kind() const = 0;
    virtual const char* name() const = 0;
    virtual const BackendStatus& status() const = 0;
    // Where the tensor, saved-spectra and workspace buffers of execute calls must live.
    virtual bl_memory_kind buffer_memory() const = 0;
    // Checks the options particular to this backend (device, stream); on failure records the
    // error (errors.h) and returns its status.
    virtual bl_status check_context(const bl_context_options& options) const = 0;
    // Creates the backend's part of a plan whose backend-neutral fields are filled in; on a
    // status other than BL_OK the error is recorded and *out is untouched.
    virtual bl_status create_plan(const Plan& plan, const std::shared_ptr<const Context>& context,
                                  std::unique_ptr<BackendPlan>* out) const = 0;
    // What create_plan would build for `plan` (fields as for create_plan), computed without
    // allocating tables or workspace; on failure records the error and returns its status.
    virtual bl_status estimate_plan(const Plan& plan, const Context& context, PlanBytes* out) const = 0;
    // The layer kernels (layer_ops.h), or null when this backend has none.
    virtual const LayerOps* layer_ops() const { return nullptr; }
    // Buffers in buffer_memory() (bl_buffer_alloc and friends): arguments validated by the
    // core; on failure the error is recorded and its status returned.
    virtual bl_status buffer_alloc(const Context& context, int64_t bytes, void** out) const = 0;
    virtual bl_status buffer_free(const Context& context, void* buffer) const = 0;
    virtual bl_status buffer_copy(const Context& context, void* dst, const void* src, int64_t bytes,
                                  bl_copy_kind kind) const = 0;
    virtual bl_status synchronize(const Context& context) const = 0;
    // Sets bytes of a buffer to zero, in the order of the work queued on the context's stream.
    virtual bl_status buffer_zero(const Context& context, void* buffer, int64_t bytes) const = 0;
};

}  // namespace bl
