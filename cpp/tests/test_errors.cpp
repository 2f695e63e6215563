// test_errors.cpp -- argument checking of the C ABI (include/bandlimit.h).
//
// Every bad input must return its exact bl_status, leave a non-empty bl_last_error_message()
// that names the argument at fault, and write nothing to caller memory (outputs, saved
// spectra, workspace, out-parameters): each call below runs with sentinel-filled buffers that
// are compared byte for byte afterwards.
#include <cinttypes>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <cctype>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bandlimit.h"
#include "abi_fixtures.h"
#include "check.h"
#include "sanitizer_allocator.h"  // bl_buffer_alloc(2^62) below expects OUT_OF_MEMORY

namespace {

using bltest::fmt;

std::string sname(bl_status s) {
    const char* n = bl_status_name(s);
    return n ? n : "(null)";
}

// Whether msg contains one of names as a whole word (case-insensitive; words are runs of
// letters and digits, so "pad_top" contains the words "pad" and "top" and itself).
bool names_any(const std::string& msg, const std::vector<const char*>& names) {
    auto lower = [](std::string s) {
        for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return s;
    };
    auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
    const std::string m = lower(msg);
    for (const char* n : names) {
        const std::string w = lower(n);
        for (size_t at = m.find(w); at != std::string::npos; at = m.find(w, at + 1)) {
            const bool left = at == 0 || !word(m[at - 1]) || !word(w.front());
            const bool right = at + w.size() == m.size() || !word(m[at + w.size()]) || !word(w.back());
            if (left && right) return true;
        }
    }
    return false;
}

std::string join(const std::vector<const char*>& names) {
    std::string s;
    for (const char* n : names) s += (s.empty() ? "" : "|") + std::string(n);
    return s;
}

// Checks status, message and (via the caller) untouched buffers.
void expect_status(const std::string& label, bl_status got, bl_status want,
                   const std::vector<const char*>& names) {
    const std::string msg = bl_last_error_message();  // copy: valid until the next call
    CHECK_MSG(got == want, label + ": got " + sname(got) + " want " + sname(want) + " (message \"" + msg + "\")");
    if (want != BL_OK) {
        CHECK_MSG(!msg.empty(), label + ": empty bl_last_error_message()");
        // The argument at fault is its own field, and the message starts with it.
        const std::string arg = bl_last_error_argument();
        if (want != BL_ERR_OUT_OF_MEMORY && want != BL_ERR_INTERNAL) {
            CHECK_MSG(!arg.empty(), label + ": empty bl_last_error_argument() (message \"" + msg + "\")");
            CHECK_MSG(msg.compare(0, arg.size(), arg) == 0,
                      label + ": message \"" + msg + "\" does not start with its argument \"" + arg + "\"");
        }
        if (names.size() > 0)
            CHECK_MSG(names_any(msg, names), label + ": message \"" + msg + "\" does not name " + join(names));
    }
}

using bltest::energy;
using bltest::fixed;

bl_conv2d_desc base2d() {
    bl_conv2d_desc d;
    d.max_batch = 2;
    d.channels = 2;
    d.height = 8;
    d.width = 7;
    d.filters = 3;
    d.kernel_height = 3;
    d.kernel_width = 3;
    d.pad_top = 1;
    d.pad_bottom = 1;
    d.pad_left = 1;
    d.pad_right = 1;
    d.stride_h = 1;
    d.stride_w = 1;
    return d;
}

bl_conv1d_desc base1d() {
    bl_conv1d_desc d;
    d.max_batch = 2;
    d.channels = 2;
    d.length = 16;
    d.filters = 2;
    d.kernel = 4;
    d.pad_left = 2;
    d.pad_right = 1;
    d.stride = 1;
    return d;
}

bl_plan const kPlanSentinel = reinterpret_cast<bl_plan>(static_cast<uintptr_t>(0x5EE5EE5E));

// Plan creation that must fail: status, message, and out_plan left as it was.
void create2d_fails(const std::string& label, const bl_conv2d_desc* d, bl_compression comp,
                    const bl_plan_options* opt, bl_status want, const std::vector<const char*>& names,
                    bool pass_out = true) {
    bl_plan p = kPlanSentinel;
    const bl_status s = bl_plan_create_2d(nullptr, d, comp, opt, pass_out ? &p : nullptr);
    expect_status("create_2d " + label, s, want, names);
    CHECK_MSG(p == kPlanSentinel, "create_2d " + label + ": out_plan was written");
    if (s == BL_OK && p != kPlanSentinel) bl_plan_destroy(p);
}
void create1d_fails(const std::string& label, const bl_conv1d_desc* d, bl_compression comp,
                    const bl_plan_options* opt, bl_status want, const std::vector<const char*>& names,
                    bool pass_out = true) {
    bl_plan p = kPlanSentinel;
    const bl_status s = bl_plan_create_1d(nullptr, d, comp, opt, pass_out ? &p : nullptr);
    expect_status("create_1d " + label, s, want, names);
    CHECK_MSG(p == kPlanSentinel, "create_1d " + label + ": out_plan was written");
    if (s == BL_OK && p != kPlanSentinel) bl_plan_destroy(p);
}

// A plan that must be created.
bl_plan create2d_ok(const std::string& label, const bl_conv2d_desc& d, bl_compression comp,
                    const bl_plan_options* opt = nullptr) {
    bl_plan p = nullptr;
    const bl_status s = bl_plan_create_2d(nullptr, &d, comp, opt, &p);
    CHECK_MSG(s == BL_OK && p != nullptr, label + ": create_2d " + sname(s) + " \"" + bl_last_error_message() + "\"");
    return s == BL_OK ? p : nullptr;
}

// A layer with every caller buffer of an execute call, sized exactly as the plan asks.
// snapshot() records all of them; unchanged() says which, if any, differs afterwards.
struct Fixture {
    bl_plan plan = nullptr;
    int64_t N = 0, C = 0, H = 0, W = 0, F = 0, KH = 0, KW = 0, Ho = 0, Wo = 0;
    int64_t saved_bytes = 0, ws_bytes = 0;
    std::vector<float> x, w, b, y, dy, dx, dw, db;
    std::vector<unsigned char> saved, ws;
    bl_box box{-77, -77};
    std::vector<std::vector<unsigned char>> snap;

    explicit Fixture(const bl_conv2d_desc& d, bl_compression comp,
                     int32_t mode = BL_SPECTRA_INPUT_AND_WEIGHT) {
        bl_plan_options opt{};
        opt.spectra_mode = mode;
        const bl_status s = bl_plan_create_2d(nullptr, &d, comp, &opt, &plan);
        if (s != BL_OK) {
            bltest::report(__FILE__, __LINE__, "fixture plan: " + sname(s) + " " + bl_last_error_message());
            throw bltest::RequireFailed{};
        }
        N = d.max_batch;
        C = d.channels;
        H = d.height;
        W = d.width;
        F = d.filters;
        KH = d.kernel_height;
        KW = d.kernel_width;
        REQUIRE(bl_plan_output_size(plan, &Ho, &Wo) == BL_OK);
        REQUIRE(bl_plan_saved_spectra_bytes(plan, &saved_bytes) == BL_OK && saved_bytes > 0);
        REQUIRE(bl_plan_workspace_bytes(plan, &ws_bytes) == BL_OK && ws_bytes >= 0);
        std::mt19937_64 rng(99);
        auto fill = [&](std::vector<float>& v, int64_t count) {
            v.resize(static_cast<size_t>(count));
            for (float& e : v) e = static_cast<float>(static_cast<double>(rng() >> 11) / 9007199254740992.0 - 0.5);
        };
        fill(x, N * C * H * W);
        fill(w, F * C * KH * KW);
        fill(b, F);
        fill(dy, N * F * Ho * Wo);
        y.assign(static_cast<size_t>(N * F * Ho * Wo), -1234.5f);
        dx.assign(static_cast<size_t>(N * C * H * W), -2345.5f);
        dw.assign(static_cast<size_t>(F * C * KH * KW), -3456.5f);
        db.assign(static_cast<size_t>(F), -4567.5f);
        saved.assign(static_cast<size_t>(saved_bytes), 0xA5);
        ws.assign(static_cast<size_t>(ws_bytes > 0 ? ws_bytes : 1), 0x5A);
    }
    ~Fixture() { bl_plan_destroy(plan); }
    Fixture(const Fixture&) = delete;
    Fixture& operator=(const Fixture&) = delete;

    void* wsp() { return ws.data(); }

    // A real forward so that saved holds valid spectra.
    void forward() {
        const bl_status s = bl_forward(plan, N, x.data(), w.data(), b.data(), y.data(), saved.data(), saved_bytes,
                                       wsp(), ws_bytes, nullptr);
        if (s != BL_OK) {
            bltest::report(__FILE__, __LINE__, "fixture forward: " + sname(s) + " " + bl_last_error_message());
            throw bltest::RequireFailed{};
        }
    }

    template <class T>
    static std::vector<unsigned char> bytes_of(const std::vector<T>& v) {
        const unsigned char* p = reinterpret_cast<const unsigned char*>(v.data());
        return std::vector<unsigned char>(p, p + v.size() * sizeof(T));
    }
    void snapshot() {
        snap.clear();
        for (const auto* v : {&y, &dx, &dw, &db}) snap.push_back(bytes_of(*v));
        snap.push_back(saved);
        snap.push_back(ws);
        const unsigned char* pb = reinterpret_cast<const unsigned char*>(&box);
        snap.emplace_back(pb, pb + sizeof box);
    }
    // "" when nothing changed, else the names of what changed.
    std::string changed() const {
        static const char* names[7] = {"y", "dx", "dw", "db", "saved", "workspace", "out_box"};
        std::vector<std::vector<unsigned char>> now;
        for (const auto* v : {&y, &dx, &dw, &db}) now.push_back(bytes_of(*v));
        now.push_back(saved);
        now.push_back(ws);
        const unsigned char* pb = reinterpret_cast<const unsigned char*>(&box);
        now.emplace_back(pb, pb + sizeof box);
        std::string out;
        for (size_t k = 0; k < now.size(); ++k)
            if (now[k] != snap[k]) out += std::string(out.empty() ? "" : ", ") + names[k];
        return out;
    }
};

// Runs one failing execute call on a fixture: snapshot, call, status + message + untouched.
template <class Fn>
void exec_fails(Fixture& fx, const std::string& label, bl_status want, const std::vector<const char*>& names,
                Fn call) {
    fx.snapshot();
    const bl_status s = call();
    expect_status(label, s, want, names);
    const std::string ch = fx.changed();
    CHECK_MSG(ch.empty(), label + ": caller memory written on failure: " + ch);
}

// Unused-pointer helper: a non-null, never dereferenced "buffer" is not needed; we always pass
// real buffers except for the argument under test.

}  // namespace

