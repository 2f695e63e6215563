// abi_fixtures.h -- what the native tests that drive the C ABI share: status checks, the
// compression constructors and an exact-size heap buffer.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>

#include "bandlimit.h"
#include "check.h"

namespace bltest {

// "BL_ERR_...  \"message\" [argument]" for failure reports.
inline std::string status_text(bl_status s) {
    const char* arg = bl_last_error_argument();
    return std::string(bl_status_name(s)) + " \"" + bl_last_error_message() + "\"" +
           (arg && *arg ? std::string(" [argument ") + arg + "]" : std::string());
}

inline bl_compression fixed(double rho) {
    bl_compression c;
    c.kind = BL_COMPRESSION_FIXED;
    c.value = rho;
    return c;
}
inline bl_compression energy(double E) {
    bl_compression c;
    c.kind = BL_COMPRESSION_ENERGY;
    c.value = E;
    return c;
}

// A heap buffer of exactly the queried size (plain malloc, no rounding up) so that ASan reports
// any write past what the plan asked for. malloc(0) may return NULL, so 0 bytes gets 1 byte
// while `bytes` (what is passed to the library) stays 0.
struct Buf {
    int64_t bytes;
    void* p;
    explicit Buf(int64_t b) : bytes(b), p(std::malloc(b > 0 ? static_cast<size_t>(b) : 1)) {
        if (!p) throw std::bad_alloc();
    }
    ~Buf() { std::free(p); }
    Buf(const Buf&) = delete;
    Buf& operator=(const Buf&) = delete;
};

}  // namespace bltest

#define CHECK_OK(expr)                                                                  \
    do {                                                                                \
        bl_status s_ = (expr);                                                          \
        CHECK_MSG(s_ == BL_OK, std::string(#expr) + " -> " + bltest::status_text(s_));  \
    } while (0)
#define REQUIRE_OK(expr)                                                                \
    do {                                                                                \
        bl_status s_ = (expr);                                                          \
        if (s_ != BL_OK) {                                                              \
            bltest::report(__FILE__, __LINE__, std::string(#expr) + " -> " + bltest::status_text(s_)); \
            throw bltest::RequireFailed{};                                              \
        }                                                                               \
    } while (0)
