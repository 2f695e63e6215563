// test_plan_limits.cpp -- the plan limits of bandlimit.h ("Plan limits"): a plan whose FFT
// length exceeds BL_MAX_FFT_LENGTH, or whose tables + workspace + saved spectra exceed
// options.max_bytes, is refused with BL_ERR_TOO_LARGE before anything is allocated -- at
// once, with a message naming the field at fault -- and the byte estimate the refusal rests
// on is what the built plan reports (on the CPU, to the byte).
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>

#include "abi_fixtures.h"
#include "bandlimit.h"
#include "check.h"

namespace {

using bltest::fixed;
using bltest::fmt;
using bltest::status_text;

bl_conv2d_desc small2d() {
    bl_conv2d_desc d{};
    d.max_batch = 2;
    d.channels = 3;
    d.height = 9;
    d.width = 11;
    d.filters = 4;
    d.kernel_height = 3;
    d.kernel_width = 3;
    d.pad_top = d.pad_bottom = d.pad_left = d.pad_right = 1;
    d.stride_h = d.stride_w = 1;
    return d;
}

bl_conv1d_desc small1d() {
    bl_conv1d_desc d{};
    d.max_batch = 2;
    d.channels = 3;
    d.length = 40;
    d.filters = 4;
    d.kernel = 5;
    d.pad_left = d.pad_right = 2;
    d.stride = 1;
    return d;
}

bl_plan_options options_with_limit(int64_t max_bytes) {
    bl_plan_options o{};
    o.max_bytes = max_bytes;
    return o;
}

// Peak resident memory of the process so far, in bytes (ru_maxrss is in KiB on Linux).
int64_t peak_rss_bytes() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return int64_t(u.ru_maxrss) * 1024;
}

int64_t allocated_bytes() {
    int64_t b = -1;
    bl_allocated_bytes(&b);
    return b;
}

struct Refusal {
    bl_status status;
    std::string message, argument;
    double seconds;
    bool out_written;
};

template <typename Create>
Refusal refuse(Create create) {
    bl_plan plan = reinterpret_cast<bl_plan>(uintptr_t(0x5e5e5e5e));
    const auto t0 = std::chrono::steady_clock::now();
    const bl_status s = create(&plan);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    Refusal r{s, bl_last_error_message(), bl_last_error_argument(), seconds,
              plan != reinterpret_cast<bl_plan>(uintptr_t(0x5e5e5e5e))};
    if (s == BL_OK) bl_plan_destroy(plan);
    return r;
}

// A refusal of the expected kind: TOO_LARGE, the argument named and leading the message, the
// words wanted in it, out_plan untouched, well under a second, nothing left allocated.
void expect_too_large(const std::string& label, const Refusal& r, const char* argument,
                      std::initializer_list<const char*> words) {
    CHECK_MSG(r.status == BL_ERR_TOO_LARGE, label + ": got " + bl_status_name(r.status) + " \"" + r.message + "\"");
    CHECK_MSG(r.argument == argument, label + ": argument \"" + r.argument + "\", want \"" + argument + "\"");
    CHECK_MSG(r.message.compare(0, r.argument.size(), r.argument) == 0,
              label + ": message \"" + r.message + "\" does not start with its argument");
    for (const char* w : words)
        CHECK_MSG(r.message.find(w) != std::string::npos, label + ": message \"" + r.message + "\" lacks \"" + w + "\"");
    CHECK_MSG(!r.out_written, label + ": out_plan written on failure");
    CHECK_MSG(r.seconds < 1.0, label + fmt(": refused after %.3f s (the limit is 1 s)", r.seconds));
    std::printf("    %-44s refused in %8.1f us: %s\n", label.c_str(), r.seconds * 1e6, r.message.c_str());
}

}  // namespace

BL_TEST("a 2^31-wide (or 2^40-padded) 2D plan is refused at once, naming the field, allocating nothing") {
    const int64_t before_bytes = allocated_bytes();
    const int64_t before_rss = peak_rss_bytes();
    struct Case {
        const char* label;
        void (*mutate)(bl_conv2d_desc&);
        const char* argument;
        const char* axis;
    };
    const Case cases[] = {
        {"width 2^31", [](bl_conv2d_desc& d) { d.width = int64_t(1) << 31; }, "width", "along the width"},
        {"width 2^40", [](bl_conv2d_desc& d) { d.width = int64_t(1) << 40; }, "width", "along the width"},
        {"pad_left 2^40", [](bl_conv2d_desc& d) { d.pad_left = int64_t(1) << 40; }, "pad_left", "along the width"},
        {"pad_right 2^31", [](bl_conv2d_desc& d) { d.pad_right = int64_t(1) << 31; }, "pad_right", "along the width"},
        {"height 2^31", [](bl_conv2d_desc& d) { d.height = int64_t(1) << 31; }, "height", "along the height"},
        {"pad_top 2^40", [](bl_conv2d_desc& d) { d.pad_top = int64_t(1) << 40; }, "pad_top", "along the height"},
        {"pad_bottom 2^31", [](bl_conv2d_desc& d) { d.pad_bottom = int64_t(1) << 31; }, "pad_bottom", "along the height"},
        {"width BL_MAX_FFT_LENGTH + 1", [](bl_conv2d_desc& d) { d.width = BL_MAX_FFT_LENGTH + 1; d.pad_left = d.pad_right = 0; },
         "width", "along the width"},
    };
    for (const Case& c : cases) {
        bl_conv2d_desc d = small2d();
        c.mutate(d);
        for (double rho : {0.0, 0.9}) {
            const Refusal r = refuse([&](bl_plan* p) { return bl_plan_create_2d(nullptr, &d, fixed(rho), nullptr, p); });
            expect_too_large(std::string(c.label) + fmt(" rho %.1f", rho), r, c.argument, {c.axis, "BL_MAX_FFT_LENGTH"});
        }
    }
    CHECK(allocated_bytes() == before_bytes);
    const int64_t grown = peak_rss_bytes() - before_rss;
    CHECK_MSG(grown < (int64_t(64) << 20), fmt("peak RSS grew by %lld bytes while refusing", (long long)grown));
}

