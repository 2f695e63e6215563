// context.h -- the execution context behind the opaque bl_context handle (the C ABI's
// "resources" object, in the spirit of cuvs's): which backend, which device, the CPU thread
// count and code path, and for CUDA the stream. Plans are created in a context and their
// execute calls run in it.
//
// A context is shared: the caller's handle and every plan created in it hold a reference, so
// bl_context_destroy never invalidates a live plan. The settings that may change after
// creation (threads, CPU path, stream) are atomics read once at the start of each execute.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "bandlimit.h"

namespace bl {

class Backend;

class Context {
public:
    Context(const Backend* backend, int32_t device, int num_threads, int cpu_path, void* stream);

    const Backend& backend() const { return *backend_; }
    bl_backend backend_kind() const;
    int32_t device() const { return device_; }

    // Threads of execute calls: the setting, or the number of CPUs when it is 0.
    int num_threads() const;
    void set_num_threads(int n) { num_threads_.store(n); }  // n >= 0, validated by the caller

    // The resolved CPU path (a bl_cpu_path other than AUTO).
    int cpu_path() const { return cpu_path_.load(); }
    void set_cpu_path(int path) { cpu_path_.store(path); }  // supported, validated by the caller

    void* stream() const { return stream_.load(); }
    void set_stream(void* s) { stream_.store(s); }

private:
    const Backend* backend_;
    int32_t device_;
    std::atomic<int> num_threads_;
    std::atomic<int> cpu_path_;
    std::atomic<void*> stream_;
};

// The default context (CPU, device 0): used where the ABI is passed a NULL context; the
// library-wide setters (bl_set_num_threads, bl_set_cpu_path) change it. It lives as long as
// the process.
const std::shared_ptr<Context>& default_context();

}  // namespace bl

// The opaque handle: one reference to a shared context.
struct bl_context_s {
    std::shared_ptr<bl::Context> context;
};

namespace bl {

// The context behind a handle; NULL is the default context.
inline const std::shared_ptr<Context>& context_of(bl_context c) { return c ? c->context : default_context(); }

}  // namespace bl
