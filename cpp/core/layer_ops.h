// layer_ops.h -- the backend seam of the layer kernels (bandlimit.h, "Layer kernels"): a
// backend that has them returns a LayerOps from Backend::layer_ops(). The ABI layer
// (api_layers.cpp) validates every argument first; these methods get sizes that are positive
// and whose products fit, and non-null pointers wherever the ABI requires them.
#pragma once

#include <cstdint>

#include "bandlimit.h"

namespace bl {

class Context;

struct BatchNormArgs {
    bl_batchnorm_desc desc;
    const float* x;
    const float* gamma;
    const float* beta;
    float* running_mean;
    float* running_var;
    float* y;
    double* mean;     // out, may be null
    double* inv_std;  // out, may be null
};

struct BatchNormBackwardArgs {
    bl_batchnorm_desc desc;
    const float* x;
    const float* y;  // read only when desc.relu
    const float* dy;
    const float* gamma;
    const double* mean;
    const double* inv_std;
    float* dx;  // may be null
    bool dx_accumulate;
    float* dgamma;  // may be null
    float* dbeta;   // may be null
};

struct LinearArgs {
    int64_t batch, in, out;
    const float* x;
    const float* w;
    const float* b;   // forward; may be null
    float* y;         // forward
    const float* dy;  // backward
    float* dx;        // backward; each may be null
    float* dw;
    float* db;
};

class LayerOps {
public:
    virtual ~LayerOps() = default;
    virtual void batchnorm_forward(const Context& c, const BatchNormArgs& a) const = 0;
    virtual void batchnorm_backward(const Context& c, const BatchNormBackwardArgs& a) const = 0;
    virtual void relu_forward(const Context& c, int64_t count, const float* x, float* y) const = 0;
    virtual void relu_backward(const Context& c, int64_t count, const float* x, const float* dy, float* dx,
                               bool accumulate) const = 0;
    virtual void maxpool2d_forward(const Context& c, const bl_pool2d_desc& d, const float* x, float* y,
                                   int32_t* winners) const = 0;
    virtual void maxpool2d_backward(const Context& c, const bl_pool2d_desc& d, const int32_t* winners,
                                    const float* dy, float* dx, bool accumulate) const = 0;
    virtual void linear_forward(const Context& c, const LinearArgs& a) const = 0;
    virtual void linear_backward(const Context& c, const LinearArgs& a) const = 0;
    virtual void add_into(const Context& c, int64_t count, float* dst, const float* src) const = 0;
    virtual void adam_step(const Context& c, const bl_adam_desc& d, const bl_param_slot* params,
                           int64_t count) const = 0;
    virtual void sgd_step(const Context& c, const bl_sgd_desc& d, const bl_param_slot* params,
                          int64_t count) const = 0;
    virtual void avgpool2d_forward(const Context& c, const bl_pool2d_desc& d, const float* x, float* y) const = 0;
    virtual void avgpool2d_backward(const Context& c, const bl_pool2d_desc& d, const float* dy, float* dx,
                                    bool accumulate) const = 0;
    // mask may be null; p in [0, 1) (dropout_mask.h says which elements are kept).
    virtual void dropout_forward(const Context& c, int64_t count, double p, uint64_t seed, const float* x,
                                 float* y, uint8_t* mask) const = 0;
    virtual void dropout_backward(const Context& c, int64_t count, double p, const uint8_t* mask,
                                  const float* dy, float* dx, bool accumulate) const = 0;
    // probs may be null. Labels are not validated by the ABI layer (they may be device memory):
    // the CPU throws StatusError(BL_ERR_INVALID_ARGUMENT, "labels") before writing anything.
    virtual void softmax_xent_forward(const Context& c, int64_t batch, int64_t classes, const float* logits,
                                      const int32_t* labels, float* loss, float* probs) const = 0;
    virtual void softmax_xent_backward(const Context& c, int64_t batch, int64_t classes, const float* probs,
                                       const int32_t* labels, const float* dloss, float* dlogits,
                                       bool accumulate) const = 0;
};

}  // namespace bl