BL_TEST("1D plans and the paper baseline's longer lengths are held to the same limit") {
    const int64_t before_bytes = allocated_bytes();
    bl_conv1d_desc d = small1d();
    d.length = int64_t(1) << 31;
    expect_too_large("1D length 2^31", refuse([&](bl_plan* p) { return bl_plan_create_1d(nullptr, &d, fixed(0.5), nullptr, p); }),
                     "length", {"along the length", "BL_MAX_FFT_LENGTH"});
    d = small1d();
    d.pad_right = int64_t(1) << 40;
    expect_too_large("1D pad_right 2^40", refuse([&](bl_plan* p) { return bl_plan_create_1d(nullptr, &d, fixed(0.5), nullptr, p); }),
                     "pad_right", {"along the length"});
    // BL_MAX_FFT_LENGTH itself is 7-smooth and allowed for the operator; the paper baseline
    // needs a power of two >= L + K - 1 = 2^24 + 4, twice the limit. (Refused on bytes here:
    // a small max_bytes keeps the allowed one from building 2^24-point tables in this test.)
    d = small1d();
    d.length = BL_MAX_FFT_LENGTH;
    d.pad_left = d.pad_right = 0;
    bl_plan_options paper{};
    paper.method = BL_METHOD_PAPER_BASELINE;
    expect_too_large("1D paper baseline at 2^24", refuse([&](bl_plan* p) { return bl_plan_create_1d(nullptr, &d, fixed(0), &paper, p); }),
                     "length", {"33554432"});
    const bl_plan_options tiny = options_with_limit(1 << 20);
    expect_too_large("1D length 2^24, max_bytes 1 MiB", refuse([&](bl_plan* p) { return bl_plan_create_1d(nullptr, &d, fixed(0), &tiny, p); }),
                     "options.max_bytes", {"at least", "1048576 bytes"});
    CHECK(allocated_bytes() == before_bytes);
}

BL_TEST("max_bytes: the default refuses a plan whose saved spectra alone exceed 16 GiB; raised, it is built") {
    bl_conv2d_desc d = small2d();
    d.max_batch = int64_t(1) << 24;  // saved x^ spectra: 2^24 items x 3 channels x ~100 coefficients x 8 bytes
    d.channels = 16;
    const int64_t before_bytes = allocated_bytes();
    expect_too_large("batch 2^24, default limit",
                     refuse([&](bl_plan* p) { return bl_plan_create_2d(nullptr, &d, fixed(0), nullptr, p); }),
                     "options.max_bytes", {"17179869184 bytes", "saved spectra", "raise options.max_bytes"});
    CHECK(allocated_bytes() == before_bytes);
    // The same plan under a raised limit: built (its tables are small; the big buffers are the
    // caller's), and it reports the sizes the refusal quoted.
    const bl_plan_options unlimited = options_with_limit(std::numeric_limits<int64_t>::max());
    bl_plan plan = nullptr;
    const bl_status s = bl_plan_create_2d(nullptr, &d, fixed(0), &unlimited, &plan);
    REQUIRE_MSG(s == BL_OK, status_text(s));
    int64_t saved = 0, workspace = 0;
    CHECK(bl_plan_saved_spectra_bytes(plan, &saved) == BL_OK);
    CHECK(bl_plan_workspace_bytes(plan, &workspace) == BL_OK);
    CHECK_MSG(saved > (int64_t(1) << 34), fmt("saved %lld", (long long)saved));
    CHECK(allocated_bytes() - before_bytes < (int64_t(16) << 20));
    bl_plan_destroy(plan);
    CHECK(allocated_bytes() == before_bytes);
}

