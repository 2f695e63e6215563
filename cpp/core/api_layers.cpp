// api_layers.cpp -- the ABI entry points of the layer kernels (bandlimit.h, "Layer kernels"):
// argument validation, then the context's backend's LayerOps (layer_ops.h). Every failure is
// reported before any caller buffer is written.
#include <limits>
#include <string>

#include "backend.h"
#include "bandlimit.h"
#include "context.h"
#include "errors.h"
#include "float_mode.h"
#include "layer_ops.h"

namespace bl {
namespace {

constexpr int64_t kMaxElements = std::numeric_limits<int64_t>::max() / 8;  // bytes of float64 fit

// Runs run(context, ops) with the context's layer ops, or records UNSUPPORTED when its backend
// has none; the arguments are validated before.
template <typename Fn>
bl_status run_layer_op(bl_context context, Fn&& run) {
    const Context& c = *context_of(context);
    const LayerOps* ops = c.backend().layer_ops();
    if (!ops)
        return fail(BL_ERR_UNSUPPORTED, "context",
                    std::string("context: the ") + c.backend().name() + " backend has no layer kernels yet");
    const FlushSubnormals float_mode;  // float_mode.h: the kernels' host arithmetic
    run(c, *ops);
    return BL_OK;
}

// 0 <= v < infinity; false for NaN.
bl_status check_nonnegative(double v, const char* argument) {
    if (!(v >= 0.0 && v < std::numeric_limits<double>::infinity()))
        return fail(BL_ERR_INVALID_ARGUMENT, argument,
                    std::string(argument) + " must be >= 0 and finite, got " + std::to_string(v));
    return BL_OK;
}

// 0 <= v < 1; false for NaN.
bl_status check_unit(double v, const char* argument) {
    if (!(v >= 0.0 && v < 1.0))
        return fail(BL_ERR_INVALID_ARGUMENT, argument, std::string(argument) + " must be in [0, 1), got " + std::to_string(v));
    return BL_OK;
}

bl_status check_count(int64_t v, const char* argument, int64_t min = 1) {
    if (v < min || v > kMaxElements)
        return fail(BL_ERR_INVALID_SIZE, argument,
                    std::string(argument) + " must be in [" + std::to_string(min) + ", 2^60), got " + std::to_string(v));
    return BL_OK;
}

// a * b (* c) <= kMaxElements, each already >= 1.
bl_status check_product(const char* argument, int64_t a, int64_t b, int64_t c = 1) {
    if (a > kMaxElements / b || a * b > kMaxElements / c)
        return fail(BL_ERR_SIZE_OVERFLOW, argument, std::string(argument) + ": the tensor has more than 2^60 elements");
    return BL_OK;
}

bl_status check_flag(int32_t v, const char* argument) {
    if (v != 0 && v != 1)
        return fail(BL_ERR_INVALID_ARGUMENT, argument, std::string(argument) + " must be 0 or 1, got " + std::to_string(v));
    return BL_OK;
}

#define BL_CHECK(expr)                               \
    do {                                             \
        if (bl_status s_ = (expr); s_ != BL_OK) return s_; \
    } while (0)
#define BL_REQUIRE(ptr, name)                     \
    do {                                          \
        if (!(ptr)) return fail_null(name);       \
    } while (0)

bl_status check_batchnorm(const bl_batchnorm_desc* d) {
    BL_REQUIRE(d, "desc");
    BL_CHECK(check_count(d->batch, "desc.batch"));
    BL_CHECK(check_count(d->channels, "desc.channels"));
    BL_CHECK(check_count(d->spatial, "desc.spatial"));
    BL_CHECK(check_product("desc", d->batch, d->channels, d->spatial));
    BL_CHECK(check_flag(d->training, "desc.training"));
    BL_CHECK(check_flag(d->relu, "desc.relu"));
    if (!(d->momentum >= 0.0 && d->momentum <= 1.0))
        return fail(BL_ERR_INVALID_ARGUMENT, "desc.momentum", "desc.momentum must be in [0, 1], got " + std::to_string(d->momentum));
    if (!(d->eps > 0.0 && d->eps < std::numeric_limits<double>::infinity()))
        return fail(BL_ERR_INVALID_ARGUMENT, "desc.eps", "desc.eps must be positive and finite, got " + std::to_string(d->eps));
    if (d->training && d->batch * d->spatial < 2)
        return fail(BL_ERR_INVALID_ARGUMENT, "desc",
                    "desc: batch norm in training needs more than one value per channel (batch * spatial >= 2)");
    return BL_OK;
}

bl_status check_pool(const bl_pool2d_desc* d) {
    BL_REQUIRE(d, "desc");
    BL_CHECK(check_count(d->planes, "desc.planes"));
    BL_CHECK(check_count(d->height, "desc.height"));
    BL_CHECK(check_count(d->width, "desc.width"));
    BL_CHECK(check_product("desc", d->planes, d->height, d->width));
    if (d->height * d->width > std::numeric_limits<int32_t>::max())
        return fail(BL_ERR_SIZE_OVERFLOW, "desc", "desc: a plane must have fewer than 2^31 elements (int32 winners)");
    BL_CHECK(check_count(d->kernel_h, "desc.kernel_h"));
    BL_CHECK(check_count(d->kernel_w, "desc.kernel_w"));
    BL_CHECK(check_count(d->stride_h, "desc.stride_h"));
    BL_CHECK(check_count(d->stride_w, "desc.stride_w"));
    if (d->kernel_h > d->height)
        return fail(BL_ERR_INVALID_ARGUMENT, "desc.kernel_h", "desc.kernel_h (" + std::to_string(d->kernel_h) +
                                                                   ") exceeds desc.height (" + std::to_string(d->height) + ")");
    if (d->kernel_w > d->width)
        return fail(BL_ERR_INVALID_ARGUMENT, "desc.kernel_w", "desc.kernel_w (" + std::to_string(d->kernel_w) +
                                                                   ") exceeds desc.width (" + std::to_string(d->width) + ")");
    return BL_OK;
}

bl_status check_linear(int64_t batch, int64_t in, int64_t out) {
    BL_CHECK(check_count(batch, "batch"));
    BL_CHECK(check_count(in, "in"));
    BL_CHECK(check_count(out, "out"));
    BL_CHECK(check_product("in", batch, in));
    BL_CHECK(check_product("in", out, in));
    BL_CHECK(check_product("out", batch, out));
    return BL_OK;
}

bl_status check_xent(int64_t batch, int64_t classes) {
    BL_CHECK(check_count(batch, "batch"));
    BL_CHECK(check_count(classes, "classes"));
    BL_CHECK(check_product("classes", batch, classes));
    return BL_OK;
}

bl_status check_params(const bl_param_slot* params, int64_t count, bool needs_state1, bool needs_state0) {
    BL_CHECK(check_count(count, "param_count", 0));
    if (count > 0) BL_REQUIRE(params, "params");
    for (int64_t k = 0; k < count; ++k) {
        const bl_param_slot& p = params[k];
        const std::string at = "params[" + std::to_string(k) + "]";
        if (p.count < 0 || p.count > kMaxElements)
            return fail(BL_ERR_INVALID_SIZE, "params",
                        at + ".count must be in [0, 2^60), got " + std::to_string(p.count));
        if (p.count == 0) continue;
        if (!p.data) return fail(BL_ERR_NULL_POINTER, "params", at + ".data must not be NULL");
        if (!p.grad) return fail(BL_ERR_NULL_POINTER, "params", at + ".grad must not be NULL");
        if (needs_state0 && !p.state0) return fail(BL_ERR_NULL_POINTER, "params", at + ".state0 must not be NULL");
        if (needs_state1 && !p.state1) return fail(BL_ERR_NULL_POINTER, "params", at + ".state1 must not be NULL");
    }
    return BL_OK;
}

}  // namespace
}  // namespace bl

