// registry.cpp -- see registry.h. The CPU backend is compiled in; the CUDA backend is loaded
// with dlopen from libbandlimit_cuda.so beside the library (or the executable that links the
// static core) and reached through the C table of backend_plugin.h.
#include "registry.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>

#include "backend_plugin.h"
#include "context.h"
#include "cpu_backend.h"
#include "errors.h"
#include "layer_ops.h"
#include "plan.h"

namespace bl {
namespace {

// A plugin's error as the core's: where a status can be returned it is recorded, elsewhere
// (inside a pass) it is thrown for guarded() to record.
StatusError plugin_error(bl_status status, const bl_plugin_error& e) {
    return StatusError(status, std::string(e.argument, strnlen(e.argument, sizeof e.argument)),
                       std::string(e.text, strnlen(e.text, sizeof e.text)));
}

[[noreturn]] void throw_plugin_error(bl_status status, const bl_plugin_error& e) { throw plugin_error(status, e); }

bl_status record_plugin_error(bl_status status, const bl_plugin_error& e) {
    const StatusError err = plugin_error(status, e);
    return fail(err.status(), err.argument().c_str(), err.what());
}

class PluginPlan final : public BackendPlan {
public:
    PluginPlan(const bl_backend_plugin& table, void* handle, std::shared_ptr<const Context> context)
        : t_(table), plan_(handle), context_(std::move(context)) {}
    ~PluginPlan() override { t_.plan_destroy(plan_); }
    PluginPlan(const PluginPlan&) = delete;
    PluginPlan& operator=(const PluginPlan&) = delete;

    int64_t workspace_bytes() const override { return t_.workspace_bytes(plan_); }
    int64_t table_bytes() const override { return t_.table_bytes(plan_); }
    double executed_flops(bl_pass pass, int64_t n, const Box& b) const override {
        return t_.executed_flops(plan_, pass, n, bl_box{b.kh, b.kw});
    }
    void forward(const ForwardArgs& a) const override {
        bl_box used{};
        const bl_plugin_forward_args args{a.n, a.x, a.w, a.bias, a.y, a.saved, a.workspace,
                                          context_->stream(), &used};
        bl_plugin_error e{};
        if (bl_status s = t_.forward(plan_, &args, &e); s != BL_OK) throw_plugin_error(s, e);
        *a.box_used = Box{used.kh, used.kw};
    }
    void backward(const BackwardArgs& a) const override {
        const bl_plugin_backward_args args{a.n, bl_box{a.box.kh, a.box.kw}, a.saved, a.w, a.dy, a.dx,
                                           a.dw, a.db, a.workspace, context_->stream()};
        bl_plugin_error e{};
        if (bl_status s = t_.backward(plan_, &args, &e); s != BL_OK) throw_plugin_error(s, e);
    }
    void write_saved_header(void* saved, const SavedHeader& h) const override {
        bl_plugin_error e{};
        if (bl_status s = t_.write_saved_header(plan_, saved, &h, sizeof h, context_->stream(), &e); s != BL_OK)
            throw_plugin_error(s, e);
    }
    void read_saved_header(const void* saved, SavedHeader* h) const override {
        bl_plugin_error e{};
        if (bl_status s = t_.read_saved_header(plan_, saved, h, sizeof *h, context_->stream(), &e); s != BL_OK)
            throw_plugin_error(s, e);
    }

private:
    const bl_backend_plugin& t_;
    void* plan_;
    std::shared_ptr<const Context> context_;
};

// A plugin's layer kernels: each op runs on the context's device and stream, and a failure
// inside it is thrown for guarded() to record (the ABI layer validated the arguments before).
class PluginLayerOps final : public LayerOps {
public:
    PluginLayerOps(const bl_plugin_layer_ops& table, const char* backend_name) : t_(table), backend_name_(backend_name) {}

