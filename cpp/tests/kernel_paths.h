// kernel_paths.h -- shared by the unit tests of the per-ISA kernels (test_cgemm, test_dft,
// test_fft_batch): the CPU paths this machine runs, the others printed as skipped (never
// silently), and a 64-byte-aligned float buffer (streaming stores need aligned rows).
#pragma once

#include <cstdint>
#include <cstdio>
#include <vector>

#include "bandlimit.h"
#include "cpu_path.h"

namespace bltest {

struct PathCase {
    int path;
    const char* name;
};

inline std::vector<PathCase> supported_paths() {
    std::vector<PathCase> out;
    for (PathCase p : {PathCase{BL_CPU_PATH_PORTABLE, "portable"}, PathCase{BL_CPU_PATH_AVX2, "avx2"},
                       PathCase{BL_CPU_PATH_AVX512, "avx512"}}) {
        if (bl::cpu_path_supported(p.path))
            out.push_back(p);
        else
            std::printf("    skipped: path %s (not supported by this CPU or build)\n", p.name);
    }
    return out;
}

// n floats filled with `fill`, starting on a 64-byte boundary.
struct AlignedFloats {
    std::vector<float> storage;
    float* p;
    AlignedFloats(int64_t n, float fill) : storage(size_t(n + 16), fill) {
        const auto addr = reinterpret_cast<uintptr_t>(storage.data());
        p = storage.data() + ((64 - addr % 64) % 64) / sizeof(float);
    }
};

}  // namespace bltest
