// unit_root.h -- the twiddle factors every backend's tables are built from: (cos, sin)(2 pi m /
// L) in double, exact at quarter turns (m L / 4 a multiple of L: 1, i, -1, -i), so that tables
// rounded to float give exact zeros and ones there. Header-only: the CPU backend and the CUDA
// plugin (which links none of the CPU code) both include it.
#pragma once

#include <cmath>
#include <cstdint>

namespace bl {

inline void unit_root(int64_t m, int64_t L, double* c, double* s) {
    if ((4 * m) % L == 0) {
        const int64_t quarter = 4 * m / L;
        *c = quarter == 0 ? 1.0 : quarter == 2 ? -1.0 : 0.0;
        *s = quarter == 1 ? 1.0 : quarter == 3 ? -1.0 : 0.0;
        return;
    }
    const double a = 6.283185307179586476925286766559 * double(m) / double(L);
    *c = std::cos(a);
    *s = std::sin(a);
}

}  // namespace bl