    void batchnorm_forward(const Context& c, const BatchNormArgs& a) const override {
        call(t_.batchnorm_forward, "batchnorm_forward", c, &a.desc, a.x, a.gamma, a.beta, a.running_mean,
             a.running_var, a.y, a.mean, a.inv_std);
    }
    void batchnorm_backward(const Context& c, const BatchNormBackwardArgs& a) const override {
        call(t_.batchnorm_backward, "batchnorm_backward", c, &a.desc, a.x, a.y, a.dy, a.gamma, a.mean, a.inv_std,
             a.dx, flag(a.dx_accumulate), a.dgamma, a.dbeta);
    }
    void relu_forward(const Context& c, int64_t count, const float* x, float* y) const override {
        call(t_.relu_forward, "relu_forward", c, count, x, y);
    }
    void relu_backward(const Context& c, int64_t count, const float* x, const float* dy, float* dx,
                       bool accumulate) const override {
        call(t_.relu_backward, "relu_backward", c, count, x, dy, dx, flag(accumulate));
    }
    void maxpool2d_forward(const Context& c, const bl_pool2d_desc& d, const float* x, float* y,
                           int32_t* winners) const override {
        call(t_.maxpool2d_forward, "maxpool2d_forward", c, &d, x, y, winners);
    }
    void maxpool2d_backward(const Context& c, const bl_pool2d_desc& d, const int32_t* winners, const float* dy,
                            float* dx, bool accumulate) const override {
        call(t_.maxpool2d_backward, "maxpool2d_backward", c, &d, winners, dy, dx, flag(accumulate));
    }
    void linear_forward(const Context& c, const LinearArgs& a) const override {
        call(t_.linear_forward, "linear_forward", c, a.batch, a.in, a.out, a.x, a.w, a.b, a.y);
    }
    void linear_backward(const Context& c, const LinearArgs& a) const override {
        call(t_.linear_backward, "linear_backward", c, a.batch, a.in, a.out, a.x, a.w, a.dy, a.dx, a.dw, a.db);
    }
    void add_into(const Context& c, int64_t count, float* dst, const float* src) const override {
        call(t_.add_into, "add_into", c, count, dst, src);
    }
    void adam_step(const Context& c, const bl_adam_desc& d, const bl_param_slot* params,
                   int64_t count) const override {
        call(t_.adam_step, "adam_step", c, &d, params, count);
    }
    void sgd_step(const Context& c, const bl_sgd_desc& d, const bl_param_slot* params, int64_t count) const override {
        call(t_.sgd_step, "sgd_step", c, &d, params, count);
    }
    void avgpool2d_forward(const Context& c, const bl_pool2d_desc& d, const float* x, float* y) const override {
        call(t_.avgpool2d_forward, "avgpool2d_forward", c, &d, x, y);
    }
    void avgpool2d_backward(const Context& c, const bl_pool2d_desc& d, const float* dy, float* dx,
                            bool accumulate) const override {
        call(t_.avgpool2d_backward, "avgpool2d_backward", c, &d, dy, dx, flag(accumulate));
    }
    void dropout_forward(const Context& c, int64_t count, double p, uint64_t seed, const float* x, float* y,
                         uint8_t* mask) const override {
        call(t_.dropout_forward, "dropout_forward", c, count, p, seed, x, y, mask);
    }
    void dropout_backward(const Context& c, int64_t count, double p, const uint8_t* mask, const float* dy,
                          float* dx, bool accumulate) const override {
        call(t_.dropout_backward, "dropout_backward", c, count, p, mask, dy, dx, flag(accumulate));
    }
    void softmax_xent_forward(const Context& c, int64_t batch, int64_t classes, const float* logits,
                              const int32_t* labels, float* loss, float* probs) const override {
        call(t_.softmax_xent_forward, "softmax_xent_forward", c, batch, classes, logits, labels, loss, probs);
    }
    void softmax_xent_backward(const Context& c, int64_t batch, int64_t classes, const float* probs,
                               const int32_t* labels, const float* dloss, float* dlogits,
                               bool accumulate) const override {
        call(t_.softmax_xent_backward, "softmax_xent_backward", c, batch, classes, probs, labels, dloss, dlogits,
             flag(accumulate));
    }

private:
    static int32_t flag(bool v) { return v ? 1 : 0; }

