// misc_calls.cpp -- the fuzz driver's calls of the rest of the ABI: execution contexts (create,
// destroy, queries and settings), buffers (alloc, copy, zero, free, synchronize), the library's
// version, status names, the backend registry, bl_allocated_bytes and the default context's
// settings.
#include <algorithm>
#include <cinttypes>
#include <limits>

#include "driver.h"

namespace blfuzz {
namespace {

constexpr size_t kMaxContexts = 5;  // the default one and four more
constexpr size_t kMaxBuffers = 8;
constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();
constexpr int32_t kI32Min = std::numeric_limits<int32_t>::min();

int32_t random_path(Driver& d) {
    return d.choose.one_in(3) ? BL_CPU_PATH_AUTO : d.choose.pick(d.supported_paths);
}

// ==========================================================================================
// Contexts
// ==========================================================================================
bool destroy_context(Driver& d, const std::shared_ptr<ContextMirror>& m);
std::shared_ptr<ContextMirror> own_context(Driver& d);

void context_create_valid(Driver& d) {
    if (d.contexts.size() >= kMaxContexts && !destroy_context(d, own_context(d))) return;  // room first
    bl_context_options o{};
    o.backend = BL_BACKEND_CPU;
    o.num_threads = int32_t(d.choose.between(0, 4));  // 0: the number of CPUs
    o.cpu_path = random_path(d);
    const bool null_options = d.choose.one_in(6);  // NULL: the CPU, all CPUs, the best path
    bl_context c = nullptr;
    d.note(null_options ? "[create, options NULL]" : format("[create threads %d path %d]", o.num_threads, o.cpu_path));
    if (!d.expect_ok(bl_context_create(null_options ? nullptr : &o, &c), "bl_context_create")) return;
    auto m = std::make_shared<ContextMirror>();
    m->handle = c;
    m->threads = null_options ? 0 : o.num_threads;
    m->id = d.next_id++;
    int32_t path = -9, threads = -9, backend = -9, memory = -9;
    if (!d.expect_ok(bl_context_get_cpu_path(c, &path), "bl_context_get_cpu_path") ||
        !d.expect_ok(bl_context_get_num_threads(c, &threads), "bl_context_get_num_threads") ||
        !d.expect_ok(bl_context_backend(c, &backend), "bl_context_backend") ||
        !d.expect_ok(bl_context_buffer_memory(c, &memory), "bl_context_buffer_memory")) {
        bl_context_destroy(c);
        return;
    }
    m->path = path;
    d.contexts.push_back(m);
    // AUTO: the best path the machine runs (the last of supported_paths, which are in order).
    const bool path_ok = path == (null_options || o.cpu_path == BL_CPU_PATH_AUTO ? d.supported_paths.back() : o.cpu_path);
    const bool threads_ok = m->threads > 0 ? threads == m->threads : threads >= 1;
    if (!path_ok || !threads_ok || backend != BL_BACKEND_CPU || memory != BL_MEMORY_HOST) {
        d.violation(format("a new context reports path %d threads %d backend %d memory %d", path, threads, backend, memory));
        return;
    }
    d.passed();
}

// The first context other than the default, at random.
std::shared_ptr<ContextMirror> own_context(Driver& d) {
    if (d.contexts.size() <= 1) return nullptr;
    return d.contexts[1 + d.choose.below(d.contexts.size() - 1)];
}

// Destroys one of the driver's contexts (not the default one); false after a recorded failure.
bool destroy_context(Driver& d, const std::shared_ptr<ContextMirror>& m) {
    // Its buffers first (bl_buffer_free takes the context they came from); its plans live on.
    for (size_t k = d.buffers.size(); k-- > 0;)
        if (d.buffers[k].context == m) {
            bl_buffer_free(m->handle, d.buffers[k].p);
            d.buffers.erase(d.buffers.begin() + std::ptrdiff_t(k));
        }
    d.note(format("[destroy context %d]", m->id));
    const bl_status st = bl_context_destroy(m->handle);
    m->handle = nullptr;
    m->destroyed = true;
    d.contexts.erase(std::find(d.contexts.begin(), d.contexts.end(), m));
    return d.expect_ok(st, "bl_context_destroy");
}

void context_destroy_valid(Driver& d) {
    const auto m = own_context(d);
    if (!m) {
        if (d.expect_ok(bl_context_destroy(nullptr), "bl_context_destroy(NULL)")) d.passed();
        return;
    }
    if (destroy_context(d, m)) d.passed();
}

void context_settings_valid(Driver& d) {
    const auto m = d.random_context();
    bl_context c = m->handle;
    d.note(format("[context %d]", m->id));
    switch (d.choose.below(3)) {
    case 0: {
        const int32_t t = int32_t(d.choose.between(1, 4));
        d.note(format("[set threads %d]", t));
        if (!d.expect_ok(m->is_default && d.choose.one_in(2) ? bl_set_num_threads(t) : bl_context_set_num_threads(c, t),
                         "set_num_threads"))
            return;
        m->threads = t;
        int32_t got = -9;
        if (!d.expect_ok(m->is_default && d.choose.one_in(2) ? bl_get_num_threads(&got) : bl_context_get_num_threads(c, &got),
                         "get_num_threads"))
            return;
        if (got != t) {
            d.violation(format("num_threads set to %d reads back as %d", t, got));
            return;
        }
        break;
    }
    case 1: {
        const int32_t path = random_path(d);
        d.note(format("[set path %d]", path));
        if (!d.expect_ok(m->is_default && d.choose.one_in(2) ? bl_set_cpu_path(path) : bl_context_set_cpu_path(c, path),
                         "set_cpu_path"))
            return;
        int32_t got = -9;
        if (!d.expect_ok(m->is_default && d.choose.one_in(2) ? bl_get_cpu_path(&got) : bl_context_get_cpu_path(c, &got),
                         "get_cpu_path"))
            return;
        if (got != (path == BL_CPU_PATH_AUTO ? d.supported_paths.back() : path)) {
            d.violation(format("cpu path set to %d reads back as %d", path, got));
            return;
        }
        m->path = got;
        break;
    }
    default:
        if (!d.expect_ok(bl_context_set_stream(c, nullptr), "bl_context_set_stream(NULL)") ||
            !d.expect_ok(bl_context_synchronize(c), "bl_context_synchronize"))
            return;
    }
    d.passed();
}

// Refused context calls: each builds its own canaries and checks its refusal.
struct Case {
    const char* name;
    void (*run)(Driver& d);
};

void context_create_fails(Driver& d, const bl_context_options& o, const char* what, const char* argument) {
    bl_context const sentinel = reinterpret_cast<bl_context>(static_cast<uintptr_t>(0x5EE5EE50));
    bl_context c = sentinel;
    Untouched u;
    u.watch("out_context", &c, sizeof c);
    const bl_status st = bl_context_create(&o, &c);
    d.expect_refusal(st, what, argument, u);
    if (st == BL_OK && c != sentinel) bl_context_destroy(c);
}

const std::vector<Case>& context_refusals() {
    static const std::vector<Case> table = {
        {"create: unknown backend", [](Driver& d) {
             bl_context_options o{};
             const int32_t bad[] = {2, -1, 77, kI32Min};
             o.backend = bad[d.choose.below(4)];
             context_create_fails(d, o, "create: unknown backend", "options.backend");
         }},
        {"create: an unavailable backend", [](Driver& d) {
             int32_t available = 1;
             if (bl_backend_available(BL_BACKEND_CUDA, &available) != BL_OK || available) return;  // a GPU machine
             bl_context_options o{};
             o.backend = BL_BACKEND_CUDA;
             context_create_fails(d, o, "create: CUDA where it is not available", "options.backend");
         }},
        {"create: a CPU device other than 0", [](Driver& d) {
             bl_context_options o{};
             o.device = d.choose.one_in(2) ? 1 : -1;
             context_create_fails(d, o, "create: CPU device != 0", "options.device");
         }},
        {"create: num_threads < 0", [](Driver& d) {
             bl_context_options o{};
             o.num_threads = d.choose.one_in(2) ? -1 : kI32Min;
             context_create_fails(d, o, "create: num_threads < 0", "options.num_threads");
         }},
        {"create: unknown or unsupported cpu_path", [](Driver& d) {
             bl_context_options o{};
             o.cpu_path = !d.unsupported_paths.empty() && d.choose.one_in(2) ? d.choose.pick(d.unsupported_paths)
                                                                              : (d.choose.one_in(2) ? 9 : -2);
             context_create_fails(d, o, "create: bad cpu_path", "options.cpu_path");
         }},
        {"create: a stream on a CPU context", [](Driver& d) {
             static int not_a_stream = 0;
             bl_context_options o{};
             o.stream = &not_a_stream;
             context_create_fails(d, o, "create: CPU stream", "options.stream");
         }},
        {"create: out_context NULL", [](Driver& d) {
             d.expect_refusal(bl_context_create(nullptr, nullptr), "create: out_context NULL", "out_context", Untouched());
         }},
        {"settings: num_threads < 1", [](Driver& d) {
             const int32_t bad[] = {0, -1, kI32Min};
             const int32_t t = bad[d.choose.below(3)];
             const auto m = d.random_context();
             int32_t before = -9, after = -9;
             bl_context_get_num_threads(m->handle, &before);
             d.expect_refusal(m->is_default && d.choose.one_in(2) ? bl_set_num_threads(t) : bl_context_set_num_threads(m->handle, t),
                              "set_num_threads < 1", "num_threads", Untouched());
             bl_context_get_num_threads(m->handle, &after);
             if (after != before) d.violation("a refused set_num_threads changed the setting");
         }},
        {"settings: unknown or unsupported path", [](Driver& d) {
             const int32_t path = !d.unsupported_paths.empty() && d.choose.one_in(2) ? d.choose.pick(d.unsupported_paths)
                                                                                     : (d.choose.one_in(2) ? 5 : -2);
             const auto m = d.random_context();
             int32_t before = -9, after = -9;
             bl_context_get_cpu_path(m->handle, &before);
             d.expect_refusal(m->is_default && d.choose.one_in(2) ? bl_set_cpu_path(path) : bl_context_set_cpu_path(m->handle, path),
                              "set_cpu_path: bad path", "path", Untouched());
             bl_context_get_cpu_path(m->handle, &after);
             if (after != before) d.violation("a refused set_cpu_path changed the path");
         }},
        {"settings: a stream on a CPU context", [](Driver& d) {
             static int not_a_stream = 0;
             d.expect_refusal(bl_context_set_stream(d.random_context_handle(), &not_a_stream), "set_stream on a CPU context",
                              "stream", Untouched());
         }},
        {"queries: NULL out-parameters", [](Driver& d) {
             bl_context c = d.random_context_handle();
             switch (d.choose.below(6)) {
             case 0: d.expect_refusal(bl_context_backend(c, nullptr), "context_backend(NULL)", "out_backend", Untouched()); break;
             case 1: d.expect_refusal(bl_context_buffer_memory(c, nullptr), "buffer_memory(NULL)", "out_memory_kind", Untouched()); break;
             case 2: d.expect_refusal(bl_context_get_num_threads(c, nullptr), "get_num_threads(NULL)", "out_num_threads", Untouched()); break;
             case 3: d.expect_refusal(bl_context_get_cpu_path(c, nullptr), "get_cpu_path(NULL)", "out_path", Untouched()); break;
             case 4: d.expect_refusal(bl_get_num_threads(nullptr), "bl_get_num_threads(NULL)", "out_num_threads", Untouched()); break;
             default: d.expect_refusal(bl_get_cpu_path(nullptr), "bl_get_cpu_path(NULL)", "out_path", Untouched());
             }
         }},
    };
    return table;
}

void entry_contexts(Driver& d) {
    if (invalid_turn(d)) {
        const Case& c = context_refusals()[d.choose.below(context_refusals().size())];
        d.note(std::string("[") + c.name + "]");
        c.run(d);
        return;
    }
    switch (d.choose.below(4)) {
    case 0: context_create_valid(d); break;
    case 1: context_destroy_valid(d); break;
    default: context_settings_valid(d);
    }
}

// ==========================================================================================
// Buffers
// ==========================================================================================
void buffer_alloc_valid(Driver& d) {
    if (d.buffers.size() >= kMaxBuffers) {
        const size_t k = d.choose.below(d.buffers.size());
        bl_buffer_free(d.buffers[k].context->handle, d.buffers[k].p);
        d.buffers.erase(d.buffers.begin() + std::ptrdiff_t(k));
    }
    HeldBuffer b;
    b.context = d.random_context();
    b.bytes = d.choose.between(1, 5000);
    d.note(format("[alloc %" PRId64 " bytes in context %d]", b.bytes, b.context->id));
    if (!d.expect_ok(bl_buffer_alloc(b.context->handle, b.bytes, &b.p), "bl_buffer_alloc")) return;
    if (!b.p || reinterpret_cast<uintptr_t>(b.p) % 64 != 0) {
        d.violation("bl_buffer_alloc gave a NULL or not 64-byte aligned buffer");
        return;
    }
    // Its content is unspecified until written: write all of it.
    b.content.resize(sz(b.bytes));
    for (auto& e : b.content) e = static_cast<unsigned char>(d.data());
    if (!d.expect_ok(bl_buffer_copy(b.context->handle, b.p, b.content.data(), b.bytes, BL_COPY_HOST_TO_BUFFER),
                     "bl_buffer_copy(host to buffer)"))
        return;
    d.buffers.push_back(std::move(b));
    d.passed();
}

// A random range [*first, *first + *bytes) of a buffer of `size` bytes (may be empty).
void random_range(Driver& d, int64_t size, int64_t* first, int64_t* bytes) {
    *first = d.choose.between(0, size);
    *bytes = d.choose.between(0, size - *first);
}

void buffer_ops_valid(Driver& d) {
    if (d.buffers.empty()) {
        buffer_alloc_valid(d);
        return;
    }
    HeldBuffer& b = d.buffers[d.choose.below(d.buffers.size())];
    bl_context c = b.context->handle;
    auto* p = static_cast<unsigned char*>(b.p);
    int64_t first = 0, bytes = 0;
    random_range(d, b.bytes, &first, &bytes);
    switch (d.choose.below(5)) {
    case 0: {  // host to buffer
        std::vector<unsigned char> src(sz(bytes));
        for (auto& e : src) e = static_cast<unsigned char>(d.data());
        d.note(format("[copy %" PRId64 " bytes in at %" PRId64 "]", bytes, first));
        if (!d.expect_ok(bl_buffer_copy(c, p + first, src.data(), bytes, BL_COPY_HOST_TO_BUFFER), "bl_buffer_copy(in)")) return;
        std::copy(src.begin(), src.end(), b.content.begin() + first);
        break;
    }
    case 1: {  // buffer to host: what the driver wrote
        GuardedBuffer dst(sz(bytes));
        d.note(format("[copy %" PRId64 " bytes out from %" PRId64 "]", bytes, first));
        if (!d.expect_ok(bl_buffer_copy(c, dst.data(), p + first, bytes, BL_COPY_BUFFER_TO_HOST), "bl_buffer_copy(out)") ||
            !d.guards_ok(dst, "dst"))
            return;
        if (bytes > 0 && std::memcmp(dst.data(), b.content.data() + first, sz(bytes)) != 0) {
            d.mismatch("bl_buffer_copy(buffer to host) gave other bytes than were written");
            return;
        }
        break;
    }
    case 2: {  // buffer to buffer (another buffer of the same context)
        std::vector<HeldBuffer*> same;
        for (HeldBuffer& o : d.buffers)
            if (&o != &b && o.context == b.context) same.push_back(&o);
        if (same.empty()) break;
        HeldBuffer& o = *d.choose.pick(same);
        const int64_t n = std::min(bytes, o.bytes);
        const int64_t at = d.choose.between(0, o.bytes - n);
        d.note(format("[copy %" PRId64 " bytes between buffers]", n));
        if (!d.expect_ok(bl_buffer_copy(c, static_cast<unsigned char*>(o.p) + at, p + first, n, BL_COPY_BUFFER_TO_BUFFER),
                         "bl_buffer_copy(buffer to buffer)"))
            return;
        std::copy(b.content.begin() + first, b.content.begin() + first + n, o.content.begin() + at);
        break;
    }
    case 3:  // zero a range
        d.note(format("[zero %" PRId64 " bytes at %" PRId64 "]", bytes, first));
        if (!d.expect_ok(bl_buffer_zero(c, p + first, bytes), "bl_buffer_zero")) return;
        std::fill(b.content.begin() + first, b.content.begin() + first + bytes, 0);
        break;
    default: {  // free (and NULL, which is accepted)
        d.note("[free]");
        if (!d.expect_ok(bl_buffer_free(c, b.p), "bl_buffer_free") || !d.expect_ok(bl_buffer_free(c, nullptr), "bl_buffer_free(NULL)"))
            return;
        d.buffers.erase(d.buffers.begin() + (&b - d.buffers.data()));
        d.passed();
        return;
    }
    }
    // The whole buffer still holds what the driver wrote.
    std::vector<unsigned char> now(sz(b.bytes));
    if (!d.expect_ok(bl_buffer_copy(c, now.data(), b.p, b.bytes, BL_COPY_BUFFER_TO_HOST), "bl_buffer_copy(check)")) return;
    if (now != b.content) {
        d.mismatch("a buffer's content differs from what the copies and zeroes wrote");
        return;
    }
    if (d.expect_ok(bl_context_synchronize(c), "bl_context_synchronize")) d.passed();
}

const std::vector<Case>& buffer_refusals() {
    static const std::vector<Case> table = {
        {"alloc: bytes < 1", [](Driver& d) {
             const int64_t bad[] = {0, -1, kI64Min};
             void* const sentinel = reinterpret_cast<void*>(static_cast<uintptr_t>(0x5EE5EE50));
             void* p = sentinel;
             Untouched u;
             u.watch("out_buffer", &p, sizeof p);
             d.expect_refusal(bl_buffer_alloc(d.random_context_handle(), bad[d.choose.below(3)], &p), "alloc bytes < 1", "bytes", u);
         }},
        {"alloc: more bytes than any machine has", [](Driver& d) {
             // No single argument is at fault for out of memory: the argument is not checked.
             // INT64_MAX too: its rounding up to the alignment overflowed int64_t before the fix.
             const int64_t bytes = d.choose.one_in(2)
                                       ? std::numeric_limits<int64_t>::max()
                                       : int64_t(1) << 62;
             void* const sentinel = reinterpret_cast<void*>(static_cast<uintptr_t>(0x5EE5EE50));
             void* p = sentinel;
             Untouched u;
             u.watch("out_buffer", &p, sizeof p);
             const bl_status st = bl_buffer_alloc(d.random_context_handle(), bytes, &p);
             d.expect_refusal(st, "alloc 2^62 bytes", nullptr, u);
             if (st == BL_OK) bl_buffer_free(nullptr, p);
         }},
        {"alloc: out_buffer NULL", [](Driver& d) {
             d.expect_refusal(bl_buffer_alloc(d.random_context_handle(), 64, nullptr), "alloc out NULL", "out_buffer", Untouched());
         }},
        {"copy: unknown kind, bytes < 0, NULL dst or src", [](Driver& d) {
             std::vector<unsigned char> src(64, 0x11);
             GuardedBuffer dst(64);
             Untouched u;
             u.watch("dst", dst);
             bl_context c = d.random_context_handle();
             switch (d.choose.below(4)) {
             case 0: {
                 const int32_t bad[] = {3, -1, 77, kI32Min};
                 d.expect_refusal(bl_buffer_copy(c, dst.data(), src.data(), 64, bad[d.choose.below(4)]), "copy: unknown kind", "kind", u);
                 break;
             }
             case 1:
                 d.expect_refusal(bl_buffer_copy(c, dst.data(), src.data(), d.choose.one_in(2) ? -1 : kI64Min, BL_COPY_HOST_TO_BUFFER),
                                  "copy: bytes < 0", "bytes", u);
                 break;
             case 2:
                 d.expect_refusal(bl_buffer_copy(c, nullptr, src.data(), 64, BL_COPY_HOST_TO_BUFFER), "copy: dst NULL", "dst", u);
                 break;
             default:
                 d.expect_refusal(bl_buffer_copy(c, dst.data(), nullptr, 64, BL_COPY_HOST_TO_BUFFER), "copy: src NULL", "src", u);
             }
         }},
        {"zero: bytes < 0, NULL buffer", [](Driver& d) {
             GuardedBuffer buf(64);
             Untouched u;
             u.watch("buffer", buf);
             bl_context c = d.random_context_handle();
             if (d.choose.one_in(2))
                 d.expect_refusal(bl_buffer_zero(c, buf.data(), d.choose.one_in(2) ? -1 : kI64Min), "zero: bytes < 0", "bytes", u);
             else
                 d.expect_refusal(bl_buffer_zero(c, nullptr, d.choose.between(1, 64)), "zero: buffer NULL", "buffer", u);
         }},
    };
    return table;
}

void entry_buffers(Driver& d) {
    if (invalid_turn(d)) {
        const Case& c = buffer_refusals()[d.choose.below(buffer_refusals().size())];
        d.note(std::string("[") + c.name + "]");
        c.run(d);
        return;
    }
    if (d.buffers.empty() || d.choose.one_in(4)) buffer_alloc_valid(d);
    else buffer_ops_valid(d);
    // Zero-byte copies and zeroes need no pointers at all.
    if (d.choose.one_in(8)) {
        bl_context c = d.random_context_handle();
        d.expect_ok(bl_buffer_copy(c, nullptr, nullptr, 0, BL_COPY_BUFFER_TO_HOST), "bl_buffer_copy(0 bytes)");
        d.expect_ok(bl_buffer_zero(c, nullptr, 0), "bl_buffer_zero(0 bytes)");
    }
}

// ==========================================================================================
// Version, status names, backends, counters
// ==========================================================================================
void misc_valid(Driver& d) {
    switch (d.choose.below(4)) {
    case 0: {
        int32_t ma = -1, mi = -1, pa = -1;
        if (!d.expect_ok(bl_version(&ma, &mi, &pa), "bl_version")) return;
        if (ma != BL_VERSION_MAJOR || mi != BL_VERSION_MINOR || pa != BL_VERSION_PATCH) {
            d.violation(format("bl_version %d.%d.%d, the header %d.%d.%d", ma, mi, pa, BL_VERSION_MAJOR, BL_VERSION_MINOR,
                               BL_VERSION_PATCH));
            return;
        }
        break;
    }
    case 1: {  // never NULL, for any value of the enum's range (0..15: 12..15 are no status)
        // A C caller may pass any int (-1, 99): the library reads it as an int (loading it as the
        // C++ enum was undefined before the fix).
        int32_t v = int32_t(d.choose.between(0, 15));
        if (d.choose.one_in(2)) v = int32_t(d.choose.bits());
        static_assert(sizeof(bl_status) == sizeof(int32_t), "a C enum is an int here");
        bl_status s;
        std::memcpy(&s, &v, sizeof s);  // the bits a C caller's int carries
        const char* name = bl_status_name(s);
        if (!name || !*name) {
            d.violation(format("bl_status_name(%d) is NULL or empty", v));
            return;
        }
        if (v == 0 && std::strcmp(name, "BL_OK") != 0) {
            d.violation(format("bl_status_name(%d) is \"%s\"", v, name));
            return;
        }
        break;
    }
    case 2: {
        const int32_t backend = d.choose.one_in(2) ? BL_BACKEND_CPU : BL_BACKEND_CUDA;
        bl_backend_info info{};
        int32_t available = -1;
        if (!d.expect_ok(bl_backend_query(backend, &info), "bl_backend_query") ||
            !d.expect_ok(bl_backend_available(backend, &available), "bl_backend_available"))
            return;
        const bool cpu = backend == BL_BACKEND_CPU;
        if (!info.name || !info.reason || std::strcmp(info.name, cpu ? "cpu" : "cuda") != 0 || available != info.available ||
            (cpu && (info.available != 1 || info.buffer_memory != BL_MEMORY_HOST || *info.reason)) ||
            (!info.available && !*info.reason)) {
            d.violation("bl_backend_query / bl_backend_available disagree with the header");
            return;
        }
        break;
    }
    default: {
        int64_t bytes = -1;
        if (!d.expect_ok(bl_allocated_bytes(&bytes), "bl_allocated_bytes")) return;
        if (bytes < 0) {
            d.violation(format("bl_allocated_bytes %" PRId64, bytes));
            return;
        }
    }
    }
    d.passed();
}

const std::vector<Case>& misc_refusals() {
    static const std::vector<Case> table = {
        {"bl_version: a NULL out-parameter", [](Driver& d) {
             int32_t a = -7, b = -7, c = -7;
             Untouched u;
             u.watch("major", &a, sizeof a);
             u.watch("minor", &b, sizeof b);
             u.watch("patch", &c, sizeof c);
             switch (d.choose.below(3)) {
             case 0: d.expect_refusal(bl_version(nullptr, &b, &c), "version: major NULL", "major", u); break;
             case 1: d.expect_refusal(bl_version(&a, nullptr, &c), "version: minor NULL", "minor", u); break;
             default: d.expect_refusal(bl_version(&a, &b, nullptr), "version: patch NULL", "patch", u);
             }
         }},
        {"backends: unknown backend or NULL out-parameter", [](Driver& d) {
             bl_backend_info info{-9, -9, nullptr, nullptr};
             int32_t available = -9;
             Untouched u;
             u.watch("out_info", &info, sizeof info);
             u.watch("out_available", &available, sizeof available);
             const int32_t bad[] = {2, -1, 77, kI32Min};
             switch (d.choose.below(4)) {
             case 0: d.expect_refusal(bl_backend_query(bad[d.choose.below(4)], &info), "query: unknown backend", "backend", u); break;
             case 1: d.expect_refusal(bl_backend_query(BL_BACKEND_CPU, nullptr), "query: out_info NULL", "out_info", u); break;
             case 2:
                 d.expect_refusal(bl_backend_available(bad[d.choose.below(4)], &available), "available: unknown backend", "backend", u);
                 break;
             default:
                 d.expect_refusal(bl_backend_available(BL_BACKEND_CPU, nullptr), "available: out NULL", "out_available", u);
             }
         }},
        {"bl_allocated_bytes: out NULL", [](Driver& d) {
             d.expect_refusal(bl_allocated_bytes(nullptr), "allocated_bytes(NULL)", "out_bytes", Untouched());
         }},
    };
    return table;
}

void entry_misc(Driver& d) {
    if (invalid_turn(d)) {
        const Case& c = misc_refusals()[d.choose.below(misc_refusals().size())];
        d.note(std::string("[") + c.name + "]");
        c.run(d);
        return;
    }
    misc_valid(d);
}

}  // namespace

std::vector<Entry> misc_entries() {
    return {
        {"contexts", 5, entry_contexts},
        {"buffers", 5, entry_buffers},
        {"version, status names, backends, counters", 3, entry_misc},
    };
}

}  // namespace blfuzz
