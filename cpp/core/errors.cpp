// errors.cpp -- see errors.h.
#include "errors.h"

namespace bl {
namespace {
thread_local std::string t_message;
thread_local std::string t_argument;
}  // namespace

bl_status fail(bl_status status, const char* argument, const std::string& text) {
    t_message = text;
    t_argument = argument ? argument : "";
    return status;
}

bl_status fail_null(const char* argument) {
    return fail(BL_ERR_NULL_POINTER, argument, std::string(argument) + " is NULL");
}

const char* last_error_message() { return t_message.c_str(); }
const char* last_error_argument() { return t_argument.c_str(); }

}  // namespace bl