    // fn(exec, args..., error), its failure thrown. A slot the plugin left NULL is refused as
    // the ABI refuses a backend without layer kernels, not called.
    template <typename Fn, typename... Args>
    void call(Fn fn, const char* op, const Context& c, Args... args) const {
        if (!fn)
            throw StatusError(BL_ERR_UNSUPPORTED, "context",
                              std::string("context: the ") + backend_name_ + " backend has no " + op + " kernel");
        const bl_plugin_exec exec{c.device(), c.stream()};
        bl_plugin_error e{};
        if (bl_status s = fn(&exec, args..., &e); s != BL_OK) throw_plugin_error(s, e);
    }

    const bl_plugin_layer_ops& t_;
    const char* backend_name_;
};

// The plugin's view of a plan whose backend-neutral fields are filled in.
bl_plugin_plan_spec plan_spec(const Plan& p, const Context& context) {
    const Geometry& g = p.geometry;
    bl_plugin_plan_spec spec{};
    spec.desc = bl_conv2d_desc{g.N, g.C, g.H, g.W, g.F, g.KH, g.KW, g.pad_top, g.pad_bottom,
                               g.pad_left, g.pad_right, g.stride_h, g.stride_w};
    spec.is_1d = g.is_1d ? 1 : 0;
    spec.spectra_mode = p.spectra_mode;
    spec.compression = p.compression;
    spec.box = bl_box{p.box.kh, p.box.kw};
    spec.device = context.device();
    spec.num_threads = context.num_threads();
    spec.method = g.paper_baseline ? BL_METHOD_PAPER_BASELINE : BL_METHOD_BANDLIMIT;
    return spec;
}

// A backend in its own shared library. Loaded once, on first use, and never unloaded (plans
// may live until process exit).
class PluginBackend final : public Backend {
public:
    PluginBackend(bl_backend kind, const char* name, const char* file) : kind_(kind), name_(name) {
        load(file);
    }

    bl_backend kind() const override { return kind_; }
    const char* name() const override { return name_; }
    const BackendStatus& status() const override { return status_; }
    bl_memory_kind buffer_memory() const override {
        return loaded_ ? static_cast<bl_memory_kind>(table_.buffer_memory) : BL_MEMORY_DEVICE;
    }
    bl_status check_context(const bl_context_options& o) const override {
        bl_plugin_error e{};
        const bl_status s = table_.check_context(o.device, o.stream, &e);
        return s == BL_OK ? s : record_plugin_error(s, e);
    }
    bl_status create_plan(const Plan& p, const std::shared_ptr<const Context>& context,
                          std::unique_ptr<BackendPlan>* out) const override {
        if (p.product == BL_PRODUCT_SPATIAL)
            return fail(BL_ERR_UNSUPPORTED, "options.product",
                        std::string("options.product: the ") + name() + " backend has no spatial product");
        const bl_plugin_plan_spec spec = plan_spec(p, *context);
        void* handle = nullptr;
        bl_plugin_error e{};
        if (bl_status s = table_.plan_create(&spec, &handle, &e); s != BL_OK) return record_plugin_error(s, e);
        *out = std::make_unique<PluginPlan>(table_, handle, context);
        return BL_OK;
    }
    bl_status estimate_plan(const Plan& p, const Context& context, PlanBytes* out) const override {
        const bl_plugin_plan_spec spec = plan_spec(p, context);
        int64_t tables = 0, workspace = 0;
        bl_plugin_error e{};
        if (bl_status s = table_.plan_estimate(&spec, &tables, &workspace, &e); s != BL_OK)
            return record_plugin_error(s, e);
        *out = PlanBytes{tables, workspace, true};
        return BL_OK;
    }

