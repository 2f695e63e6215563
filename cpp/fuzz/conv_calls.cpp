// conv_calls.cpp -- the fuzz driver's calls of the convolution ABI: plan creation (2D and 1D),
// destruction and queries, forward, backward, backward_data and backward_weights.
//
// Valid calls use small random geometries (every call is compared with the float64 references
// of reference.h, within the bounds of ALGORITHM.md section 5 that test_backend_ops uses);
// invalid calls come from the mutation tables below, one broken argument each, and are
// followed by a forward with an earlier call's inputs that must give the earlier result (the
// plan still works).
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <limits>

#include "backend.h"  // SavedHeader: the header bytes whose corruption a backward must refuse
#include "driver.h"

namespace blfuzz {
namespace {

using blref::Box;
using blref::Geom;

constexpr size_t kMaxPlans = 6;  // live plans: enough for cross-plan mutations, small tables
constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kHuge = int64_t(1) << 60;  // any size this large overflows the plan's byte counts

// ------------------------------------------------------------------------------------------
// Plan specifications
// ------------------------------------------------------------------------------------------
struct PlanSpec {
    Geom g;
    bool one_d = false;
    bl_compression comp{};
    bl_plan_options opt{};  // value-initialised: fields added to the struct later keep their default
    bool opt_null = false;
    std::shared_ptr<ContextMirror> context;
};

void reference_lengths(const Geom& g, int32_t method, int64_t* LH, int64_t* LW) {
    if (method == BL_METHOD_PAPER_BASELINE) {  // ALGORITHM.md section 2's flagged baseline
        *LH = blref::next_pow2(g.Hp() + g.KH - 1);
        *LW = blref::next_pow2(g.Wp() + g.KW - 1);
    } else {
        *LH = blref::next_7smooth(g.Hp());
        *LW = blref::next_7smooth(g.Wp());
    }
}

int64_t random_pad(Driver& d, int64_t max) { return d.choose.one_in(16) ? d.choose.between(0, 8) : d.choose.between(0, max); }

int64_t random_stride(Driver& d) {
    if (d.choose.one_in(40)) return d.choose.one_in(2) ? kI64Max : 1000;  // beyond the map: one output
    return d.choose.one_in(3) ? d.choose.between(2, 3) : 1;
}

bool spatial_allowed(const Geom& g) { return g.sh == 1 && g.sw == 1 && g.KH * g.KW <= 49; }

PlanSpec random_spec(Driver& d) {
    Choices& c = d.choose;
    PlanSpec s;
    Geom& g = s.g;
    s.one_d = c.one_in(3);
    g.N = c.between(1, 3);
    g.C = c.between(1, 3);
    g.F = c.between(1, 3);
    if (s.one_d) {
        g.W = c.between(1, 24);
        g.pl = random_pad(d, 4);
        g.pr = random_pad(d, 4);
        g.KW = c.between(1, std::min<int64_t>(g.Wp(), 8));
        g.sw = random_stride(d);
    } else {
        g.H = c.between(1, 10);
        g.W = c.between(1, 10);
        g.pt = random_pad(d, 3);
        g.pb = random_pad(d, 3);
        g.pl = random_pad(d, 3);
        g.pr = random_pad(d, 3);
        g.KH = c.between(1, std::min<int64_t>(g.Hp(), 5));
        g.KW = c.between(1, std::min<int64_t>(g.Wp(), 5));
        g.sh = random_stride(d);
        g.sw = random_stride(d);
    }
    s.opt_null = c.one_in(5);
    if (!s.opt_null) {
        s.opt.spectra_mode = c.one_in(2) ? BL_SPECTRA_INPUT_AND_WEIGHT : BL_SPECTRA_INPUT_ONLY;
        s.opt.method = c.one_in(5) ? BL_METHOD_PAPER_BASELINE : BL_METHOD_BANDLIMIT;
        const uint64_t p = c.below(3);
        s.opt.product = p == 0 ? BL_PRODUCT_AUTO : p == 1 ? BL_PRODUCT_SPECTRAL : spatial_allowed(g) ? BL_PRODUCT_SPATIAL : BL_PRODUCT_AUTO;
    }
    int64_t LH = 0, LW = 0;
    reference_lengths(g, s.opt_null ? BL_METHOD_BANDLIMIT : s.opt.method, &LH, &LW);
    if (c.one_in(2)) {
        double rho = 0;
        switch (c.below(6)) {
        case 0: rho = 0.0; break;
        case 1: rho = -0.0; break;  // >= 0 holds for -0: a valid rate
        case 2: rho = 0.999999; break;
        case 3: {  // an exactly achievable rate (the 1e-9 slack of section 3 must accept it)
            const std::vector<Box> chain = blref::box_chain(LH, LW);
            rho = blref::box_rate(LH, LW, chain[c.below(chain.size())]);
            if (rho >= 1.0) rho = 0.5;
            break;
        }
        default: rho = 0.999 * c.unit();
        }
        s.comp = bl_compression{BL_COMPRESSION_FIXED, rho};
    } else {
        const uint64_t k = c.below(5);
        const double E = k == 0 ? 1.0 : k == 1 ? 1e-9 : 1.0 - c.unit();  // (0, 1]
        s.comp = bl_compression{BL_COMPRESSION_ENERGY, E};
    }
    s.context = d.random_context();
    return s;
}

std::string spec_text(const PlanSpec& s) {
    const Geom& g = s.g;
    return format("%s N=%" PRId64 " C=%" PRId64 " H=%" PRId64 " W=%" PRId64 " F=%" PRId64 " K=%" PRId64 "x%" PRId64
                  " pad=[%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 "] stride=[%" PRId64 ",%" PRId64 "] %s %.17g "
                  "options=%s mode %d product %d method %d context %d",
                  s.one_d ? "1d" : "2d", g.N, g.C, g.H, g.W, g.F, g.KH, g.KW, g.pt, g.pb, g.pl, g.pr, g.sh, g.sw,
                  s.comp.kind == BL_COMPRESSION_FIXED ? "rho" : "E", s.comp.value, s.opt_null ? "NULL" : "set",
                  s.opt.spectra_mode, s.opt.product, s.opt.method, s.context->id);
}

bl_conv2d_desc desc2d(const Geom& g) {
    bl_conv2d_desc d{};
    d.max_batch = g.N;
    d.channels = g.C;
    d.height = g.H;
    d.width = g.W;
    d.filters = g.F;
    d.kernel_height = g.KH;
    d.kernel_width = g.KW;
    d.pad_top = g.pt;
    d.pad_bottom = g.pb;
    d.pad_left = g.pl;
    d.pad_right = g.pr;
    d.stride_h = g.sh;
    d.stride_w = g.sw;
    return d;
}

bl_conv1d_desc desc1d(const Geom& g) {
    bl_conv1d_desc d{};
    d.max_batch = g.N;
    d.channels = g.C;
    d.length = g.W;
    d.filters = g.F;
    d.kernel = g.KW;
    d.pad_left = g.pl;
    d.pad_right = g.pr;
    d.stride = g.sw;
    return d;
}

int64_t allocated_bytes() {
    int64_t b = -1;
    bl_allocated_bytes(&b);
    return b;
}

// ------------------------------------------------------------------------------------------
// Plan creation and destruction
// ------------------------------------------------------------------------------------------
void destroy_plan(Driver& d, size_t index) {
    PlanSlot& s = *d.plans[index];
    const int64_t before = allocated_bytes();
    const bl_status st = bl_plan_destroy(s.plan);
    if (d.expect_ok(st, "bl_plan_destroy") && allocated_bytes() >= before)
        d.violation("bl_allocated_bytes did not fall when a plan was destroyed");
    d.plans.erase(d.plans.begin() + static_cast<std::ptrdiff_t>(index));
}

// A valid plan, checked against the reference geometry; nullptr after a recorded failure.
PlanSlot* create_valid(Driver& d) {
    if (d.plans.size() >= kMaxPlans) destroy_plan(d, d.choose.below(d.plans.size()));
    const PlanSpec spec = random_spec(d);
    auto slot = std::make_unique<PlanSlot>();
    slot->id = d.next_id++;
    slot->text = spec_text(spec);
    d.note(format("[create plan #%d: %s]", slot->id, slot->text.c_str()));
    const int64_t before = allocated_bytes();
    bl_plan plan = nullptr;
    const bl_plan_options* opt = spec.opt_null ? nullptr : &spec.opt;
    bl_status st;
    if (spec.one_d) {
        const bl_conv1d_desc d1 = desc1d(spec.g);
        st = bl_plan_create_1d(spec.context->handle, &d1, spec.comp, opt, &plan);
    } else {
        const bl_conv2d_desc d2 = desc2d(spec.g);
        st = bl_plan_create_2d(spec.context->handle, &d2, spec.comp, opt, &plan);
    }
    if (!d.expect_ok(st, "bl_plan_create")) return nullptr;
    if (!plan) {
        d.violation("bl_plan_create returned BL_OK and a NULL plan");
        return nullptr;
    }
    PlanSlot& s = *slot;
    s.plan = plan;
    s.context = spec.context;
    s.g = spec.g;
    s.one_d = spec.one_d;
    s.comp = spec.comp;
    s.spectra_mode = spec.opt.spectra_mode;
    s.product = spec.opt.product;
    s.method = spec.opt.method;
    d.plans.push_back(std::move(slot));  // owned from here on, so a failed check below still destroys it
    if (allocated_bytes() <= before) d.violation("bl_allocated_bytes did not grow when a plan was created");
    bool ok = d.expect_ok(bl_plan_fft_lengths(plan, &s.LH, &s.LW), "bl_plan_fft_lengths");
    ok = ok && d.expect_ok(bl_plan_output_size(plan, &s.Ho, &s.Wo), "bl_plan_output_size");
    ok = ok && d.expect_ok(bl_plan_saved_spectra_bytes(plan, &s.saved_bytes), "bl_plan_saved_spectra_bytes");
    ok = ok && d.expect_ok(bl_plan_workspace_bytes(plan, &s.ws_bytes), "bl_plan_workspace_bytes");
    if (!ok) return nullptr;
    int64_t LH = 0, LW = 0;
    reference_lengths(s.g, s.method, &LH, &LW);
    if (s.LH != LH || s.LW != LW) {
        d.mismatch(format("FFT lengths %" PRId64 "x%" PRId64 ", the reference %" PRId64 "x%" PRId64, s.LH, s.LW, LH, LW));
        return nullptr;
    }
    if (s.Ho != s.g.Ho() || s.Wo != s.g.Wo()) {
        d.mismatch(format("output size %" PRId64 "x%" PRId64 ", the reference %" PRId64 "x%" PRId64, s.Ho, s.Wo, s.g.Ho(),
                          s.g.Wo()));
        return nullptr;
    }
    if (s.saved_bytes <= 0 || s.ws_bytes < 0) {
        d.violation(format("saved bytes %" PRId64 ", workspace bytes %" PRId64, s.saved_bytes, s.ws_bytes));
        return nullptr;
    }
    s.chain = blref::box_chain(s.LH, s.LW);
    s.fixed_box = s.energy() ? blref::full_box(s.LH, s.LW) : blref::fixed_box(s.LH, s.LW, s.comp.value);
    return &s;
}

PlanSlot* some_plan(Driver& d) {
    if (d.plans.empty() || d.choose.one_in(12)) return create_valid(d);
    PlanSlot* s = d.plans[d.choose.below(d.plans.size())].get();
    d.note(format("[plan #%d: %s]", s->id, s->text.c_str()));
    return s;
}

// One plan-creation call with exactly one argument broken.
struct CreateCall {
    bl_context context = nullptr;
    bool one_d = false;
    bl_conv2d_desc d2{};
    bl_conv1d_desc d1{};
    bool desc_null = false;
    bl_compression comp{};
    bl_plan_options opt{};
    bool opt_null = false;
    bool out_null = false;