// ==========================================================================================
// Status names, version, error text
// ==========================================================================================

BL_TEST("status names: never NULL, distinct, the documented spelling") {
    std::vector<std::string> seen;
    for (int s = 0; s <= 11; ++s) {
        const char* n = bl_status_name(static_cast<bl_status>(s));
        CHECK_MSG(n != nullptr && n[0] != '\0', fmt("status %d", s));
        if (!n) continue;
        for (const std::string& o : seen) CHECK_MSG(o != n, fmt("status %d name %s repeated", s, n));
        seen.push_back(n);
    }
    CHECK(std::string(bl_status_name(BL_OK)) == "BL_OK");
    CHECK(std::string(bl_status_name(BL_ERR_NULL_POINTER)) == "BL_ERR_NULL_POINTER");
    CHECK(std::string(bl_status_name(BL_ERR_INVALID_SIZE)) == "BL_ERR_INVALID_SIZE");
    CHECK(std::string(bl_status_name(BL_ERR_INVALID_COMPRESSION)) == "BL_ERR_INVALID_COMPRESSION");
    CHECK(std::string(bl_status_name(BL_ERR_INVALID_BATCH)) == "BL_ERR_INVALID_BATCH");
    CHECK(std::string(bl_status_name(BL_ERR_SIZE_OVERFLOW)) == "BL_ERR_SIZE_OVERFLOW");
    CHECK(std::string(bl_status_name(BL_ERR_BUFFER_TOO_SMALL)) == "BL_ERR_BUFFER_TOO_SMALL");
    CHECK(std::string(bl_status_name(BL_ERR_INVALID_SAVED_SPECTRA)) == "BL_ERR_INVALID_SAVED_SPECTRA");
    CHECK(std::string(bl_status_name(BL_ERR_INVALID_ARGUMENT)) == "BL_ERR_INVALID_ARGUMENT");
    CHECK(std::string(bl_status_name(BL_ERR_UNSUPPORTED)) == "BL_ERR_UNSUPPORTED");
    CHECK(std::string(bl_status_name(BL_ERR_OUT_OF_MEMORY)) == "BL_ERR_OUT_OF_MEMORY");
    CHECK(std::string(bl_status_name(BL_ERR_INTERNAL)) == "BL_ERR_INTERNAL");
    for (int s : {-1, 12, 99, std::numeric_limits<int>::max(), std::numeric_limits<int>::min()}) {
        const char* n = bl_status_name(static_cast<bl_status>(s));
        CHECK_MSG(n != nullptr && n[0] != '\0', fmt("unknown status %d", s));
    }
}

BL_TEST("version: bl_version matches BL_VERSION_*; NULL out-parameters rejected") {
    int32_t ma = -1, mi = -1, pa = -1;
    CHECK(bl_version(&ma, &mi, &pa) == BL_OK);
    CHECK(ma == BL_VERSION_MAJOR && mi == BL_VERSION_MINOR && pa == BL_VERSION_PATCH);
    int32_t a = -7, c = -7;
    expect_status("bl_version(NULL, ..)", bl_version(nullptr, &a, &c), BL_ERR_NULL_POINTER, {"major"});
    expect_status("bl_version(.., NULL, ..)", bl_version(&a, nullptr, &c), BL_ERR_NULL_POINTER, {"minor"});
    expect_status("bl_version(.., NULL)", bl_version(&a, &c, nullptr), BL_ERR_NULL_POINTER, {"patch"});
    CHECK_MSG(a == -7 && c == -7, "bl_version wrote out-parameters on failure");
}

BL_TEST("error text: thread-local, \"\" on a thread that had no error") {
    const bl_conv2d_desc d = base2d();
    create2d_fails("NULL out_plan (main thread)", &d, fixed(0), nullptr, BL_ERR_NULL_POINTER, {"out_plan", "plan"}, false);
    const std::string main_msg = bl_last_error_message();
    std::string fresh = "unset", other;
    std::thread t([&] {
        fresh = bl_last_error_message();
        bl_conv2d_desc bad = base2d();
        bad.channels = 0;
        bl_plan p = nullptr;
        bl_plan_create_2d(nullptr, &bad, fixed(0), nullptr, &p);
        other = bl_last_error_message();
    });
    t.join();
    CHECK_MSG(fresh.empty(), "a new thread sees \"" + fresh + "\"");
    CHECK(!other.empty());
    CHECK_MSG(std::string(bl_last_error_message()) == main_msg,
              "main thread's message changed by another thread's error: \"" + std::string(bl_last_error_message()) + "\"");
}

BL_TEST("bl_plan_destroy(NULL) is OK") { CHECK(bl_plan_destroy(nullptr) == BL_OK); }

// ==========================================================================================
// Plan creation
// ==========================================================================================

BL_TEST("create: NULL desc / NULL out_plan (2D and 1D)") {
    const bl_conv2d_desc d = base2d();
    const bl_conv1d_desc d1 = base1d();
    create2d_fails("NULL desc", nullptr, fixed(0), nullptr, BL_ERR_NULL_POINTER, {"desc"});
    create2d_fails("NULL out_plan", &d, fixed(0), nullptr, BL_ERR_NULL_POINTER, {"out_plan", "plan"}, false);
    create1d_fails("NULL desc", nullptr, fixed(0), nullptr, BL_ERR_NULL_POINTER, {"desc"});
    create1d_fails("NULL out_plan", &d1, fixed(0), nullptr, BL_ERR_NULL_POINTER, {"out_plan", "plan"}, false);
}

BL_TEST("create 2D: zero and negative sizes of every field -> BL_ERR_INVALID_SIZE") {
    struct Field {
        const char* name;
        int64_t bl_conv2d_desc::*member;
        std::vector<const char*> names;
    };
    const Field fields[] = {
        {"max_batch", &bl_conv2d_desc::max_batch, {"max_batch", "batch", "N"}},
        {"channels", &bl_conv2d_desc::channels, {"channels", "C"}},
        {"height", &bl_conv2d_desc::height, {"height", "H"}},
        {"width", &bl_conv2d_desc::width, {"width", "W"}},
        {"filters", &bl_conv2d_desc::filters, {"filters", "F"}},
        {"kernel_height", &bl_conv2d_desc::kernel_height, {"kernel_height", "KH"}},
        {"kernel_width", &bl_conv2d_desc::kernel_width, {"kernel_width", "KW"}},
    };
    for (const Field& f : fields)
        for (int64_t v : {int64_t(0), int64_t(-1), int64_t(-5), std::numeric_limits<int64_t>::min()}) {
            bl_conv2d_desc d = base2d();
            d.*(f.member) = v;
            create2d_fails(fmt("%s = %" PRId64, f.name, v), &d, fixed(0), nullptr, BL_ERR_INVALID_SIZE, f.names);
        }
}

BL_TEST("create 2D: negative padding, stride < 1, kernel larger than the padded input -> BL_ERR_INVALID_SIZE") {
    struct Field {
        const char* name;
        int64_t bl_conv2d_desc::*member;
        std::vector<const char*> names;
    };
    const Field pads[] = {
        {"pad_top", &bl_conv2d_desc::pad_top, {"pad_top", "padding"}},
        {"pad_bottom", &bl_conv2d_desc::pad_bottom, {"pad_bottom", "padding"}},
        {"pad_left", &bl_conv2d_desc::pad_left, {"pad_left", "padding"}},
        {"pad_right", &bl_conv2d_desc::pad_right, {"pad_right", "padding"}},
    };
    for (const Field& f : pads)
        for (int64_t v : {int64_t(-1), int64_t(-3)}) {
            bl_conv2d_desc d = base2d();
            d.*(f.member) = v;
            create2d_fails(fmt("%s = %" PRId64, f.name, v), &d, fixed(0), nullptr, BL_ERR_INVALID_SIZE, f.names);
        }
    for (int64_t v : {int64_t(0), int64_t(-1)}) {
        bl_conv2d_desc d = base2d();
        d.stride_h = v;
        create2d_fails(fmt("stride_h = %" PRId64, v), &d, fixed(0), nullptr, BL_ERR_INVALID_SIZE, {"stride_h", "stride"});
        d = base2d();
        d.stride_w = v;
        create2d_fails(fmt("stride_w = %" PRId64, v), &d, fixed(0), nullptr, BL_ERR_INVALID_SIZE, {"stride_w", "stride"});
    }
    {  // Hp = 10, Wp = 9
        bl_conv2d_desc d = base2d();
        d.kernel_height = 11;
        create2d_fails("kernel_height = Hp + 1", &d, fixed(0), nullptr, BL_ERR_INVALID_SIZE, {"kernel_height", "kernel", "KH"});
        d = base2d();
        d.kernel_width = 10;
        create2d_fails("kernel_width = Wp + 1", &d, fixed(0), nullptr, BL_ERR_INVALID_SIZE, {"kernel_width", "kernel", "KW"});
        d = base2d();
        d.pad_top = d.pad_bottom = 0;
        d.kernel_height = 9;  // H = 8, no vertical padding
        create2d_fails("kernel_height = H + 1 without padding", &d, fixed(0), nullptr, BL_ERR_INVALID_SIZE,
                       {"kernel_height", "kernel", "KH"});
    }
    {  // the limits themselves are valid: kernel = padded input, large padding, large stride
        bl_conv2d_desc d = base2d();
        d.kernel_height = 10;
        d.kernel_width = 9;
        bl_plan p = create2d_ok("kernel = padded input", d, fixed(0));
        bl_plan_destroy(p);
        d = base2d();
        d.pad_top = 9;
        d.pad_right = 7;
        p = create2d_ok("padding > kernel", d, fixed(0));
        bl_plan_destroy(p);
        d = base2d();
        d.stride_h = 100;
        d.stride_w = std::numeric_limits<int64_t>::max();
        p = create2d_ok("stride beyond the map (Ho = Wo = 1)", d, fixed(0.5));
        if (p) {
            int64_t ho = 0, wo = 0;
            CHECK(bl_plan_output_size(p, &ho, &wo) == BL_OK && ho == 1 && wo == 1);
        }
        bl_plan_destroy(p);
    }
}

