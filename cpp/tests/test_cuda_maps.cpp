// test_cuda_maps.cpp -- the index maps of the CUDA backend's kernels (cuda/index_maps.h),
// compiled for the host: they run here on every machine, GPU or not, against the core's
// geometry (geometry.h) and against brute force.
#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "check.h"
#include "geometry.h"
#include "index_maps.h"

namespace {

using bltest::fmt;

// The 7-smooth lengths of the suite and odd / even small ones.
const int64_t kLengths[] = {1, 2, 3, 5, 6, 7, 8, 9, 10, 18, 35, 36, 70, 96};

}  // namespace

BL_TEST("cuda maps: kept rows and the compact row order equal geometry.h's for every box on the suite's lengths") {
    for (int64_t LH : kLengths)
        for (int64_t kh = 0; kh <= LH / 2; ++kh) {
            const bl::Box b{kh, 0};
            CHECK_MSG(bl::cuda::kept_rows_of(LH, kh) == bl::kept_rows(LH, b), fmt("LH %d kh %d: kept rows", (int)LH, (int)kh));
            std::set<int64_t> rows;
            for (int64_t i = 0; i < bl::kept_rows(LH, b); ++i) {
                const int64_t r = bl::cuda::kept_row_of(LH, kh, i);
                CHECK_MSG(r == bl::kept_row(LH, b, i), fmt("LH %d kh %d i %d: kept row", (int)LH, (int)kh, (int)i));
                // The box's rows: min(r, LH - r) <= kh, each once (ALGORITHM.md section 3).
                CHECK_MSG(r >= 0 && r < LH && std::min(r, LH - r) <= kh, fmt("LH %d kh %d: row %d outside the box", (int)LH, (int)kh, (int)r));
                rows.insert(r);
            }
            CHECK_MSG(int64_t(rows.size()) == bl::kept_rows(LH, b), fmt("LH %d kh %d: a row twice", (int)LH, (int)kh));
        }
}

BL_TEST("cuda maps: half-spectrum offsets of the compact coefficients are distinct, inside the box, and in compact order") {
    for (int64_t LH : {1, 6, 10, 35})
        for (int64_t LW : {6, 9, 10, 35}) {
            const int64_t half_w = LW / 2 + 1;
            for (int64_t kh = 0; kh <= LH / 2; ++kh)
                for (int64_t kw = 0; kw <= LW / 2; ++kw) {
                    const int64_t kept = bl::cuda::kept_rows_of(LH, kh) * (kw + 1);
                    std::set<int64_t> seen;
                    for (int64_t j : {0, 3})
                        for (int64_t k = 0; k < kept; ++k) {
                            const int64_t off = bl::cuda::half_offset(LH, half_w, kh, kw, k, j);
                            const int64_t plane = off / (LH * half_w), r = (off / half_w) % LH, s = off % half_w;
                            const std::string ctx = fmt("LH %d LW %d box (%d, %d) k %d j %d", (int)LH, (int)LW, (int)kh, (int)kw, (int)k, (int)j);
                            CHECK_MSG(plane == j, ctx + ": plane");
                            CHECK_MSG(s == k % (kw + 1) && s <= kw, ctx + ": column");
                            CHECK_MSG(r == bl::kept_row(LH, bl::Box{kh, kw}, k / (kw + 1)), ctx + ": row");
                            CHECK_MSG(seen.insert(off).second, ctx + ": offset twice");
                        }
                }
        }
}

BL_TEST("cuda maps: placements (padding, strides) land every source value on its grid cell and nothing else") {
    struct Case {
        int64_t rows, cols, r0, rs, c0, cs, LH, LW;
    };
    const Case cases[] = {{32, 32, 1, 1, 1, 1, 35, 35},   // x of ResNet's 64-channel layer, pad 1
                          {4, 4, 0, 2, 0, 2, 10, 10},     // dy of a stride-2 layer
                          {3, 5, 2, 1, 0, 1, 6, 9},       // asymmetric padding
                          {1, 7, 0, 1, 3, 3, 1, 30}};     // 1D, stride 3
    for (const Case& c : cases) {
        const bl::cuda::Placement at{c.rows, c.cols, c.r0, c.rs, c.c0, c.cs};
        std::vector<int> hits(size_t(c.LH * c.LW), 0);
        for (int64_t a = 0; a < c.rows; ++a)
            for (int64_t b = 0; b < c.cols; ++b) {
                const int64_t off = bl::cuda::grid_offset(at, c.LH, c.LW, 0, a, b);
                REQUIRE(off >= 0 && off < c.LH * c.LW);
                ++hits[size_t(off)];
                // source_of inverts grid_offset on each axis.
                CHECK(bl::cuda::source_of(off / c.LW, c.r0, c.rs, c.rows) == a);
                CHECK(bl::cuda::source_of(off % c.LW, c.c0, c.cs, c.cols) == b);
            }
        for (int64_t r = 0; r < c.LH; ++r)
            for (int64_t s = 0; s < c.LW; ++s) {
                const bool placed = bl::cuda::source_of(r, c.r0, c.rs, c.rows) >= 0 && bl::cuda::source_of(s, c.c0, c.cs, c.cols) >= 0;
                CHECK_MSG(placed == (hits[size_t(r * c.LW + s)] == 1), fmt("cell (%d, %d)", (int)r, (int)s));
                CHECK(hits[size_t(r * c.LW + s)] <= 1);
            }
        // The second plane starts LH * LW further.
        CHECK(bl::cuda::grid_offset(at, c.LH, c.LW, 1, 0, 0) == bl::cuda::grid_offset(at, c.LH, c.LW, 0, 0, 0) + c.LH * c.LW);
    }
}

BL_TEST("cuda maps: column weights and twiddle indices") {
    for (int64_t LW : {1, 2, 9, 10, 35, 36}) {
        for (int64_t s = 0; s <= LW / 2; ++s) {
            const int64_t want = (s == 0 || 2 * s == LW) ? 1 : 2;
            CHECK_MSG(bl::cuda::column_weight(LW, s) == want, fmt("LW %d s %d", (int)LW, (int)s));
        }
    }
    for (int64_t L : {int64_t(1), int64_t(7), int64_t(35), int64_t(8192), int64_t(2147483647)})
        for (int64_t a : {int64_t(0), int64_t(1), int64_t(34), int64_t(4097), int64_t(2147483646)})
            for (int64_t b : {int64_t(0), int64_t(2), int64_t(31), int64_t(8191), int64_t(2147483646)}) {
                // (a * b) mod L by doubling: no product of two residues is formed.
                int64_t want = 0, add = a % L;
                for (int64_t m = b; m > 0; m >>= 1, add = (2 * add) % L)
                    if (m & 1) want = (want + add) % L;
                CHECK_MSG(bl::cuda::twiddle_index(a, b, L) == want, fmt("(%lld * %lld) mod %lld", (long long)a, (long long)b, (long long)L));
            }
}

BL_TEST_MAIN()