    bl_status invoke(bl_plan* out) const {
        const bl_plan_options* o = opt_null ? nullptr : &opt;
        if (one_d) return bl_plan_create_1d(context, desc_null ? nullptr : &d1, comp, o, out_null ? nullptr : out);
        return bl_plan_create_2d(context, desc_null ? nullptr : &d2, comp, o, out_null ? nullptr : out);
    }
};

int64_t non_positive(Driver& d) {
    switch (d.choose.below(4)) {
    case 0: return 0;
    case 1: return -1;
    case 2: return -d.choose.between(2, 1000);
    default: return kI64Min;
    }
}

struct Field2d {
    const char* name;
    int64_t bl_conv2d_desc::*member;
};
struct Field1d {
    const char* name;
    int64_t bl_conv1d_desc::*member;
};
const Field2d kSizes2d[] = {{"max_batch", &bl_conv2d_desc::max_batch}, {"channels", &bl_conv2d_desc::channels},
                            {"height", &bl_conv2d_desc::height},       {"width", &bl_conv2d_desc::width},
                            {"filters", &bl_conv2d_desc::filters},     {"kernel_height", &bl_conv2d_desc::kernel_height},
                            {"kernel_width", &bl_conv2d_desc::kernel_width}, {"stride_h", &bl_conv2d_desc::stride_h},
                            {"stride_w", &bl_conv2d_desc::stride_w}};
const Field2d kPads2d[] = {{"pad_top", &bl_conv2d_desc::pad_top}, {"pad_bottom", &bl_conv2d_desc::pad_bottom},
                           {"pad_left", &bl_conv2d_desc::pad_left}, {"pad_right", &bl_conv2d_desc::pad_right}};
const Field1d kSizes1d[] = {{"max_batch", &bl_conv1d_desc::max_batch}, {"channels", &bl_conv1d_desc::channels},
                            {"length", &bl_conv1d_desc::length},       {"filters", &bl_conv1d_desc::filters},
                            {"kernel", &bl_conv1d_desc::kernel},       {"stride", &bl_conv1d_desc::stride}};
const Field1d kPads1d[] = {{"pad_left", &bl_conv1d_desc::pad_left}, {"pad_right", &bl_conv1d_desc::pad_right}};

template <class F, size_t K>
const F& pick_field(Driver& d, const F (&fields)[K]) { return fields[d.choose.below(K)]; }

const std::vector<Mutation<CreateCall>>& create_mutations() {
    static const std::vector<Mutation<CreateCall>> table = {
        {"desc NULL", [](CreateCall& c, Driver&) -> const char* { c.desc_null = true; return "desc"; }},
        {"out_plan NULL", [](CreateCall& c, Driver&) -> const char* { c.out_null = true; return "out_plan"; }},
        {"a size <= 0", [](CreateCall& c, Driver& d) -> const char* {
             if (c.one_d) {
                 const Field1d& f = pick_field(d, kSizes1d);
                 c.d1.*(f.member) = non_positive(d);
                 return f.name;
             }
             const Field2d& f = pick_field(d, kSizes2d);
             c.d2.*(f.member) = non_positive(d);
             return f.name;
         }},
        {"a padding < 0", [](CreateCall& c, Driver& d) -> const char* {
             const int64_t v = d.choose.one_in(3) ? kI64Min : -d.choose.between(1, 9);
             if (c.one_d) {
                 const Field1d& f = pick_field(d, kPads1d);
                 c.d1.*(f.member) = v;
                 return f.name;
             }
             const Field2d& f = pick_field(d, kPads2d);
             c.d2.*(f.member) = v;
             return f.name;
         }},
        {"kernel larger than the padded input", [](CreateCall& c, Driver& d) -> const char* {
             const bool huge = d.choose.one_in(4);
             if (c.one_d) {
                 const int64_t Lp = c.d1.length + c.d1.pad_left + c.d1.pad_right;
                 c.d1.kernel = huge ? kI64Max : Lp + d.choose.between(1, 4);
                 return "kernel";
             }
             if (d.choose.one_in(2)) {
                 const int64_t Hp = c.d2.height + c.d2.pad_top + c.d2.pad_bottom;
                 c.d2.kernel_height = huge ? kI64Max : Hp + d.choose.between(1, 4);
                 return "kernel_height";
             }
             const int64_t Wp = c.d2.width + c.d2.pad_left + c.d2.pad_right;
             c.d2.kernel_width = huge ? kI64Max : Wp + d.choose.between(1, 4);
             return "kernel_width";
         }},
        {"a count >= 2^60: the bytes overflow 64 bits", [](CreateCall& c, Driver& d) -> const char* {
             const int64_t v = d.choose.one_in(3) ? kI64Max : d.choose.between(kHuge, kI64Max);
             const uint64_t which = d.choose.below(3);
             int64_t* field = c.one_d ? (which == 0 ? &c.d1.max_batch : which == 1 ? &c.d1.channels : &c.d1.filters)
                                      : (which == 0 ? &c.d2.max_batch : which == 1 ? &c.d2.channels : &c.d2.filters);
             *field = v;
             return "desc";  // bandlimit.h: "desc" for a size product that overflows
         }},
        {"a spatial size >= 2^60", [](CreateCall& c, Driver& d) -> const char* {
             const int64_t v = d.choose.one_in(3) ? kI64Max : d.choose.between(kHuge, kI64Max);
             if (c.one_d) c.d1.length = v;
             else if (d.choose.one_in(2)) c.d2.height = v;
             else c.d2.width = v;
             return "desc";
         }},
        {"a padding >= 2^60", [](CreateCall& c, Driver& d) -> const char* {
             const int64_t v = d.choose.one_in(3) ? kI64Max : d.choose.between(kHuge, kI64Max);
             if (c.one_d) {
                 const Field1d& f = pick_field(d, kPads1d);
                 c.d1.*(f.member) = v;
             } else {
                 const Field2d& f = pick_field(d, kPads2d);
                 c.d2.*(f.member) = v;
             }
             return "desc";
         }},
        {"rho outside [0, 1) or not finite", [](CreateCall& c, Driver& d) -> const char* {
             const double bad[] = {-1e-12, -0.5, 1.0, 1.5, std::nan(""), INFINITY, -INFINITY, -1e300};
             c.comp = bl_compression{BL_COMPRESSION_FIXED, bad[d.choose.below(8)]};
             return "compression";
         }},
        {"energy fraction outside (0, 1] or NaN", [](CreateCall& c, Driver& d) -> const char* {
             const double bad[] = {0.0, -0.0, -0.5, 1.0 + 1e-12, 2.0, std::nan(""), INFINITY, -INFINITY};
             c.comp = bl_compression{BL_COMPRESSION_ENERGY, bad[d.choose.below(8)]};
             return "compression";
         }},
        {"unknown compression kind", [](CreateCall& c, Driver& d) -> const char* {
             const int32_t bad[] = {2, -1, 77, std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min()};
             c.comp.kind = bad[d.choose.below(5)];
             return "compression";
         }},
        {"unknown spectra_mode", [](CreateCall& c, Driver& d) -> const char* {
             c.opt_null = false;
             c.opt.spectra_mode = d.choose.one_in(2) ? 2 : -1;
             return "options.spectra_mode";
         }},
        {"unknown product", [](CreateCall& c, Driver& d) -> const char* {
             c.opt_null = false;
             c.opt.product = d.choose.one_in(2) ? 3 : -1;
             return "options.product";
         }},
        {"unknown method", [](CreateCall& c, Driver& d) -> const char* {
             c.opt_null = false;
             c.opt.method = d.choose.one_in(2) ? 2 : -1;
             return "options.method";
         }},
        {"spatial product at stride > 1", [](CreateCall& c, Driver& d) -> const char* {
             c.opt_null = false;
             c.opt.product = BL_PRODUCT_SPATIAL;
             c.opt.method = BL_METHOD_BANDLIMIT;
             if (c.one_d) c.d1.stride = d.choose.between(2, 3);
             else if (d.choose.one_in(2)) c.d2.stride_h = d.choose.between(2, 3);
             else c.d2.stride_w = d.choose.between(2, 3);
             return "options.product";
         }},
        {"spatial product with more than 49 taps", [](CreateCall& c, Driver&) -> const char* {
             c.opt_null = false;
             c.opt.product = BL_PRODUCT_SPATIAL;
             c.opt.method = BL_METHOD_BANDLIMIT;
             if (c.one_d) {
                 c.d1.length = std::max<int64_t>(c.d1.length, 50);
                 c.d1.kernel = 50;
                 c.d1.stride = 1;
             } else {
                 c.d2.height = std::max<int64_t>(c.d2.height, 8);
                 c.d2.width = std::max<int64_t>(c.d2.width, 8);
                 c.d2.kernel_height = c.d2.kernel_width = 8;
                 c.d2.stride_h = c.d2.stride_w = 1;
             }
             return "options.product";
         }},
    };
    return table;
}

void create_invalid(Driver& d) {
    const PlanSpec spec = random_spec(d);
    CreateCall call;
    call.context = spec.context->handle;
    call.one_d = spec.one_d;
    call.d2 = desc2d(spec.g);
    call.d1 = desc1d(spec.g);
    call.comp = spec.comp;
    call.opt = spec.opt;
    call.opt_null = spec.opt_null;
    d.note("[" + spec_text(spec) + "]");
    const char* argument = nullptr;
    const Mutation<CreateCall>* m = mutate(d, create_mutations(), call, &argument);
    if (!m) return;
    bl_plan const sentinel = reinterpret_cast<bl_plan>(static_cast<uintptr_t>(0x5EE5EE50));
    bl_plan out = sentinel;
    Untouched untouched;
    untouched.watch("out_plan", &out, sizeof out);
    const int64_t before = allocated_bytes();
    const bl_status st = call.invoke(&out);
    d.expect_refusal(st, m->name, argument, untouched);
    if (st == BL_OK && out != sentinel) bl_plan_destroy(out);
    if (allocated_bytes() != before) d.violation("bl_allocated_bytes changed across a refused plan creation");
}

// ------------------------------------------------------------------------------------------
// Forward
// ------------------------------------------------------------------------------------------

// The boxes an energy-mode forward may legitimately choose on x: the reference rule on float64
// energies, widened where a fraction lies within 1e-3 of E (ALGORITHM.md section 5: tests keep E
// that far from every fraction, because float32 energies may fall on either side there).
std::vector<Box> energy_candidates(const PlanSlot& s, int64_t n, const std::vector<double>& xd) {
    const std::vector<double> frac = blref::chain_energy_fractions(s.g, n, xd.data(), s.LH, s.LW);
    const double E = s.comp.value, tol = 1e-3;
    std::vector<Box> out;
    for (size_t k = 0; k < s.chain.size(); ++k) {
        if (std::isnan(frac[k])) return {blref::full_box(s.LH, s.LW)};
        if (frac[k] >= E - tol) out.push_back(s.chain[k]);
        if (frac[k] >= E + tol) break;
    }
    if (out.empty()) out.push_back(blref::full_box(s.LH, s.LW));
    return out;
}

bool box_in(const std::vector<Box>& boxes, Box b) { return std::find(boxes.begin(), boxes.end(), b) != boxes.end(); }

// The values of `got` and `ref` in the blocks [outer][inner][block] whose outer and inner
// indices are not excluded (a sample or filter that holds a non-finite input), and the root sum
// of squares of those blocks' magnitudes (block_mag, one per [outer][inner]).
void select_blocks(const std::vector<float>& got, const std::vector<double>& ref, int64_t outer, int64_t inner,
                   int64_t block, const std::vector<bool>& bad_outer, const std::vector<bool>& bad_inner,
                   const std::vector<double>& block_mag, std::vector<float>* got_sel, std::vector<double>* ref_sel,
                   double* mag) {
    double mag2 = 0;
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
            if ((!bad_outer.empty() && bad_outer[sz(o)]) || (!bad_inner.empty() && bad_inner[sz(i)])) continue;
            const size_t at = sz((o * inner + i) * block);
            got_sel->insert(got_sel->end(), got.begin() + std::ptrdiff_t(at), got.begin() + std::ptrdiff_t(at + sz(block)));
            ref_sel->insert(ref_sel->end(), ref.begin() + std::ptrdiff_t(at), ref.begin() + std::ptrdiff_t(at + sz(block)));
            mag2 += block_mag[sz(o * inner + i)] * block_mag[sz(o * inner + i)];
        }
    *mag = std::sqrt(mag2);
}

