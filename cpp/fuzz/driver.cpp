// driver.cpp -- see driver.h: the decision sources, guarded caller memory, the driver's state
// and the checks every call file uses.
#include "driver.h"

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cmath>
#include <cstdio>
#include <limits>

namespace blfuzz {

// ------------------------------------------------------------------------------------------
// Choices
// ------------------------------------------------------------------------------------------
uint64_t SeededChoices::bits() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t ByteChoices::bits() {
    uint64_t v = 0;
    for (int k = 0; k < 8; ++k) {
        const uint64_t byte = pos_ < size_ ? data_[pos_] : 0;
        ++pos_;
        v |= byte << (8 * k);
    }
    return v;
}

// ------------------------------------------------------------------------------------------
// Caller memory
// ------------------------------------------------------------------------------------------
namespace {
constexpr size_t kGuardBytes = 64;
// The canary: a byte pattern of period 7, so that no float or int32 of it repeats at a
// 4-byte stride and a write of any one value is seen. It is counted from the payload's start,
// so that the unwritten bytes of two buffers of one size compare equal.
unsigned char canary_byte(size_t i, size_t offset) {
    return static_cast<unsigned char>(0xA5 ^ (0x3B * ((i + 7 - offset % 7) % 7)));
}
}  // namespace

GuardedBuffer::GuardedBuffer(size_t payload_bytes) : bytes_(payload_bytes) {
    storage_.resize(payload_bytes + 3 * kGuardBytes);
    const uintptr_t base = reinterpret_cast<uintptr_t>(storage_.data());
    offset_ = kGuardBytes + (64 - (base + kGuardBytes) % 64) % 64;
    for (size_t i = 0; i < storage_.size(); ++i) storage_[i] = canary_byte(i, offset_);
}

void GuardedBuffer::fill_from(const void* src, size_t bytes) {
    if (bytes > 0) std::memcpy(data(), src, std::min(bytes, bytes_));
}

bool GuardedBuffer::guards_intact() const {
    for (size_t i = 0; i < offset_; ++i)
        if (storage_[i] != canary_byte(i, offset_)) return false;
    for (size_t i = offset_ + bytes_; i < storage_.size(); ++i)
        if (storage_[i] != canary_byte(i, offset_)) return false;
    return true;
}

std::vector<float> GuardedBuffer::payload_floats() const {
    std::vector<float> v(bytes_ / sizeof(float));
    if (!v.empty()) std::memcpy(v.data(), data(), v.size() * sizeof(float));
    return v;
}

void Untouched::watch(const std::string& name, const void* p, size_t bytes) {
    const auto* b = static_cast<const unsigned char*>(p);
    regions_.push_back(Region{name, p, std::vector<unsigned char>(b, b + bytes)});
}

std::string Untouched::changed() const {
    std::string out;
    for (const Region& r : regions_)
        if (!r.copy.empty() && std::memcmp(r.p, r.copy.data(), r.copy.size()) != 0)
            out += (out.empty() ? "" : ", ") + r.name;
    return out;
}

// ------------------------------------------------------------------------------------------
// Status helpers
// ------------------------------------------------------------------------------------------
std::string format(const char* f, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, f);
    std::vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

bool documented(bl_status s) {
    const char* name = bl_status_name(s);
    return name && std::strcmp(name, "BL_ERR_UNKNOWN_STATUS") != 0;
}

std::string status_text(bl_status s) {
    const char* name = bl_status_name(s);
    const std::string arg = bl_last_error_argument();
    return std::string(name ? name : "(null name)") + " \"" + bl_last_error_message() + "\"" +
           (arg.empty() ? std::string() : " [argument " + arg + "]");
}

// ------------------------------------------------------------------------------------------
// Driver
// ------------------------------------------------------------------------------------------
Driver::Driver(Choices& choices, const Options& opts) : choose(choices), options(opts) {
    for (const auto& list : {conv_entries(), layer_entries(), misc_entries()})
        for (const Entry& e : list) {
            entries_.push_back(e);
            total_weight_ += e.weight;
        }
    bl_allocated_bytes(&start_allocated_bytes_);
    bl_get_num_threads(&default_threads_);
    bl_get_cpu_path(&default_path_);
    auto def = std::make_shared<ContextMirror>();
    def->is_default = true;
    def->threads = default_threads_;
    def->path = default_path_;
    def->id = 0;
    contexts.push_back(def);
    // Which CPU paths this machine runs: a context that asks for one is created or refused.
    for (int32_t path : {BL_CPU_PATH_PORTABLE, BL_CPU_PATH_AVX2, BL_CPU_PATH_AVX512}) {
        bl_context_options o{};
        o.backend = BL_BACKEND_CPU;
        o.cpu_path = path;
        bl_context c = nullptr;
        if (bl_context_create(&o, &c) == BL_OK) {
            supported_paths.push_back(path);
            bl_context_destroy(c);
        } else {
            unsupported_paths.push_back(path);
        }
    }
}

Driver::~Driver() { teardown(); }

void Driver::teardown() {
    if (torn_down_) return;
    torn_down_ = true;
    for (auto& s : plans) {
        const bl_status st = bl_plan_destroy(s->plan);
        if (st != BL_OK) violation("teardown: bl_plan_destroy -> " + status_text(st));
    }
    plans.clear();
    for (HeldBuffer& b : buffers) bl_buffer_free(b.context->handle, b.p);
    buffers.clear();
    for (auto& c : contexts)
        if (!c->is_default) bl_context_destroy(c->handle);
    contexts.clear();
    bl_set_num_threads(default_threads_ > 0 ? default_threads_ : 1);
    bl_set_cpu_path(default_path_);
    int64_t now = -1;
    bl_allocated_bytes(&now);
    if (now != start_allocated_bytes_) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "teardown: bl_allocated_bytes is %" PRId64 ", it was %" PRId64 " before the run",
                      now, start_allocated_bytes_);
        violation(buf);
    }
}

