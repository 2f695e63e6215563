// fft_batch.cpp -- the tables of the batched FFT, its portable kernel instance and the dispatch
// by CPU path (fft_batch.h).
#include "fft_batch.h"
#include "unit_root.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#if defined(__AVX__)
#include <immintrin.h>  // stream_store.inc
#endif
#include <new>
#include <stdexcept>
#include <string>

#include "bandlimit.h"

namespace bl {

BatchFft::BatchFft(int64_t n) {
    if (!is_7smooth(n))
        throw std::invalid_argument("BatchFft: length " + std::to_string(n) + " is not a positive 7-smooth integer");
    plan_.n = n;
    int64_t rest = n;
    auto push = [&](int r) {
        if (plan_.stages >= kMaxFftStages) throw std::bad_alloc();  // n > 2^48: no table fits anyway
        plan_.radix[plan_.stages++] = r;
        rest /= r;
    };
    while (rest % 8 == 0) push(8);
    if (rest % 4 == 0) push(4);
    for (int r : {2, 3, 5, 7})
        while (rest % r == 0) push(r);
    // Twiddles of stage t: (cos, sin)(2 pi r jj / (Ns R)), jj < Ns, r = 1..R-1, computed in
    // double and exact at quarter turns.
    int64_t total = 0, Ns = 1;
    for (int t = 0; t < plan_.stages; ++t) {
        plan_.tw_offset[t] = total;
        total += 2 * Ns * (plan_.radix[t] - 1);
        Ns *= plan_.radix[t];
    }
    twiddles_.resize(size_t(total));
    Ns = 1;
    for (int t = 0; t < plan_.stages; ++t) {
        const int R = plan_.radix[t];
        const int64_t L = Ns * R;
        float* tw = twiddles_.data() + plan_.tw_offset[t];
        for (int64_t jj = 0; jj < Ns; ++jj)
            for (int r = 1; r < R; ++r) {
                const int64_t m = (int64_t(r) * jj) % L;
                double c, s;
                unit_root(m, L, &c, &s);
                tw[(jj * (R - 1) + r - 1) * 2] = float(c);
                tw[(jj * (R - 1) + r - 1) * 2 + 1] = float(s);
            }
        Ns = L;
    }
    plan_.twiddles = twiddles_.data();
}

namespace portable {
#define BF_WIDTH 4
#include "fft_batch_kernel.inc"
#undef BF_WIDTH
}  // namespace portable

BatchFftKernels batch_fft_kernels_for_path(int path) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (path == BL_CPU_PATH_AVX512) return avx512::kBatchFftKernels;
    if (path == BL_CPU_PATH_AVX2) return avx2::kBatchFftKernels;
#endif
    (void)path;
    return portable::kBatchFftKernels;
}

}  // namespace bl
