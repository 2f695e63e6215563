// stage_timers.h -- optional per-stage wall-clock timers of the CPU backend, compiled in only
// when BL_STAGE_TIMERS is defined (the benchmark's private build of the core; the shipped
// library has none). Stages are timed around whole parallel loops from the calling thread, so
// the accumulators need no synchronisation as long as one execute runs at a time.
#pragma once

namespace bl {

struct StageTimes {
    double transform_x = 0;   // forward transforms of x (forward pass)
    double transform_w = 0;   // forward transforms of w (forward; backward in INPUT_ONLY mode)
    double transform_dy = 0;  // forward transforms of dy (backward)
    double product = 0;       // per-frequency complex products
    double inverse = 0;       // inverse transforms, crop, bias
    double energy = 0;        // energy-mode box choice and gather
};

#ifdef BL_STAGE_TIMERS
// The process-wide accumulators (seconds); the bench resets and reads them.
StageTimes& stage_times();
#endif

}  // namespace bl
