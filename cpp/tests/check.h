// check.h -- a minimal test harness for the native tests (no third-party framework).
//
// A test file defines cases with BL_TEST(name) { ... } and ends with BL_TEST_MAIN().
// CHECK(cond) records a failure and continues; REQUIRE(cond) records it and leaves the case.
// The executable prints one line per case and exits non-zero when any case failed, so ctest
// reports it. Run one case with `./test_x name-substring`.
#pragma once

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace bltest {

struct Case {
    const char* name;
    std::function<void()> body;
};

inline std::vector<Case>& registry() {
    static std::vector<Case> cases;
    return cases;
}

struct Registrar {
    Registrar(const char* name, std::function<void()> body) {
        registry().push_back({name, std::move(body)});
    }
};

// printf-style formatting into a std::string, for failure messages.
__attribute__((format(printf, 1, 2))) inline std::string fmt(const char* f, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, f);
    std::vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

inline int& failures_in_case() {
    static int n = 0;
    return n;
}

struct RequireFailed {};

inline void report(const char* file, int line, const std::string& what) {
    ++failures_in_case();
    std::fprintf(stderr, "    %s:%d: FAILED %s\n", file, line, what.c_str());
}

inline int run_all(int argc, char** argv) {
    const char* filter = argc > 1 ? argv[1] : nullptr;
    int failed = 0, run = 0;
    for (const Case& c : registry()) {
        if (filter && !std::strstr(c.name, filter)) continue;
        failures_in_case() = 0;
        try {
            c.body();
        } catch (const RequireFailed&) {
        } catch (const std::exception& e) {
            report(__FILE__, __LINE__, std::string("exception: ") + e.what());
        }
        ++run;
        bool ok = failures_in_case() == 0;
        if (!ok) ++failed;
        std::printf("[%s] %s\n", ok ? "pass" : "FAIL", c.name);
        std::fflush(stdout);
    }
    std::printf("%d cases, %d passed, %d failed\n", run, run - failed, failed);
    return failed == 0 && run > 0 ? 0 : 1;
}

}  // namespace bltest

#define BL_TEST_CAT2(a, b) a##b
#define BL_TEST_CAT(a, b) BL_TEST_CAT2(a, b)
#define BL_TEST(name)                                                                  \
    static void BL_TEST_CAT(bl_test_fn_, __LINE__)();                                  \
    static bltest::Registrar BL_TEST_CAT(bl_test_reg_, __LINE__)(                      \
        name, BL_TEST_CAT(bl_test_fn_, __LINE__));                                     \
    static void BL_TEST_CAT(bl_test_fn_, __LINE__)()

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) bltest::report(__FILE__, __LINE__, #cond);                        \
    } while (0)
#define CHECK_MSG(cond, msg)                                                           \
    do {                                                                               \
        if (!(cond)) bltest::report(__FILE__, __LINE__, std::string(#cond) + " -- " + (msg)); \
    } while (0)
#define REQUIRE(cond)                                                                  \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            bltest::report(__FILE__, __LINE__, #cond);                                 \
            throw bltest::RequireFailed{};                                             \
        }                                                                              \
    } while (0)

#define REQUIRE_MSG(cond, msg)                                                         \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            bltest::report(__FILE__, __LINE__, std::string(#cond) + " -- " + (msg));   \
            throw bltest::RequireFailed{};                                             \
        }                                                                              \
    } while (0)

#define BL_TEST_MAIN() \
    int main(int argc, char** argv) { return bltest::run_all(argc, argv); }
