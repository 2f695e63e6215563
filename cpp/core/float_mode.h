// float_mode.h -- the host floating-point mode of execute calls: subnormal float32 values are
// treated as zero (DAZ: denormals are zero, on inputs) and results that would be subnormal are
// flushed to zero (FTZ), as TensorFlow does on CPU and oneDNN / PyTorch offer.
//
// Why: on x86 every operation that reads or makes a subnormal takes a microcode assist; a
// forward + backward of a 64-channel 32x32 layer on inputs around 1e-39 ran 20x slower
// (10.7 ms -> 222 ms, 2-core Xeon, 2026-12-03) with the IEEE default. Flushing changes results
// only where a value is below 2^-126 (1.2e-38) in magnitude: docs/RELIABILITY.md states the
// range of magnitudes over which results keep their error bound.
//
// The calling thread's mode is set for the call and restored after (the caller's own code keeps
// its mode); the library's pool threads run in this mode for their whole life.
#pragma once

#if defined(__x86_64__) || defined(__SSE2__)
#include <xmmintrin.h>
#define BL_HAVE_MXCSR 1
#endif

namespace bl {

#ifdef BL_HAVE_MXCSR
constexpr unsigned kMxcsrFlushToZero = 0x8000;      // FTZ
constexpr unsigned kMxcsrDenormalsAreZero = 0x0040;  // DAZ
#endif

// Sets FTZ + DAZ on the current thread (for threads the library owns).
inline void set_flush_subnormals() {
#ifdef BL_HAVE_MXCSR
    _mm_setcsr(_mm_getcsr() | kMxcsrFlushToZero | kMxcsrDenormalsAreZero);
#endif
}

// FTZ + DAZ on the calling thread while alive; the previous mode is restored on destruction.
class FlushSubnormals {
public:
    FlushSubnormals() {
#ifdef BL_HAVE_MXCSR
        saved_ = _mm_getcsr();
        _mm_setcsr(saved_ | kMxcsrFlushToZero | kMxcsrDenormalsAreZero);
#endif
    }
    ~FlushSubnormals() {
#ifdef BL_HAVE_MXCSR
        _mm_setcsr(saved_);
#endif
    }
    FlushSubnormals(const FlushSubnormals&) = delete;
    FlushSubnormals& operator=(const FlushSubnormals&) = delete;

private:
    unsigned saved_ = 0;
};

}  // namespace bl
