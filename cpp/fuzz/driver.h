// driver.h -- a seeded fuzz driver of the C ABI (include/bandlimit.h), shared by the command
// line driver (fuzz_abi.cpp) and the libFuzzer entry (libfuzzer_entry.cpp).
//
// One "call" of the driver exercises one entry point once, in one of two ways:
//  - valid: small random arguments; the call must return BL_OK and its results must agree with
//    a float64 reference (reference.h for the convolution, the references in the call files
//    for the layer kernels), and it must not write outside its output buffers (guard zones);
//  - invalid: a valid call with exactly one argument broken (a mutation from the entry's
//    table). It must be refused with a documented status (any but BL_OK: the set of codes may
//    grow), a non-empty message that starts with bl_last_error_argument(), which must name the
//    broken argument as bandlimit.h spells it, and no caller memory written; a plan it was
//    called on must give the same result as before.
// Sometimes the data hold NaN, Inf or denormals (ALGORITHM.md section 5 says what NaN and Inf
// do; the checks take what is checkable from it).
//
// Every decision comes from a Choices (a seeded generator, or a libFuzzer input's bytes), so a
// run is reproduced by its seed. The entry points and their mutations are tables in
// conv_calls.cpp (plans and execute calls), layer_calls.cpp (layer kernels) and
// misc_calls.cpp (contexts, buffers, version, registry, settings); this file declares what they
// share: the driver's state (contexts, plans, buffers), caller buffers with guard zones, and the
// checks that turn an outcome into a pass or a recorded failure.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bandlimit.h"
#include "reference.h"

namespace blfuzz {

// ------------------------------------------------------------------------------------------
// Where decisions come from
// ------------------------------------------------------------------------------------------
class Choices {
public:
    virtual ~Choices() = default;
    virtual uint64_t bits() = 0;  // 64 fresh bits
    virtual bool exhausted() const = 0;

    uint64_t below(uint64_t n) { return n <= 1 ? 0 : bits() % n; }  // [0, n); the bias is harmless here
    int64_t between(int64_t lo, int64_t hi) {                         // [lo, hi]
        return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo) + 1));
    }
    bool one_in(uint64_t k) { return below(k) == 0; }
    double unit() { return static_cast<double>(bits() >> 11) * 0x1p-53; }  // [0, 1)
    template <class T>
    const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }
};

// SplitMix64 from a seed: the command-line driver.
class SeededChoices final : public Choices {
public:
    explicit SeededChoices(uint64_t seed) : state_(seed) {}
    uint64_t bits() override;
    bool exhausted() const override { return false; }

private:
    uint64_t state_;
};

// The bytes of a libFuzzer input, 8 a decision (zero-padded at the end); exhausted after the
// last byte, when the input's call sequence ends.
class ByteChoices final : public Choices {
public:
    ByteChoices(const uint8_t* data, size_t size) : data_(data), size_(size) {}
    uint64_t bits() override;
    bool exhausted() const override { return pos_ >= size_; }

private:
    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
};

// ------------------------------------------------------------------------------------------
// Caller memory
// ------------------------------------------------------------------------------------------

// An output buffer of a call: a 64-byte aligned payload between guard zones of at least 64
// bytes. Everything (payload and guards) starts as a canary pattern, so that a refused call
// can be checked for writes bitwise and a valid one for writes outside its payload (which
// ASan would not see: the guards are inside the allocation).
class GuardedBuffer {
public:
    explicit GuardedBuffer(size_t payload_bytes = 0);
    GuardedBuffer(const GuardedBuffer&) = delete;
    GuardedBuffer& operator=(const GuardedBuffer&) = delete;

    void* data() { return storage_.data() + offset_; }
    const void* data() const { return storage_.data() + offset_; }
    float* floats() { return static_cast<float*>(data()); }
    const float* floats() const { return static_cast<const float*>(data()); }
    size_t bytes() const { return bytes_; }
    const unsigned char* storage() const { return storage_.data(); }
    size_t storage_bytes() const { return storage_.size(); }

    void fill_from(const void* src, size_t bytes);  // payload only (bytes <= bytes())
    bool guards_intact() const;
    std::vector<float> payload_floats() const;

private:
    std::vector<unsigned char> storage_;
    size_t offset_ = 0;
    size_t bytes_ = 0;
};

// Copies of caller memory taken before a call, compared after it.
class Untouched {
public:
    void watch(const std::string& name, const void* p, size_t bytes);
    void watch(const std::string& name, const GuardedBuffer& b) { watch(name, b.storage(), b.storage_bytes()); }
    // "" when every watched region is as it was, else the names of those that changed.
    std::string changed() const;

private:
    struct Region {
        std::string name;
        const void* p;
        std::vector<unsigned char> copy;
    };
    std::vector<Region> regions_;
};

// An element or byte count as size_t (a function, so that `vector v(sz(n))` declares a vector).
inline size_t sz(int64_t v) { return static_cast<size_t>(v); }