    bl_status buffer_alloc(const Context& c, int64_t bytes, void** out) const override {
        bl_plugin_error e{};
        const bl_status s = table_.buffer_alloc(c.device(), bytes, out, &e);
        return s == BL_OK ? s : record_plugin_error(s, e);
    }
    bl_status buffer_free(const Context& c, void* buffer) const override {
        bl_plugin_error e{};
        const bl_status s = table_.buffer_free(c.device(), buffer, &e);
        return s == BL_OK ? s : record_plugin_error(s, e);
    }
    bl_status buffer_copy(const Context& c, void* dst, const void* src, int64_t bytes, bl_copy_kind kind) const override {
        bl_plugin_error e{};
        const bl_status s = table_.buffer_copy(c.device(), dst, src, bytes, kind, c.stream(), &e);
        return s == BL_OK ? s : record_plugin_error(s, e);
    }
    bl_status synchronize(const Context& c) const override {
        bl_plugin_error e{};
        const bl_status s = table_.synchronize(c.device(), c.stream(), &e);
        return s == BL_OK ? s : record_plugin_error(s, e);
    }
    bl_status buffer_zero(const Context& c, void* buffer, int64_t bytes) const override {
        if (!table_.buffer_zero)
            return fail(BL_ERR_UNSUPPORTED, "context", std::string("context: the ") + name_ + " backend has no buffer_zero");
        bl_plugin_error e{};
        const bl_status s = table_.buffer_zero(c.device(), buffer, bytes, c.stream(), &e);
        return s == BL_OK ? s : record_plugin_error(s, e);
    }
    const LayerOps* layer_ops() const override { return layer_ops_.get(); }

private:
    void load(const char* file) {
        // Beside the object that holds this code: libbandlimit.so, or an executable linking the
        // static core (the native tests find the plugin in the build folder).
        std::string dir;
        Dl_info info{};
        if (dladdr(reinterpret_cast<void*>(&find_backend), &info) && info.dli_fname) {
            dir = info.dli_fname;
            const size_t slash = dir.rfind('/');
            dir = slash == std::string::npos ? std::string() : dir.substr(0, slash + 1);
        }
        const std::string path = dir + file;
        if (access(path.c_str(), F_OK) != 0) {
            status_.reason = std::string(file) + " was not found beside " +
                             (dir.empty() ? std::string("the library") : dir) +
                             " (this build has no " + name_ + " backend: configure with " +
                             "-DBL_WITH_CUDA=ON where nvcc and cuFFT are installed)";
            return;
        }
        void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
            // Present but not loadable: most often cuFFT (libcufft.so.12) is not on this machine's
            // library path (README "CUDA": system CUDA, LD_LIBRARY_PATH, or -Dbandlimit.cufft.path).
            const char* why = dlerror();
            status_.reason = path + " cannot be loaded: " + (why ? why : "dlopen failed") +
                             " (the CUDA backend needs the CUDA driver and cuFFT 12: see the README, \"CUDA\")";
            return;
        }
        auto entry = reinterpret_cast<bl_backend_plugin_entry>(dlsym(lib, BL_BACKEND_PLUGIN_ENTRY));
        if (!entry || entry(BL_PLUGIN_ABI_VERSION, &table_) != BL_OK ||
            table_.abi_version != BL_PLUGIN_ABI_VERSION || table_.backend != kind_) {
            status_.reason = path + " is not a bandlimit " + name_ + " backend of plugin ABI version " +
                             std::to_string(BL_PLUGIN_ABI_VERSION);
            return;  // the library stays loaded: unloading code that may have run is not worth it
        }
        loaded_ = true;
        if (table_.layer_ops) layer_ops_ = std::make_unique<PluginLayerOps>(*table_.layer_ops, name_);
        const char* why = nullptr;
        status_.available = table_.probe(&why) == 1;
        if (!status_.available) status_.reason = why && *why ? why : "the backend reports it cannot run here";
    }

    bl_backend kind_;
    const char* name_;
    bool loaded_ = false;
    bl_backend_plugin table_{};
    BackendStatus status_;
    std::unique_ptr<const PluginLayerOps> layer_ops_;  // null when the plugin has no layer kernels
};

}  // namespace

const Backend* find_backend(int32_t kind) {
    switch (kind) {
    case BL_BACKEND_CPU: return &cpu_backend();
    case BL_BACKEND_CUDA: {
        static const PluginBackend* cuda = new PluginBackend(BL_BACKEND_CUDA, "cuda", "libbandlimit_cuda.so");
        return cuda;
    }
    default: return nullptr;
    }
}

}  // namespace bl
