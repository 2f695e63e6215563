// libfuzzer_entry.cpp -- libFuzzer's entry (clang -fsanitize=fuzzer; CMake option BL_LIBFUZZER):
// the input's bytes are the driver's decisions (ByteChoices), so the fuzzer steers the same
// call sequences and checks as fuzz_abi, and a failed check aborts with its description.
// Each input starts from a fresh driver and ends with everything released.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "driver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    constexpr int kMaxCallsPerInput = 64;  // keeps one input's run short
    blfuzz::ByteChoices choices(data, size);
    blfuzz::Options options;
    options.quiet = true;
    blfuzz::Driver driver(choices, options);
    for (int k = 0; k < kMaxCallsPerInput && driver.step();) ++k;
    driver.teardown();
    if (driver.failed()) {
        std::fprintf(stderr, "fuzz_abi (libFuzzer): %s\n", driver.first_failure().c_str());
        std::abort();
    }
    return 0;
}