BL_TEST("create 1D: zero/negative sizes, negative padding, stride < 1, kernel > padded length -> BL_ERR_INVALID_SIZE") {
    struct Field {
        const char* name;
        int64_t bl_conv1d_desc::*member;
        std::vector<const char*> names;
    };
    const Field sizes[] = {
        {"max_batch", &bl_conv1d_desc::max_batch, {"max_batch", "batch", "N"}},
        {"channels", &bl_conv1d_desc::channels, {"channels", "C"}},
        {"length", &bl_conv1d_desc::length, {"length", "L", "width", "W"}},
        {"filters", &bl_conv1d_desc::filters, {"filters", "F"}},
        {"kernel", &bl_conv1d_desc::kernel, {"kernel", "K", "kernel_width", "KW"}},
        {"stride", &bl_conv1d_desc::stride, {"stride", "stride_w"}},
    };
    for (const Field& f : sizes)
        for (int64_t v : {int64_t(0), int64_t(-2)}) {
            bl_conv1d_desc d = base1d();
            d.*(f.member) = v;
            create1d_fails(fmt("%s = %" PRId64, f.name, v), &d, fixed(0), nullptr, BL_ERR_INVALID_SIZE, f.names);
        }
    for (int64_t v : {int64_t(-1), int64_t(-4)}) {
        bl_conv1d_desc d = base1d();
        d.pad_left = v;
        create1d_fails(fmt("pad_left = %" PRId64, v), &d, fixed(0), nullptr, BL_ERR_INVALID_SIZE, {"pad_left", "padding"});
        d = base1d();
        d.pad_right = v;
        create1d_fails(fmt("pad_right = %" PRId64, v), &d, fixed(0), nullptr, BL_ERR_INVALID_SIZE, {"pad_right", "padding"});
    }
    bl_conv1d_desc d = base1d();
    d.kernel = 20;  // Lp = 19
    create1d_fails("kernel = Lp + 1", &d, fixed(0), nullptr, BL_ERR_INVALID_SIZE, {"kernel", "K", "kernel_width", "KW"});
}

BL_TEST("create: rho < 0, rho >= 1, NaN/Inf; E <= 0, E > 1, NaN; unknown kind -> BL_ERR_INVALID_COMPRESSION") {
    const bl_conv2d_desc d = base2d();
    const bl_conv1d_desc d1 = base1d();
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    for (double rho : {-0.1, -1e-12, 1.0, 1.5, nan, inf, -inf}) {
        create2d_fails(fmt("rho = %g", rho), &d, fixed(rho), nullptr, BL_ERR_INVALID_COMPRESSION, {"rho", "compression", "value"});
        create1d_fails(fmt("rho = %g", rho), &d1, fixed(rho), nullptr, BL_ERR_INVALID_COMPRESSION, {"rho", "compression", "value"});
    }
    for (double E : {0.0, -0.5, 1.0 + 1e-12, 2.0, nan, inf}) {
        create2d_fails(fmt("E = %g", E), &d, energy(E), nullptr, BL_ERR_INVALID_COMPRESSION, {"E", "energy", "compression", "value"});
        create1d_fails(fmt("E = %g", E), &d1, energy(E), nullptr, BL_ERR_INVALID_COMPRESSION, {"E", "energy", "compression", "value"});
    }
    // The header files an unknown compression kind under BL_ERR_INVALID_COMPRESSION
    // ("rho outside [0, 1), energy fraction outside (0, 1], NaN, or an unknown kind").
    for (int32_t kind : {2, -1, 1000}) {
        bl_compression c;
        c.kind = kind;
        c.value = 0.5;
        create2d_fails(fmt("compression kind %d", kind), &d, c, nullptr, BL_ERR_INVALID_COMPRESSION, {"kind", "compression"});
        create1d_fails(fmt("compression kind %d", kind), &d1, c, nullptr, BL_ERR_INVALID_COMPRESSION, {"kind", "compression"});
    }
    // The limits that are valid.
    for (bl_compression c : {fixed(0.0), fixed(0.999999), energy(1.0), energy(1e-9)}) {
        bl_plan p = create2d_ok(fmt("kind %d value %g", c.kind, c.value), d, c);
        bl_plan_destroy(p);
    }
}

BL_TEST("create: unknown spectra_mode -> BL_ERR_INVALID_ARGUMENT naming options.spectra_mode") {
    const bl_conv2d_desc d = base2d();
    const bl_conv1d_desc d1 = base1d();
    for (int32_t v : {2, -1, 77}) {
        bl_plan_options o{};
        o.spectra_mode = v;
        create2d_fails(fmt("spectra_mode %d", v), &d, fixed(0), &o, BL_ERR_INVALID_ARGUMENT, {"spectra_mode", "spectra", "mode"});
        create1d_fails(fmt("spectra_mode %d", v), &d1, fixed(0), &o, BL_ERR_INVALID_ARGUMENT, {"spectra_mode", "spectra", "mode"});
        CHECK(std::string(bl_last_error_argument()) == "options.spectra_mode");
    }
}

BL_TEST("create: unknown method -> BL_ERR_INVALID_ARGUMENT naming options.method") {
    const bl_conv2d_desc d = base2d();
    const bl_conv1d_desc d1 = base1d();
    for (int32_t v : {2, -1, 99}) {
        bl_plan_options o{};
        o.method = v;
        create2d_fails(fmt("method %d", v), &d, fixed(0), &o, BL_ERR_INVALID_ARGUMENT, {"method"});
        CHECK(std::string(bl_last_error_argument()) == "options.method");
        create1d_fails(fmt("method %d", v), &d1, fixed(0), &o, BL_ERR_INVALID_ARGUMENT, {"method"});
    }
}

BL_TEST("create: unknown product -> INVALID_ARGUMENT; the spatial product where it cannot run -> UNSUPPORTED; both name options.product") {
    const bl_conv2d_desc d = base2d();
    for (int32_t v : {3, -1}) {
        bl_plan_options o{BL_SPECTRA_INPUT_AND_WEIGHT, v, BL_METHOD_BANDLIMIT, 0, 0};
        create2d_fails(fmt("product %d", v), &d, fixed(0), &o, BL_ERR_INVALID_ARGUMENT, {"product"});
        CHECK(std::string(bl_last_error_argument()) == "options.product");
    }
    bl_plan_options spatial{BL_SPECTRA_INPUT_AND_WEIGHT, BL_PRODUCT_SPATIAL, BL_METHOD_BANDLIMIT, 0, 0};
    bl_conv2d_desc strided = d;
    strided.stride_h = 2;
    create2d_fails("spatial at stride 2", &strided, fixed(0), &spatial, BL_ERR_UNSUPPORTED, {"spatial", "stride"});
    CHECK(std::string(bl_last_error_argument()) == "options.product");
    bl_conv2d_desc big = d;
    big.kernel_height = big.kernel_width = 8;
    big.height = big.width = 16;
    create2d_fails("spatial with 64 taps", &big, fixed(0), &spatial, BL_ERR_UNSUPPORTED, {"spatial", "taps"});
    bl_plan plan = nullptr;
    CHECK_MSG(bl_plan_create_2d(nullptr, &d, fixed(0.5), &spatial, &plan) == BL_OK, bl_last_error_message());
    if (plan) bl_plan_destroy(plan);
}

// Context creation that must fail: status, argument, and out_context left as it was.
void context_fails(const std::string& label, const bl_context_options& o, bl_status want, const char* argument) {
    bl_context const sentinel = reinterpret_cast<bl_context>(static_cast<uintptr_t>(0x5EE5EE5E));
    bl_context c = sentinel;
    const bl_status s = bl_context_create(&o, &c);
    expect_status("context " + label, s, want, {argument});
    CHECK_MSG(std::string(bl_last_error_argument()) == argument,
              "context " + label + ": argument \"" + bl_last_error_argument() + "\", want \"" + argument + "\"");
    CHECK_MSG(c == sentinel, "context " + label + ": out_context was written");
    if (s == BL_OK && c != sentinel) bl_context_destroy(c);
}

BL_TEST("context: bad options -> a status naming the option; NULL out_context; destroy(NULL)") {
    const bl_context_options good{BL_BACKEND_CPU, 0, 0, BL_CPU_PATH_AUTO, nullptr};
    for (int32_t v : {2, -1, 77}) {
        bl_context_options o = good;
        o.backend = v;
        context_fails(fmt("backend %d", v), o, BL_ERR_INVALID_ARGUMENT, "options.backend");
    }
    bl_context_options o = good;
    o.device = 1;
    context_fails("cpu device 1", o, BL_ERR_INVALID_ARGUMENT, "options.device");
    o = good;
    o.num_threads = -1;
    context_fails("num_threads -1", o, BL_ERR_INVALID_ARGUMENT, "options.num_threads");
    o = good;
    o.cpu_path = 9;
    context_fails("cpu_path 9", o, BL_ERR_INVALID_ARGUMENT, "options.cpu_path");
    o = good;
    int dummy = 0;
    o.stream = &dummy;
    context_fails("cpu stream", o, BL_ERR_INVALID_ARGUMENT, "options.stream");
    for (int32_t path : {BL_CPU_PATH_AVX2, BL_CPU_PATH_AVX512}) {
        o = good;
        o.cpu_path = path;
        bl_context c = nullptr;
        const bl_status s = bl_context_create(&o, &c);
        CHECK_MSG(s == BL_OK || s == BL_ERR_UNSUPPORTED, fmt("cpu_path %d: ", path) + sname(s));
        if (s == BL_ERR_UNSUPPORTED) CHECK(std::string(bl_last_error_argument()) == "options.cpu_path");
        bl_context_destroy(c);
    }
    expect_status("context_create(NULL out)", bl_context_create(&good, nullptr), BL_ERR_NULL_POINTER, {"out_context"});
    CHECK(bl_context_destroy(nullptr) == BL_OK);
    bl_context c = nullptr;
    REQUIRE(bl_context_create(nullptr, &c) == BL_OK);
    int32_t backend = -1, memory = -1, threads = -1;
    CHECK(bl_context_backend(c, &backend) == BL_OK && backend == BL_BACKEND_CPU);
    CHECK(bl_context_buffer_memory(c, &memory) == BL_OK && memory == BL_MEMORY_HOST);
    CHECK(bl_context_get_num_threads(c, &threads) == BL_OK && threads >= 1);
    expect_status("context_set_num_threads(0)", bl_context_set_num_threads(c, 0), BL_ERR_INVALID_ARGUMENT, {"num_threads"});
    expect_status("context_set_cpu_path(5)", bl_context_set_cpu_path(c, 5), BL_ERR_INVALID_ARGUMENT, {"path"});
    expect_status("context_set_stream(cpu)", bl_context_set_stream(c, &dummy), BL_ERR_INVALID_ARGUMENT, {"stream"});
    CHECK(bl_context_set_stream(c, nullptr) == BL_OK);
    CHECK(bl_context_destroy(c) == BL_OK);
}

