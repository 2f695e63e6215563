// libfuzzer_entry.cpp -- libFuzzer's entry (clang -fsanitize=fuzzer; CMake option BL_LIBFUZZER,
// preset libfuzzer): the input's bytes are the driver's decisions (driver.h, run_input), so the
// fuzzer steers the same call sequences and checks as fuzz_abi, and a failed check aborts with
// its description. An input it finds is replayed by any build with fuzz_abi --replay FILE;
// cpp/fuzz/regressions/ keeps those that found bugs.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "driver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    blfuzz::Options options;
    options.quiet = true;
    std::string failure;
    if (!blfuzz::run_input(data, size, options, &failure)) {
        std::fprintf(stderr, "fuzz_abi (libFuzzer): %s\n", failure.c_str());
        std::abort();
    }
    return 0;
}