// The p-norm (1 or 2) of each block of v[count][block].
std::vector<double> block_norms(const std::vector<double>& v, int64_t count, int64_t block, int p) {
    std::vector<double> out(sz(count), 0.0);
    for (int64_t k = 0; k < count; ++k) {
        double s = 0;
        for (int64_t i = 0; i < block; ++i) {
            const double e = v[sz(k * block + i)];
            s += p == 1 ? std::fabs(e) : e * e;
        }
        out[sz(k)] = p == 1 ? s : std::sqrt(s);
    }
    return out;
}

// The error of a convolution result against the section-5 bound: ||got - ref|| / ||ref||, or,
// where ref is far smaller than the terms it is summed from (an output that sees only padding,
// a gradient that cancels), ||got - ref|| / mag, with mag the a-priori size of the rounding error
// of an FFT convolution: per block, the sum over the reduction of ||a||_2 ||b||_1 (Young's
// inequality bounds each term's norm so; an FFT rounds at u log L of what it transforms). Execute
// calls treat subnormals as zero (bandlimit.h: FTZ + DAZ): an input or intermediate below 2^-126
// counts as 0, so the bound's count of roundings (bound / u) of a 2^-126 step, per value, is
// allowed on top (about 1e-36 a value). A wrong result is off by about ||ref|| or mag, orders of magnitude
// above this. Returns the error as a multiple of what is allowed (pass when <= 1; NaN: infinity).
double error_ratio(const std::vector<float>& got, const std::vector<double>& ref, double mag, double bound) {
    double num = 0, den = 0;
    for (size_t k = 0; k < ref.size(); ++k) {
        const double e = double(got[k]) - ref[k];
        num += e * e;
        den += ref[k] * ref[k];
    }
    num = std::sqrt(num);
    den = std::sqrt(den);
    if (std::isnan(num)) return INFINITY;
    const double denormal_steps = (bound / 0x1p-24) * 0x1p-126 * std::sqrt(double(ref.size()));
    const double allowed = bound * std::max(den, mag) + denormal_steps;
    return num == 0 ? 0.0 : num / allowed;
}

bool conv_close(Driver& d, const std::vector<float>& got, const std::vector<double>& ref, double mag, double bound,
                const char* what) {
    const double r = error_ratio(got, ref, mag, bound);
    if (r <= 1.0) return true;
    d.mismatch(format("%s: error %.3g x the bound %.3e (rel err %.3e; %zu values)", what, r, bound,
                      blref::rel_l2_error(got, ref), ref.size()));
    return false;
}

enum class Special { None, Denormals, BadX, BadW, BadBias };
const char* special_name(Special s) {
    switch (s) {
    case Special::None: return "finite data";
    case Special::Denormals: return "denormals in x and w";
    case Special::BadX: return "NaN/Inf in x";
    case Special::BadW: return "NaN/Inf in w";
    case Special::BadBias: return "NaN/Inf in bias";
    }
    return "?";
}

