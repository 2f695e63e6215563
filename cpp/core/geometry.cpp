// geometry.cpp -- see geometry.h. Pure functions; the rules are ALGORITHM.md sections 2, 3, 5.
#include "geometry.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace bl {

bool mul_overflows(int64_t a, int64_t b, int64_t* out) { return __builtin_mul_overflow(a, b, out); }
bool add_overflows(int64_t a, int64_t b, int64_t* out) { return __builtin_add_overflow(a, b, out); }

namespace {

// Every message starts with the argument it names; the argument is also returned on its own.
bl_status reject(GeometryError* error, bl_status status, const std::string& argument, const std::string& text) {
    if (error) *error = GeometryError{argument, text};
    return status;
}

// Overflow-checked product of several sizes.
bool product_overflows(std::initializer_list<int64_t> factors, int64_t* out) {
    int64_t p = 1;
    for (int64_t f : factors)
        if (mul_overflows(p, f, &p)) return true;
    *out = p;
    return false;
}

}  // namespace

bool is_7smooth(int64_t n) {
    if (n < 1) return false;
    for (int64_t p : {2, 3, 5, 7}) {
        while (n % p == 0) n /= p;
    }
    return n == 1;
}

int64_t next_pow2(int64_t n) {
    int64_t p = 1;
    while (p < n) {
        if (p > std::numeric_limits<int64_t>::max() / 2) return -1;
        p *= 2;
    }
    return p;
}

int64_t next_7smooth(int64_t n) {
    if (n < 1) return -1;
    const int64_t kMax = std::numeric_limits<int64_t>::max();
    int64_t best = -1;
    // Enumerate v = 7^d 5^c 3^b (stopping each loop once v >= n, since larger odd parts
    // cannot beat v itself), then double v until it reaches n.
    for (int64_t a7 = 1;;) {
        for (int64_t a5 = a7;;) {
            for (int64_t a3 = a5;;) {
                int64_t v = a3;
                bool fits = true;
                while (v < n) {
                    if (v > kMax / 2) {
                        fits = false;
                        break;
                    }
                    v *= 2;
                }
                if (fits && (best < 0 || v < best)) best = v;
                if (a3 >= n || a3 > kMax / 3) break;
                a3 *= 3;
            }
            if (a5 >= n || a5 > kMax / 5) break;
            a5 *= 5;
        }
        if (a7 >= n || a7 > kMax / 7) break;
        a7 *= 7;
    }
    return best;
}