BL_TEST("context: a plan keeps its context alive after bl_context_destroy; settings are per context") {
    bl_context c = nullptr;
    const bl_context_options o{BL_BACKEND_CPU, 0, 1, BL_CPU_PATH_PORTABLE, nullptr};
    REQUIRE(bl_context_create(&o, &c) == BL_OK);
    int32_t default_threads = 0;
    REQUIRE(bl_get_num_threads(&default_threads) == BL_OK);
    const bl_conv2d_desc d = base2d();
    bl_plan p = nullptr;
    REQUIRE(bl_plan_create_2d(c, &d, fixed(0.5), nullptr, &p) == BL_OK);
    int32_t t = 0;
    CHECK(bl_context_get_num_threads(c, &t) == BL_OK && t == 1);
    CHECK(bl_get_num_threads(&t) == BL_OK && t == default_threads);  // the default context is separate
    REQUIRE(bl_context_destroy(c) == BL_OK);
    // The plan still runs (its context lives on in it).
    Fixture f(d, fixed(0.5));
    int64_t ws_bytes = 0;
    REQUIRE(bl_plan_workspace_bytes(p, &ws_bytes) == BL_OK);
    std::vector<unsigned char> ws(static_cast<size_t>(ws_bytes));
    CHECK(bl_forward(p, f.N, f.x.data(), f.w.data(), nullptr, f.y.data(), nullptr, 0, ws.data(), ws_bytes, nullptr) ==
          BL_OK);
    CHECK(bl_plan_destroy(p) == BL_OK);
}

BL_TEST("backends: the registry answers for every bl_backend; CUDA -> BL_ERR_UNSUPPORTED with its reason when unavailable") {
    bl_backend_info cpu{}, cuda{};
    REQUIRE(bl_backend_query(BL_BACKEND_CPU, &cpu) == BL_OK);
    CHECK(cpu.available == 1 && cpu.buffer_memory == BL_MEMORY_HOST && std::string(cpu.name) == "cpu" &&
          std::string(cpu.reason).empty());
    REQUIRE(bl_backend_query(BL_BACKEND_CUDA, &cuda) == BL_OK);
    CHECK(cuda.available == 0 || cuda.available == 1);
    CHECK(std::string(cuda.name) == "cuda" && cuda.buffer_memory == BL_MEMORY_DEVICE);
    CHECK_MSG(cuda.available == 1 || std::strlen(cuda.reason) > 0, "an unavailable backend says why");
    std::printf("    cuda: %s%s\n", cuda.available ? "available" : "not available: ", cuda.reason);
    int32_t avail = -1;
    CHECK(bl_backend_available(BL_BACKEND_CUDA, &avail) == BL_OK && avail == cuda.available);
    if (!cuda.available) {
        const bl_context_options o{BL_BACKEND_CUDA, 0, 0, BL_CPU_PATH_AUTO, nullptr};
        context_fails("cuda", o, BL_ERR_UNSUPPORTED, "options.backend");
        CHECK_MSG(std::strstr(bl_last_error_message(), cuda.reason) != nullptr,
                  std::string("the message carries the registry's reason: ") + bl_last_error_message());
    }
    int32_t keep = -9;
    expect_status("bl_backend_available(CPU, NULL)", bl_backend_available(BL_BACKEND_CPU, nullptr), BL_ERR_NULL_POINTER, {});
    expect_status("bl_backend_available(7, ..)", bl_backend_available(7, &keep), BL_ERR_INVALID_ARGUMENT, {"backend"});
    CHECK_MSG(keep == -9, "bl_backend_available wrote its out-parameter on failure");
    bl_backend_info untouched{-9, -9, nullptr, nullptr};
    expect_status("bl_backend_query(7, ..)", bl_backend_query(7, &untouched), BL_ERR_INVALID_ARGUMENT, {"backend"});
    CHECK(untouched.available == -9 && untouched.name == nullptr);
    expect_status("bl_backend_query(CPU, NULL)", bl_backend_query(BL_BACKEND_CPU, nullptr), BL_ERR_NULL_POINTER, {"out_info"});
}

BL_TEST("create: size products that overflow 64 bits -> BL_ERR_SIZE_OVERFLOW") {
    const int64_t big = int64_t(1) << 20;
    bl_conv2d_desc d = base2d();
    d.max_batch = d.channels = d.height = d.width = big;  // N*C*H*W = 2^80
    create2d_fails("N = C = H = W = 2^20", &d, fixed(0), nullptr, BL_ERR_SIZE_OVERFLOW, {});
    create2d_fails("N = C = H = W = 2^20, energy", &d, energy(0.9), nullptr, BL_ERR_SIZE_OVERFLOW, {});
    d = base2d();
    d.height = d.width = int64_t(1) << 40;  // H*W = 2^80
    d.max_batch = d.channels = d.filters = 1;
    create2d_fails("H = W = 2^40", &d, fixed(0), nullptr, BL_ERR_SIZE_OVERFLOW, {});
    d = base2d();
    d.channels = d.filters = int64_t(1) << 31;  // w: F*C*KH*KW = 9 * 2^62
    create2d_fails("C = F = 2^31 (weights)", &d, fixed(0), nullptr, BL_ERR_SIZE_OVERFLOW, {});
    bl_conv1d_desc d1 = base1d();
    d1.length = int64_t(1) << 62;  // 7-smooth already; x bytes = 2 * 2 * 2^62 * 4
    d1.pad_left = d1.pad_right = 0;
    create1d_fails("L = 2^62", &d1, fixed(0), nullptr, BL_ERR_SIZE_OVERFLOW, {});
    // Sums that overflow (padded size): an error, never undefined behaviour (UBSan watches).
    // The header names no code for an overflowing sum: SIZE_OVERFLOW or INVALID_SIZE.
    for (int which = 0; which < 3; ++which) {
        bl_conv2d_desc e = base2d();
        if (which == 0) e.pad_top = std::numeric_limits<int64_t>::max();
        if (which == 1) e.width = std::numeric_limits<int64_t>::max() - 1;
        if (which == 2) e.pad_left = e.pad_right = std::numeric_limits<int64_t>::max() / 2 + 1;
        bl_plan p = kPlanSentinel;
        const bl_status s = bl_plan_create_2d(nullptr, &e, fixed(0), nullptr, &p);
        const std::string msg = bl_last_error_message();
        CHECK_MSG(s == BL_ERR_SIZE_OVERFLOW || s == BL_ERR_INVALID_SIZE,
                  fmt("overflowing padded size (case %d): ", which) + sname(s) + " \"" + msg + "\"");
        CHECK_MSG(!msg.empty(), fmt("overflowing padded size (case %d): empty message", which));
        CHECK_MSG(p == kPlanSentinel, fmt("overflowing padded size (case %d): out_plan written", which));
        if (s == BL_OK && p != kPlanSentinel) bl_plan_destroy(p);
    }
}

// ==========================================================================================
// Plan queries
// ==========================================================================================

BL_TEST("queries: NULL plan and NULL out-parameters -> BL_ERR_NULL_POINTER, nothing written") {
    const bl_conv2d_desc d = base2d();
    bl_plan p = create2d_ok("base", d, fixed(0.5));
    REQUIRE(p != nullptr);
    int64_t a = -11, b = -11;
    double r = -11;
    bl_box box{-11, -11};
    bl_conv2d_desc od;
    std::memset(&od, 0x3c, sizeof od);
    bl_conv2d_desc od_copy = od;
    bl_flops fl{-11, -11, -11};
    expect_status("bl_plan_desc(NULL plan)", bl_plan_desc(nullptr, &od), BL_ERR_NULL_POINTER, {"plan"});
    expect_status("bl_plan_desc(NULL out)", bl_plan_desc(p, nullptr), BL_ERR_NULL_POINTER, {"out_desc", "desc"});
    CHECK(std::memcmp(&od, &od_copy, sizeof od) == 0);
    expect_status("bl_plan_output_size(NULL plan)", bl_plan_output_size(nullptr, &a, &b), BL_ERR_NULL_POINTER, {"plan"});
    expect_status("bl_plan_output_size(NULL height)", bl_plan_output_size(p, nullptr, &b), BL_ERR_NULL_POINTER, {"out_height", "height"});
    expect_status("bl_plan_output_size(NULL width)", bl_plan_output_size(p, &a, nullptr), BL_ERR_NULL_POINTER, {"out_width", "width"});
    expect_status("bl_plan_fft_lengths(NULL plan)", bl_plan_fft_lengths(nullptr, &a, &b), BL_ERR_NULL_POINTER, {"plan"});
    expect_status("bl_plan_fft_lengths(NULL lh)", bl_plan_fft_lengths(p, nullptr, &b), BL_ERR_NULL_POINTER, {"lh"});
    expect_status("bl_plan_fft_lengths(NULL lw)", bl_plan_fft_lengths(p, &a, nullptr), BL_ERR_NULL_POINTER, {"lw"});
    expect_status("bl_plan_box(NULL plan)", bl_plan_box(nullptr, &box, &r), BL_ERR_NULL_POINTER, {"plan"});
    expect_status("bl_plan_box(NULL box)", bl_plan_box(p, nullptr, &r), BL_ERR_NULL_POINTER, {"out_box", "box"});
    expect_status("bl_plan_box(NULL rate)", bl_plan_box(p, &box, nullptr), BL_ERR_NULL_POINTER, {"out_achieved_rate", "rate"});
    expect_status("bl_plan_box_rate(NULL plan)", bl_plan_box_rate(nullptr, bl_box{1, 1}, &r), BL_ERR_NULL_POINTER, {"plan"});
    expect_status("bl_plan_box_rate(NULL rate)", bl_plan_box_rate(p, bl_box{1, 1}, nullptr), BL_ERR_NULL_POINTER, {"out_rate", "rate"});
    expect_status("bl_plan_saved_spectra_bytes(NULL plan)", bl_plan_saved_spectra_bytes(nullptr, &a), BL_ERR_NULL_POINTER, {"plan"});
    expect_status("bl_plan_saved_spectra_bytes(NULL out)", bl_plan_saved_spectra_bytes(p, nullptr), BL_ERR_NULL_POINTER, {"out_bytes", "bytes"});
    expect_status("bl_plan_workspace_bytes(NULL plan)", bl_plan_workspace_bytes(nullptr, &a), BL_ERR_NULL_POINTER, {"plan"});
    expect_status("bl_plan_workspace_bytes(NULL out)", bl_plan_workspace_bytes(p, nullptr), BL_ERR_NULL_POINTER, {"out_bytes", "bytes"});
    expect_status("bl_plan_flops(NULL plan)", bl_plan_flops(nullptr, BL_PASS_FORWARD, 1, nullptr, &fl), BL_ERR_NULL_POINTER, {"plan"});
    expect_status("bl_plan_flops(NULL out)", bl_plan_flops(p, BL_PASS_FORWARD, 1, nullptr, nullptr), BL_ERR_NULL_POINTER, {"out_flops", "flops"});
    expect_status("bl_plan_flops(pass 9)", bl_plan_flops(p, static_cast<bl_pass>(9), 1, nullptr, &fl), BL_ERR_INVALID_ARGUMENT, {"pass"});
    CHECK_MSG(a == -11 && b == -11 && r == -11 && box.kh == -11 && box.kw == -11 && fl.nominal == -11 &&
                  fl.executed == -11 && fl.dense_equivalent == -11,
              "a failing query wrote an out-parameter");
    // A box outside the plan's half spectrum is not a box of this plan. The header names no code;
    // INVALID_ARGUMENT ("another argument is invalid") or INVALID_SIZE are both defensible.
    int64_t lh = 0, lw = 0;
    REQUIRE(bl_plan_fft_lengths(p, &lh, &lw) == BL_OK);
    for (bl_box bad : {bl_box{-1, 0}, bl_box{0, -1}, bl_box{lh / 2 + 1, 0}, bl_box{0, lw / 2 + 1}}) {
        double rr = -11;
        const bl_status s = bl_plan_box_rate(p, bad, &rr);
        CHECK_MSG(s == BL_ERR_INVALID_ARGUMENT || s == BL_ERR_INVALID_SIZE,
                  fmt("bl_plan_box_rate(box %d,%d): ", (int)bad.kh, (int)bad.kw) + sname(s));
        CHECK_MSG(rr == -11, "bl_plan_box_rate wrote its out-parameter on failure");
        CHECK_MSG(names_any(bl_last_error_message(), {"box", "kh", "kw"}),
                  std::string("bl_plan_box_rate message: ") + bl_last_error_message());
    }
    bl_plan_destroy(p);
}

