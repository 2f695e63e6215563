// test_cgemm.cpp -- the per-frequency 3-mult complex product (cgemm.h) of every CPU path against
// a float64 complex product, on fresh random operands: sizes on and off the tile edges (MR rows,
// NR columns, KC reduction blocks), one and several column panels (A read in place or packed),
// conjugated and strided operands, ordinary and streaming stores; the scratch never overrun.
#include "cgemm.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "bandlimit.h"
#include "check.h"
#include "cpu_path.h"
#include "kernel_paths.h"

namespace {

using cd = std::complex<double>;
constexpr float kGuard = 1.2345e7f;
double worst_ratio = 0.0;

// Relative (Frobenius) error bound of a float32 product with reduction length p; the 3-mult
// form adds a few roundings per term (ALGORITHM.md section 5 uses the same shape).
double bound(int64_t p) { return 16.0 * std::ldexp(1.0, -24) * std::max(1.0, std::log2(double(p))) * 2.0; }

// An operand of rows x cols stored with the given strides (row-major when col == 1, else
// column-major with the padding between), random real and imaginary parts.
struct Matrix {
    std::vector<float> re, im;
    int64_t row, col;
    Matrix(std::mt19937_64& rng, int64_t rows, int64_t cols, bool transposed) {
        std::uniform_real_distribution<float> u(-1.0f, 1.0f);
        row = transposed ? 1 : cols + 3;
        col = transposed ? rows + 2 : 1;
        const int64_t size = transposed ? cols * col : rows * row;
        re.resize(size_t(size));
        im.resize(size_t(size));
        for (float& v : re) v = u(rng);
        for (float& v : im) v = u(rng);
    }
    cd at(int64_t i, int64_t q, bool conj) const {
        const cd z(re[size_t(i * row + q * col)], im[size_t(i * row + q * col)]);
        return conj ? std::conj(z) : z;
    }
    bl::CgemmOperand operand(bool conj) const { return {re.data(), im.data(), row, col, conj}; }
};

void run_case(const bltest::PathCase& pc, std::mt19937_64& rng, int64_t m, int64_t n, int64_t p, bool conj_a, bool conj_b,
              bool a_transposed, bool b_transposed, bool stream = false) {
    const Matrix A(rng, m, p, a_transposed), B(rng, p, n, b_transposed);
    const int64_t scratch_floats = bl::cgemm_scratch_floats(m, n, p);
    std::vector<float> scratch_buf(size_t(scratch_floats + 32), kGuard);
    const auto addr = reinterpret_cast<uintptr_t>(scratch_buf.data());
    float* scratch = scratch_buf.data() + ((64 - addr % 64) % 64) / sizeof(float);
    bltest::AlignedFloats c_re(m * n, -7.0f), c_im(m * n, -7.0f);
    bl::cgemm_for_path(pc.path)(m, n, p, A.operand(conj_a), B.operand(conj_b), c_re.p, c_im.p, scratch, stream);
    double num = 0, den = 0;
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            cd ref = 0;
            for (int64_t q = 0; q < p; ++q) ref += A.at(i, q, conj_a) * B.at(q, j, conj_b);
            num += std::norm(cd(c_re.p[i * n + j], c_im.p[i * n + j]) - ref);
            den += std::norm(ref);
        }
    if (stream) {
        // Streaming stores write the same bits as ordinary ones.
        bltest::AlignedFloats o_re(m * n, -7.0f), o_im(m * n, -7.0f);
        bl::cgemm_for_path(pc.path)(m, n, p, A.operand(conj_a), B.operand(conj_b), o_re.p, o_im.p, scratch, false);
        bool same = true;
        for (int64_t e = 0; e < m * n; ++e) same = same && o_re.p[e] == c_re.p[e] && o_im.p[e] == c_im.p[e];
        CHECK_MSG(same, bltest::fmt("%s m=%lld n=%lld p=%lld: streamed C differs from ordinary stores", pc.name,
                                    (long long)m, (long long)n, (long long)p));
    }
    bool guard = true;
    for (int64_t i = scratch_floats; i < scratch_floats + 16; ++i) guard = guard && scratch[i] == kGuard;
    const double err = std::sqrt(num / den), b = bound(p);
    worst_ratio = std::max(worst_ratio, err / b);
    const std::string what = bltest::fmt("%s m=%lld n=%lld p=%lld conj=%d%d transposed=%d%d", pc.name, (long long)m,
                                         (long long)n, (long long)p, int(conj_a), int(conj_b), int(a_transposed),
                                         int(b_transposed));
    CHECK_MSG(std::isfinite(err) && err <= b, what + bltest::fmt(" err=%.3e bound=%.3e", err, b));
    CHECK_MSG(guard, what + ": scratch overrun");
}

}  // namespace

BL_TEST("cgemm: sizes around the tiles and reduction blocks vs a float64 product") {
    std::mt19937_64 rng(31);
    const int64_t ms[] = {1, 3, 4, 5, 9, 32, 67};
    const int64_t ns[] = {1, 7, 8, 16, 17, 32, 33, 70};
    const int64_t ps[] = {1, 5, 64, 65, 129, 300};
    for (const bltest::PathCase& pc : bltest::supported_paths())
        for (int64_t m : ms)
            for (int64_t n : ns)
                for (int64_t p : ps)
                    run_case(pc, rng, m, n, p, false, (m + n + p) % 2 == 1, false, false, (m + n + p) % 3 == 0);
}

BL_TEST("cgemm: conjugated and strided operands, both panel regimes, vs a float64 product") {
    std::mt19937_64 rng(32);
    const int64_t shapes[][3] = {{32, 64, 200}, {70, 32, 130}, {67, 12, 260}, {13, 100, 33}};
    for (const bltest::PathCase& pc : bltest::supported_paths())
        for (const auto& s : shapes)
            for (int flags = 0; flags < 16; ++flags)
                run_case(pc, rng, s[0], s[1], s[2], flags & 1, flags & 2, flags & 4, flags & 8, flags % 3 == 0);
}

BL_TEST("report-worst-ratio") { std::printf("    worst err/bound: %.3f\n", worst_ratio); }

BL_TEST_MAIN()