bl_status make_geometry(const bl_conv2d_desc& d, bool is_1d, Geometry* out, GeometryError* error, bool paper_baseline) {
    // The names are the user-facing field names (1D plans name their own fields).
    struct Field {
        const char* name;
        int64_t value;
    };
    const Field positive[] = {
        {"max_batch", d.max_batch},
        {"channels", d.channels},
        {is_1d ? "length" : "height", is_1d ? d.width : d.height},
        {"filters", d.filters},
        {is_1d ? "kernel" : "kernel_height", is_1d ? d.kernel_width : d.kernel_height},
        {is_1d ? "stride" : "stride_h", is_1d ? d.stride_w : d.stride_h},
    };
    for (const Field& f : positive)
        if (f.value < 1)
            return reject(error, BL_ERR_INVALID_SIZE, f.name,
                        std::string(f.name) + " must be >= 1, got " + std::to_string(f.value));
    if (!is_1d) {
        const Field more[] = {{"width", d.width}, {"kernel_width", d.kernel_width}, {"stride_w", d.stride_w}};
        for (const Field& f : more)
            if (f.value < 1)
                return reject(error, BL_ERR_INVALID_SIZE, f.name,
                            std::string(f.name) + " must be >= 1, got " + std::to_string(f.value));
    }
    const Field pads[] = {{"pad_top", d.pad_top}, {"pad_bottom", d.pad_bottom},
                          {"pad_left", d.pad_left}, {"pad_right", d.pad_right}};
    for (const Field& f : pads)
        if (f.value < 0)
            return reject(error, BL_ERR_INVALID_SIZE, f.name,
                        std::string(f.name) + " must be >= 0, got " + std::to_string(f.value));

    Geometry g;
    g.N = d.max_batch;
    g.C = d.channels;
    g.H = d.height;
    g.W = d.width;
    g.F = d.filters;
    g.KH = d.kernel_height;
    g.KW = d.kernel_width;
    g.pad_top = d.pad_top;
    g.pad_bottom = d.pad_bottom;
    g.pad_left = d.pad_left;
    g.pad_right = d.pad_right;
    g.stride_h = d.stride_h;
    g.stride_w = d.stride_w;
    g.is_1d = is_1d;

    if (add_overflows(g.H, g.pad_top, &g.Hp) || add_overflows(g.Hp, g.pad_bottom, &g.Hp) ||
        add_overflows(g.W, g.pad_left, &g.Wp) || add_overflows(g.Wp, g.pad_right, &g.Wp))
        return reject(error, BL_ERR_SIZE_OVERFLOW, "desc",
                    std::string("desc: the padded size (") + (is_1d ? "length" : "height or width") +
                        " plus its padding) overflows 64 bits");
    if (g.KH > g.Hp)
        return reject(error, BL_ERR_INVALID_SIZE, is_1d ? "kernel" : "kernel_height",
                    std::string(is_1d ? "kernel" : "kernel_height") + " (" + std::to_string(g.KH) +
                        ") is larger than the padded input (" + std::to_string(g.Hp) + ")");
    if (g.KW > g.Wp)
        return reject(error, BL_ERR_INVALID_SIZE, is_1d ? "kernel" : "kernel_width",
                    std::string(is_1d ? "kernel" : "kernel_width") + " (" + std::to_string(g.KW) +
                        ") is larger than the padded input (" + std::to_string(g.Wp) + ")");
    g.Ho1 = g.Hp - g.KH + 1;
    g.Wo1 = g.Wp - g.KW + 1;
    g.Ho = (g.Hp - g.KH) / g.stride_h + 1;
    g.Wo = (g.Wp - g.KW) / g.stride_w + 1;
    g.paper_baseline = paper_baseline;
    if (paper_baseline) {
        // Hp + KH - 1 <= 2 Hp - 1: no overflow where Hp fits.
        g.LH = next_pow2(g.Hp + g.KH - 1);
        g.LW = next_pow2(g.Wp + g.KW - 1);
    } else {
        g.LH = next_7smooth(g.Hp);
        g.LW = next_7smooth(g.Wp);
    }
    if (g.LH < 0 || g.LW < 0)
        return reject(error, BL_ERR_SIZE_OVERFLOW, "desc", "desc: the FFT length of the padded size overflows 64 bits");
    g.half_w = g.LW / 2 + 1;
    g.nyq_h = g.LH / 2;
    g.nyq_w = g.LW / 2;

    // Every element, byte and index count the library forms is bounded by these products
    // (tensors, full-box spectra of all three shapes plus a second output spectrum, 16 bytes
    // of headroom per complex value); checking them once here keeps the rest overflow-free.
    int64_t t;
    if (product_overflows({g.N, g.C, g.H, g.W, 16}, &t) || product_overflows({g.F, g.C, g.KH, g.KW, 16}, &t) ||
        product_overflows({g.N, g.F, g.Ho1, g.Wo1, 16}, &t))
        return reject(error, BL_ERR_SIZE_OVERFLOW, "desc",
                    "desc: the bytes of x, w or y (products of max_batch, channels, filters and the spatial sizes) "
                    "overflow 64 bits");
    int64_t nc_fc_nf;
    if (product_overflows({g.N + g.F, g.C + g.F, 2}, &nc_fc_nf) ||
        product_overflows({g.LH, g.LW, nc_fc_nf, 64}, &t))
        return reject(error, BL_ERR_SIZE_OVERFLOW, "desc",
                    "desc: the bytes of the spectra (FFT size times max_batch, channels and filters) overflow 64 bits");
    *out = g;
    return BL_OK;
}

double achieved_rate(const Geometry& g, const Box& b) {
    return double(discarded_count(g, b)) / double(g.total_coefficients());
}

