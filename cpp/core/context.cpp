// context.cpp -- see context.h.
#include "context.h"

#include "backend.h"
#include "cpu_path.h"
#include "registry.h"
#include "thread_pool.h"

namespace bl {

Context::Context(const Backend* backend, int32_t device, int num_threads, int cpu_path, void* stream)
    : backend_(backend), device_(device), num_threads_(num_threads), cpu_path_(cpu_path), stream_(stream) {}

bl_backend Context::backend_kind() const { return backend_->kind(); }

int Context::num_threads() const {
    const int t = num_threads_.load();
    return t > 0 ? t : available_cpus();
}

const std::shared_ptr<Context>& default_context() {
    // Never destroyed: plans may outlive static destruction order at process exit.
    static const auto* context = new std::shared_ptr<Context>(
        std::make_shared<Context>(find_backend(BL_BACKEND_CPU), 0, 0, cpu_path_best(), nullptr));
    return *context;
}

}  // namespace bl
