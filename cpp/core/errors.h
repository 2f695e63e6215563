// errors.h -- the thread-local error of the C ABI: a status, the text, and the argument at
// fault as its own field (bl_last_error_argument), so that callers never parse the text.
#pragma once

#include <exception>
#include <new>
#include <string>
#include <utility>

#include "bandlimit.h"

namespace bl {

// Records the error of the calling thread and returns status. argument is the ABI name of the
// argument at fault ("desc.kernel_width", "workspace_bytes", ...) or "" when no single
// argument is (out of memory, internal errors).
bl_status fail(bl_status status, const char* argument, const std::string& text);

// A required pointer argument was NULL.
bl_status fail_null(const char* argument);

const char* last_error_message();
const char* last_error_argument();

// An error with its status, thrown from below the ABI where a status cannot be returned (a
// plugin backend's failed pass); guarded() records it as it came.
class StatusError : public std::exception {
public:
    StatusError(bl_status status, std::string argument, std::string text)
        : status_(status), argument_(std::move(argument)), text_(std::move(text)) {}
    bl_status status() const { return status_; }
    const std::string& argument() const { return argument_; }
    const char* what() const noexcept override { return text_.c_str(); }

private:
    bl_status status_;
    std::string argument_;
    std::string text_;
};

// Runs fn, converting anything thrown below the ABI into a status.
template <typename Fn>
bl_status guarded(Fn&& fn) noexcept {
    try {
        return fn();
    } catch (const StatusError& e) {
        return fail(e.status(), e.argument().c_str(), e.what());
    } catch (const std::bad_alloc&) {
        return fail(BL_ERR_OUT_OF_MEMORY, "", "out of memory");
    } catch (const std::exception& e) {
        return fail(BL_ERR_INTERNAL, "", std::string("internal error: ") + e.what());
    } catch (...) {
        return fail(BL_ERR_INTERNAL, "", "internal error");
    }
}

}  // namespace bl
