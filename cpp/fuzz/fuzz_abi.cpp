// fuzz_abi.cpp -- the command-line fuzz driver of the C ABI (driver.h says what a call checks).
//
//   fuzz_abi --seed S --calls N [--time-limit SECONDS] [--keep-going] [--trace-from I]
//            [--include-known-bug NAME | --include-known-bugs]
//   fuzz_abi --replay FILE...   (libFuzzer inputs, e.g. cpp/fuzz/regressions/*, run as libFuzzer runs them)
//
// Prints one summary line and exits 0 when every call passed its checks; on a failure it prints
// the seed, the call index and what failed (rerun with the same --seed to reproduce; --trace-from
// prints the calls from an index on) and exits 1. The run is a pure function of the seed: a time
// limit only cuts it short (and says so).
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "driver.h"

namespace {

int usage(const char* why) {
    std::fprintf(stderr,
                 "fuzz_abi: %s\n"
                 "usage: fuzz_abi --seed S --calls N [--time-limit SECONDS] [--keep-going] [--trace-from I]\n"
                 "                [--include-known-bug NAME | --include-known-bugs]\n"
                 "       fuzz_abi --replay FILE... [--include-known-bug NAME | --include-known-bugs]\n"
                 "known bugs (mutations off by default):\n",
                 why);
    for (const blfuzz::KnownBug& k : blfuzz::kKnownBugs) std::fprintf(stderr, "  %-16s %s\n", k.name, k.what);
    return 2;
}

// Runs each file as one libFuzzer input; prints one line per file and a summary.
int replay(const std::vector<std::string>& files, const blfuzz::Options& options) {
    int failed = 0;
    for (const std::string& f : files) {
        std::ifstream in(f, std::ios::binary);
        if (!in) {
            std::printf("fuzz_abi: cannot read %s\n", f.c_str());
            ++failed;
            continue;
        }
        const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::string failure;
        const bool ok = blfuzz::run_input(bytes.data(), bytes.size(), options, &failure);
        std::printf("fuzz_abi: replay %s (%zu bytes): %s\n", f.c_str(), bytes.size(), ok ? "ok" : failure.c_str());
        failed += ok ? 0 : 1;
    }
    std::printf("fuzz_abi: replayed %zu inputs, %d failed\n", files.size(), failed);
    return failed == 0 && !files.empty() ? 0 : 1;
}

bool parse_u64(const char* s, uint64_t* out) {
    if (!s || !*s) return false;
    char* end = nullptr;
    *out = std::strtoull(s, &end, 10);
    return end && *end == '\0';
}

}  // namespace

int main(int argc, char** argv) {
    uint64_t seed = 1, calls = 1000, trace_from = 0;
    double time_limit = 0;  // seconds; 0: none
    bool trace = false;
    std::vector<std::string> replay_files;
    blfuzz::Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const char* next = i + 1 < argc ? argv[i + 1] : nullptr;
        if (a == "--seed") {
            if (!parse_u64(next, &seed)) return usage("--seed needs an unsigned integer");
            ++i;
        } else if (a == "--calls") {
            if (!parse_u64(next, &calls)) return usage("--calls needs an unsigned integer");
            ++i;
        } else if (a == "--time-limit") {
            char* end = nullptr;
            time_limit = next ? std::strtod(next, &end) : -1;
            if (!next || !end || *end || !(time_limit >= 0)) return usage("--time-limit needs seconds >= 0");
            ++i;
        } else if (a == "--trace-from") {
            if (!parse_u64(next, &trace_from)) return usage("--trace-from needs a call index");
            trace = true;
            ++i;
        } else if (a == "--replay") {
            while (i + 1 < argc && std::strncmp(argv[i + 1], "--", 2) != 0) replay_files.push_back(argv[++i]);
            if (replay_files.empty()) return usage("--replay needs files");
        } else if (a == "--keep-going") {
            options.keep_going = true;
        } else if (a == "--include-known-bugs") {
            options.known_bugs.push_back("all");
        } else if (a == "--include-known-bug") {
            bool known = false;
            for (const blfuzz::KnownBug& k : blfuzz::kKnownBugs) known = known || (next && std::strcmp(next, k.name) == 0);
            if (!known) return usage("--include-known-bug needs one of the names below");
            options.known_bugs.push_back(next);
            ++i;
        } else {
            return usage(("unknown argument " + a).c_str());
        }
    }
    if (trace) options.trace_from = int64_t(trace_from);
    if (!replay_files.empty()) return replay(replay_files, options);

    const auto start = std::chrono::steady_clock::now();
    auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    blfuzz::SeededChoices choices(seed);
    bool timed_out = false;
    blfuzz::Stats stats;
    std::string failure;
    {
        blfuzz::Driver driver(choices, options);
        for (uint64_t k = 0; k < calls; ++k) {
            if (time_limit > 0 && (k & 15) == 0 && seconds() > time_limit) {
                timed_out = true;
                break;
            }
            if (!driver.step()) break;
        }
        driver.teardown();  // every plan, buffer and context released; bl_allocated_bytes back to its start
        stats = driver.stats();
        failure = driver.first_failure();
    }
    const bool failed = stats.mismatches + stats.violations > 0;
    std::printf("fuzz_abi: seed %" PRIu64 " calls %" PRId64 " valid %" PRId64 " invalid_caught %" PRId64 " mismatches %" PRId64
                " violations %" PRId64 " special_data %" PRId64 " wall %.1fs%s %s\n",
                seed, stats.calls, stats.valid, stats.invalid_caught, stats.mismatches, stats.violations, stats.special_data,
                seconds(), timed_out ? " (stopped at --time-limit)" : "", failed ? "FAILED" : "ok");
    if (failed)
        std::printf("fuzz_abi: first failure (reproduce with --seed %" PRIu64 "):\n  %s\n", seed, failure.c_str());
    return failed ? 1 : 0;
}
