// fft.h -- hand-written mixed-radix FFTs (radix 2, 3, 4, 5, 7) for every 7-smooth length.
//
// Why hand-written: the operator's FFT lengths are 2^a 3^b 5^c 7^d (ALGORITHM.md section 2),
// FFTW is GPL and may not ship, and the transforms must run out of caller-owned scratch so
// that execute calls allocate nothing.
//
// Data are float32, complex values interleaved (re, im). Twiddles are computed in double at
// construction. Transforms are unnormalised: inverse(forward(x)) == n * x.
#pragma once

#include <cstdint>
#include <vector>

#include "geometry.h"  // is_7smooth

namespace bl {

// Complex DFT of one fixed 7-smooth length n:
//   out[k] = sum_j in[j] * exp(sign * 2*pi*i * j*k / n),  sign = -1 forward, +1 inverse.
class ComplexFft {
public:
    // Throws std::invalid_argument when n is not 7-smooth (std::bad_alloc on no memory).
    explicit ComplexFft(int64_t n);

    int64_t size() const { return n_; }
    // Floats of scratch an execute call needs (caller-owned; the call allocates nothing).
    int64_t scratch_floats() const;
    // Bytes held by this object's tables (counted in the library's allocated-bytes total).
    int64_t table_bytes() const;
    // The same two for length n without building the tables (the plan limits are checked
    // before anything is allocated); n must be 7-smooth.
    static int64_t scratch_floats_for(int64_t n);
    static int64_t table_bytes_for(int64_t n);

    // in: n complex (2n floats); out: n complex. in == out (in place) is allowed.
    void forward(const float* in, float* out, float* scratch) const;
    void inverse(const float* in, float* out, float* scratch) const;

private:
    void run(const float* in, float* out, float* scratch, bool inverse) const;

    int64_t n_;
    std::vector<int> factors_;       // radices, product == n
    std::vector<float> twiddles_;    // per-stage twiddles, interleaved complex
};

// Real DFT of one fixed 7-smooth length n (any n, odd included).
class RealFft {
public:
    explicit RealFft(int64_t n);

    int64_t size() const { return n_; }
    int64_t scratch_floats() const;
    int64_t table_bytes() const;
    static int64_t scratch_floats_for(int64_t n);  // as ComplexFft's
    static int64_t table_bytes_for(int64_t n);

    // in: n reals; out: n/2 + 1 complex (2*(n/2+1) floats), the half spectrum X[0..n/2].
    void forward(const float* in, float* out, float* scratch) const;
    // in: n/2 + 1 complex of a Hermitian spectrum (the imaginary parts of X[0] and, for even
    // n, X[n/2] are ignored); out: n reals = n * the inverse DFT. in and out must not alias.
    void inverse(const float* in, float* out, float* scratch) const;

private:
    int64_t n_;
    // Implementation state (e.g. a half-length complex FFT and post-processing twiddles for
    // even n, or a full-length complex FFT for odd n).
    std::vector<ComplexFft> complex_;
    std::vector<float> twiddles_;
};

}  // namespace bl