// A valid forward on s; with need_record it saves spectra, returns the box and records the call
// as s.last (for backward calls and the still-works check). false after a recorded failure.
bool forward_valid(Driver& d, PlanSlot& s, bool allow_special, bool need_record) {
    const Geom& g = s.g;
    const int64_t n = d.choose.between(1, g.N);
    const int64_t per_x = g.C * g.H * g.W, per_w = g.C * g.KH * g.KW, per_y = s.Ho * s.Wo;
    std::vector<float> x = d.uniform(sz(n * per_x)), w = d.uniform(sz(g.F * per_w)), b;
    const bool with_bias = !d.choose.one_in(4);
    if (with_bias) b = d.uniform(sz(g.F));
    Special special = Special::None;
    if (allow_special && d.choose.one_in(6)) special = static_cast<Special>(1 + d.choose.below(with_bias ? 4 : 3));
    std::vector<bool> bad_sample(sz(n), false), bad_filter(sz(g.F), false);
    switch (special) {
    case Special::None: break;
    case Special::Denormals:
        d.sprinkle_denormals(x);
        d.sprinkle_denormals(w);
        break;
    case Special::BadX:
        for (int k = 0, count = 1 + int(d.choose.below(sz(n))); k < count; ++k) {
            const int64_t i = d.choose.between(0, n - 1);
            d.poison(x, sz(i * per_x), sz((i + 1) * per_x));
            bad_sample[sz(i)] = true;
        }
        break;
    case Special::BadW: {
        const int64_t f = d.choose.between(0, g.F - 1);
        d.poison(w, sz(f * per_w), sz((f + 1) * per_w));
        bad_filter[sz(f)] = true;
        break;
    }
    case Special::BadBias: {
        const int64_t f = d.choose.between(0, g.F - 1);
        b[sz(f)] = d.choose.one_in(2) ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
        bad_filter[sz(f)] = true;
        break;
    }
    }
    if (special != Special::None) d.special_data();
    const bool use_saved = need_record || !d.choose.one_in(4);
    const bool want_box = need_record || !d.choose.one_in(4);
    d.note(format("[forward n=%" PRId64 " %s bias %d saved %d out_box %d]", n, special_name(special), with_bias, use_saved,
                  want_box));
    GuardedBuffer y(sz(n * g.F * per_y) * sizeof(float)), saved(use_saved ? sz(s.saved_bytes) : 0),
        ws(sz(s.ws_bytes));
    bl_box box{-7, -7};
    Untouched inputs;  // const inputs: a valid call must not write them either
    inputs.watch("x", x.data(), x.size() * sizeof(float));
    inputs.watch("w", w.data(), w.size() * sizeof(float));
    inputs.watch("bias", b.data(), b.size() * sizeof(float));
    const bl_status st = bl_forward(s.plan, n, x.data(), w.data(), with_bias ? b.data() : nullptr, y.floats(),
                                    use_saved ? saved.data() : nullptr, use_saved ? s.saved_bytes : 0, ws.data(),
                                    s.ws_bytes, want_box ? &box : nullptr);
    if (!d.expect_ok(st, "bl_forward")) return false;
    if (!d.guards_ok(y, "y") || !d.guards_ok(saved, "saved") || !d.guards_ok(ws, "workspace")) return false;
    if (!inputs.changed().empty()) {
        d.violation("bl_forward wrote its const input " + inputs.changed());
        return false;
    }

    const std::vector<double> xd = blref::to_double(x), wd = blref::to_double(w), bd = blref::to_double(b);
    const bool bad_x = special == Special::BadX;
    std::vector<Box> candidates;
    if (!s.energy()) candidates = {s.fixed_box};
    else if (bad_x) candidates = {blref::full_box(s.LH, s.LW)};  // section 5: a NaN energy selects the full box
    else candidates = energy_candidates(s, n, xd);
    if (want_box) {
        const Box got{box.kh, box.kw};
        if (!box_in(candidates, got)) {
            d.mismatch(format("forward box (%" PRId64 ", %" PRId64 "), the reference (%" PRId64 ", %" PRId64 ")%s", got.kh,
                              got.kw, candidates[0].kh, candidates[0].kw, candidates.size() > 1 ? " or a neighbour" : ""));
            return false;
        }
        candidates = {got};
    }
    const std::vector<float> yv = y.payload_floats();
    // Section 5: one NaN or Inf in x[n] makes every output of sample n NaN (the transform spreads
    // it). What holds exactly: a NaN makes them NaN; an Inf makes them non-finite, Inf or NaN (a
    // one-point transform keeps an Inf an Inf: 1x1 input and kernel, seed 4 call 26945).
    for (int64_t i = 0; i < n; ++i) {
        if (!bad_sample[sz(i)]) continue;
        bool has_nan = false;
        for (int64_t k = 0; k < per_x; ++k) has_nan = has_nan || std::isnan(x[sz(i * per_x + k)]);
        for (int64_t k = 0; k < g.F * per_y; ++k) {
            const float v = yv[sz(i * g.F * per_y + k)];
            if (has_nan ? !std::isnan(v) : std::isfinite(v)) {
                d.mismatch(format("sample %" PRId64 " holds a%s in x, but y[%" PRId64 "][%" PRId64 "] = %g is not %s "
                                  "(ALGORITHM.md section 5)",
                                  i, has_nan ? " NaN" : "n Inf", k / per_y, k % per_y, double(v),
                                  has_nan ? "NaN" : "Inf or NaN"));
                return false;
            }
        }
    }
    // The other outputs agree with the reference (for the box used; any candidate when the
    // forward did not say which it used).
    // Magnitudes of the outputs' terms, per (sample, filter): sum_c ||x_nc||_2 ||w_fc||_1 + |b_f|.
    const std::vector<double> x2 = block_norms(xd, n * g.C, g.H * g.W, 2), w1 = block_norms(wd, g.F * g.C, g.KH * g.KW, 1);
    std::vector<double> y_mag(sz(n * g.F), 0.0);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t f = 0; f < g.F; ++f) {
            double m = with_bias ? std::fabs(bd[sz(f)]) * std::sqrt(double(per_y)) : 0.0;
            for (int64_t c = 0; c < g.C; ++c) m += x2[sz(i * g.C + c)] * w1[sz(f * g.C + c)];
            y_mag[sz(i * g.F + f)] = m;
        }
    double best_ratio = INFINITY;
    size_t best = 0;
    std::vector<double> ref;
    for (size_t k = 0; k < candidates.size() && k < 4; ++k) {
        std::vector<double> r = blref::bl_forward(g, n, xd.data(), wd.data(), with_bias ? bd.data() : nullptr, s.LH, s.LW,
                                                  candidates[k]);
        std::vector<float> got_sel;
        std::vector<double> ref_sel;
        double mag = 0;
        select_blocks(yv, r, n, g.F, per_y, bad_sample, bad_filter, y_mag, &got_sel, &ref_sel, &mag);
        const double e = got_sel.empty() ? 0.0 : error_ratio(got_sel, ref_sel, mag, blref::bound_y(g, s.LH, s.LW));
        if (e < best_ratio || k == 0) {
            best_ratio = e;
            best = k;
            ref = std::move(r);
        }
    }
    if (!(best_ratio <= 1.0)) {
        d.mismatch(format("y: error %.3g x the section-5 bound %.3e (box (%" PRId64 ", %" PRId64 "), %s)", best_ratio,
                          blref::bound_y(g, s.LH, s.LW), candidates[best].kh, candidates[best].kw, special_name(special)));
        return false;
    }
    if (use_saved && want_box && (special == Special::None || special == Special::Denormals)) {
        auto r = std::make_unique<ForwardRecord>();
        r->n = n;
        r->x = std::move(x);
        r->w = std::move(w);
        r->b = std::move(b);
        r->xd = xd;
        r->wd = wd;
        r->bd = bd;
        const auto* sp = static_cast<const unsigned char*>(saved.data());
        r->saved.assign(sp, sp + s.saved_bytes);
        r->box = candidates[best];
        r->y = yv;
        r->y_ref = std::move(ref);
        r->path = s.context->path;
        r->denormals = special == Special::Denormals;
        s.last = std::move(r);
    }
    return true;
}

// After a refused call on s: a forward with the inputs of s's last recorded forward gives the
// same y (bitwise on the same CPU path; within the bound on another) and the same box.
void check_plan_still_works(Driver& d, PlanSlot& s) {
    if (!s.last) {
        forward_valid(d, s, false, true);
        return;
    }
    const ForwardRecord& r = *s.last;
    const bool with_saved = d.choose.one_in(2);
    GuardedBuffer y(r.y.size() * sizeof(float)), saved(with_saved ? sz(s.saved_bytes) : 0), ws(sz(s.ws_bytes));
    bl_box box{-7, -7};
    const bl_status st = bl_forward(s.plan, r.n, r.x.data(), r.w.data(), r.b.empty() ? nullptr : r.b.data(), y.floats(),
                                    with_saved ? saved.data() : nullptr, with_saved ? s.saved_bytes : 0, ws.data(),
                                    s.ws_bytes, &box);
    if (!d.expect_ok(st, "bl_forward of the plan after a refused call")) return;
    if (!d.guards_ok(y, "y") || !d.guards_ok(ws, "workspace")) return;
    if (box.kh != r.box.kh || box.kw != r.box.kw) {
        d.violation(format("after a refused call the plan's forward chose box (%" PRId64 ", %" PRId64 "), before (%" PRId64
                           ", %" PRId64 ")",
                           box.kh, box.kw, r.box.kh, r.box.kw));
        return;
    }
    const std::vector<float> yv = y.payload_floats();
    if (s.context->path == r.path) {
        if (std::memcmp(yv.data(), r.y.data(), yv.size() * sizeof(float)) != 0)
            d.violation("after a refused call the plan's forward differs bitwise from the same forward before it");
        else if (with_saved && std::memcmp(saved.data(), r.saved.data(), r.saved.size()) != 0)
            d.violation("after a refused call the plan's forward saved other spectra than the same forward before it");
    } else {
        const std::vector<double> x2 = block_norms(r.xd, r.n * s.g.C, s.g.H * s.g.W, 2),
                                  w1 = block_norms(r.wd, s.g.F * s.g.C, s.g.KH * s.g.KW, 1);
        double mag2 = 0;
        for (int64_t i = 0; i < r.n; ++i)
            for (int64_t f = 0; f < s.g.F; ++f) {
                double m = r.b.empty() ? 0.0 : std::fabs(r.bd[sz(f)]) * std::sqrt(double(s.Ho * s.Wo));
                for (int64_t c = 0; c < s.g.C; ++c) m += x2[sz(i * s.g.C + c)] * w1[sz(f * s.g.C + c)];
                mag2 += m * m;
            }
        conv_close(d, yv, r.y_ref, std::sqrt(mag2), blref::bound_y(s.g, s.LH, s.LW),
                   "y of the plan after a refused call (another CPU path)");
    }
}

