// plan.h -- the plan object behind the opaque bl_plan handle.
//
// A plan owns the validated geometry, the compression choice, the box chain, the context it
// was created in and the backend's part of the plan. It is immutable after creation: execute
// calls get every buffer from the caller, so concurrent calls with distinct buffers are safe.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "backend.h"
#include "bandlimit.h"
#include "context.h"
#include "geometry.h"

namespace bl {

struct Plan {
    Geometry geometry;
    bl_compression compression{};
    bl_spectra_mode spectra_mode = BL_SPECTRA_INPUT_AND_WEIGHT;
    bl_product product = BL_PRODUCT_AUTO;
    std::vector<Box> chain;
    Box box;              // fixed box, or the full box in energy mode
    double box_rate = 0;  // achieved rate of box
    int64_t saved_bytes = 0;
    uint64_t signature = 0;
    std::shared_ptr<const Context> context;
    std::unique_ptr<BackendPlan> backend;
    int64_t held_bytes = 0;  // counted in the library total while the plan lives

    bool energy_mode() const { return compression.kind == BL_COMPRESSION_ENERGY; }
    bool saves_weight_spectra() const { return spectra_mode == BL_SPECTRA_INPUT_AND_WEIGHT; }
    Box full_box() const { return chain.back(); }
};

// Saved bytes for a plan: header + compact X^ (and W^) for max_batch at its box.
int64_t saved_spectra_bytes(const Geometry& g, const Box& box, bl_spectra_mode mode);

// Identifies a plan's geometry, compression, spectra mode and backend in saved buffers.
uint64_t plan_signature(const Plan& p);
// The header's own check value.
uint64_t saved_header_check(const SavedHeader& h);

}  // namespace bl

struct bl_plan_s {
    bl::Plan plan;
};