// A pointer moved by `bytes` (1..3: misaligned for float).
template <class T>
T* shifted(T* p, int bytes) {
    return reinterpret_cast<T*>(reinterpret_cast<uintptr_t>(p) + static_cast<uintptr_t>(bytes));
}

// ------------------------------------------------------------------------------------------
// What the driver holds
// ------------------------------------------------------------------------------------------

// What the driver knows about one context: its handle (NULL for the default context) and the
// settings it last gave it (the CPU path decides whether two results may be compared bitwise).
struct ContextMirror {
    bl_context handle = nullptr;
    bool is_default = false;
    bool destroyed = false;   // bl_context_destroy was called; plans created in it live on
    int32_t threads = 0;      // the setting (0: the number of CPUs)
    int32_t path = 0;         // the resolved CPU path (bl_context_get_cpu_path)
    int id = 0;
};

// A forward that saved spectra, on finite data: what a backward of it needs, and the result
// that later forwards with the same inputs must reproduce (the plan still works).
struct ForwardRecord {
    int64_t n = 0;
    std::vector<float> x, w, b;  // b empty: no bias
    std::vector<double> xd, wd, bd;
    std::vector<unsigned char> saved;  // the saved-spectra buffer as the forward wrote it
    blref::Box box;
    std::vector<float> y;              // bitwise
    std::vector<double> y_ref;         // float64 reference
    int32_t path = 0;                  // the CPU path y was computed on
    bool denormals = false;            // x and w hold denormals
};

struct PlanSlot {
    int id = 0;
    bl_plan plan = nullptr;
    std::shared_ptr<ContextMirror> context;
    blref::Geom g;
    bool one_d = false;
    bl_compression comp{};
    int32_t spectra_mode = BL_SPECTRA_INPUT_AND_WEIGHT, product = BL_PRODUCT_AUTO, method = BL_METHOD_BANDLIMIT;
    int64_t LH = 0, LW = 0, Ho = 0, Wo = 0, saved_bytes = 0, ws_bytes = 0;
    std::vector<blref::Box> chain;  // reference chain
    blref::Box fixed_box;           // fixed mode: the reference box
    std::unique_ptr<ForwardRecord> last;
    std::string text;  // geometry and options, for failure messages

    bool energy() const { return comp.kind == BL_COMPRESSION_ENERGY; }
};

struct HeldBuffer {
    std::shared_ptr<ContextMirror> context;
    void* p = nullptr;
    int64_t bytes = 0;
    std::vector<unsigned char> content;  // what the driver wrote there
};

struct Stats {
    int64_t calls = 0;
    int64_t valid = 0;           // valid calls whose checks passed
    int64_t invalid_caught = 0;  // invalid calls refused as the contract says
    int64_t mismatches = 0;      // results that disagree with the float64 references
    int64_t violations = 0;      // other broken promises (status, message, argument, writes)
    int64_t special_data = 0;    // valid calls with NaN, Inf or denormals in their data
};

// Mutations that hit library bugs found by this driver: off by default so that the test command
// stays green until they are fixed, each one flag away (--include-known-bug NAME) for its repro.
struct KnownBug {
    const char* name;
    const char* what;
};
// None open. Found by this driver and fixed (their mutations now always run): maxpool-winners
// (bl_maxpool2d_backward wrote outside dx for winners outside the plane), alloc-int64-max
// (bl_buffer_alloc(INT64_MAX) overflowed int64_t rounding up), status-name-range
// (bl_status_name loaded an int outside the enum's range as the C++ enum).
constexpr std::array<KnownBug, 0> kKnownBugs{};

struct Options {
    bool keep_going = false;         // record every failure instead of stopping at the first
    // Also run the mutations that hit known library bugs (kKnownBugs): "all" or their names.
    std::vector<std::string> known_bugs;
    bool known_bug(const char* name) const {
        for (const std::string& k : known_bugs)
            if (k == "all" || k == name) return true;
        return false;
    }
    int64_t trace_from = -1;          // print every call from this index on (-1: none)
    bool quiet = false;               // no failure text on stderr (libFuzzer prints its own)
};

class Driver;

// One entry point (or a family of them, e.g. forward): weight in the random choice.
struct Entry {
    const char* name;
    int weight;
    void (*run)(Driver&);
};
std::vector<Entry> conv_entries();
std::vector<Entry> layer_entries();
std::vector<Entry> misc_entries();

class Driver {
public:
    Driver(Choices& choices, const Options& options);
    ~Driver();
    Driver(const Driver&) = delete;
    Driver& operator=(const Driver&) = delete;

    // Runs one call. false when it is time to stop: a failure was recorded (without
    // keep_going) or the choices are exhausted.
    bool step();
    // Releases every plan, buffer and context the driver holds, restores the default context's
    // settings, and checks that bl_allocated_bytes is back where it started.
    void teardown();