struct ForwardCall {
    bl_plan plan;
    int64_t n;
    const float* x;
    const float* w;
    const float* bias;
    float* y;
    void* saved;
    int64_t saved_bytes;
    void* ws;
    int64_t ws_bytes;
    bl_box* out_box;
    int64_t max_batch;  // not arguments: what mutations need to know
    int64_t need_saved, need_ws;

    bl_status invoke() const { return bl_forward(plan, n, x, w, bias, y, saved, saved_bytes, ws, ws_bytes, out_box); }
};

int64_t bad_batch(Driver& d, int64_t max_batch) {
    const int64_t v[] = {0, -1, max_batch + 1, max_batch + d.choose.between(2, 100), kI64Max, kI64Min};
    return v[d.choose.below(6)];
}

int64_t too_small(Driver& d, int64_t need) {
    const int64_t v[] = {need - 1, need - d.choose.between(1, need), 0, -1, kI64Min};
    return v[d.choose.below(5)];
}

int misalignment(Driver& d) { return int(d.choose.between(1, 3)); }

const std::vector<Mutation<ForwardCall>>& forward_mutations() {
    static const std::vector<Mutation<ForwardCall>> table = {
        {"plan NULL", [](ForwardCall& c, Driver&) -> const char* { c.plan = nullptr; return "plan"; }},
        {"n outside [1, max_batch]", [](ForwardCall& c, Driver& d) -> const char* { c.n = bad_batch(d, c.max_batch); return "n"; }},
        {"x NULL", [](ForwardCall& c, Driver&) -> const char* { c.x = nullptr; return "x"; }},
        {"w NULL", [](ForwardCall& c, Driver&) -> const char* { c.w = nullptr; return "w"; }},
        {"y NULL", [](ForwardCall& c, Driver&) -> const char* { c.y = nullptr; return "y"; }},
        {"workspace NULL", [](ForwardCall& c, Driver&) -> const char* { c.ws = nullptr; return "workspace"; }},
        {"x misaligned", [](ForwardCall& c, Driver& d) -> const char* { c.x = shifted(c.x, misalignment(d)); return "x"; }},
        {"w misaligned", [](ForwardCall& c, Driver& d) -> const char* { c.w = shifted(c.w, misalignment(d)); return "w"; }},
        {"bias misaligned", [](ForwardCall& c, Driver& d) -> const char* {
             if (!c.bias) return nullptr;
             c.bias = shifted(c.bias, misalignment(d));
             return "bias";
         }},
        {"y misaligned", [](ForwardCall& c, Driver& d) -> const char* { c.y = shifted(c.y, misalignment(d)); return "y"; }},
        {"saved misaligned", [](ForwardCall& c, Driver& d) -> const char* {
             if (!c.saved) return nullptr;
             c.saved = shifted(c.saved, misalignment(d));
             return "saved";
         }},
        {"saved_bytes too small", [](ForwardCall& c, Driver& d) -> const char* {
             if (!c.saved) return nullptr;
             c.saved_bytes = too_small(d, c.need_saved);
             return "saved_bytes";
         }},
        {"workspace_bytes too small", [](ForwardCall& c, Driver& d) -> const char* {
             if (c.need_ws <= 0) return nullptr;
             c.ws_bytes = too_small(d, c.need_ws);
             return "workspace_bytes";
         }},
    };
    return table;
}

void forward_invalid(Driver& d, PlanSlot& s) {
    const Geom& g = s.g;
    const int64_t n = d.choose.between(1, g.N);
    const std::vector<float> x = d.uniform(sz(n * g.C * g.H * g.W)), w = d.uniform(sz(g.F * g.C * g.KH * g.KW)),
                             b = d.uniform(sz(g.F));
    const bool with_bias = !d.choose.one_in(4), with_saved = !d.choose.one_in(4);
    GuardedBuffer y(sz(n * g.F * s.Ho * s.Wo) * sizeof(float)), saved(sz(s.saved_bytes)), ws(sz(s.ws_bytes));
    bl_box box{-7, -7};
    ForwardCall call{s.plan, n, x.data(), w.data(), with_bias ? b.data() : nullptr, y.floats(),
                     with_saved ? saved.data() : nullptr, with_saved ? s.saved_bytes : 0, ws.data(), s.ws_bytes, &box,
                     g.N, s.saved_bytes, s.ws_bytes};
    const char* argument = nullptr;
    const Mutation<ForwardCall>* m = mutate(d, forward_mutations(), call, &argument);
    if (!m) return;
    Untouched untouched;
    untouched.watch("y", y);
    untouched.watch("saved", saved);
    untouched.watch("workspace", ws);
    untouched.watch("out_box", &box, sizeof box);
    d.expect_refusal(call.invoke(), m->name, argument, untouched);
    check_plan_still_works(d, s);
}

// ------------------------------------------------------------------------------------------
// Backward, backward_data, backward_weights
// ------------------------------------------------------------------------------------------
enum Which { kBackward = 0, kBackwardData = 1, kBackwardWeights = 2 };
const char* which_name(int which) {
    return which == kBackward ? "bl_backward" : which == kBackwardData ? "bl_backward_data" : "bl_backward_weights";
}

// Plans whose saved spectra this plan must accept: the same signature (geometry, FFT lengths,
// compression bit for bit, spectra mode, backend), whatever their product or method.
bool twins(const PlanSlot& a, const PlanSlot& b) {
    const Geom &p = a.g, &q = b.g;
    return a.one_d == b.one_d && p.N == q.N && p.C == q.C && p.H == q.H && p.W == q.W && p.F == q.F && p.KH == q.KH &&
           p.KW == q.KW && p.pt == q.pt && p.pb == q.pb && p.pl == q.pl && p.pr == q.pr && p.sh == q.sh && p.sw == q.sw &&
           a.LH == b.LH && a.LW == b.LW && a.comp.kind == b.comp.kind &&
           std::memcmp(&a.comp.value, &b.comp.value, sizeof(double)) == 0 && a.spectra_mode == b.spectra_mode;
}

struct BackwardCall {
    int which;
    bl_plan plan;
    int64_t n;
    const void* saved;
    int64_t saved_bytes;
    const float* w;
    const float* dy;
    float* dx;
    float* dw;
    float* db;
    void* ws;
    int64_t ws_bytes;
    // not arguments: what mutations need to know
    const PlanSlot* slot;
    const ForwardRecord* record;

    bl_status invoke() const {
        switch (which) {
        case kBackwardData: return bl_backward_data(plan, n, saved, saved_bytes, w, dy, dx, ws, ws_bytes);
        case kBackwardWeights: return bl_backward_weights(plan, n, saved, saved_bytes, dy, dw, db, ws, ws_bytes);
        default: return bl_backward(plan, n, saved, saved_bytes, w, dy, dx, dw, db, ws, ws_bytes);
        }
    }
};

// A copy of the record's saved buffer with `edit` applied, kept alive in the driver's scratch.
template <class Edit>
const void* edited_saved(Driver& d, const BackwardCall& c, Edit edit) {
    d.scratch.emplace_back(c.record->saved);
    edit(d.scratch.back());
    return d.scratch.back().data();
}