BL_TEST("max_bytes and reserved: invalid values are BL_ERR_INVALID_ARGUMENT naming them") {
    const bl_conv2d_desc d = small2d();
    bl_plan_options o = options_with_limit(-1);
    Refusal r = refuse([&](bl_plan* p) { return bl_plan_create_2d(nullptr, &d, fixed(0.5), &o, p); });
    CHECK_MSG(r.status == BL_ERR_INVALID_ARGUMENT && r.argument == "options.max_bytes", r.message);
    CHECK(!r.out_written);
    o = options_with_limit(0);
    o.reserved = 7;
    r = refuse([&](bl_plan* p) { return bl_plan_create_2d(nullptr, &d, fixed(0.5), &o, p); });
    CHECK_MSG(r.status == BL_ERR_INVALID_ARGUMENT && r.argument == "options.reserved", r.message);
    CHECK(!r.out_written);
}

// The estimate is exact on the CPU: for random plans (1D and 2D, fixed and energy, both
// spectra modes, every product and method), with T the library bytes the built plan holds, W
// its workspace and S its saved spectra, max_bytes = T + W + S builds it and T + W + S - 1 is
// refused. So what a refusal quotes is what the plan would have taken, to the byte.
BL_TEST("the byte estimate equals what the built plan holds and needs (CPU, random plans)") {
    std::mt19937_64 rng(20261203);
    auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
    int built = 0;
    for (int trial = 0; trial < 300; ++trial) {
        const bool one_d = trial % 3 == 0;
        bl_conv2d_desc d{};
        d.max_batch = pick(1, 6);
        d.channels = pick(1, 40);
        d.filters = pick(1, 40);
        d.height = one_d ? 1 : pick(1, 40);
        d.width = pick(1, one_d ? 300 : 40);
        d.kernel_height = one_d ? 1 : pick(1, 5);
        d.kernel_width = pick(1, 7);
        d.pad_top = one_d ? 0 : pick(0, 3);
        d.pad_bottom = one_d ? 0 : pick(0, 3);
        d.pad_left = pick(0, 3);
        d.pad_right = pick(0, 3);
        d.stride_h = one_d ? 1 : pick(1, 2);
        d.stride_w = pick(1, 3);
        if (d.kernel_height > d.height + d.pad_top + d.pad_bottom || d.kernel_width > d.width + d.pad_left + d.pad_right)
            continue;
        bl_compression comp = fixed(double(pick(0, 95)) / 100.0);
        if (pick(0, 3) == 0) comp = bltest::energy(double(pick(50, 100)) / 100.0);
        bl_plan_options o{};
        o.spectra_mode = pick(0, 1) ? BL_SPECTRA_INPUT_ONLY : BL_SPECTRA_INPUT_AND_WEIGHT;
        o.product = int32_t(pick(0, 2));
        o.method = pick(0, 4) == 0 ? BL_METHOD_PAPER_BASELINE : BL_METHOD_BANDLIMIT;
        auto create = [&](bl_plan* p) {
            if (one_d) {
                const bl_conv1d_desc d1{d.max_batch, d.channels, d.width, d.filters, d.kernel_width,
                                        d.pad_left, d.pad_right, d.stride_w};
                return bl_plan_create_1d(nullptr, &d1, comp, &o, p);
            }
            return bl_plan_create_2d(nullptr, &d, comp, &o, p);
        };
        const int64_t before = allocated_bytes();
        bl_plan plan = nullptr;
        const bl_status s = create(&plan);
        if (s == BL_ERR_UNSUPPORTED) continue;  // the spatial product on a layer it cannot take
        REQUIRE_MSG(s == BL_OK, fmt("trial %d: ", trial) + status_text(s));
        const int64_t held = allocated_bytes() - before;
        int64_t workspace = 0, saved = 0;
        CHECK(bl_plan_workspace_bytes(plan, &workspace) == BL_OK);
        CHECK(bl_plan_saved_spectra_bytes(plan, &saved) == BL_OK);
        bl_plan_destroy(plan);
        const int64_t total = held + workspace + saved;
        o.max_bytes = total;
        plan = nullptr;
        const bl_status at_total = create(&plan);
        CHECK_MSG(at_total == BL_OK, fmt("trial %d: refused at max_bytes = its own total %lld: ", trial, (long long)total) +
                                         status_text(at_total));
        if (at_total == BL_OK) bl_plan_destroy(plan);
        o.max_bytes = total - 1;
        const Refusal below = refuse(create);
        CHECK_MSG(below.status == BL_ERR_TOO_LARGE && below.argument == "options.max_bytes",
                  fmt("trial %d: at max_bytes = total - 1 = %lld: %s \"%s\"", trial, (long long)(total - 1),
                      bl_status_name(below.status), below.message.c_str()));
        CHECK_MSG(below.message.find(std::to_string(total) + " bytes") != std::string::npos,
                  fmt("trial %d: the refusal does not quote the total %lld: ", trial, (long long)total) + below.message);
        ++built;
    }
    std::printf("    %d random plans: estimate == built bytes\n", built);
    CHECK(built > 150);
}

BL_TEST_MAIN()