BL_TEST("settings: threads < 1, unknown CPU path, NULL out-parameters") {
    int32_t threads = -1, path = -9;
    REQUIRE(bl_get_num_threads(&threads) == BL_OK && threads >= 1);
    for (int32_t t : {0, -1, std::numeric_limits<int32_t>::min()})
        expect_status(fmt("bl_set_num_threads(%d)", t), bl_set_num_threads(t), BL_ERR_INVALID_ARGUMENT, {"num_threads", "threads"});
    int32_t now = -1;
    CHECK(bl_get_num_threads(&now) == BL_OK && now == threads);
    expect_status("bl_get_num_threads(NULL)", bl_get_num_threads(nullptr), BL_ERR_NULL_POINTER, {});
    REQUIRE(bl_get_cpu_path(&path) == BL_OK);
    CHECK(path == BL_CPU_PATH_PORTABLE || path == BL_CPU_PATH_AVX2 || path == BL_CPU_PATH_AVX512);
    for (int32_t p : {3, -2, 100})
        expect_status(fmt("bl_set_cpu_path(%d)", p), bl_set_cpu_path(p), BL_ERR_INVALID_ARGUMENT, {"path", "cpu_path"});
    int32_t after = -9;
    CHECK(bl_get_cpu_path(&after) == BL_OK && after == path);
    expect_status("bl_get_cpu_path(NULL)", bl_get_cpu_path(nullptr), BL_ERR_NULL_POINTER, {});
    for (int32_t p : {BL_CPU_PATH_PORTABLE, BL_CPU_PATH_AVX2, BL_CPU_PATH_AVX512}) {
        const bl_status s = bl_set_cpu_path(p);
        CHECK_MSG(s == BL_OK || (p != BL_CPU_PATH_PORTABLE && s == BL_ERR_UNSUPPORTED), fmt("path %d: ", p) + sname(s));
        std::printf("    cpu path %d: %s\n", p, sname(s).c_str());
    }
    CHECK(bl_set_cpu_path(BL_CPU_PATH_AUTO) == BL_OK);
    CHECK(bl_set_cpu_path(path) == BL_OK);  // restore
    expect_status("bl_allocated_bytes(NULL)", bl_allocated_bytes(nullptr), BL_ERR_NULL_POINTER, {});
}

// ==========================================================================================
// Execute
// ==========================================================================================

BL_TEST("forward: NULL plan/x/w/y/workspace, bad n, small buffers -> exact status, nothing written") {
    for (int kind = 0; kind < 2; ++kind) {
        Fixture fx(base2d(), kind == 0 ? fixed(0.5) : energy(0.9));
        const std::string k = kind == 0 ? "[fixed] " : "[energy] ";
        REQUIRE(fx.ws_bytes > 0);
        auto fwd = [&](bl_plan plan, int64_t n, const float* x, const float* w, float* y, void* saved, int64_t sb,
                       void* ws, int64_t wb) {
            return [=, &fx]() { return bl_forward(plan, n, x, w, fx.b.data(), y, saved, sb, ws, wb, &fx.box); };
        };
        float* y = fx.y.data();
        const float* x = fx.x.data();
        const float* w = fx.w.data();
        void* sv = fx.saved.data();
        void* ws = fx.wsp();
        const int64_t sb = fx.saved_bytes, wb = fx.ws_bytes, N = fx.N;
        exec_fails(fx, k + "forward NULL plan", BL_ERR_NULL_POINTER, {"plan"}, fwd(nullptr, N, x, w, y, sv, sb, ws, wb));
        exec_fails(fx, k + "forward NULL x", BL_ERR_NULL_POINTER, {"x", "input"}, fwd(fx.plan, N, nullptr, w, y, sv, sb, ws, wb));
        exec_fails(fx, k + "forward NULL w", BL_ERR_NULL_POINTER, {"w", "weight", "weights"}, fwd(fx.plan, N, x, nullptr, y, sv, sb, ws, wb));
        exec_fails(fx, k + "forward NULL y", BL_ERR_NULL_POINTER, {"y", "output"}, fwd(fx.plan, N, x, w, nullptr, sv, sb, ws, wb));
        exec_fails(fx, k + "forward NULL workspace", BL_ERR_NULL_POINTER, {"workspace"}, fwd(fx.plan, N, x, w, y, sv, sb, nullptr, wb));
        for (int64_t n : {int64_t(0), int64_t(-1), N + 1, std::numeric_limits<int64_t>::max()})
            exec_fails(fx, k + fmt("forward n = %" PRId64, n), BL_ERR_INVALID_BATCH, {"n", "batch"},
                       fwd(fx.plan, n, x, w, y, sv, sb, ws, wb));
        exec_fails(fx, k + "forward workspace_bytes = required - 1", BL_ERR_BUFFER_TOO_SMALL, {"workspace", "workspace_bytes"},
                   fwd(fx.plan, N, x, w, y, sv, sb, ws, wb - 1));
        exec_fails(fx, k + "forward workspace_bytes = 0", BL_ERR_BUFFER_TOO_SMALL, {"workspace", "workspace_bytes"},
                   fwd(fx.plan, N, x, w, y, sv, sb, ws, 0));
        exec_fails(fx, k + "forward saved_bytes = required - 1", BL_ERR_BUFFER_TOO_SMALL, {"saved", "saved_bytes"},
                   fwd(fx.plan, N, x, w, y, sv, sb - 1, ws, wb));
        exec_fails(fx, k + "forward saved_bytes = 0", BL_ERR_BUFFER_TOO_SMALL, {"saved", "saved_bytes"},
                   fwd(fx.plan, N, x, w, y, sv, 0, ws, wb));
        // And the same call with correct arguments works (the fixture is sound).
        fx.snapshot();
        CHECK(fwd(fx.plan, N, x, w, y, sv, sb, ws, wb)() == BL_OK);
        CHECK(!fx.changed().empty());
    }
}