    const Stats& stats() const { return stats_; }
    const std::string& first_failure() const { return first_failure_; }
    bool failed() const { return stats_.mismatches + stats_.violations > 0; }

    // ---- for the call files ----
    Choices& choose;
    std::mt19937_64 data;  // tensor contents: reseeded from `choose` at every call
    Options options;
    int64_t call_index = -1;

    std::vector<std::shared_ptr<ContextMirror>> contexts;  // live ones; [0] is the default
    std::vector<std::unique_ptr<PlanSlot>> plans;
    std::vector<HeldBuffer> buffers;
    std::vector<int32_t> supported_paths;    // CPU paths this machine runs
    std::vector<int32_t> unsupported_paths;  // known paths it does not
    std::vector<std::vector<unsigned char>> scratch;  // inputs a mutation makes; cleared per call
    int next_id = 1;

    // The current call's description, for failure messages; call files add details.
    void label(const std::string& what) { label_ = what; }
    void note(const std::string& detail) { label_ += " " + detail; }
    const std::string& current_label() const { return label_; }

    // Outcomes. A valid call that passed all its checks calls passed(); a check that fails
    // calls mismatch() (a result against its reference) or violation() (anything else).
    void passed() { ++stats_.valid; }
    void mismatch(const std::string& what);
    void violation(const std::string& what);
    void special_data() { ++stats_.special_data; }

    // A valid call's status: true when BL_OK, else a violation (with the error text).
    bool expect_ok(bl_status s, const char* call);
    // An invalid call's outcome: a documented non-OK status, a message starting with the
    // argument, the argument == `argument` (nullptr: not checked, e.g. out of memory), and
    // nothing watched in `untouched` changed. Counts it as caught when all hold.
    bool expect_refusal(bl_status s, const char* mutation, const char* argument, const Untouched& untouched);
    // The guard zones of an output: a violation naming it when a write went past its payload.
    bool guards_ok(const GuardedBuffer& b, const char* name);
    // ||got - ref|| / ||ref|| <= bound (section 5), else a mismatch; NaN fails.
    bool close(const std::vector<float>& got, const std::vector<double>& ref, double bound, const char* what);

    std::shared_ptr<ContextMirror> random_context();  // a live one, often the default
    bl_context random_context_handle() { return random_context()->handle; }

    // Random tensors: uniform in [-1, 1), rounded to float32.
    std::vector<float> uniform(size_t count, double lo = -1.0, double hi = 1.0);
    // Puts a few NaN / +Inf / -Inf into v at random positions (in [begin, end)); returns how many.
    int poison(std::vector<float>& v, size_t begin, size_t end);
    // Replaces some entries of v by denormals (they must change nothing but the last bits).
    void sprinkle_denormals(std::vector<float>& v);

private:
    void record_failure(const std::string& kind, const std::string& what);

    std::vector<Entry> entries_;
    int total_weight_ = 0;
    Stats stats_;
    std::string label_;
    std::string first_failure_;
    int64_t start_allocated_bytes_ = 0;
    int32_t default_threads_ = 0, default_path_ = 0;
    bool torn_down_ = false;
};

// printf into a std::string (labels and failure texts).
__attribute__((format(printf, 1, 2))) std::string format(const char* f, ...);

// One broken argument of a call: the call files hold tables of these per entry point.
template <class Call>
struct Mutation {
    const char* name;
    // Breaks one argument of the call; returns that argument's name as bandlimit.h spells it,
    // or nullptr when the mutation does not apply to this call.
    const char* (*apply)(Call& call, Driver& d);
};

// Picks an applicable mutation of the table (a few tries), applies it; nullptr if none applied.
template <class Call>
const Mutation<Call>* mutate(Driver& d, const std::vector<Mutation<Call>>& table, Call& call, const char** argument) {
    for (int attempt = 0; attempt < 12; ++attempt) {
        const Mutation<Call>& m = table[d.choose.below(table.size())];
        Call trial = call;
        if (const char* arg = m.apply(trial, d)) {
            call = trial;
            *argument = arg;
            return &m;
        }
    }
    return nullptr;
}

// Whether this call breaks an argument: 45% of the calls do.
inline bool invalid_turn(Driver& d) { return d.choose.below(20) < 9; }

// One libFuzzer input as a call sequence: a fresh driver steered by the bytes (ByteChoices), at
// most kCallsPerInput calls, then everything released. The libFuzzer entry and fuzz_abi --replay
// (the regression inputs under cpp/fuzz/regressions/, in every build) both run inputs so.
// Returns false after a failure, with its description in *failure.
constexpr int kCallsPerInput = 64;  // keeps one input's run short
bool run_input(const uint8_t* data, size_t size, const Options& options, std::string* failure);

// Whether a status is one bandlimit.h documents (bl_status_name knows it).
bool documented(bl_status s);
std::string status_text(bl_status s);  // "BL_ERR_... \"message\" [argument a]"

}  // namespace blfuzz