const std::vector<Mutation<BackwardCall>>& backward_mutations() {
    static const std::vector<Mutation<BackwardCall>> table = {
        {"plan NULL", [](BackwardCall& c, Driver&) -> const char* { c.plan = nullptr; return "plan"; }},
        {"n outside [1, max_batch]", [](BackwardCall& c, Driver& d) -> const char* { c.n = bad_batch(d, c.slot->g.N); return "n"; }},
        {"n another than the forward's", [](BackwardCall& c, Driver& d) -> const char* {
             if (c.slot->g.N < 2) return nullptr;
             int64_t other = d.choose.between(1, c.slot->g.N - 1);
             if (other >= c.n) ++other;
             c.n = other;
             return "saved";
         }},
        {"dy NULL", [](BackwardCall& c, Driver&) -> const char* { c.dy = nullptr; return "dy"; }},
        {"dy misaligned", [](BackwardCall& c, Driver& d) -> const char* { c.dy = shifted(c.dy, misalignment(d)); return "dy"; }},
        {"dx NULL (bl_backward_data)", [](BackwardCall& c, Driver&) -> const char* {
             if (c.which != kBackwardData) return nullptr;
             c.dx = nullptr;
             return "dx";
         }},
        {"dw NULL (bl_backward_weights)", [](BackwardCall& c, Driver&) -> const char* {
             if (c.which != kBackwardWeights) return nullptr;
             c.dw = nullptr;
             return "dw";
         }},
        {"dx misaligned", [](BackwardCall& c, Driver& d) -> const char* {
             if (!c.dx || c.which == kBackwardWeights) return nullptr;
             c.dx = shifted(c.dx, misalignment(d));
             return "dx";
         }},
        {"dw misaligned", [](BackwardCall& c, Driver& d) -> const char* {
             if (!c.dw || c.which == kBackwardData) return nullptr;
             c.dw = shifted(c.dw, misalignment(d));
             return "dw";
         }},
        {"db misaligned", [](BackwardCall& c, Driver& d) -> const char* {
             if (!c.db || c.which == kBackwardData) return nullptr;
             c.db = shifted(c.db, misalignment(d));
             return "db";
         }},
        {"w NULL where dx needs it (BL_SPECTRA_INPUT_ONLY)", [](BackwardCall& c, Driver&) -> const char* {
             if (c.which == kBackwardWeights || !c.dx || c.slot->spectra_mode != BL_SPECTRA_INPUT_ONLY) return nullptr;
             c.w = nullptr;
             return "w";
         }},
        {"w misaligned", [](BackwardCall& c, Driver& d) -> const char* {
             if (c.which == kBackwardWeights) return nullptr;
             c.w = shifted(c.record->w.data(), misalignment(d));
             return "w";
         }},
        {"saved NULL", [](BackwardCall& c, Driver&) -> const char* { c.saved = nullptr; return "saved"; }},
        {"saved misaligned", [](BackwardCall& c, Driver& d) -> const char* { c.saved = shifted(c.saved, misalignment(d)); return "saved"; }},
        {"saved_bytes too small", [](BackwardCall& c, Driver& d) -> const char* {
             c.saved_bytes = too_small(d, c.slot->saved_bytes);
             return "saved_bytes";
         }},
        {"saved never written (zeros)", [](BackwardCall& c, Driver& d) -> const char* {
             c.saved = edited_saved(d, c, [](std::vector<unsigned char>& v) { std::fill(v.begin(), v.end(), 0); });
             return "saved";
         }},
        {"saved random bytes", [](BackwardCall& c, Driver& d) -> const char* {
             c.saved = edited_saved(d, c, [&](std::vector<unsigned char>& v) {
                 for (auto& e : v) e = static_cast<unsigned char>(d.data());
             });
             return "saved";
         }},
        {"saved header with one bit flipped", [](BackwardCall& c, Driver& d) -> const char* {
             const size_t bit = d.choose.below(sizeof(bl::SavedHeader) * 8);
             c.saved = edited_saved(d, c, [&](std::vector<unsigned char>& v) { v[bit / 8] ^= static_cast<unsigned char>(1u << (bit % 8)); });
             return "saved";
         }},
        {"saved from a forward of another plan", [](BackwardCall& c, Driver& d) -> const char* {
             std::vector<const PlanSlot*> others;
             for (const auto& p : d.plans)
                 if (p.get() != c.slot && p->last && !twins(*p, *c.slot)) others.push_back(p.get());
             if (others.empty()) return nullptr;
             const ForwardRecord& o = *others[d.choose.below(others.size())]->last;
             // As large as this plan asks, so that only its origin is wrong.
             d.scratch.emplace_back(std::max(o.saved.size(), sz(c.slot->saved_bytes)), 0);
             std::copy(o.saved.begin(), o.saved.end(), d.scratch.back().begin());
             c.saved = d.scratch.back().data();
             c.n = std::min(o.n, c.slot->g.N);
             return "saved";
         }},
        {"workspace NULL", [](BackwardCall& c, Driver&) -> const char* { c.ws = nullptr; return "workspace"; }},
        {"workspace_bytes too small", [](BackwardCall& c, Driver& d) -> const char* {
             if (c.slot->ws_bytes <= 0) return nullptr;
             c.ws_bytes = too_small(d, c.slot->ws_bytes);
             return "workspace_bytes";
         }},
    };
    return table;
}

// A valid backward of s's last forward (or a twin's): the gradients against the reference.
bool backward_valid(Driver& d, PlanSlot& s, int which) {
    if (!s.last && !forward_valid(d, s, false, true)) return false;
    const PlanSlot* source = &s;
    if (d.choose.one_in(6)) {
        std::vector<const PlanSlot*> found;
        for (const auto& p : d.plans)
            if (p.get() != &s && p->last && twins(*p, s)) found.push_back(p.get());
        if (!found.empty()) source = found[d.choose.below(found.size())];
    }
    const ForwardRecord& r = *source->last;
    const Geom& g = s.g;
    const int64_t n = r.n, per_y = s.Ho * s.Wo;
    std::vector<float> dy = d.uniform(sz(n * g.F * per_y));
    std::vector<bool> bad_sample(sz(n), false), bad_filter(sz(g.F), false);
    const bool poisoned = d.choose.one_in(8);
    if (poisoned) {  // one (sample, filter) block of dy: only dx[sample] and dw[filter], db[filter] may suffer
        const int64_t i = d.choose.between(0, n - 1), f = d.choose.between(0, g.F - 1);
        d.poison(dy, sz((i * g.F + f) * per_y), sz((i * g.F + f + 1) * per_y));
        bad_sample[sz(i)] = true;
        bad_filter[sz(f)] = true;
        d.special_data();
    }
    const bool denormal_dy = !poisoned && d.choose.one_in(12);
    if (denormal_dy) {
        d.sprinkle_denormals(dy);
        d.special_data();
    }
    bool want_dx = which != kBackwardWeights, want_dw = which != kBackwardData, want_db = which != kBackwardData;
    if (which == kBackward) {
        want_dx = !d.choose.one_in(4);
        want_dw = !d.choose.one_in(4);
    }
    if (want_db) want_db = !d.choose.one_in(3);
    // w is read only in BL_SPECTRA_INPUT_ONLY mode when dx is wanted; otherwise any w (or NULL)
    // must give the same result.
    const bool needs_w = want_dx && s.spectra_mode == BL_SPECTRA_INPUT_ONLY;
    std::vector<float> other_w;
    const float* w_arg = r.w.data();
    int w_kind = 0;
    if (!needs_w) {
        w_kind = int(d.choose.below(3));
        if (w_kind == 1) w_arg = nullptr;
        if (w_kind == 2) {
            other_w = d.uniform(r.w.size());
            w_arg = other_w.data();
        }
    }
    d.note(format("[%s of plan #%d's forward n=%" PRId64 ", dx %d dw %d db %d, w %s%s%s%s]", which_name(which), source->id,
                  n, want_dx, want_dw, want_db,
                  needs_w ? "needed" : w_kind == 0 ? "given" : w_kind == 1 ? "NULL" : "another",
                  poisoned ? ", NaN/Inf in dy" : "", denormal_dy ? ", denormals in dy" : "",
                  r.denormals ? ", denormals in the forward's x and w" : ""));
    GuardedBuffer saved(r.saved.size()), dx(sz(n * g.C * g.H * g.W) * sizeof(float)),
        dw(sz(g.F * g.C * g.KH * g.KW) * sizeof(float)), db(sz(g.F) * sizeof(float)), ws(sz(s.ws_bytes));
    saved.fill_from(r.saved.data(), r.saved.size());
    float* dx_p = want_dx ? dx.floats() : nullptr;
    float* dw_p = want_dw ? dw.floats() : nullptr;
    float* db_p = want_db ? db.floats() : nullptr;
    bl_status st;
    if (which == kBackwardData)
        st = bl_backward_data(s.plan, n, saved.data(), s.saved_bytes, w_arg, dy.data(), dx_p, ws.data(), s.ws_bytes);
    else if (which == kBackwardWeights)
        st = bl_backward_weights(s.plan, n, saved.data(), s.saved_bytes, dy.data(), dw_p, db_p, ws.data(), s.ws_bytes);
    else
        st = bl_backward(s.plan, n, saved.data(), s.saved_bytes, w_arg, dy.data(), dx_p, dw_p, db_p, ws.data(), s.ws_bytes);
    if (!d.expect_ok(st, which_name(which))) return false;
    if (!d.guards_ok(dx, "dx") || !d.guards_ok(dw, "dw") || !d.guards_ok(db, "db") || !d.guards_ok(ws, "workspace") ||
        !d.guards_ok(saved, "saved"))
        return false;
    if (std::memcmp(saved.data(), r.saved.data(), r.saved.size()) != 0) {
        d.violation("a backward wrote its (const) saved-spectra buffer");
        return false;
    }
    std::vector<double> dx_ref, dw_ref, db_ref;
    const std::vector<double> dyd = blref::to_double(dy);
    blref::bl_backward(g, n, r.xd.data(), r.wd.data(), dyd.data(), s.LH, s.LW, r.box, dx_ref, dw_ref, db_ref);
    // Magnitudes of the gradients' terms (see error_ratio): dx per sample, sum over c of
    // (sum_f ||dy_nf||_2 ||w_fc||_1)^2; dw per filter, sum over c of (sum_n ||x_nc|| ||dy_nf||)^2
    // with the smaller of the two (2, 1)-norm products; db per filter, sum_n ||dy_nf||_1.
    const std::vector<double> dy2 = block_norms(dyd, n * g.F, per_y, 2), dy1 = block_norms(dyd, n * g.F, per_y, 1),
                              w1 = block_norms(r.wd, g.F * g.C, g.KH * g.KW, 1),
                              x2 = block_norms(r.xd, n * g.C, g.H * g.W, 2), x1 = block_norms(r.xd, n * g.C, g.H * g.W, 1);
    std::vector<double> dx_mag(sz(n), 0.0), dw_mag(sz(g.F), 0.0), db_mag(sz(g.F), 0.0);
    for (int64_t i = 0; i < n; ++i) {
        double m2 = 0;
        for (int64_t c = 0; c < g.C; ++c) {
            double m = 0;
            for (int64_t f = 0; f < g.F; ++f) m += dy2[sz(i * g.F + f)] * w1[sz(f * g.C + c)];
            m2 += m * m;
        }
        dx_mag[sz(i)] = std::sqrt(m2);
    }
    for (int64_t f = 0; f < g.F; ++f) {
        double m2 = 0;
        for (int64_t c = 0; c < g.C; ++c) {
            double m = 0;
            for (int64_t i = 0; i < n; ++i)
                m += std::min(x2[sz(i * g.C + c)] * dy1[sz(i * g.F + f)], x1[sz(i * g.C + c)] * dy2[sz(i * g.F + f)]);
            m2 += m * m;
        }
        dw_mag[sz(f)] = std::sqrt(m2);
        for (int64_t i = 0; i < n; ++i) db_mag[sz(f)] += dy1[sz(i * g.F + f)];
    }
    const std::vector<bool> none;
    bool ok = true;
    if (want_dx) {
        std::vector<float> got;
        std::vector<double> ref;
        double mag = 0;
        select_blocks(dx.payload_floats(), dx_ref, n, 1, g.C * g.H * g.W, bad_sample, none, dx_mag, &got, &ref, &mag);
        ok &= got.empty() || conv_close(d, got, ref, mag, blref::bound_dx(g, s.LH, s.LW), "dx");
    }
    if (want_dw) {
        std::vector<float> got;
        std::vector<double> ref;
        double mag = 0;
        select_blocks(dw.payload_floats(), dw_ref, g.F, 1, g.C * g.KH * g.KW, bad_filter, none, dw_mag, &got, &ref, &mag);
        ok &= got.empty() || conv_close(d, got, ref, mag, blref::bound_dw(g, n, s.LH, s.LW), "dw");
    }
    if (want_db) {
        std::vector<float> got;
        std::vector<double> ref;
        double mag = 0;
        select_blocks(db.payload_floats(), db_ref, g.F, 1, 1, bad_filter, none, db_mag, &got, &ref, &mag);
        ok &= got.empty() || conv_close(d, got, ref, mag, blref::bound_db(g, n), "db");
    }
    return ok;
}