bool Driver::step() {
    if (choose.exhausted()) return false;
    ++call_index;
    ++stats_.calls;
    scratch.clear();
    data.seed(choose.bits());
    int64_t pick = static_cast<int64_t>(choose.below(static_cast<uint64_t>(total_weight_)));
    const Entry* e = &entries_.back();
    for (const Entry& cand : entries_) {
        if (pick < cand.weight) {
            e = &cand;
            break;
        }
        pick -= cand.weight;
    }
    label_ = e->name;
    const int64_t failures_before = stats_.mismatches + stats_.violations;
    e->run(*this);
    if (options.trace_from >= 0 && call_index >= options.trace_from)
        std::printf("  [%" PRId64 "] %s\n", call_index, label_.c_str());
    const bool failed_now = stats_.mismatches + stats_.violations > failures_before;
    return !(failed_now && !options.keep_going);
}

void Driver::record_failure(const std::string& kind, const std::string& what) {
    char head[96];
    std::snprintf(head, sizeof head, "call %" PRId64 ": ", call_index);
    const std::string text = std::string(head) + kind + ": " + what + "\n    in: " + label_;
    if (first_failure_.empty()) first_failure_ = text;
    if (!options.quiet) std::fprintf(stderr, "fuzz_abi: %s\n", text.c_str());
}

void Driver::mismatch(const std::string& what) {
    ++stats_.mismatches;
    record_failure("MISMATCH", what);
}

void Driver::violation(const std::string& what) {
    ++stats_.violations;
    record_failure("VIOLATION", what);
}

bool Driver::expect_ok(bl_status s, const char* call) {
    if (s == BL_OK) return true;
    violation(std::string(call) + " refused a valid call: " + status_text(s));
    return false;
}

bool Driver::expect_refusal(bl_status s, const char* mutation, const char* argument, const Untouched& untouched) {
    note(std::string("{mutation: ") + mutation + "}");
    const std::string msg = bl_last_error_message();
    const std::string arg = bl_last_error_argument();
    bool ok = true;
    if (s == BL_OK) {
        violation(std::string("accepted an invalid call (") + mutation + ")");
        ok = false;
    } else if (!documented(s)) {
        violation(std::string("undocumented status ") + std::to_string(int(s)) + " for " + mutation);
        ok = false;
    } else {
        if (msg.empty()) {
            violation(std::string("empty bl_last_error_message() for ") + mutation + " (" + bl_status_name(s) + ")");
            ok = false;
        }
        if (argument && arg != argument) {
            violation(std::string("bl_last_error_argument() is \"") + arg + "\", the broken argument is \"" + argument +
                      "\" (" + mutation + "; " + status_text(s) + ")");
            ok = false;
        }
        if (!arg.empty() && msg.compare(0, arg.size(), arg) != 0) {
            violation("the message \"" + msg + "\" does not start with its argument \"" + arg + "\"");
            ok = false;
        }
    }
    const std::string changed = untouched.changed();
    if (!changed.empty()) {
        violation(std::string("a refused call wrote caller memory: ") + changed + " (" + mutation + ")");
        ok = false;
    }
    if (ok) ++stats_.invalid_caught;
    return ok;
}

bool Driver::guards_ok(const GuardedBuffer& b, const char* name) {
    if (b.guards_intact()) return true;
    violation(std::string("a write outside the buffer ") + name);
    return false;
}

bool Driver::close(const std::vector<float>& got, const std::vector<double>& ref, double bound, const char* what) {
    const double e = blref::rel_l2_error(got, ref);
    if (e <= bound) return true;  // false for NaN
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s: rel err %.3e > bound %.3e (%zu values)", what, e, bound, ref.size());
    mismatch(buf);
    return false;
}

std::shared_ptr<ContextMirror> Driver::random_context() {
    if (contexts.size() == 1 || choose.one_in(3)) return contexts[0];
    return contexts[choose.below(contexts.size())];
}

std::vector<float> Driver::uniform(size_t count, double lo, double hi) {
    std::vector<float> v(count);
    for (float& e : v) e = static_cast<float>(lo + (hi - lo) * blref::uniform01(data));
    return v;
}

int Driver::poison(std::vector<float>& v, size_t begin, size_t end) {
    if (end <= begin) return 0;
    const float bad[3] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity()};
    const int count = 1 + static_cast<int>(choose.below(2));
    for (int k = 0; k < count; ++k) v[begin + choose.below(end - begin)] = bad[choose.below(3)];
    return count;
}

void Driver::sprinkle_denormals(std::vector<float>& v) {
    for (float& e : v)
        if (choose.one_in(8)) {
            // 1..2^23-1 times the smallest denormal: every denormal magnitude.
            const float d = std::ldexp(static_cast<float>(1 + choose.below((1u << 23) - 1)), -149);
            e = choose.one_in(2) ? d : -d;
        }
}

}  // namespace blfuzz

namespace blfuzz {

bool run_input(const uint8_t* data, size_t size, const Options& options, std::string* failure) {
    ByteChoices choices(data, size);
    Driver driver(choices, options);
    for (int k = 0; k < kCallsPerInput && driver.step();) ++k;
    driver.teardown();
    if (driver.failed() && failure) *failure = driver.first_failure();
    return !driver.failed();
}

}  // namespace blfuzz

// The driver asks bl_buffer_alloc for 2^62 bytes and expects BL_ERR_OUT_OF_MEMORY: the
// sanitizers must return NULL for it, not abort.
#include "sanitizer_allocator.h"
