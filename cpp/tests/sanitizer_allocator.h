// sanitizer_allocator.h -- for executables that ask the library for more memory than any machine
// has and expect BL_ERR_OUT_OF_MEMORY (what a failed allocation gives): AddressSanitizer and
// ThreadSanitizer abort on such a request unless told to return NULL. This makes that their
// default for the executable (ASAN_OPTIONS and TSAN_OPTIONS still override it). Include it in
// exactly one translation unit of an executable (it defines the sanitizers' hooks).
#pragma once

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BL_TEST_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define BL_TEST_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(BL_TEST_ASAN)
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }
#endif
#if defined(__SANITIZE_THREAD__) || defined(BL_TEST_TSAN)
extern "C" const char* __tsan_default_options() { return "allocator_may_return_null=1"; }
#endif