BL_TEST("backward: NULL plan/saved/dy/w/dx/dw/workspace, bad n, small buffers -> exact status, nothing written") {
    for (int mode : {BL_SPECTRA_INPUT_AND_WEIGHT, BL_SPECTRA_INPUT_ONLY})
        for (int kind = 0; kind < 2; ++kind) {
            Fixture fx(base2d(), kind == 0 ? fixed(0.5) : energy(0.9), mode);
            fx.forward();
            const std::string k = fmt("[%s mode %d] ", kind == 0 ? "fixed" : "energy", mode);
            const void* sv = fx.saved.data();
            const float* w = fx.w.data();
            const float* dy = fx.dy.data();
            float *dx = fx.dx.data(), *dw = fx.dw.data(), *db = fx.db.data();
            void* ws = fx.wsp();
            const int64_t sb = fx.saved_bytes, wb = fx.ws_bytes, N = fx.N;
            bl_plan P = fx.plan;
            // bl_backward
            exec_fails(fx, k + "backward NULL plan", BL_ERR_NULL_POINTER, {"plan"},
                       [&] { return bl_backward(nullptr, N, sv, sb, w, dy, dx, dw, db, ws, wb); });
            exec_fails(fx, k + "backward NULL saved", BL_ERR_NULL_POINTER, {"saved"},
                       [&] { return bl_backward(P, N, nullptr, sb, w, dy, dx, dw, db, ws, wb); });
            exec_fails(fx, k + "backward NULL dy", BL_ERR_NULL_POINTER, {"dy"},
                       [&] { return bl_backward(P, N, sv, sb, w, nullptr, dx, dw, db, ws, wb); });
            exec_fails(fx, k + "backward NULL workspace", BL_ERR_NULL_POINTER, {"workspace"},
                       [&] { return bl_backward(P, N, sv, sb, w, dy, dx, dw, db, nullptr, wb); });
            if (mode == BL_SPECTRA_INPUT_ONLY)
                exec_fails(fx, k + "backward NULL w with dx wanted (INPUT_ONLY)", BL_ERR_NULL_POINTER, {"w", "weight", "weights"},
                           [&] { return bl_backward(P, N, sv, sb, nullptr, dy, dx, dw, db, ws, wb); });
            for (int64_t n : {int64_t(0), int64_t(-3), N + 1})
                exec_fails(fx, k + fmt("backward n = %" PRId64, n), BL_ERR_INVALID_BATCH, {"n", "batch"},
                           [&] { return bl_backward(P, n, sv, sb, w, dy, dx, dw, db, ws, wb); });
            exec_fails(fx, k + "backward saved_bytes = required - 1", BL_ERR_BUFFER_TOO_SMALL, {"saved", "saved_bytes"},
                       [&] { return bl_backward(P, N, sv, sb - 1, w, dy, dx, dw, db, ws, wb); });
            exec_fails(fx, k + "backward workspace_bytes = required - 1", BL_ERR_BUFFER_TOO_SMALL,
                       {"workspace", "workspace_bytes"},
                       [&] { return bl_backward(P, N, sv, sb, w, dy, dx, dw, db, ws, wb - 1); });
            // bl_backward_data
            exec_fails(fx, k + "backward_data NULL plan", BL_ERR_NULL_POINTER, {"plan"},
                       [&] { return bl_backward_data(nullptr, N, sv, sb, w, dy, dx, ws, wb); });
            exec_fails(fx, k + "backward_data NULL saved", BL_ERR_NULL_POINTER, {"saved"},
                       [&] { return bl_backward_data(P, N, nullptr, sb, w, dy, dx, ws, wb); });
            exec_fails(fx, k + "backward_data NULL dy", BL_ERR_NULL_POINTER, {"dy"},
                       [&] { return bl_backward_data(P, N, sv, sb, w, nullptr, dx, ws, wb); });
            exec_fails(fx, k + "backward_data NULL dx", BL_ERR_NULL_POINTER, {"dx"},
                       [&] { return bl_backward_data(P, N, sv, sb, w, dy, nullptr, ws, wb); });
            exec_fails(fx, k + "backward_data NULL workspace", BL_ERR_NULL_POINTER, {"workspace"},
                       [&] { return bl_backward_data(P, N, sv, sb, w, dy, dx, nullptr, wb); });
            if (mode == BL_SPECTRA_INPUT_ONLY)
                exec_fails(fx, k + "backward_data NULL w (INPUT_ONLY)", BL_ERR_NULL_POINTER, {"w", "weight", "weights"},
                           [&] { return bl_backward_data(P, N, sv, sb, nullptr, dy, dx, ws, wb); });
            for (int64_t n : {int64_t(0), N + 1})
                exec_fails(fx, k + fmt("backward_data n = %" PRId64, n), BL_ERR_INVALID_BATCH, {"n", "batch"},
                           [&] { return bl_backward_data(P, n, sv, sb, w, dy, dx, ws, wb); });
            exec_fails(fx, k + "backward_data saved_bytes = required - 1", BL_ERR_BUFFER_TOO_SMALL, {"saved", "saved_bytes"},
                       [&] { return bl_backward_data(P, N, sv, sb - 1, w, dy, dx, ws, wb); });
            exec_fails(fx, k + "backward_data workspace_bytes = required - 1", BL_ERR_BUFFER_TOO_SMALL,
                       {"workspace", "workspace_bytes"}, [&] { return bl_backward_data(P, N, sv, sb, w, dy, dx, ws, wb - 1); });
            // bl_backward_weights
            exec_fails(fx, k + "backward_weights NULL plan", BL_ERR_NULL_POINTER, {"plan"},
                       [&] { return bl_backward_weights(nullptr, N, sv, sb, dy, dw, db, ws, wb); });
            exec_fails(fx, k + "backward_weights NULL saved", BL_ERR_NULL_POINTER, {"saved"},
                       [&] { return bl_backward_weights(P, N, nullptr, sb, dy, dw, db, ws, wb); });
            exec_fails(fx, k + "backward_weights NULL dy", BL_ERR_NULL_POINTER, {"dy"},
                       [&] { return bl_backward_weights(P, N, sv, sb, nullptr, dw, db, ws, wb); });
            exec_fails(fx, k + "backward_weights NULL dw", BL_ERR_NULL_POINTER, {"dw"},
                       [&] { return bl_backward_weights(P, N, sv, sb, dy, nullptr, db, ws, wb); });
            exec_fails(fx, k + "backward_weights NULL workspace", BL_ERR_NULL_POINTER, {"workspace"},
                       [&] { return bl_backward_weights(P, N, sv, sb, dy, dw, db, nullptr, wb); });
            for (int64_t n : {int64_t(0), N + 1})
                exec_fails(fx, k + fmt("backward_weights n = %" PRId64, n), BL_ERR_INVALID_BATCH, {"n", "batch"},
                           [&] { return bl_backward_weights(P, n, sv, sb, dy, dw, db, ws, wb); });
            exec_fails(fx, k + "backward_weights saved_bytes = required - 1", BL_ERR_BUFFER_TOO_SMALL,
                       {"saved", "saved_bytes"}, [&] { return bl_backward_weights(P, N, sv, sb - 1, dy, dw, db, ws, wb); });
            exec_fails(fx, k + "backward_weights workspace_bytes = required - 1", BL_ERR_BUFFER_TOO_SMALL,
                       {"workspace", "workspace_bytes"}, [&] { return bl_backward_weights(P, N, sv, sb, dy, dw, db, ws, wb - 1); });
            // The fixture is sound: the correct call succeeds and writes.
            fx.snapshot();
            CHECK(bl_backward(P, N, sv, sb, w, dy, dx, dw, db, ws, wb) == BL_OK);
            CHECK(!fx.changed().empty());
        }
}

BL_TEST("backward: saved spectra never written / garbage / from another plan -> BL_ERR_INVALID_SAVED_SPECTRA") {
    for (int kind = 0; kind < 2; ++kind) {
        const bl_compression comp = kind == 0 ? fixed(0.5) : energy(0.9);
        const std::string k = kind == 0 ? "[fixed] " : "[energy] ";
        Fixture fx(base2d(), comp);
        bl_plan P = fx.plan;
        const int64_t N = fx.N, sb = fx.saved_bytes, wb = fx.ws_bytes;
        float *dx = fx.dx.data(), *dw = fx.dw.data(), *db = fx.db.data();
        const float* w = fx.w.data();
        const float* dy = fx.dy.data();
        void* ws = fx.wsp();
        auto all_three = [&](const std::string& what, const void* saved) {
            exec_fails(fx, k + "backward, saved " + what, BL_ERR_INVALID_SAVED_SPECTRA, {"saved"},
                       [&] { return bl_backward(P, N, saved, sb, w, dy, dx, dw, db, ws, wb); });
            exec_fails(fx, k + "backward_data, saved " + what, BL_ERR_INVALID_SAVED_SPECTRA, {"saved"},
                       [&] { return bl_backward_data(P, N, saved, sb, w, dy, dx, ws, wb); });
            exec_fails(fx, k + "backward_weights, saved " + what, BL_ERR_INVALID_SAVED_SPECTRA, {"saved"},
                       [&] { return bl_backward_weights(P, N, saved, sb, dy, dw, db, ws, wb); });
        };
        // Never written: zeros.
        std::vector<unsigned char> zeros(static_cast<size_t>(sb), 0);
        all_three("all zero (never written)", zeros.data());
        // Garbage: random bytes, and a constant pattern.
        std::vector<unsigned char> garbage(static_cast<size_t>(sb));
        std::mt19937_64 rng(123 + kind);
        for (auto& c : garbage) c = static_cast<unsigned char>(rng());
        all_three("random bytes", garbage.data());
        std::vector<unsigned char> pattern(static_cast<size_t>(sb), 0xA5);
        all_three("0xA5 pattern", pattern.data());
        // Written by another plan: other geometry; and same geometry with another compression.
        for (int other = 0; other < 2; ++other) {
            bl_conv2d_desc od = base2d();
            bl_compression oc = comp;
            if (other == 0) {
                od.height = 6;
                od.filters = 2;
            } else {
                oc = kind == 0 ? fixed(0.9) : fixed(0.5);
            }
            Fixture fo(od, oc);
            // The other plan's saved buffer, made at least as large as this plan needs.
            std::vector<unsigned char> buf(static_cast<size_t>(std::max(fo.saved_bytes, sb)), 0);
            std::vector<unsigned char> wso(static_cast<size_t>(fo.ws_bytes > 0 ? fo.ws_bytes : 1));
            REQUIRE(bl_forward(fo.plan, fo.N, fo.x.data(), fo.w.data(), nullptr, fo.y.data(), buf.data(),
                               static_cast<int64_t>(buf.size()), wso.data(), fo.ws_bytes, nullptr) == BL_OK);
            all_three(other == 0 ? "written by a plan of another geometry" : "written by a plan with another compression",
                      buf.data());
        }
        // A valid saved buffer still works afterwards (the failures did not poison the plan).
        fx.forward();
        fx.snapshot();
        CHECK(bl_backward(P, N, fx.saved.data(), sb, w, dy, dx, dw, db, ws, wb) == BL_OK);
        CHECK(!fx.changed().empty());
    }
}

BL_TEST("1D plan execute: NULL x and bad n -> exact status, nothing written") {
    const bl_conv1d_desc d1 = base1d();
    bl_plan p = nullptr;
    REQUIRE(bl_plan_create_1d(nullptr, &d1, fixed(0.5), nullptr, &p) == BL_OK);
    int64_t ho = 0, wo = 0, sb = 0, wb = 0;
    REQUIRE(bl_plan_output_size(p, &ho, &wo) == BL_OK && ho == 1);
    REQUIRE(bl_plan_saved_spectra_bytes(p, &sb) == BL_OK && bl_plan_workspace_bytes(p, &wb) == BL_OK);
    std::vector<float> x(static_cast<size_t>(d1.max_batch * d1.channels * d1.length), 0.25f);
    std::vector<float> w(static_cast<size_t>(d1.filters * d1.channels * d1.kernel), 0.5f);
    std::vector<float> y(static_cast<size_t>(d1.max_batch * d1.filters * wo), -9.0f), y0 = y;
    std::vector<unsigned char> saved(static_cast<size_t>(sb), 0x11), saved0 = saved;
    std::vector<unsigned char> ws(static_cast<size_t>(wb > 0 ? wb : 1), 0x22);
    bl_box box{-5, -5};
    expect_status("1d forward NULL x", bl_forward(p, 2, nullptr, w.data(), nullptr, y.data(), saved.data(), sb, ws.data(), wb, &box),
                  BL_ERR_NULL_POINTER, {"x", "input"});
    expect_status("1d forward n = 3", bl_forward(p, 3, x.data(), w.data(), nullptr, y.data(), saved.data(), sb, ws.data(), wb, &box),
                  BL_ERR_INVALID_BATCH, {"n", "batch"});
    CHECK_MSG(y == y0 && saved == saved0 && box.kh == -5 && box.kw == -5, "1d: caller memory written on failure");
    CHECK(bl_forward(p, 2, x.data(), w.data(), nullptr, y.data(), saved.data(), sb, ws.data(), wb, &box) == BL_OK);
    bl_plan_destroy(p);
}