void backward_invalid(Driver& d, PlanSlot& s, int which) {
    if (!s.last && !forward_valid(d, s, false, true)) return;
    const ForwardRecord& r = *s.last;
    const Geom& g = s.g;
    const std::vector<float> dy = d.uniform(sz(r.n * g.F * s.Ho * s.Wo));
    GuardedBuffer dx(sz(r.n * g.C * g.H * g.W) * sizeof(float)), dw(sz(g.F * g.C * g.KH * g.KW) * sizeof(float)),
        db(sz(g.F) * sizeof(float)), ws(sz(s.ws_bytes));
    const bool with_dx = which == kBackwardData || (which == kBackward && !d.choose.one_in(4));
    const bool with_dw = which == kBackwardWeights || (which == kBackward && !d.choose.one_in(4));
    const bool with_db = which != kBackwardData && !d.choose.one_in(3);
    BackwardCall call{which, s.plan, r.n, r.saved.data(), s.saved_bytes, r.w.data(), dy.data(),
                      with_dx ? dx.floats() : nullptr, with_dw ? dw.floats() : nullptr, with_db ? db.floats() : nullptr,
                      ws.data(), s.ws_bytes, &s, &r};
    if (which == kBackwardWeights) call.w = nullptr;
    d.note(format("[%s]", which_name(which)));
    const char* argument = nullptr;
    const Mutation<BackwardCall>* m = mutate(d, backward_mutations(), call, &argument);
    if (!m) return;
    Untouched untouched;
    untouched.watch("dx", dx);
    untouched.watch("dw", dw);
    untouched.watch("db", db);
    untouched.watch("workspace", ws);
    untouched.watch("saved", r.saved.data(), r.saved.size());
    d.expect_refusal(call.invoke(), m->name, argument, untouched);
    check_plan_still_works(d, s);
}

// ------------------------------------------------------------------------------------------
// Plan queries
// ------------------------------------------------------------------------------------------
void queries_valid(Driver& d, PlanSlot& s) {
    const Geom& g = s.g;
    bl_conv2d_desc got{};
    if (!d.expect_ok(bl_plan_desc(s.plan, &got), "bl_plan_desc")) return;
    bl_conv2d_desc want = desc2d(g);  // a 1D plan reports H = KH = 1, no vertical padding, stride_h 1
    if (std::memcmp(&got, &want, sizeof got) != 0) {
        d.mismatch("bl_plan_desc does not give back the plan's geometry");
        return;
    }
    int64_t ho = -1, wo = -1, lh = -1, lw = -1, sb = -1, wb = -1;
    if (!d.expect_ok(bl_plan_output_size(s.plan, &ho, &wo), "bl_plan_output_size") ||
        !d.expect_ok(bl_plan_fft_lengths(s.plan, &lh, &lw), "bl_plan_fft_lengths") ||
        !d.expect_ok(bl_plan_saved_spectra_bytes(s.plan, &sb), "bl_plan_saved_spectra_bytes") ||
        !d.expect_ok(bl_plan_workspace_bytes(s.plan, &wb), "bl_plan_workspace_bytes"))
        return;
    if (ho != g.Ho() || wo != g.Wo() || lh != s.LH || lw != s.LW || sb != s.saved_bytes || wb != s.ws_bytes) {
        d.mismatch("a plan query changed or disagrees with the reference geometry");
        return;
    }
    bl_box box{-1, -1};
    double rate = -1;
    if (!d.expect_ok(bl_plan_box(s.plan, &box, &rate), "bl_plan_box")) return;
    const Box want_box = s.fixed_box;  // energy mode: the full box, rate 0
    const double want_rate = s.energy() ? 0.0 : blref::box_rate(s.LH, s.LW, want_box);
    if (box.kh != want_box.kh || box.kw != want_box.kw || std::fabs(rate - want_rate) > 1e-12) {
        d.mismatch(format("bl_plan_box (%" PRId64 ", %" PRId64 ") rate %.17g, the reference (%" PRId64 ", %" PRId64 ") %.17g",
                          box.kh, box.kw, rate, want_box.kh, want_box.kw, want_rate));
        return;
    }
    const Box any{d.choose.between(0, s.LH / 2), d.choose.between(0, s.LW / 2)};
    double any_rate = -1;
    if (!d.expect_ok(bl_plan_box_rate(s.plan, bl_box{any.kh, any.kw}, &any_rate), "bl_plan_box_rate")) return;
    if (std::fabs(any_rate - blref::box_rate(s.LH, s.LW, any)) > 1e-12) {
        d.mismatch(format("bl_plan_box_rate(%" PRId64 ", %" PRId64 ") = %.17g, the reference %.17g", any.kh, any.kw, any_rate,
                          blref::box_rate(s.LH, s.LW, any)));
        return;
    }
    const int32_t pass = int32_t(d.choose.below(3));
    const int64_t n = d.choose.between(1, g.N);
    const Box chain_box = s.chain[d.choose.below(s.chain.size())];
    const bl_box b{chain_box.kh, chain_box.kw};
    const bool with_box = d.choose.one_in(2);
    bl_flops f{-1, -1, -1};
    if (!d.expect_ok(bl_plan_flops(s.plan, pass, n, with_box ? &b : nullptr, &f), "bl_plan_flops")) return;
    // Section 5: dense-equivalent FLOPs of a pass are 2 N F C Ho Wo KH KW.
    const double dense = 2.0 * double(n) * double(g.F) * double(g.C) * double(g.Ho()) * double(g.Wo()) * double(g.KH) * double(g.KW);
    if (std::fabs(f.dense_equivalent - dense) > 1e-12 * dense || !(f.nominal > 0) || !std::isfinite(f.nominal) ||
        !(f.executed >= 0) || !std::isfinite(f.executed)) {
        d.mismatch(format("bl_plan_flops(pass %d, n %" PRId64 "): nominal %g executed %g dense %g (want %g)", pass, n,
                          f.nominal, f.executed, f.dense_equivalent, dense));
        return;
    }
    d.passed();
}

// Each case makes one refused query with its own canary out-parameters and checks it.
struct QueryCase {
    const char* name;
    void (*run)(Driver& d, PlanSlot& s);
};

