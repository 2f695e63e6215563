// cpu_path.cpp -- see cpu_path.h.
#include "cpu_path.h"

#include "bandlimit.h"

namespace bl {
namespace {

bool machine_has(int path) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    // __builtin_cpu_supports also checks that the OS saves the wider register state (XCR0).
    switch (path) {
    case BL_CPU_PATH_PORTABLE: return true;
    case BL_CPU_PATH_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case BL_CPU_PATH_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
    default: return false;
    }
#else
    return path == BL_CPU_PATH_PORTABLE;
#endif
}

int detect_best() {
    if (machine_has(BL_CPU_PATH_AVX512)) return BL_CPU_PATH_AVX512;
    if (machine_has(BL_CPU_PATH_AVX2)) return BL_CPU_PATH_AVX2;
    return BL_CPU_PATH_PORTABLE;
}

}  // namespace

bool cpu_path_supported(int path) { return machine_has(path); }

int cpu_path_best() {
    static const int best = detect_best();
    return best;
}

const char* cpu_path_name(int path) {
    switch (path) {
    case BL_CPU_PATH_PORTABLE: return "portable";
    case BL_CPU_PATH_AVX2: return "AVX2 + FMA";
    case BL_CPU_PATH_AVX512: return "AVX-512 (F, DQ, VL) + FMA";
    default: return "unknown";
    }
}

}  // namespace bl