// ==========================================================================================
// Buffers (bl_buffer_alloc / free / copy, bl_context_synchronize)
// ==========================================================================================

BL_TEST("buffers: bad sizes, NULL pointers and unknown copy kinds are refused naming the argument; a CPU round trip copies every byte") {
    void* p = reinterpret_cast<void*>(0x1);
    expect_status("bl_buffer_alloc(bytes 0)", bl_buffer_alloc(nullptr, 0, &p), BL_ERR_INVALID_SIZE, {"bytes"});
    CHECK(p == reinterpret_cast<void*>(0x1));  // the out-parameter is untouched on error
    expect_status("bl_buffer_alloc(bytes -5)", bl_buffer_alloc(nullptr, -5, &p), BL_ERR_INVALID_SIZE, {"bytes"});
    expect_status("bl_buffer_alloc(out NULL)", bl_buffer_alloc(nullptr, 64, nullptr), BL_ERR_NULL_POINTER, {"out_buffer"});
    CHECK_OK(bl_buffer_free(nullptr, nullptr));
    // More bytes than any machine has, INT64_MAX included (its rounding up once overflowed).
    for (int64_t huge : {int64_t(1) << 62, std::numeric_limits<int64_t>::max()}) {
        p = reinterpret_cast<void*>(0x1);
        const bl_status s = bl_buffer_alloc(nullptr, huge, &p);
        CHECK_MSG(s == BL_ERR_OUT_OF_MEMORY, fmt("bl_buffer_alloc(%lld): ", (long long)huge) + sname(s));
        CHECK(p == reinterpret_cast<void*>(0x1));
    }
    // Any int a C caller passes as a status has a name (values outside the enum included).
    for (int v : {-1, 13, 99, std::numeric_limits<int>::min()}) {
        bl_status st;
        std::memcpy(&st, &v, sizeof st);
        CHECK(std::string(bl_status_name(st)) == "BL_ERR_UNKNOWN_STATUS");
    }

    // Random bytes there and back through two buffers of the default (CPU) context.
    std::mt19937_64 rng(8181);
    const int64_t bytes = 4099;  // not a multiple of the alignment
    std::vector<unsigned char> src(static_cast<size_t>(bytes)), dst(static_cast<size_t>(bytes), 0);
    for (auto& b : src) b = static_cast<unsigned char>(rng());
    void* a = nullptr;
    void* b = nullptr;
    REQUIRE_OK(bl_buffer_alloc(nullptr, bytes, &a));
    REQUIRE_OK(bl_buffer_alloc(nullptr, bytes, &b));
    CHECK(a != nullptr && b != nullptr && reinterpret_cast<uintptr_t>(a) % 64 == 0);
    CHECK_OK(bl_buffer_copy(nullptr, a, src.data(), bytes, BL_COPY_HOST_TO_BUFFER));
    CHECK_OK(bl_buffer_copy(nullptr, b, a, bytes, BL_COPY_BUFFER_TO_BUFFER));
    CHECK_OK(bl_buffer_copy(nullptr, dst.data(), b, bytes, BL_COPY_BUFFER_TO_HOST));
    CHECK(dst == src);
    CHECK_OK(bl_buffer_copy(nullptr, nullptr, nullptr, 0, BL_COPY_HOST_TO_BUFFER));  // nothing to copy
    std::vector<unsigned char> before = dst;
    expect_status("bl_buffer_copy(kind 7)", bl_buffer_copy(nullptr, dst.data(), b, bytes, 7), BL_ERR_INVALID_ARGUMENT, {"kind"});
    expect_status("bl_buffer_copy(bytes -1)", bl_buffer_copy(nullptr, dst.data(), b, -1, BL_COPY_BUFFER_TO_HOST),
                  BL_ERR_INVALID_SIZE, {"bytes"});
    expect_status("bl_buffer_copy(dst NULL)", bl_buffer_copy(nullptr, nullptr, b, bytes, BL_COPY_BUFFER_TO_HOST),
                  BL_ERR_NULL_POINTER, {"dst"});
    expect_status("bl_buffer_copy(src NULL)", bl_buffer_copy(nullptr, dst.data(), nullptr, bytes, BL_COPY_BUFFER_TO_HOST),
                  BL_ERR_NULL_POINTER, {"src"});
    CHECK(dst == before);
    CHECK_OK(bl_context_synchronize(nullptr));
    CHECK_OK(bl_buffer_free(nullptr, a));
    CHECK_OK(bl_buffer_free(nullptr, b));
}

BL_TEST("buffers: bl_buffer_zero zeroes exactly its range; a NULL buffer with bytes > 0 and negative bytes are refused") {
    const bl_context_options o{BL_BACKEND_CPU, 0, 2, BL_CPU_PATH_AUTO, nullptr};
    bl_context ctx = nullptr;
    REQUIRE_OK(bl_context_create(&o, &ctx));
    std::mt19937_64 rng(4242);
    const int64_t bytes = 4099, first = 37, zeroed = 1001;  // an odd range inside an odd size
    std::vector<unsigned char> src(static_cast<size_t>(bytes)), got(static_cast<size_t>(bytes));
    for (auto& b : src) b = static_cast<unsigned char>(rng() | 1);  // no zero byte to start with
    void* buf = nullptr;
    REQUIRE_OK(bl_buffer_alloc(ctx, bytes, &buf));
    REQUIRE_OK(bl_buffer_copy(ctx, buf, src.data(), bytes, BL_COPY_HOST_TO_BUFFER));
    CHECK_OK(bl_buffer_zero(ctx, static_cast<unsigned char*>(buf) + first, zeroed));
    CHECK_OK(bl_buffer_copy(ctx, got.data(), buf, bytes, BL_COPY_BUFFER_TO_HOST));
    bool exact = true;
    for (int64_t i = 0; i < bytes; ++i)
        exact &= got[size_t(i)] == (i >= first && i < first + zeroed ? 0 : src[size_t(i)]);
    CHECK_MSG(exact, "exactly bytes [37, 1038) are zero, the others as they were");

    CHECK_OK(bl_buffer_zero(ctx, nullptr, 0));  // nothing to zero
    expect_status("bl_buffer_zero(buffer NULL)", bl_buffer_zero(ctx, nullptr, 16), BL_ERR_NULL_POINTER, {"buffer"});
    CHECK(std::string(bl_last_error_argument()) == "buffer");
    expect_status("bl_buffer_zero(bytes -1)", bl_buffer_zero(ctx, buf, -1), BL_ERR_INVALID_SIZE, {"bytes"});
    CHECK(std::string(bl_last_error_argument()) == "bytes");
    std::vector<unsigned char> after(static_cast<size_t>(bytes));
    CHECK_OK(bl_buffer_copy(ctx, after.data(), buf, bytes, BL_COPY_BUFFER_TO_HOST));
    CHECK_MSG(after == got, "a refused bl_buffer_zero wrote the buffer");

    // The default context (CPU) zeroes the whole buffer.
    CHECK_OK(bl_buffer_zero(nullptr, buf, bytes));
    CHECK_OK(bl_buffer_copy(ctx, after.data(), buf, bytes, BL_COPY_BUFFER_TO_HOST));
    CHECK(std::all_of(after.begin(), after.end(), [](unsigned char b) { return b == 0; }));
    CHECK_OK(bl_buffer_free(ctx, buf));
    CHECK_OK(bl_context_destroy(ctx));
}

// ==========================================================================================
// Layer kernels: average pooling, dropout, softmax cross-entropy
// ==========================================================================================

namespace {

// Sentinel-filled outputs of the layer calls below, compared whole after every refusal.
struct LayerOutputs {
    std::vector<float> f = std::vector<float>(256, 3.5f);
    std::vector<uint8_t> mask = std::vector<uint8_t>(256, 7);
    float loss = -2.0f;
    bool untouched() const {
        return std::all_of(f.begin(), f.end(), [](float v) { return v == 3.5f; }) &&
               std::all_of(mask.begin(), mask.end(), [](uint8_t v) { return v == 7; }) && loss == -2.0f;
    }
};

// A refused call: its status, the argument named (exactly, as its own field) and no write.
void refused(const std::string& label, bl_status got, bl_status want, const char* argument, const LayerOutputs& out) {
    expect_status(label, got, want, {argument});
    const std::string arg = bl_last_error_argument();
    CHECK_MSG(arg == argument, label + ": argument \"" + arg + "\", expected \"" + argument + "\"");
    CHECK_MSG(out.untouched(), label + ": an output was written");
}

}  // namespace

BL_TEST("maxpool2d backward: a winner outside its plane is refused naming winners; dx untouched") {
    LayerOutputs o;
    const bl_pool2d_desc d{2, 4, 6, 2, 3, 2, 3};  // 2 planes of 4 x 6, 2 x 3 windows: 2 x 2 outputs each
    const std::vector<float> dy(8, 1.0f);
    for (int32_t bad : {-1, 24, 1 << 30}) {
        for (int at : {0, 7}) {
            std::vector<int32_t> winners{0, 3, 12, 15, 1, 4, 13, 16};  // valid: within each plane
            winners[static_cast<size_t>(at)] = bad;
            for (int32_t accumulate : {0, 1})
                refused(fmt("maxpool backward winner %d at %d, accumulate %d", bad, at, accumulate),
                        bl_maxpool2d_backward(nullptr, &d, winners.data(), dy.data(), o.f.data(), accumulate),
                        BL_ERR_INVALID_ARGUMENT, "winners", o);
        }
    }
}