using namespace bl;

extern "C" {

bl_status bl_batchnorm_forward(bl_context context, const bl_batchnorm_desc* desc, const float* x, const float* gamma,
                               const float* beta, float* running_mean, float* running_var, float* y,
                               double* out_mean, double* out_inv_std) {
    return guarded([&] {
        BL_CHECK(check_batchnorm(desc));
        BL_REQUIRE(x, "x");
        BL_REQUIRE(gamma, "gamma");
        BL_REQUIRE(beta, "beta");
        BL_REQUIRE(running_mean, "running_mean");
        BL_REQUIRE(running_var, "running_var");
        BL_REQUIRE(y, "y");
        return run_layer_op(context, [&](const Context& c, const LayerOps& ops) {
            ops.batchnorm_forward(c, BatchNormArgs{*desc, x, gamma, beta, running_mean, running_var, y,
                                                   out_mean, out_inv_std});
        });
    });
}

bl_status bl_batchnorm_backward(bl_context context, const bl_batchnorm_desc* desc, const float* x, const float* y,
                                const float* dy, const float* gamma, const double* mean, const double* inv_std,
                                float* dx, int32_t dx_accumulate, float* dgamma, float* dbeta) {
    return guarded([&] {
        BL_CHECK(check_batchnorm(desc));
        if (!desc->training)
            return fail(BL_ERR_INVALID_ARGUMENT, "desc.training",
                        "desc.training must be 1: the backward is that of a training forward (batch statistics)");
        BL_REQUIRE(x, "x");
        if (desc->relu) BL_REQUIRE(y, "y");
        BL_REQUIRE(dy, "dy");
        BL_REQUIRE(gamma, "gamma");
        BL_REQUIRE(mean, "mean");
        BL_REQUIRE(inv_std, "inv_std");
        BL_CHECK(check_flag(dx_accumulate, "dx_accumulate"));
        return run_layer_op(context, [&](const Context& c, const LayerOps& ops) {
            ops.batchnorm_backward(c, BatchNormBackwardArgs{*desc, x, y, dy, gamma, mean, inv_std, dx,
                                                            dx_accumulate != 0, dgamma, dbeta});
        });
    });
}

bl_status bl_relu_forward(bl_context context, int64_t count, const float* x, float* y) {
    return guarded([&] {
        BL_CHECK(check_count(count, "count"));
        BL_REQUIRE(x, "x");
        BL_REQUIRE(y, "y");
        return run_layer_op(context, [&](const Context& c, const LayerOps& ops) {
            ops.relu_forward(c, count, x, y);
        });
    });
}

bl_status bl_relu_backward(bl_context context, int64_t count, const float* x, const float* dy, float* dx,
                           int32_t accumulate) {
    return guarded([&] {
        BL_CHECK(check_count(count, "count"));
        BL_REQUIRE(x, "x");
        BL_REQUIRE(dy, "dy");
        BL_REQUIRE(dx, "dx");
        BL_CHECK(check_flag(accumulate, "accumulate"));
        return run_layer_op(context, [&](const Context& c, const LayerOps& ops) {
            ops.relu_backward(c, count, x, dy, dx, accumulate != 0);
        });
    });
}

bl_status bl_maxpool2d_forward(bl_context context, const bl_pool2d_desc* desc, const float* x, float* y,
                               int32_t* winners) {
    return guarded([&] {
        BL_CHECK(check_pool(desc));
        BL_REQUIRE(x, "x");
        BL_REQUIRE(y, "y");
        return run_layer_op(context, [&](const Context& c, const LayerOps& ops) {
            ops.maxpool2d_forward(c, *desc, x, y, winners);
        });
    });
}

bl_status bl_maxpool2d_backward(bl_context context, const bl_pool2d_desc* desc, const int32_t* winners,
                                const float* dy, float* dx, int32_t accumulate) {
    return guarded([&] {
        BL_CHECK(check_pool(desc));
        BL_REQUIRE(winners, "winners");
        BL_REQUIRE(dy, "dy");
        BL_REQUIRE(dx, "dx");
        BL_CHECK(check_flag(accumulate, "accumulate"));
        return run_layer_op(context, [&](const Context& c, const LayerOps& ops) {
            ops.maxpool2d_backward(c, *desc, winners, dy, dx, accumulate != 0);
        });
    });
}

bl_status bl_linear_forward(bl_context context, int64_t batch, int64_t in, int64_t out, const float* x,
                            const float* w, const float* b, float* y) {
    return guarded([&] {
        BL_CHECK(check_linear(batch, in, out));
        BL_REQUIRE(x, "x");
        BL_REQUIRE(w, "w");
        BL_REQUIRE(y, "y");
        return run_layer_op(context, [&](const Context& c, const LayerOps& ops) {
            ops.linear_forward(c, LinearArgs{batch, in, out, x, w, b, y, nullptr, nullptr, nullptr, nullptr});
        });
    });
}

bl_status bl_linear_backward(bl_context context, int64_t batch, int64_t in, int64_t out, const float* x,
                             const float* w, const float* dy, float* dx, float* dw, float* db) {
    return guarded([&] {
        BL_CHECK(check_linear(batch, in, out));
        BL_REQUIRE(dy, "dy");
        if (dw) BL_REQUIRE(x, "x");
        if (dx) BL_REQUIRE(w, "w");
        return run_layer_op(context, [&](const Context& c, const LayerOps& ops) {
            ops.linear_backward(c, LinearArgs{batch, in, out, x, w, nullptr, nullptr, dy, dx, dw, db});
        });
    });
}

bl_status bl_add_into(bl_context context, int64_t count, float* dst, const float* src) {
    return guarded([&] {
        BL_CHECK(check_count(count, "count"));
        BL_REQUIRE(dst, "dst");
        BL_REQUIRE(src, "src");
        return run_layer_op(context, [&](const Context& c, const LayerOps& ops) {
            ops.add_into(c, count, dst, src);
        });
    });
}

bl_status bl_adam_step(bl_context context, const bl_adam_desc* desc, const bl_param_slot* params,
                       int64_t param_count) {
    return guarded([&] {
        BL_REQUIRE(desc, "desc");
        BL_CHECK(check_nonnegative(desc->lr, "desc.lr"));
        BL_CHECK(check_unit(desc->beta1, "desc.beta1"));
        BL_CHECK(check_unit(desc->beta2, "desc.beta2"));
        BL_CHECK(check_nonnegative(desc->eps, "desc.eps"));
        BL_CHECK(check_nonnegative(desc->weight_decay, "desc.weight_decay"));
        if (desc->step < 1)
            return fail(BL_ERR_INVALID_ARGUMENT, "desc.step", "desc.step must be >= 1, got " + std::to_string(desc->step));
        BL_CHECK(check_params(params, param_count, true, true));
        return run_layer_op(context, [&](const Context& c, const LayerOps& ops) {
            ops.adam_step(c, *desc, params, param_count);
        });
    });
}

bl_status bl_sgd_step(bl_context context, const bl_sgd_desc* desc, const bl_param_slot* params, int64_t param_count) {
    return guarded([&] {
        BL_REQUIRE(desc, "desc");
        BL_CHECK(check_nonnegative(desc->lr, "desc.lr"));
        BL_CHECK(check_nonnegative(desc->momentum, "desc.momentum"));
        BL_CHECK(check_nonnegative(desc->weight_decay, "desc.weight_decay"));
        BL_CHECK(check_params(params, param_count, false, desc->momentum != 0.0));
        return run_layer_op(context, [&](const Context& c, const LayerOps& ops) {
            ops.sgd_step(c, *desc, params, param_count);
        });
    });
}

bl_status bl_avgpool2d_forward(bl_context context, const bl_pool2d_desc* desc, const float* x, float* y) {
    return guarded([&] {
        BL_CHECK(check_pool(desc));
        BL_REQUIRE(x, "x");
        BL_REQUIRE(y, "y");
        return run_layer_op(context, [&](const Context& c, const LayerOps& ops) {
            ops.avgpool2d_forward(c, *desc, x, y);
        });
    });
}

bl_status bl_avgpool2d_backward(bl_context context, const bl_pool2d_desc* desc, const float* dy, float* dx,
                                int32_t accumulate) {
    return guarded([&] {
        BL_CHECK(check_pool(desc));
        BL_REQUIRE(dy, "dy");
        BL_REQUIRE(dx, "dx");
        BL_CHECK(check_flag(accumulate, "accumulate"));
        return run_layer_op(context, [&](const Context& c, const LayerOps& ops) {
            ops.avgpool2d_backward(c, *desc, dy, dx, accumulate != 0);
        });
    });
}

bl_status bl_dropout_forward(bl_context context, int64_t count, double p, uint64_t seed, const float* x, float* y,
                             uint8_t* mask) {
    return guarded([&] {
        BL_CHECK(check_count(count, "count"));
        BL_CHECK(check_unit(p, "p"));
        BL_REQUIRE(x, "x");
        BL_REQUIRE(y, "y");
        return run_layer_op(context, [&](const Context& c, const LayerOps& ops) {
            ops.dropout_forward(c, count, p, seed, x, y, mask);
        });
    });
}

bl_status bl_dropout_backward(bl_context context, int64_t count, double p, const uint8_t* mask, const float* dy,
                              float* dx, int32_t accumulate) {
    return guarded([&] {
        BL_CHECK(check_count(count, "count"));
        BL_CHECK(check_unit(p, "p"));
        BL_REQUIRE(mask, "mask");
        BL_REQUIRE(dy, "dy");
        BL_REQUIRE(dx, "dx");
        BL_CHECK(check_flag(accumulate, "accumulate"));
        return run_layer_op(context, [&](const Context& c, const LayerOps& ops) {
            ops.dropout_backward(c, count, p, mask, dy, dx, accumulate != 0);
        });
    });
}

// The labels are not read here (on CUDA they are device memory): the CPU backend refuses one
// outside [0, classes) before writing anything, CUDA makes its row NaN (bandlimit.h).
bl_status bl_softmax_xent_forward(bl_context context, int64_t batch, int64_t classes, const float* logits,
                                  const int32_t* labels, float* loss, float* probs) {
    return guarded([&] {
        BL_CHECK(check_xent(batch, classes));
        BL_REQUIRE(logits, "logits");
        BL_REQUIRE(labels, "labels");
        BL_REQUIRE(loss, "loss");
        return run_layer_op(context, [&](const Context& c, const LayerOps& ops) {
            ops.softmax_xent_forward(c, batch, classes, logits, labels, loss, probs);
        });
    });
}

bl_status bl_softmax_xent_backward(bl_context context, int64_t batch, int64_t classes, const float* probs,
                                   const int32_t* labels, const float* dloss, float* dlogits, int32_t accumulate) {
    return guarded([&] {
        BL_CHECK(check_xent(batch, classes));
        BL_REQUIRE(probs, "probs");
        BL_REQUIRE(labels, "labels");
        BL_REQUIRE(dloss, "dloss");
        BL_REQUIRE(dlogits, "dlogits");
        BL_CHECK(check_flag(accumulate, "accumulate"));
        return run_layer_op(context, [&](const Context& c, const LayerOps& ops) {
            ops.softmax_xent_backward(c, batch, classes, probs, labels, dloss, dlogits, accumulate != 0);
        });
    });
}

}  // extern "C"