const std::vector<QueryCase>& query_cases() {
    // Out-parameters start as canaries; a refused query must leave them (checked by
    // comparing with a copy made before the call).
    static const std::vector<QueryCase> table = {
        {"bl_plan_desc: plan NULL", [](Driver& d, PlanSlot&) {
             bl_conv2d_desc out{};
             std::memset(&out, 0x5A, sizeof out);
             Untouched u;
             u.watch("out_desc", &out, sizeof out);
             d.expect_refusal(bl_plan_desc(nullptr, &out), "bl_plan_desc: plan NULL", "plan", u);
         }},
        {"bl_plan_desc: out_desc NULL", [](Driver& d, PlanSlot& s) {
             d.expect_refusal(bl_plan_desc(s.plan, nullptr), "bl_plan_desc: out_desc NULL", "out_desc", Untouched());
         }},
        {"bl_plan_output_size: NULL plan or out-parameter", [](Driver& d, PlanSlot& s) {
             int64_t h = -77, w = -77;
             Untouched u;
             u.watch("out_height", &h, sizeof h);
             u.watch("out_width", &w, sizeof w);
             switch (d.choose.below(3)) {
             case 0: d.expect_refusal(bl_plan_output_size(nullptr, &h, &w), "output_size: plan NULL", "plan", u); break;
             case 1: d.expect_refusal(bl_plan_output_size(s.plan, nullptr, &w), "output_size: out_height NULL", "out_height", u); break;
             default: d.expect_refusal(bl_plan_output_size(s.plan, &h, nullptr), "output_size: out_width NULL", "out_width", u);
             }
         }},
        {"bl_plan_fft_lengths: NULL plan or out-parameter", [](Driver& d, PlanSlot& s) {
             int64_t h = -77, w = -77;
             Untouched u;
             u.watch("lh", &h, sizeof h);
             u.watch("lw", &w, sizeof w);
             switch (d.choose.below(3)) {
             case 0: d.expect_refusal(bl_plan_fft_lengths(nullptr, &h, &w), "fft_lengths: plan NULL", "plan", u); break;
             case 1: d.expect_refusal(bl_plan_fft_lengths(s.plan, nullptr, &w), "fft_lengths: lh NULL", "lh", u); break;
             default: d.expect_refusal(bl_plan_fft_lengths(s.plan, &h, nullptr), "fft_lengths: lw NULL", "lw", u);
             }
         }},
        {"bl_plan_box: NULL plan or out-parameter", [](Driver& d, PlanSlot& s) {
             bl_box b{-77, -77};
             double r = -77;
             Untouched u;
             u.watch("out_box", &b, sizeof b);
             u.watch("out_achieved_rate", &r, sizeof r);
             switch (d.choose.below(3)) {
             case 0: d.expect_refusal(bl_plan_box(nullptr, &b, &r), "box: plan NULL", "plan", u); break;
             case 1: d.expect_refusal(bl_plan_box(s.plan, nullptr, &r), "box: out_box NULL", "out_box", u); break;
             default: d.expect_refusal(bl_plan_box(s.plan, &b, nullptr), "box: out_achieved_rate NULL", "out_achieved_rate", u);
             }
         }},
        {"bl_plan_box_rate: a box outside the half spectrum", [](Driver& d, PlanSlot& s) {
             bl_box b{d.choose.between(0, s.LH / 2), d.choose.between(0, s.LW / 2)};
             switch (d.choose.below(6)) {
             case 0: b.kh = -d.choose.between(1, 5); break;
             case 1: b.kw = -d.choose.between(1, 5); break;
             case 2: b.kh = s.LH / 2 + d.choose.between(1, 5); break;
             case 3: b.kw = s.LW / 2 + d.choose.between(1, 5); break;
             case 4: b.kh = kI64Max; break;
             default: b.kw = kI64Min;
             }
             double r = -77;
             Untouched u;
             u.watch("out_rate", &r, sizeof r);
             d.expect_refusal(bl_plan_box_rate(s.plan, b, &r), "box_rate: box outside the half spectrum", "box", u);
         }},
        {"bl_plan_box_rate: NULL plan or out_rate", [](Driver& d, PlanSlot& s) {
             double r = -77;
             Untouched u;
             u.watch("out_rate", &r, sizeof r);
             if (d.choose.one_in(2)) d.expect_refusal(bl_plan_box_rate(nullptr, bl_box{0, 0}, &r), "box_rate: plan NULL", "plan", u);
             else d.expect_refusal(bl_plan_box_rate(s.plan, bl_box{0, 0}, nullptr), "box_rate: out_rate NULL", "out_rate", u);
         }},
        {"saved_spectra_bytes / workspace_bytes: NULL plan or out_bytes", [](Driver& d, PlanSlot& s) {
             int64_t v = -77;
             Untouched u;
             u.watch("out_bytes", &v, sizeof v);
             switch (d.choose.below(4)) {
             case 0: d.expect_refusal(bl_plan_saved_spectra_bytes(nullptr, &v), "saved_spectra_bytes: plan NULL", "plan", u); break;
             case 1: d.expect_refusal(bl_plan_saved_spectra_bytes(s.plan, nullptr), "saved_spectra_bytes: out NULL", "out_bytes", u); break;
             case 2: d.expect_refusal(bl_plan_workspace_bytes(nullptr, &v), "workspace_bytes: plan NULL", "plan", u); break;
             default: d.expect_refusal(bl_plan_workspace_bytes(s.plan, nullptr), "workspace_bytes: out NULL", "out_bytes", u);
             }
         }},
        {"bl_plan_flops: bad pass, n, box or NULL", [](Driver& d, PlanSlot& s) {
             bl_flops f{-77, -77, -77};
             Untouched u;
             u.watch("out_flops", &f, sizeof f);
             const int64_t n = d.choose.between(1, s.g.N);
             switch (d.choose.below(5)) {
             case 0: {
                 const int32_t bad[] = {3, -1, 77, std::numeric_limits<int32_t>::min()};
                 d.expect_refusal(bl_plan_flops(s.plan, bad[d.choose.below(4)], n, nullptr, &f), "flops: unknown pass", "pass", u);
                 break;
             }
             case 1:
                 d.expect_refusal(bl_plan_flops(s.plan, BL_PASS_FORWARD, bad_batch(d, s.g.N), nullptr, &f), "flops: bad n", "n", u);
                 break;
             case 2: {  // off the chain: negative, beyond the Nyquist box, or (0, nyq_w) when both halves are > 0
                 bl_box b{-1, 0};
                 const uint64_t k = d.choose.below(3);
                 if (k == 1) b = bl_box{s.LH / 2 + 1, s.LW / 2};
                 if (k == 2 && s.LH / 2 > 0 && s.LW / 2 > 0) b = bl_box{0, s.LW / 2};
                 d.expect_refusal(bl_plan_flops(s.plan, BL_PASS_FORWARD, n, &b, &f), "flops: box off the chain", "box", u);
                 break;
             }
             case 3: d.expect_refusal(bl_plan_flops(nullptr, BL_PASS_FORWARD, n, nullptr, &f), "flops: plan NULL", "plan", u); break;
             default: d.expect_refusal(bl_plan_flops(s.plan, BL_PASS_FORWARD, n, nullptr, nullptr), "flops: out NULL", "out_flops", u);
             }
         }},
    };
    return table;
}

// ------------------------------------------------------------------------------------------
// Entries
// ------------------------------------------------------------------------------------------
void entry_plan_create(Driver& d) {
    if (invalid_turn(d)) {
        create_invalid(d);
        return;
    }
    if (create_valid(d)) d.passed();
}

void entry_plan_destroy(Driver& d) {
    if (d.plans.empty() || d.choose.one_in(6)) {
        if (d.expect_ok(bl_plan_destroy(nullptr), "bl_plan_destroy(NULL)")) d.passed();
        return;
    }
    const size_t k = d.choose.below(d.plans.size());
    d.note(format("[plan #%d]", d.plans[k]->id));
    const int64_t failures = d.stats().violations;
    destroy_plan(d, k);
    if (d.stats().violations == failures) d.passed();
}

void entry_plan_queries(Driver& d) {
    PlanSlot* s = some_plan(d);
    if (!s) return;
    if (invalid_turn(d)) {
        const QueryCase& q = query_cases()[d.choose.below(query_cases().size())];
        q.run(d, *s);
        if (d.choose.one_in(4)) check_plan_still_works(d, *s);
        return;
    }
    queries_valid(d, *s);
}

void entry_forward(Driver& d) {
    PlanSlot* s = some_plan(d);
    if (!s) return;
    if (invalid_turn(d)) {
        forward_invalid(d, *s);
        return;
    }
    if (forward_valid(d, *s, true, false)) d.passed();
}

template <int kWhich>
void entry_backward(Driver& d) {
    PlanSlot* s = some_plan(d);
    if (!s) return;
    if (invalid_turn(d)) {
        backward_invalid(d, *s, kWhich);
        return;
    }
    if (backward_valid(d, *s, kWhich)) d.passed();
}

}  // namespace

std::vector<Entry> conv_entries() {
    return {
        {"bl_plan_create_2d/1d", 10, entry_plan_create},
        {"bl_plan_destroy", 3, entry_plan_destroy},
        {"plan queries", 6, entry_plan_queries},
        {"bl_forward", 14, entry_forward},
        {"bl_backward", 8, entry_backward<kBackward>},
        {"bl_backward_data", 4, entry_backward<kBackwardData>},
        {"bl_backward_weights", 4, entry_backward<kBackwardWeights>},
    };
}

}  // namespace blfuzz