std::vector<Box> box_chain(const Geometry& g) {
    // B(t) changes only at t = i / nyq_h or t = j / nyq_w; evaluating B at each breakpoint
    // (floor of an exact integer ratio) gives every distinct box. Both breakpoint sequences
    // increase with t, so one merge (comparing i / hh with j / hw exactly, as i hw with j hh)
    // lists the boxes in increasing t: linear time, no sort (a 1D plan of length 2^24 has
    // 2^23 of them). Equal breakpoints give the same box, which is kept once.
    const int64_t hh = g.nyq_h, hw = g.nyq_w;
    std::vector<Box> boxes;
    boxes.reserve(size_t(box_chain_length_bound(g)));
    boxes.push_back({0, 0});
    int64_t i = 1, j = 1;
    while (i <= hh || j <= hw) {
        // Take the row breakpoint i / hh when it comes first (or the columns are exhausted).
        const bool row_first = j > hw || (i <= hh && i * hw <= j * hh);
        const Box b = row_first ? Box{i, hw * i / hh} : Box{hh * j / hw, j};
        if (row_first) ++i; else ++j;
        if (b != boxes.back()) boxes.push_back(b);
    }
    return boxes;
}

bool box_in_chain(const std::vector<Box>& chain, const Box& b) {
    return std::find(chain.begin(), chain.end(), b) != chain.end();
}

Box fixed_box(const Geometry& g, const std::vector<Box>& chain, double rho) {
    const double limit = rho * double(g.total_coefficients()) + 1e-9;
    for (const Box& b : chain)
        if (double(discarded_count(g, b)) <= limit) return b;
    return chain.back();  // the full box discards nothing: unreachable for rho >= 0
}

Box energy_box(const Geometry& g, const std::vector<Box>& chain, double energy_fraction,
               const double* weighted_energy, double* row_prefix) {
    // row_prefix[r][s] = energy of columns 0..s of row r, so a box's energy is a sum over its
    // kept rows of one prefix each.
    double total = 0;
    for (int64_t r = 0; r < g.LH; ++r) {
        double acc = 0;
        for (int64_t s = 0; s < g.half_w; ++s) {
            acc += weighted_energy[r * g.half_w + s];
            row_prefix[r * g.half_w + s] = acc;
        }
        total += acc;
    }
    if (!std::isfinite(total) || total <= 0) return chain.back();
    for (const Box& b : chain) {
        if (b == chain.back()) return b;  // the full box keeps exactly all the energy
        const int64_t rows = kept_rows(g.LH, b);
        double kept = 0;
        for (int64_t i = 0; i < rows; ++i) kept += row_prefix[kept_row(g.LH, b, i) * g.half_w + b.kw];
        if (kept >= energy_fraction * total) return b;
    }
    return chain.back();
}

namespace {
double log2_or_zero(double n) { return n > 1 ? std::log2(n) : 0.0; }
// Nominal cost of one unpruned 2D real FFT of the LH x LW plane.
double nominal_fft2(const Geometry& g) {
    const double n = double(g.LH) * double(g.LW);
    return 2.5 * n * log2_or_zero(n);
}
}  // namespace

FlopCount count_flops(const Geometry& g, bl_pass pass, int64_t n, const Box& b) {
    FlopCount fc;
    const double N = double(n), C = double(g.C), F = double(g.F);
    const double K = double(kept_count(g, b));
    const double fft2 = nominal_fft2(g);
    fc.dense_equivalent = 2.0 * N * F * C * double(g.Ho) * double(g.Wo) * double(g.KH) * double(g.KW);
    switch (pass) {
    case BL_PASS_FORWARD: fc.nominal = (N * C + F * C + N * F) * fft2 + 8.0 * K * N * F * C; break;
    case BL_PASS_BACKWARD_DATA: fc.nominal = (N * F + N * C) * fft2 + 8.0 * K * N * C * F; break;
    case BL_PASS_BACKWARD_WEIGHTS: fc.nominal = (N * F + F * C) * fft2 + 8.0 * K * N * F * C; break;
    }
    return fc;
}

}  // namespace bl