BL_TEST("avgpool2d: NULL pointers, bad descriptions and flags name the argument; nothing written") {
    LayerOutputs o;
    const std::vector<float> in(256, 0.25f);
    const bl_pool2d_desc ok{2, 4, 6, 2, 3, 2, 3};
    float* y = o.f.data();
    refused("avgpool forward desc NULL", bl_avgpool2d_forward(nullptr, nullptr, in.data(), y), BL_ERR_NULL_POINTER, "desc", o);
    refused("avgpool forward x NULL", bl_avgpool2d_forward(nullptr, &ok, nullptr, y), BL_ERR_NULL_POINTER, "x", o);
    refused("avgpool forward y NULL", bl_avgpool2d_forward(nullptr, &ok, in.data(), nullptr), BL_ERR_NULL_POINTER, "y", o);
    refused("avgpool backward dy NULL", bl_avgpool2d_backward(nullptr, &ok, nullptr, y, 0), BL_ERR_NULL_POINTER, "dy", o);
    refused("avgpool backward dx NULL", bl_avgpool2d_backward(nullptr, &ok, in.data(), nullptr, 0), BL_ERR_NULL_POINTER, "dx", o);
    refused("avgpool backward accumulate 2", bl_avgpool2d_backward(nullptr, &ok, in.data(), y, 2), BL_ERR_INVALID_ARGUMENT,
            "accumulate", o);
    refused("avgpool backward accumulate -1", bl_avgpool2d_backward(nullptr, &ok, in.data(), y, -1), BL_ERR_INVALID_ARGUMENT,
            "accumulate", o);
    struct Bad {
        const char* label;
        bl_pool2d_desc desc;
        bl_status want;
        const char* argument;
    };
    const int64_t big = int64_t(1) << 16;
    for (const Bad& b : {Bad{"planes 0", {0, 4, 6, 2, 3, 2, 3}, BL_ERR_INVALID_SIZE, "desc.planes"},
                         Bad{"height -1", {2, -1, 6, 2, 3, 2, 3}, BL_ERR_INVALID_SIZE, "desc.height"},
                         Bad{"kernel_w 0", {2, 4, 6, 2, 0, 2, 3}, BL_ERR_INVALID_SIZE, "desc.kernel_w"},
                         Bad{"stride_h 0", {2, 4, 6, 2, 3, 0, 3}, BL_ERR_INVALID_SIZE, "desc.stride_h"},
                         Bad{"kernel taller than the plane", {2, 4, 6, 5, 3, 2, 3}, BL_ERR_INVALID_ARGUMENT, "desc.kernel_h"},
                         Bad{"kernel wider than the plane", {2, 4, 6, 2, 7, 2, 3}, BL_ERR_INVALID_ARGUMENT, "desc.kernel_w"},
                         Bad{"a plane of 2^32", {1, big, big, 2, 2, 2, 2}, BL_ERR_SIZE_OVERFLOW, "desc"}}) {
        refused(std::string("avgpool forward ") + b.label, bl_avgpool2d_forward(nullptr, &b.desc, in.data(), y), b.want,
                b.argument, o);
        refused(std::string("avgpool backward ") + b.label, bl_avgpool2d_backward(nullptr, &b.desc, in.data(), y, 1),
                b.want, b.argument, o);
    }
}

BL_TEST("dropout: NULL pointers, count < 1, p outside [0, 1) or NaN, bad flags name the argument; nothing written") {
    LayerOutputs o;
    const std::vector<float> in(256, 0.25f);
    const std::vector<uint8_t> kept(256, 1);
    float* y = o.f.data();
    uint8_t* mask = o.mask.data();
    refused("dropout forward count 0", bl_dropout_forward(nullptr, 0, 0.5, 1, in.data(), y, mask), BL_ERR_INVALID_SIZE, "count", o);
    refused("dropout forward count -3", bl_dropout_forward(nullptr, -3, 0.5, 1, in.data(), y, mask), BL_ERR_INVALID_SIZE, "count", o);
    for (double p : {-0.1, 1.0, 1.5, std::nan(""), std::numeric_limits<double>::infinity()}) {
        const std::string at = fmt("p %g", p);
        refused("dropout forward " + at, bl_dropout_forward(nullptr, 8, p, 1, in.data(), y, mask), BL_ERR_INVALID_ARGUMENT, "p", o);
        refused("dropout backward " + at, bl_dropout_backward(nullptr, 8, p, kept.data(), in.data(), y, 0),
                BL_ERR_INVALID_ARGUMENT, "p", o);
    }
    refused("dropout forward x NULL", bl_dropout_forward(nullptr, 8, 0.5, 1, nullptr, y, mask), BL_ERR_NULL_POINTER, "x", o);
    refused("dropout forward y NULL", bl_dropout_forward(nullptr, 8, 0.5, 1, in.data(), nullptr, mask), BL_ERR_NULL_POINTER, "y", o);
    refused("dropout backward mask NULL", bl_dropout_backward(nullptr, 8, 0.5, nullptr, in.data(), y, 0), BL_ERR_NULL_POINTER,
            "mask", o);
    refused("dropout backward dy NULL", bl_dropout_backward(nullptr, 8, 0.5, kept.data(), nullptr, y, 0), BL_ERR_NULL_POINTER,
            "dy", o);
    refused("dropout backward dx NULL", bl_dropout_backward(nullptr, 8, 0.5, kept.data(), in.data(), nullptr, 0),
            BL_ERR_NULL_POINTER, "dx", o);
    refused("dropout backward accumulate 2", bl_dropout_backward(nullptr, 8, 0.5, kept.data(), in.data(), y, 2),
            BL_ERR_INVALID_ARGUMENT, "accumulate", o);
    refused("dropout backward count 0", bl_dropout_backward(nullptr, 0, 0.5, kept.data(), in.data(), y, 0), BL_ERR_INVALID_SIZE,
            "count", o);
    // The mask is optional.
    std::vector<float> y_ok(8, 0.0f);
    CHECK_OK(bl_dropout_forward(nullptr, 8, 0.5, 1, in.data(), y_ok.data(), nullptr));
}

BL_TEST("softmax cross-entropy: NULL pointers, bad sizes and flags name the argument; a label outside [0, classes) names labels; nothing written") {
    LayerOutputs o;
    const std::vector<float> in(256, 0.25f);
    const int32_t labels[4] = {0, 3, 1, 2};
    const float dloss = 1.0f;
    float* probs = o.f.data();
    float* loss = &o.loss;
    refused("xent forward batch 0", bl_softmax_xent_forward(nullptr, 0, 4, in.data(), labels, loss, probs), BL_ERR_INVALID_SIZE,
            "batch", o);
    refused("xent forward classes -1", bl_softmax_xent_forward(nullptr, 4, -1, in.data(), labels, loss, probs),
            BL_ERR_INVALID_SIZE, "classes", o);
    refused("xent forward batch * classes overflows",
            bl_softmax_xent_forward(nullptr, int64_t(1) << 40, int64_t(1) << 30, in.data(), labels, loss, probs),
            BL_ERR_SIZE_OVERFLOW, "classes", o);
    refused("xent forward logits NULL", bl_softmax_xent_forward(nullptr, 4, 4, nullptr, labels, loss, probs), BL_ERR_NULL_POINTER,
            "logits", o);
    refused("xent forward labels NULL", bl_softmax_xent_forward(nullptr, 4, 4, in.data(), nullptr, loss, probs),
            BL_ERR_NULL_POINTER, "labels", o);
    refused("xent forward loss NULL", bl_softmax_xent_forward(nullptr, 4, 4, in.data(), labels, nullptr, probs),
            BL_ERR_NULL_POINTER, "loss", o);
    refused("xent backward batch 0", bl_softmax_xent_backward(nullptr, 0, 4, in.data(), labels, &dloss, probs, 0),
            BL_ERR_INVALID_SIZE, "batch", o);
    refused("xent backward probs NULL", bl_softmax_xent_backward(nullptr, 4, 4, nullptr, labels, &dloss, probs, 0),
            BL_ERR_NULL_POINTER, "probs", o);
    refused("xent backward labels NULL", bl_softmax_xent_backward(nullptr, 4, 4, in.data(), nullptr, &dloss, probs, 0),
            BL_ERR_NULL_POINTER, "labels", o);
    refused("xent backward dloss NULL", bl_softmax_xent_backward(nullptr, 4, 4, in.data(), labels, nullptr, probs, 0),
            BL_ERR_NULL_POINTER, "dloss", o);
    refused("xent backward dlogits NULL", bl_softmax_xent_backward(nullptr, 4, 4, in.data(), labels, &dloss, nullptr, 0),
            BL_ERR_NULL_POINTER, "dlogits", o);
    refused("xent backward accumulate 5", bl_softmax_xent_backward(nullptr, 4, 4, in.data(), labels, &dloss, probs, 5),
            BL_ERR_INVALID_ARGUMENT, "accumulate", o);

    // Labels are checked by the CPU backend, before the loss, the probabilities or the gradient
    // are written; the last label is the bad one, so that a check interleaved with the rows
    // would already have written the others.
    const bl_context_options opts{BL_BACKEND_CPU, 0, 2, BL_CPU_PATH_AUTO, nullptr};
    bl_context ctx = nullptr;
    REQUIRE_OK(bl_context_create(&opts, &ctx));
    const int32_t too_big[4] = {0, 1, 2, 4}, negative[4] = {0, 1, 2, -1};
    for (bl_context c : {static_cast<bl_context>(nullptr), ctx})
        for (const int32_t* bad : {too_big, negative}) {
            const std::string at = fmt("label %d (%s context)", bad[3], c ? "a CPU" : "the default");
            refused("xent forward " + at, bl_softmax_xent_forward(c, 4, 4, in.data(), bad, loss, probs),
                    BL_ERR_INVALID_ARGUMENT, "labels", o);
            refused("xent forward without probs " + at, bl_softmax_xent_forward(c, 4, 4, in.data(), bad, loss, nullptr),
                    BL_ERR_INVALID_ARGUMENT, "labels", o);
            for (int32_t accumulate : {0, 1})
                refused("xent backward " + at, bl_softmax_xent_backward(c, 4, 4, in.data(), bad, &dloss, probs, accumulate),
                        BL_ERR_INVALID_ARGUMENT, "labels", o);
        }
    // The probabilities are optional.
    float loss_ok = 0;
    CHECK_OK(bl_softmax_xent_forward(ctx, 4, 4, in.data(), labels, &loss_ok, nullptr));
    CHECK_OK(bl_context_destroy(ctx));
}

BL_TEST_MAIN()
