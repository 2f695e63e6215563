// cpu_backend.cpp -- the CPU implementation of the band-limited operator.
//
// Data flow of a forward (ALGORITHM.md sections 2-4):
//   x, w  --pruned 2D rfft-->  compact spectra [k][item] (only the box's coefficients,
//   real and imaginary planes split)  --per-frequency complex GEMM, 3-mult form-->
//   Y^ [k][n][f]  --pruned inverse, crop, stride-->  y.
// The backward transforms only dy and reuses the saved compact spectra.
//
// A 2D transform is a row pass then a column pass. Forward: only rows that hold data get a
// real row FFT, and only the kept columns 0..kw get a complex column FFT. Inverse: the kept
// columns get a column FFT, then only the rows the crop keeps get a real inverse row FFT.
// Columns live in a column-major grid (LH contiguous complex values per kept column) so the
// column FFT runs in place.
//
// Layouts: the item order of each spectrum is chosen so that the right-hand operand of every
// product is contiguous along its output columns (the SIMD kernels then pack it with vector
// loads): X^ is [n][c], W^ is [c][f] (transposed planes), dY^ is [f][n], and the products are
// Y^ (n x f) = X^ conj(W^), dX^T (c x n) = W^ dY^ (stored [c][n]), dW^ (f x c) = conj(dY^) X^.
//
// Small planes (3x3 weights, small maps; the choice is cost_model.h's use_forward_dft /
// use_inverse_dft, a FLOP-count model shared with bl_plan_flops) skip the FFT: their pruned DFT
// runs as dense products 16 planes at a time, one plane per vector lane (dft.h), and blocks of
// 16 items are read from / written to the frequency-major layout as whole cache lines.
//
// Threads: every parallel loop gives each output element to exactly one thread and reduces
// in a fixed order, so results are bitwise identical for any thread count.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "cpu_backend.h"

#include "align.h"
#include "cgemm.h"
#include "context.h"
#include "cost_model.h"
#include "cpu_path.h"
#include "dft.h"
#include "errors.h"
#include "fft.h"
#include "fft_batch.h"
#include "layers.h"
#include "spatial.h"
#include "plan.h"
#include "stage_timers.h"
#include "thread_pool.h"
#include "unit_root.h"

namespace bl {

#ifdef BL_STAGE_TIMERS
StageTimes& stage_times() {
    static StageTimes t;
    return t;
}
#endif

namespace {

#ifdef BL_STAGE_TIMERS
// Adds the wall time of its scope to one stage accumulator.
class StageScope {
public:
    explicit StageScope(double* acc) : acc_(acc), t0_(std::chrono::steady_clock::now()) {}
    ~StageScope() { *acc_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count(); }
    StageScope(const StageScope&) = delete;
    StageScope& operator=(const StageScope&) = delete;

private:
    double* acc_;
    std::chrono::steady_clock::time_point t0_;
};
#define BL_STAGE(field) StageScope stage_scope_(&stage_times().field)
#else
#define BL_STAGE(field) ((void)0)
#endif

// A compact frequency-major spectrum: coefficient k of item j is re[k * items + j],
// im[k * items + j]; the imaginary plane follows the real one.
struct Spectrum {
    float* re;
    float* im;
    int64_t items;
};
Spectrum spectrum_at(float* base, int64_t kept, int64_t items) {
    return {base, base + kept * items, items};
}
int64_t spectrum_floats(int64_t kept, int64_t items) { return 2 * kept * items; }

// Operand of the per-frequency product: element (i, p) is at i * row + p * col of the
// coefficient's block, conjugated when conj is set.
using Operand = CgemmOperand;

// Where a real plane sits on the LH x LW grid: source row i -> grid row r0 + i * rs,
// source column j -> grid column c0 + j * cs.
struct Placement {
    int64_t rows, cols;
    int64_t r0, rs, c0, cs;
    bool operator==(const Placement& o) const {
        return rows == o.rows && cols == o.cols && r0 == o.r0 && rs == o.rs && c0 == o.c0 && cs == o.cs;
    }
};

// The bases of the batched DFT (dft.h) for one placement, built once at plan creation:
//   h[a][u] = (cos, sin)(2 pi u r_a / LH),                 a < rows, u < U   (leading dim U),
//   w[j][s] = (cos, -sin)(2 pi s c_j / LW),                j < cols, s < kcf (leading dim kcf),
//   b[s][j] = weight_s / (LH LW) (cos, -sin)(2 pi s c_j / LW), s < kci, j < cols,
// with weight 1 for column 0 and LW/2, 2 otherwise (Hermitian). U, kcf and kci are the largest
// that any box an execute can use takes by DFT for this placement (forward: w and h; inverse:
// h and b); a smaller box reads the same table through the leading dimensions (b of fewer
// columns is a prefix), so one table per placement serves the whole chain of an energy plan.
struct DftBases {
    Placement at;
    int64_t U = 0, kcf = 0, kci = 0;
    int64_t h = -1, w = -1, b = -1;  // offsets in floats into the plan's basis storage
};

// Fork/join threshold: a parallel loop whose estimated single-thread time is below
// kMinParallelNs runs on the calling thread alone, since waking and joining a worker costs
// more than it saves there. Measured on the 2-core bench machine (Xeon, AVX-512 path, 2 threads,
// load average ~1; medians):
//   - bl_fork_join, a fork/join of a trivial loop: 0.07 us on 1 thread; 0.2-1.0 us on 2 threads
//     while the worker still spins from the previous loop ("warm", as inside an execute call),
//     1.8-2.2 us when it sleeps ("cold", 200 us after the last loop: the notify system call).
//     Before the caller took over chunks whose worker has not started (thread_pool.cpp) a cold
//     fork/join cost 6.9-9.0 us, and 40-200 us after a 2 ms pause (an idle core wakes slowly).
//   - bl_fork_join, 16 scalar multiply-add chains: 2 threads pay from ~2 us of single-thread
//     work when warm (3.4-4.1 us -> 2.6-2.7 us) and from ~20 us when cold (8.4-9.6 -> 11.3-11.5
//     us at 4000 steps, 18.4-18.9 -> 16.4-20.2 at 8000, 40-41 -> 24-44 at 16000).
//   - Layers with the threshold alternated in blocks of 25 calls (first 5 untimed), median us
//     per forward / backward-data / backward-weights call, back-to-back calls:
//       threshold             0 (always)        2 us             5 us             10 us          infinite
//       N=1  C=F=4  4x4 3x3   10.4  9.3  8.7   10.1  9.4  8.6   10.2  9.2  8.4   11.6 11.7 11.4   11.9 11.6 11.5
//       N=8  C=F=4  4x4 3x3   19.6 15.5 16.4   17.0 13.9 15.6   16.7 13.5 15.5   21.5 16.5 20.1   21.0 16.5 20.1
//       N=8  C=F=4  4x4 1x1   12.9  9.9  9.1   10.6  8.8  8.6   12.3  9.8 11.3   12.3  9.8 11.3   12.2  9.8 11.5
//       N=16 C=F=4  8x8 3x3   56.6 33.8 47.6   55.8 32.0 46.5   54.3 31.8 46.8   60.1 38.1 48.9   88.3 43.9 71.6
//       N=4 C=F=16  8x8 3x3   71.6 82.7 47.5   72.8 84.3 45.8   70.9 86.3 47.2   78.3 90.1 50.9   88.1  137 61.3
//       N=8 C=F=32 16x16 3x3   621  697  538    608  688  510    629  682  480    667  690  458    960 1318  527
//     and 200 us apart (the worker asleep at the first loop of each call):
//       N=1  C=F=4  4x4 3x3   13.4 13.5 12.4   13.4 13.0 12.8   13.2 13.0 13.1   11.9 10.9 11.1   12.1 11.1 11.2
//       N=16 C=F=4  8x8 3x3   75.6 40.5 56.8   69.6 40.3 59.2   73.3 40.4 56.5   83.7 49.7 61.1   95.0 46.7 81.0
//     5 us is the best column or close to it in every row (the spread between runs is ~10%).
constexpr double kMinParallelNs = 5000;

// Estimated single-thread time of the backend's loops (ns): a fixed cost per work item (one
// 16-plane block of the DFT, one frequency of the product, one plane of the FFT) plus the
// executed FLOPs of cost_model.h at the loop's own rate, fitted (least squares on the relative
// error) to ~3000 loops of 1-50 us of 2D and 1D layers on the same machine. Good to a factor of
// about 2 on small loops (the per-item cost dominates there), which is all a threshold needs.
constexpr double kDftNsPerBlock = 250, kDftNsPerFlop = 1.0 / 35;              // ~35 GFLOP/s
constexpr double kProductNsPerFrequency = 250, kProductNsPerFlop = 1.0 / 70;  // ~70 GFLOP/s
constexpr double kFftNsPerPlane = 100, kFftNsPerFlop = 1.0 / 4;               // one plane, scalar, ~4 GFLOP/s
constexpr double kEnergyNsPerTerm = 1.1;                                      // float64 |z|^2 sums
// The batched FFT: a 16-plane block of a 32 x 32 plane, forward at the full box, took 15.9 us
// single-thread on the bench machine (AVX-512 path), ~25 GFLOP/s of executed FLOPs.
constexpr double kBfftNsPerBlock = 500, kBfftNsPerFlop = 1.0 / 25;

// Forward DFTs of planes of at most kDftTileMaxPlane values gather 16 x 16 planes at a time
// when the items are stored transposed (tr > 0: W^ is [c][f] while w is [f][c]): the 16 lanes
// of a block are 16 filters, one plane each a whole weight row apart, so a block's gather was 16
// masked loads from 16 pages (11-16% of the 512-channel forward, load misses); a 16 x 16 tile
// reads 16 rows of 16 consecutive planes, contiguous, and transposes them in whole vectors.
// A tile is up to 4 lane groups wide (64 items of a row of W^), so that the recombination
// writes 256 contiguous bytes per coefficient (see DftKernels::recombine), while the tile's
// PQ blocks stay within kDftTileMaxPq floats.
constexpr int64_t kDftTileMaxPlane = 64, kDftTileMaxPq = 16384;
// The fused weight gradient's tile spectrum per thread: 1 MiB (half of a core's L2 here).
constexpr int64_t kDwTileFloats = int64_t(1) << 18;
// The weight gradient runs tiled when a tile has at least kDwTileMinItems (filter, channel)
// pairs and dW^ at least cpu::kDwTileMinBytes (cost_model.h).
constexpr int64_t kDwTileMinItems = 512;
int64_t dft_tile_planes(int64_t plane) { return plane <= kDftTileMaxPlane ? kDftLanes : 1; }
int64_t dft_tile_groups(int64_t plane, int64_t pq_floats) {
    if (plane > kDftTileMaxPlane) return 1;
    return std::max<int64_t>(1, std::min<int64_t>(4, kDftTileMaxPq / pq_floats));
}

class CpuPlan final : public BackendPlan {
public:
    CpuPlan(const Plan& plan, std::shared_ptr<const Context> context)
        : context_(std::move(context)),
          g_(plan.geometry),
          mode_(plan.spectra_mode),
          product_(plan.product),
          energy_mode_(plan.energy_mode()),
          energy_fraction_(plan.compression.value),
          chain_(plan.chain),
          cap_box_(plan.box),
          x_at_{g_.H, g_.W, g_.pad_top, 1, g_.pad_left, 1},
          w_at_{g_.KH, g_.KW, 0, 1, 0, 1},
          y_at_{g_.Ho, g_.Wo, 0, g_.stride_h, 0, g_.stride_w},
          xp_at_{g_.Hp, g_.Wp, 0, 1, 0, 1},
          batched_fft_(cpu::use_batched_fft(plan.geometry)),
          slots_(std::max(1, context_->num_threads())) {
        // The layout only: offsets, sizes and the DFT bases' shapes. Nothing large is allocated
        // until build_tables(), so that the plan limits are checked on these sizes first.
        const Geometry& g = g_;
        const int64_t K = kept_count(g, cap_box_);
        const int64_t kc = cap_box_.kw + 1;
        int64_t off = 0;
        auto region = [&off](int64_t floats) {
            const int64_t at = off;
            off += align_up(floats);
            return at;
        };
        off_x_ = region(spectrum_floats(K, g.N * g.C));
        off_w_ = region(spectrum_floats(K, g.F * g.C));
        off_y_ = region(spectrum_floats(K, g.N * g.F));
        off_out_ = region(spectrum_floats(K, std::max(g.N * g.C, g.F * g.C)));
        off_energy_ = region(2 * g.LH * g.half_w);   // doubles
        off_prefix_ = region(2 * g.LH * g.half_w);   // doubles
        // Per-thread scratch: column-major grid, a real row, a half-spectrum row, FFT
        // scratch, and the packed operands of the 3-mult product (largest of the passes).
        t_grid_ = 0;
        t_row_ = align_up(2 * g.LH * kc);
        t_half_ = t_row_ + align_up(g.LW);
        t_fft_ = t_half_ + align_up(2 * g.half_w);
        t_gemm_ = t_fft_ + align_up(std::max(RealFft::scratch_floats_for(g.LW), ComplexFft::scratch_floats_for(g.LH)));
        int64_t gemm = 0;
        const int64_t dims[3][3] = {{g.N, g.F, g.C}, {g.C, g.N, g.F}, {g.F, g.C, g.N}};
        for (const auto& d : dims) gemm = std::max(gemm, gemm_scratch_floats(d[0], d[1], d[2]));
        thread_floats_ = align_up(t_gemm_ + gemm);
        // The batched FFT's block (16 planes, SoA) and its 2D scratch (fft_batch.h).
        // (One plane at a time when that scratch would be too large: cost_model.h.)
        if (batched_fft_) {
            t_bfft_ = align_up(cpu::batched_fft_block_floats(g));
            thread_floats_ = std::max(thread_floats_, align_up(t_bfft_ + fft2d_scratch_floats(g.LH, g.LW, kc)));
        }
        // DFT scratch (aliases the FFT / product scratch of a thread) and the bases (dft_bases_),
        // for each operand and each box an execute can use that transforms it by DFT: only the
        // plan's box in fixed mode; in energy mode x at the full box (the forward picks the box
        // from its spectrum) and the others at any chain box. (Sizing by the largest box instead
        // made a 1D layer's workspace 6x larger for a DFT that only its smallest boxes use.)
        struct Use {
            const Placement* at;
            bool inverse;
            bool full_box_only;
        };
        // The seventh: the inverse to the padded plane that the spatial product reads (spatial.h).
        const Use uses[7] = {{&x_at_, false, true}, {&w_at_, false, false}, {&y_at_, false, false},
                             {&y_at_, true, false}, {&x_at_, true, false}, {&w_at_, true, false},
                             {&xp_at_, true, false}};
        std::vector<Box> boxes_used;
        if (energy_mode_) {
            for (const Box& bb : chain_)
                if (bb.kh <= cap_box_.kh && bb.kw <= cap_box_.kw) boxes_used.push_back(bb);
        } else {
            boxes_used.push_back(cap_box_);
        }
        int64_t dft_thread = 0;
        for (const Use& use : uses) {
            const int64_t rows = use.at->rows, cols = use.at->cols;
            for (const Box& bb : boxes_used) {
                if (use.full_box_only && bb != cap_box_) continue;
                if (!(use.inverse ? cpu::use_inverse_dft(g, rows, cols, bb) : cpu::use_forward_dft(g, rows, cols, bb))) continue;
                const int64_t kcb = bb.kw + 1, Ub = cpu::dft_row_freqs(g.LH, bb);
                const int64_t pq = align_up(Ub * kcb * 4 * kDftLanes);
                const int64_t groups = use.inverse ? 1 : dft_tile_groups(rows * cols, pq);
                const int64_t s_planes = use.inverse ? 1 : dft_tile_planes(rows * cols) * groups;
                const int64_t t = align_up(rows * cols * kDftLanes * s_planes) + align_up(rows * kcb * 2 * kDftLanes) +
                                  pq * groups;
                dft_thread = std::max(dft_thread, t);
                DftBases* d = nullptr;
                for (DftBases& e : dft_bases_)
                    if (e.at == *use.at) d = &e;
                if (!d) {
                    dft_bases_.push_back(DftBases{*use.at});
                    d = &dft_bases_.back();
                }
                d->U = std::max(d->U, Ub);
                int64_t& kcd = use.inverse ? d->kci : d->kcf;
                kcd = std::max(kcd, kcb);
            }
        }
        thread_floats_ = std::max(thread_floats_, align_up(dft_thread));
        // The fused weight gradient's tile spectrum (dw_tile_rows), after every other scratch.
        for (const Box& bb : boxes_used) {
            const int64_t rows = dw_tile_rows(bb);
            if (rows > 0) t_dw_tile_floats_ = std::max(t_dw_tile_floats_, 2 * kept_count(g, bb) * rows * dw_tile_cols());
        }
        if (t_dw_tile_floats_ > 0) {
            t_dw_tile_ = thread_floats_;
            thread_floats_ = align_up(thread_floats_ + t_dw_tile_floats_);
        }
        layout_dft_bases();
        // The band-limited input xt of the spatial product (spatial.h), when some pass may use it.
        bool spatial = false;
        if (cpu::spatial_allowed(g))
            for (const Box& bb : boxes_used)
                for (int64_t batch : {int64_t(1), g.N})
                    for (bl_pass pass : {BL_PASS_FORWARD, BL_PASS_BACKWARD_WEIGHTS})
                        spatial = spatial || cpu::use_spatial(g, pass, batch, bb, mode_, product_);
        if (spatial) {
            xt_floats_ = g.N * g.C * g.Hp * g.Wp + kSpatialSlack;
            off_xt_ = region(xt_floats_);
        }
        off_threads_ = off;
        off += thread_floats_ * slots_;
        workspace_bytes_ = off * int64_t(sizeof(float)) + 64;  // + 64: we align the base
    }

    // Builds the FFT tables and the DFT bases (the allocations of the plan, after the limits).
    void build_tables() {
        ThreadPool::shared().reserve(slots_);  // execute calls never start a thread
        row_fft_.emplace(g_.LW);
        col_fft_.emplace(g_.LH);
        row_bfft_.emplace(g_.LW);
        col_bfft_.emplace(g_.LH);
        build_dft_bases();
    }

    int64_t workspace_bytes() const override { return workspace_bytes_; }
    int64_t table_bytes() const override {
        return row_fft_->table_bytes() + col_fft_->table_bytes() + row_bfft_->table_bytes() + col_bfft_->table_bytes() +
               int64_t(sizeof(float)) * basis_floats_;
    }
    // What table_bytes() will report once build_tables() has run, known from the layout.
    int64_t estimated_table_bytes() const {
        return RealFft::table_bytes_for(g_.LW) + ComplexFft::table_bytes_for(g_.LH) + BatchFft::table_bytes_for(g_.LW) +
               BatchFft::table_bytes_for(g_.LH) + int64_t(sizeof(float)) * basis_floats_;
    }
    double executed_flops(bl_pass pass, int64_t n, const Box& b) const override {
        return cpu::executed_pass_flops(g_, pass, n, b, mode_, product_);
    }

    void forward(const ForwardArgs& a) const override;
    void backward(const BackwardArgs& a) const override;

    // Host memory: the header is the first bytes of the buffer.
    void write_saved_header(void* saved, const SavedHeader& h) const override {
        std::memcpy(saved, &h, sizeof h);
    }
    void read_saved_header(const void* saved, SavedHeader* h) const override {
        std::memcpy(h, saved, sizeof *h);
    }

private:
    static int64_t gemm_scratch_floats(int64_t m, int64_t n, int64_t p) {
        return align_up(cgemm_scratch_floats(m, n, p));
    }
    float* base(void* workspace) const {
        auto p = reinterpret_cast<uintptr_t>(workspace);
        return reinterpret_cast<float*>((p + 63) & ~uintptr_t(63));
    }
    float* thread_scratch(float* ws, int tid) const { return ws + off_threads_ + thread_floats_ * tid; }
    // The context's threads, at most the slots the workspace was sized for.
    int threads() const { return std::min(context_->num_threads(), slots_); }
    // The threads of a loop estimated to take est_ns on one thread (kMinParallelNs).
    int threads_for(double est_ns) const { return est_ns < kMinParallelNs ? 1 : threads(); }

    void transform_plane(const float* src, const Placement& at, const Box& b, Spectrum out,
                         int64_t item, float* scratch) const;
    void inverse_plane(Spectrum in, int64_t item, const Box& b, const Placement& at, float scale,
                       float bias, float* dst, float* scratch) const;
    // tr = 0: plane j is item j. tr > 0: the planes form a [planes / tr][tr] grid stored
    // transposed, plane a * tr + b is item b * (planes / tr) + a (see "Layouts" above).
    void transform_all(const float* src, int64_t planes, const Placement& at, const Box& b,
                       Spectrum out, float* ws, int64_t tr = 0) const;
    void inverse_all(Spectrum in, int64_t planes, const Box& b, const Placement& at,
                     const float* bias, int64_t bias_period, float* dst, float* ws,
                     int64_t tr = 0) const;
    // The same by batched FFT (fft_batch.h), 16 items per block.
    void transform_all_bfft(const float* src, int64_t planes, const Placement& at, const Box& b,
                            Spectrum out, float* ws, int64_t tr) const;
    void inverse_all_bfft(Spectrum in, int64_t planes, const Box& b, const Placement& at,
                          const float* bias, int64_t bias_period, float* dst, float* ws,
                          int64_t tr) const;
    // The batched FFT's view of a placement and box.
    Fft2dBlock fft_block(const Placement& at, const Box& b) const {
        return {&row_bfft_->plan(), &col_bfft_->plan(), at.rows, at.cols, at.r0, at.rs, at.c0, at.cs, b};
    }
    // The same by batched DFT (dft.h), 16 items per block.
    void transform_all_dft(const float* src, int64_t planes, const Placement& at, const Box& b,
                           Spectrum out, float* ws, int64_t tr) const;
    void inverse_all_dft(Spectrum in, int64_t planes, const Box& b, const Placement& at,
                         const float* bias, int64_t bias_period, float* dst, float* ws,
                         int64_t tr) const;
    // stream: the products' outputs by streaming stores (cgemm.h).
    // The weight gradient as tiles of Fb filters x Cb channels (dw_tile_rows / dw_tile_cols): the
    // tile's products for every kept frequency into a thread's scratch, then its inverse
    // transforms from there, so dW^ (50 MB on the 512-channel layer) never goes to memory. The
    // products and inverses are those of product_all / inverse_all_dft on the same values: dw is
    // bitwise the unfused one.
    void weight_gradient_tiled(Spectrum dY, Spectrum X, int64_t n, const Box& b, float* dw, float* ws) const;
    // Filters per tile, or 0 when the weight gradient is not tiled for box b: the inverse of w
    // by DFT, C a multiple of 16, dW^ at least kDwTileMinBytes (smaller ones stay in the caches
    // anyway), and tiles of kDwTileFloats floats with at least 4 filters and kDwTileMinItems
    // (filter, channel) pairs.
    int64_t dw_tile_rows(const Box& b) const;
    // 128 channels: measured 1.14-1.17x (256-channel layer) and 1.01-1.25x (512) on that pass
    // against the unfused one; 64 and 256 were slower on one of the two layers.
    int64_t dw_tile_cols() const { return std::min<int64_t>(g_.C, 128); }
    void product_all(int64_t kept, int64_t m, int64_t n, int64_t p, Operand a, Operand b,
                     Spectrum out, int64_t a_block, int64_t b_block, float* ws, bool stream = false) const;

    // Whether this pass runs as the spatial product (its buffer exists and the model picks it).
    bool spatial(bl_pass pass, int64_t n, const Box& b) const {
        return xt_floats_ > 0 && cpu::use_spatial(g_, pass, n, b, mode_, product_);
    }
    // xt = P(xp) on [0, Hp) x [0, Wp) from the compact X^ (items [n][c]), with the slack zeroed.
    float* band_limited_input(Spectrum X, int64_t n, const Box& b, float* ws) const;

    // The offsets of dft_bases_'s tables in basis storage and basis_floats_ (their shapes set
    // by the constructor); then build_dft_bases() allocates and fills them.
    void layout_dft_bases();
    void build_dft_bases();
    // The bases of placement `at` for box b (kept columns kc, row frequencies U).
    const DftBases& dft_bases(const Placement& at, int64_t kc, int64_t U, bool inverse) const;
    const float* basis(int64_t offset) const { return basis_storage_.get() + offset; }

    std::shared_ptr<const Context> context_;
    Geometry g_;
    bl_spectra_mode mode_;
    bl_product product_;
    bool energy_mode_;
    double energy_fraction_;
    // The plan's own chain (Plan::chain, counted by the core): the Plan owns this object and
    // outlives it, so a copy would only hold the same boxes twice.
    const std::vector<Box>& chain_;
    Box cap_box_;  // largest box an execute may use (sizes the workspace)
    Placement x_at_, w_at_, y_at_;  // x (and dx), w (and dw), y (and dy) on the LH x LW grid
    Placement xp_at_;               // the padded input, [0, Hp) x [0, Wp): the spatial product's xt
    // Built by build_tables() (empty in a plan made only to be measured, estimate_plan).
    std::optional<RealFft> row_fft_;
    std::optional<ComplexFft> col_fft_;
    std::optional<BatchFft> row_bfft_, col_bfft_;  // the batched FFT (fft_batch.h) of rows and columns
    bool batched_fft_;              // FFT transforms batched (else one plane at a time)
    int slots_;
    int64_t off_x_ = 0, off_w_ = 0, off_y_ = 0, off_out_ = 0, off_energy_ = 0, off_prefix_ = 0;
    int64_t off_threads_ = 0, thread_floats_ = 0;
    std::vector<DftBases> dft_bases_;  // at most one per placement (x, w, y)
    struct FreeDeleter {
        void operator()(float* p) const { std::free(p); }
    };
    std::unique_ptr<float[], FreeDeleter> basis_storage_;  // 64-byte aligned
    int64_t basis_floats_ = 0;
    int64_t off_xt_ = 0, xt_floats_ = 0;  // the spatial product's xt; 0 floats when never used
    int64_t t_grid_ = 0, t_row_ = 0, t_half_ = 0, t_fft_ = 0, t_gemm_ = 0, t_bfft_ = 0;
    int64_t t_dw_tile_ = 0, t_dw_tile_floats_ = 0;  // the fused weight gradient's tile spectrum
    int64_t workspace_bytes_ = 0;
};

void CpuPlan::transform_plane(const float* src, const Placement& at, const Box& b, Spectrum out,
                                 int64_t item, float* scratch) const {
    const Geometry& g = g_;
    const int64_t kc = b.kw + 1, LH = g.LH;
    float* grid = scratch + t_grid_;  // grid[s * LH + r], interleaved complex
    float* row = scratch + t_row_;
    float* half = scratch + t_half_;
    float* fs = scratch + t_fft_;
    std::fill(grid, grid + 2 * LH * kc, 0.0f);
    for (int64_t i = 0; i < at.rows; ++i) {
        std::fill(row, row + g.LW, 0.0f);
        const float* s = src + i * at.cols;
        for (int64_t j = 0; j < at.cols; ++j) row[at.c0 + j * at.cs] = s[j];
        row_fft_->forward(row, half, fs);
        const int64_t r = at.r0 + i * at.rs;
        for (int64_t c = 0; c < kc; ++c) {
            grid[2 * (c * LH + r)] = half[2 * c];
            grid[2 * (c * LH + r) + 1] = half[2 * c + 1];
        }
    }
    const int64_t rows = kept_rows(LH, b);
    for (int64_t c = 0; c < kc; ++c) {
        float* col = grid + 2 * c * LH;
        if (LH > 1) col_fft_->forward(col, col, fs);
        for (int64_t i = 0; i < rows; ++i) {
            const int64_t r = kept_row(LH, b, i);
            const int64_t k = i * kc + c;
            out.re[k * out.items + item] = col[2 * r];
            out.im[k * out.items + item] = col[2 * r + 1];
        }
    }
}

void CpuPlan::inverse_plane(Spectrum in, int64_t item, const Box& b, const Placement& at,
                               float scale, float bias, float* dst, float* scratch) const {
    const Geometry& g = g_;
    const int64_t kc = b.kw + 1, LH = g.LH;
    float* grid = scratch + t_grid_;
    float* row = scratch + t_row_;
    float* half = scratch + t_half_;
    float* fs = scratch + t_fft_;
    const int64_t rows = kept_rows(LH, b);
    for (int64_t c = 0; c < kc; ++c) {
        float* col = grid + 2 * c * LH;
        std::fill(col, col + 2 * LH, 0.0f);
        for (int64_t i = 0; i < rows; ++i) {
            const int64_t r = kept_row(LH, b, i);
            const int64_t k = i * kc + c;
            col[2 * r] = in.re[k * in.items + item];
            col[2 * r + 1] = in.im[k * in.items + item];
        }
        if (LH > 1) col_fft_->inverse(col, col, fs);
    }
    std::fill(half, half + 2 * g.half_w, 0.0f);
    for (int64_t i = 0; i < at.rows; ++i) {
        const int64_t r = at.r0 + i * at.rs;
        for (int64_t c = 0; c < kc; ++c) {
            half[2 * c] = grid[2 * (c * LH + r)];
            half[2 * c + 1] = grid[2 * (c * LH + r) + 1];
        }
        row_fft_->inverse(half, row, fs);
        float* d = dst + i * at.cols;
        for (int64_t j = 0; j < at.cols; ++j) d[j] = row[at.c0 + j * at.cs] * scale + bias;
    }
}

int64_t item_of(int64_t j, int64_t planes, int64_t tr) {
    return tr > 0 ? (j % tr) * (planes / tr) + j / tr : j;
}

void CpuPlan::transform_all(const float* src, int64_t planes, const Placement& at, const Box& b,
                               Spectrum out, float* ws, int64_t tr) const {
    if (cpu::use_forward_dft(g_, at.rows, at.cols, b)) return transform_all_dft(src, planes, at, b, out, ws, tr);
    if (batched_fft_) return transform_all_bfft(src, planes, at, b, out, ws, tr);
    const int64_t plane = at.rows * at.cols;
    const double flops = double(planes) * cpu::executed_forward_transform_flops(g_, at.rows, b.kw + 1);
    const int th = threads_for(double(planes) * kFftNsPerPlane + flops * kFftNsPerFlop);
    parallel_for(planes, th, [&](int64_t j, int tid) {
        transform_plane(src + j * plane, at, b, out, item_of(j, planes, tr),
                        thread_scratch(ws, tid));
    });
}

void CpuPlan::inverse_all(Spectrum in, int64_t planes, const Box& b, const Placement& at,
                             const float* bias, int64_t bias_period, float* dst, float* ws,
                             int64_t tr) const {
    // 1 / (LH LW): the transforms are unnormalised.
    BL_STAGE(inverse);
    if (cpu::use_inverse_dft(g_, at.rows, at.cols, b))
        return inverse_all_dft(in, planes, b, at, bias, bias_period, dst, ws, tr);  // scale in its bases
    if (batched_fft_) return inverse_all_bfft(in, planes, b, at, bias, bias_period, dst, ws, tr);
    const float scale = float(1.0 / (double(g_.LH) * double(g_.LW)));
    const int64_t plane = at.rows * at.cols;
    const double flops = double(planes) * cpu::executed_inverse_transform_flops(g_, at.rows, b.kw + 1);
    const int th = threads_for(double(planes) * kFftNsPerPlane + flops * kFftNsPerFlop);
    parallel_for(planes, th, [&](int64_t j, int tid) {
        inverse_plane(in, item_of(j, planes, tr), b, at, scale, bias ? bias[j % bias_period] : 0.0f, dst + j * plane,
                      thread_scratch(ws, tid));
    });
}

// The lane transposes of one 16-item block (items item0 .. item0 + valid - 1): src planes ->
// S [plane][16] (absent lanes zero), and Y [plane][16] -> dst planes plus the bias of each
// plane's filter. Shared by the batched DFT and FFT paths.
static_assert(kDftLanes == kFftLanes, "the DFT and FFT blocks share the lane transposes");
// The planes of the 16 items item0, item0 + 1, ... (the inverse of item_of: item (a, b) of the
// [tr][planes / tr] grid is plane a * tr + b), stepped: one division per block, not two per
// lane, which took ~8% of the 512-channel forward.
struct LanePlanes {
    int64_t j[kFftLanes];
    LanePlanes(int64_t planes, int64_t item0, int64_t valid, int64_t tr) {
        if (tr <= 0) {
            for (int64_t p = 0; p < kFftLanes; ++p) j[p] = item0 + p;
            return;
        }
        const int64_t per = planes / tr;
        int64_t a = item0 % per, b = item0 / per;  // item = b * per + a
        for (int64_t p = 0; p < kFftLanes; ++p) {
            j[p] = p < valid ? a * tr + b : 0;
            if (++a == per) {
                a = 0;
                ++b;
            }
        }
    }
};

void gather_block(const BatchFftKernels& k, const float* src, int64_t planes, int64_t plane, int64_t item0,
                  int64_t valid, int64_t tr, float* S) {
    const LanePlanes lp(planes, item0, valid, tr);
    const float* lane_src[kFftLanes];
    for (int64_t p = 0; p < kFftLanes; ++p) lane_src[p] = p < valid ? src + lp.j[p] * plane : nullptr;
    k.gather(lane_src, plane, S);
}

void scatter_block(const BatchFftKernels& k, const float* Y, int64_t planes, int64_t plane, int64_t item0,
                   int64_t valid, int64_t tr, const float* bias, int64_t bias_period, float* dst) {
    const LanePlanes lp(planes, item0, valid, tr);
    float* lane_dst[kFftLanes];
    float lane_bias[kFftLanes];
    for (int64_t p = 0; p < kFftLanes; ++p) {
        lane_dst[p] = p < valid ? dst + lp.j[p] * plane : nullptr;
        lane_bias[p] = 0.0f;
    }
    if (bias && tr <= 0) {
        for (int64_t p = 0, r = item0 % bias_period; p < valid; ++p, r = r + 1 == bias_period ? 0 : r + 1)
            lane_bias[p] = bias[r];
    } else if (bias) {
        for (int64_t p = 0; p < valid; ++p) lane_bias[p] = bias[lp.j[p] % bias_period];
    }
    k.scatter(Y, plane, lane_dst, lane_bias);
}

float* CpuPlan::band_limited_input(Spectrum X, int64_t n, const Box& b, float* ws) const {
    const Geometry& g = g_;
    float* xt = ws + off_xt_;
    inverse_all(X, n * g.C, b, xp_at_, nullptr, 1, xt, ws);
    std::fill(xt + n * g.C * g.Hp * g.Wp, xt + n * g.C * g.Hp * g.Wp + kSpatialSlack, 0.0f);
    return xt;
}

void CpuPlan::layout_dft_bases() {
    int64_t total = 0;
    for (DftBases& d : dft_bases_) {
        d.h = total;
        total += align_up(d.at.rows * d.U * 2);
        if (d.kcf > 0) {
            d.w = total;
            total += align_up(d.at.cols * d.kcf * 2);
        }
        if (d.kci > 0) {
            d.b = total;
            total += align_up(d.kci * d.at.cols * 2);
        }
    }
    basis_floats_ = total;
}

void CpuPlan::build_dft_bases() {
    const Geometry& g = g_;
    const int64_t total = basis_floats_;
    if (total == 0) return;
    basis_storage_.reset(static_cast<float*>(std::aligned_alloc(64, size_t(total) * sizeof(float))));
    if (!basis_storage_) throw std::bad_alloc();
    // Exact twiddle tables in double: cos, sin(2 pi m / L), exact at quarter turns.
    auto table = [](int64_t L, std::vector<double>& c, std::vector<double>& sn) {
        c.resize(size_t(L));
        sn.resize(size_t(L));
        for (int64_t m = 0; m < L; ++m) unit_root(m, L, &c[size_t(m)], &sn[size_t(m)]);
    };
    std::vector<double> cos_h, sin_h, cos_w, sin_w;
    table(g.LH, cos_h, sin_h);
    table(g.LW, cos_w, sin_w);
    // 1 / (LH LW): the transforms are unnormalised (the scale inverse_all applies).
    const float scale = float(1.0 / (double(g.LH) * double(g.LW)));
    for (const DftBases& d : dft_bases_) {
        const Placement& at = d.at;
        float* hb = basis_storage_.get() + d.h;
        for (int64_t a = 0; a < at.rows; ++a)
            for (int64_t u = 0; u < d.U; ++u) {
                const int64_t m = ((at.r0 + a * at.rs) * u) % g.LH;
                hb[(a * d.U + u) * 2] = float(cos_h[size_t(m)]);
                hb[(a * d.U + u) * 2 + 1] = float(sin_h[size_t(m)]);
            }
        if (d.w >= 0) {
            float* wb = basis_storage_.get() + d.w;
            for (int64_t j = 0; j < at.cols; ++j)
                for (int64_t s = 0; s < d.kcf; ++s) {
                    const int64_t m = ((at.c0 + j * at.cs) * s) % g.LW;
                    wb[(j * d.kcf + s) * 2] = float(cos_w[size_t(m)]);
                    wb[(j * d.kcf + s) * 2 + 1] = float(-sin_w[size_t(m)]);
                }
        }
        if (d.b >= 0) {
            float* bb = basis_storage_.get() + d.b;
            for (int64_t s = 0; s < d.kci; ++s) {
                const double wgt = (s == 0 || 2 * s == g.LW ? 1.0 : 2.0) * double(scale);
                for (int64_t j = 0; j < at.cols; ++j) {
                    const int64_t m = (s * (at.c0 + j * at.cs)) % g.LW;
                    bb[(s * at.cols + j) * 2] = float(wgt * cos_w[size_t(m)]);
                    bb[(s * at.cols + j) * 2 + 1] = float(-wgt * sin_w[size_t(m)]);
                }
            }
        }
    }
}

const DftBases& CpuPlan::dft_bases(const Placement& at, int64_t kc, int64_t U, bool inverse) const {
    for (const DftBases& d : dft_bases_)
        if (d.at == at && U <= d.U && kc <= (inverse ? d.kci : d.kcf)) return d;
    // The constructor enumerates every (placement, box) an execute can take by DFT.
    throw std::logic_error("bandlimit: no DFT bases for this placement and box (internal error)");
}

void CpuPlan::transform_all_dft(const float* src, int64_t planes, const Placement& at, const Box& b,
                                   Spectrum out, float* ws, int64_t tr) const {
    constexpr int64_t L = kDftLanes;
    const Geometry& g = g_;
    const int64_t rows = at.rows, cols = at.cols, plane = rows * cols;
    const int64_t kc = b.kw + 1, U = cpu::dft_row_freqs(g.LH, b);
    // Bases (built at plan creation): w[j][s] = e^{-2 pi i s c_j / LW} as (cos, -sin);
    // h[a][u] = (cos, sin)(2 pi u r_a / LH).
    const DftBases& bases = dft_bases(at, kc, U, /*inverse=*/false);
    const float* wb = basis(bases.w);
    const float* hb = basis(bases.h);
    const DftKernels kern = dft_kernels_for_path(context_->cpu_path());
    const int64_t blocks = (planes + L - 1) / L;
    const BatchFftKernels lanes = batch_fft_kernels_for_path(context_->cpu_path());  // the lane transposes
    const double flops = double(planes) * cpu::executed_forward_dft_flops(g, rows, cols, b);
    const int th = threads_for(double(blocks) * kDftNsPerBlock + flops * kDftNsPerFlop);
    const bool stream = cpu::stream_spectrum(kept_count(g, b), out.items);
    const int64_t per = tr > 0 ? planes / tr : 0;
    const int64_t pq_floats = align_up(U * kc * 4 * L);
    if (tr > 0 && dft_tile_planes(plane) == L && tr % L == 0 && per % L == 0) {
        // Tiles of 16 x 16 items or 16 x 64 (see kDftTileMaxPlane): items b * per + a for 16 (or
        // 64) consecutive a (the lanes of 1 or 4 blocks) and 16 consecutive b, plane a * tr + b:
        // lane a's 16 planes are contiguous.
        int64_t groups = dft_tile_groups(plane, pq_floats);
        while (per % (groups * L) != 0) --groups;
        const int64_t a_tiles = per / (groups * L), tiles = a_tiles * (tr / L);
        parallel_for(tiles, th, [&](int64_t t, int tid) {
            const int64_t b0 = (t / a_tiles) * L, a0 = (t % a_tiles) * groups * L;
            float* S = thread_scratch(ws, tid);  // groups x [16 b][plane][16 a]
            float* T = S + align_up(plane * L * L * groups);
            float* PQ = T + align_up(rows * kc * 2 * L);  // groups x [U][kc][4][16]
            const float* lane_src[L];
            for (int64_t gi = 0; gi < groups; ++gi) {
                for (int64_t p = 0; p < L; ++p) lane_src[p] = src + ((a0 + gi * L + p) * tr + b0) * plane;
                lanes.gather(lane_src, L * plane, S + gi * L * plane * L);
            }
            for (int64_t bb = 0; bb < L; ++bb) {
                const int64_t item0 = (b0 + bb) * per + a0;
                for (int64_t gi = 0; gi < groups; ++gi)
                    kern.forward(S + (gi * L + bb) * plane * L, rows, cols, kc, U, wb, bases.kcf, hb, bases.U, T,
                                 PQ + gi * pq_floats);
                kern.recombine(PQ, g.LH, b, out.re + item0, out.im + item0, out.items, L, stream, groups, pq_floats);
            }
        });
        return;
    }
    parallel_for(blocks, th, [&](int64_t blk, int tid) {
        float* S = thread_scratch(ws, tid);
        float* T = S + align_up(plane * L);
        float* PQ = T + align_up(rows * kc * 2 * L);
        const int64_t item0 = blk * L, valid = std::min(L, planes - item0);
        gather_block(lanes, src, planes, plane, item0, valid, tr, S);
        kern.forward(S, rows, cols, kc, U, wb, bases.kcf, hb, bases.U, T, PQ);
        kern.recombine(PQ, g.LH, b, out.re + item0, out.im + item0, out.items, valid, stream, 1, 0);
    });
}

void CpuPlan::inverse_all_dft(Spectrum in, int64_t planes, const Box& b, const Placement& at,
                                 const float* bias, int64_t bias_period, float* dst, float* ws,
                                 int64_t tr) const {
    constexpr int64_t L = kDftLanes;
    const Geometry& g = g_;
    const int64_t rows = at.rows, cols = at.cols, plane = rows * cols;
    const int64_t kc = b.kw + 1, U = cpu::dft_row_freqs(g.LH, b);
    // Bases (built at plan creation): h[a][u] = (cos, sin)(2 pi u r_a / LH); bb[s][c] =
    // weight_s / (LH LW) times (cos, -sin)(2 pi s c_j / LW), weight 1 for column 0 and LW/2,
    // 2 otherwise (Hermitian); the scale is inverse_all's.
    const DftBases& bases = dft_bases(at, kc, U, /*inverse=*/true);
    const float* hb = basis(bases.h);
    const float* bb = basis(bases.b);
    const DftKernels kern = dft_kernels_for_path(context_->cpu_path());
    const int64_t blocks = (planes + L - 1) / L;
    const BatchFftKernels lanes = batch_fft_kernels_for_path(context_->cpu_path());  // the lane transposes
    const double flops = double(planes) * cpu::executed_inverse_dft_flops(g, rows, cols, b);
    const int th = threads_for(double(blocks) * kDftNsPerBlock + flops * kDftNsPerFlop);
    parallel_for(blocks, th, [&](int64_t blk, int tid) {
        float* SD = thread_scratch(ws, tid);
        float* G = SD + align_up(U * kc * 4 * L);
        float* Y = G + align_up(rows * kc * 2 * L);
        const int64_t item0 = blk * L, valid = std::min(L, planes - item0);
        kern.presum(in.re + item0, in.im + item0, in.items, valid, g.LH, b, U, SD);
        kern.inverse(SD, rows, cols, kc, U, hb, bases.U, bb, G, Y);
        scatter_block(lanes, Y, planes, plane, item0, valid, tr, bias, bias_period, dst);
    });
}

void CpuPlan::transform_all_bfft(const float* src, int64_t planes, const Placement& at, const Box& b,
                                 Spectrum out, float* ws, int64_t tr) const {
    constexpr int64_t L = kFftLanes;
    const int64_t plane = at.rows * at.cols;
    const Fft2dBlock blk = fft_block(at, b);
    const BatchFftKernels kern = batch_fft_kernels_for_path(context_->cpu_path());
    const int64_t blocks = (planes + L - 1) / L;
    const double flops = double(planes) * cpu::executed_forward_transform_flops(g_, at.rows, b.kw + 1);
    const int th = threads_for(double(blocks) * kBfftNsPerBlock + flops * kBfftNsPerFlop);
    const bool stream = cpu::stream_spectrum(kept_count(g_, b), out.items);
    parallel_for(blocks, th, [&](int64_t blk_index, int tid) {
        float* S = thread_scratch(ws, tid);
        const int64_t item0 = blk_index * L, valid = std::min(L, planes - item0);
        gather_block(kern, src, planes, plane, item0, valid, tr, S);
        kern.forward_2d(blk, S, out.re + item0, out.im + item0, out.items, valid, stream, S + t_bfft_);
    });
}

void CpuPlan::inverse_all_bfft(Spectrum in, int64_t planes, const Box& b, const Placement& at,
                               const float* bias, int64_t bias_period, float* dst, float* ws,
                               int64_t tr) const {
    constexpr int64_t L = kFftLanes;
    const int64_t plane = at.rows * at.cols;
    const float scale = float(1.0 / (double(g_.LH) * double(g_.LW)));
    const Fft2dBlock blk = fft_block(at, b);
    const BatchFftKernels kern = batch_fft_kernels_for_path(context_->cpu_path());
    const int64_t blocks = (planes + L - 1) / L;
    const double flops = double(planes) * cpu::executed_inverse_transform_flops(g_, at.rows, b.kw + 1);
    const int th = threads_for(double(blocks) * kBfftNsPerBlock + flops * kBfftNsPerFlop);
    parallel_for(blocks, th, [&](int64_t blk_index, int tid) {
        float* Y = thread_scratch(ws, tid);
        const int64_t item0 = blk_index * L, valid = std::min(L, planes - item0);
        kern.inverse_2d(blk, in.re + item0, in.im + item0, in.items, valid, scale, Y, Y + t_bfft_);
        scatter_block(kern, Y, planes, plane, item0, valid, tr, bias, bias_period, dst);
    });
}

int64_t CpuPlan::dw_tile_rows(const Box& b) const {
    const Geometry& g = g_;
    const int64_t kept = kept_count(g, b);
    if (g.C % kDftLanes != 0 || !cpu::use_inverse_dft(g, w_at_.rows, w_at_.cols, b) ||
        2 * kept * g.F * g.C * int64_t(sizeof(float)) < cpu::kDwTileMinBytes)
        return 0;
    const int64_t cols = dw_tile_cols();
    const int64_t rows = (kDwTileFloats / (2 * kept * cols)) / 4 * 4;  // whole MR = 4 row blocks
    if (rows < 4 || rows * cols < kDwTileMinItems) return 0;
    // As many filter tiles as the largest rows need, or more so that every thread gets as many
    // tiles (7 tiles on 2 threads left one idle for a seventh of the loop), the filters spread
    // evenly over them (512 filters in tiles of 168 left a last tile of 8).
    const int64_t c_tiles = (g.C + cols - 1) / cols, max_tiles = (g.F + 3) / 4;
    int64_t tiles = (g.F + rows - 1) / rows;
    while ((tiles * c_tiles) % slots_ != 0 && tiles < max_tiles) ++tiles;
    return std::min(rows, ((g.F + tiles - 1) / tiles + 3) / 4 * 4);
}

void CpuPlan::weight_gradient_tiled(Spectrum dY, Spectrum X, int64_t n, const Box& b, float* dw, float* ws) const {
    constexpr int64_t L = kDftLanes;
    const Geometry& g = g_;
    const int64_t kept = kept_count(g, b), Fb = dw_tile_rows(b), Cb = dw_tile_cols();
    const int64_t f_tiles = (g.F + Fb - 1) / Fb, c_tiles = (g.C + Cb - 1) / Cb;
    const int64_t rows = w_at_.rows, cols = w_at_.cols, plane = rows * cols;
    const int64_t kc = b.kw + 1, U = cpu::dft_row_freqs(g.LH, b);
    const DftBases& bases = dft_bases(w_at_, kc, U, /*inverse=*/true);
    const float* hb = basis(bases.h);
    const float* bb = basis(bases.b);
    const DftKernels kern = dft_kernels_for_path(context_->cpu_path());
    const BatchFftKernels lanes = batch_fft_kernels_for_path(context_->cpu_path());
    const CgemmFn gemm = cgemm_for_path(context_->cpu_path());
    const double flops = double(kept) * cpu::executed_gauss_product_flops(g.F, g.C, n) +
                         double(g.F * g.C) * cpu::executed_inverse_dft_flops(g, rows, cols, b);
    const int th = threads_for(double(f_tiles * c_tiles) * kDftNsPerBlock + flops * kDftNsPerFlop);
    const float zero_bias[L] = {};
    parallel_for(f_tiles * c_tiles, th, [&](int64_t t, int tid) {
        const int64_t f0 = (t / c_tiles) * Fb, c0 = (t % c_tiles) * Cb;
        const int64_t fr = std::min(Fb, g.F - f0), cw = std::min(Cb, g.C - c0), items = fr * cw;
        float* scratch = thread_scratch(ws, tid);
        Spectrum T = spectrum_at(scratch + t_dw_tile_, kept, items);  // [k][fi][ci] of the tile
        for (int64_t k = 0; k < kept; ++k) {
            // dW^[f][c] = sum_n conj(dY^[f][n]) X^[n][c] on rows f0.., columns c0..
            const Operand a{dY.re + k * dY.items + f0 * n, dY.im + k * dY.items + f0 * n, n, 1, true};
            const Operand x{X.re + k * X.items + c0, X.im + k * X.items + c0, g.C, 1, false};
            gemm(fr, cw, n, a, x, T.re + k * items, T.im + k * items, scratch + t_gemm_, false);
        }
        float* SD = scratch;
        float* G = SD + align_up(U * kc * 4 * L);
        float* Y = G + align_up(rows * kc * 2 * L);
        for (int64_t it = 0; it < items; it += L) {  // 16 channels of one filter (cw % 16 == 0)
            const int64_t fi = it / cw, ci = it % cw;
            kern.presum(T.re + it, T.im + it, T.items, L, g.LH, b, U, SD);
            kern.inverse(SD, rows, cols, kc, U, hb, bases.U, bb, G, Y);
            float* lane_dst[L];
            for (int64_t p = 0; p < L; ++p) lane_dst[p] = dw + ((f0 + fi) * g.C + c0 + ci + p) * plane;
            lanes.scatter(Y, plane, lane_dst, zero_bias);
        }
    });
}

void CpuPlan::product_all(int64_t kept, int64_t m, int64_t n, int64_t p, Operand a, Operand b,
                             Spectrum out, int64_t a_block, int64_t b_block, float* ws, bool stream) const {
    // One complex (m x p)(p x n) product per kept frequency (3-mult form, cgemm.h); the
    // reduction over p is fused. Threads split the frequencies, never a reduction, so the bits
    // do not depend on the thread count. The CPU path is read once per call.
    BL_STAGE(product);
    const CgemmFn gemm = cgemm_for_path(context_->cpu_path());
    const double flops = double(kept) * cpu::executed_gauss_product_flops(m, n, p);
    const int th = threads_for(double(kept) * kProductNsPerFrequency + flops * kProductNsPerFlop);
    parallel_for(kept, th, [&](int64_t k, int tid) {
        Operand ak = a, bk = b;
        ak.re += k * a_block;
        ak.im += k * a_block;
        bk.re += k * b_block;
        bk.im += k * b_block;
        float* scratch = thread_scratch(ws, tid) + t_gemm_;
        gemm(m, n, p, ak, bk, out.re + k * out.items, out.im + k * out.items, scratch, stream);
    });
}

void CpuPlan::forward(const ForwardArgs& a) const {
    const Geometry& g = g_;
    float* ws = base(a.workspace);
    const int64_t n = a.n;
    const Placement& x_at = x_at_;
    const Placement& w_at = w_at_;
    const Placement& y_at = y_at_;

    float* saved_floats = a.saved ? reinterpret_cast<float*>(a.saved + kSavedHeaderBytes) : nullptr;
    Box b = cap_box_;
    Spectrum X{};
    if (energy_mode_) {
        // Energy mode: transform at the full box, sum
        // Parseval-weighted energies per coefficient in float64, pick the box, then gather the
        // kept coefficients into the destination layout.
        const Box full = cap_box_;
        const int64_t kc = full.kw + 1, rows = kept_rows(g.LH, full);
        const int64_t items = n * g.C;
        Spectrum Xf = spectrum_at(ws + off_x_, kept_count(g, full), items);
        {
            BL_STAGE(transform_x);
            transform_all(a.x, items, x_at, full, Xf, ws);
        }
        BL_STAGE(energy);
        double* energy = reinterpret_cast<double*>(ws + off_energy_);
        double* prefix = reinterpret_cast<double*>(ws + off_prefix_);
        const bool even_w = g.LW % 2 == 0;
        const int th = threads_for(double(rows * kc * items) * kEnergyNsPerTerm);
        parallel_for(rows, th, [&](int64_t i, int) {
            for (int64_t c = 0; c < kc; ++c) {
                const int64_t k = i * kc + c;
                double e = 0;
                for (int64_t j = 0; j < items; ++j) {
                    const double re = Xf.re[k * items + j], im = Xf.im[k * items + j];
                    e += re * re + im * im;
                }
                const bool once = c == 0 || (even_w && c == g.LW / 2);
                energy[kept_row(g.LH, full, i) * g.half_w + c] = once ? e : 2 * e;
            }
        });
        b = energy_box(g, chain_, energy_fraction_, energy, prefix);
        const int64_t kb = kept_count(g, b);
        X = spectrum_at(saved_floats ? saved_floats : ws + off_out_, kb, items);
        const int64_t kcb = b.kw + 1, rows_b = kept_rows(g.LH, b);
        for (int64_t i = 0; i < rows_b; ++i) {
            const int64_t r = kept_row(g.LH, b, i);
            const int64_t i_full = r <= full.kh ? r : rows - (g.LH - r);
            for (int64_t c = 0; c < kcb; ++c) {
                const int64_t k = i * kcb + c, kf = i_full * kc + c;
                std::memcpy(X.re + k * items, Xf.re + kf * items, sizeof(float) * items);
                std::memcpy(X.im + k * items, Xf.im + kf * items, sizeof(float) * items);
            }
        }
    } else {
        X = spectrum_at(saved_floats ? saved_floats : ws + off_x_, kept_count(g, b), n * g.C);
        BL_STAGE(transform_x);
        transform_all(a.x, n * g.C, x_at, b, X, ws);
    }
    const int64_t kept = kept_count(g, b);
    float* w_base = (saved_floats && mode_ == BL_SPECTRA_INPUT_AND_WEIGHT)
                        ? saved_floats + spectrum_floats(kept, n * g.C)
                        : ws + off_w_;
    Spectrum Wk = spectrum_at(w_base, kept, g.F * g.C);
    {
        BL_STAGE(transform_w);
        transform_all(a.w, g.F * g.C, w_at, b, Wk, ws, /*tr=*/g.C);  // W^ stored [c][f]
    }

    if (spatial(BL_PASS_FORWARD, n, b)) {
        spatial_forward(g, n, band_limited_input(X, n, b, ws), a.w, a.bias, a.y, threads(), context_->cpu_path());
        *a.box_used = b;
        return;
    }
    // Y^[n][f] = sum_c X^[n][c] conj(W^[c][f])
    Spectrum Y = spectrum_at(ws + off_y_, kept, n * g.F);
    product_all(kept, n, g.F, g.C, Operand{X.re, X.im, g.C, 1, false},
                Operand{Wk.re, Wk.im, g.F, 1, true}, Y, n * g.C, g.F * g.C, ws);
    inverse_all(Y, n * g.F, b, y_at, a.bias, g.F, a.y, ws);
    *a.box_used = b;
}

void CpuPlan::backward(const BackwardArgs& a) const {
    const Geometry& g = g_;
    float* ws = base(a.workspace);
    const int64_t n = a.n;
    const Box b = a.box;
    const int64_t kept = kept_count(g, b);
    const Placement& dy_at = y_at_;

    if (a.db) {
        // grad bias = sum over n, i, j of dy in float64: one filter per index, eight partial
        // sums (lane j mod 8 of each plane) combined in a fixed order, so the result does not
        // depend on the threads. (One serial sum took ~1 ms a step on the MNIST model's conv1.)
        const int64_t plane = g.Ho * g.Wo;
        parallel_for(g.F, threads_for(1.0 * double(n) * double(g.F) * double(plane)), [&](int64_t f, int) {
            // Blocks of 64 values are summed in float first (8 partial sums of 8 terms each, a
            // loop the compiler vectorises), then added to the float64 lanes: converting every
            // value to double cost ~0.3 ms a step on the MNIST model.
            double lanes[8] = {};
            for (int64_t i = 0; i < n; ++i) {
                const float* d = a.dy + (i * g.F + f) * plane;
                int64_t j = 0;
                for (; j + 64 <= plane; j += 64) {
                    float block[8] = {};
                    for (int t = 0; t < 64; t += 8)
                        for (int l = 0; l < 8; ++l) block[l] += d[j + t + l];
                    for (int l = 0; l < 8; ++l) lanes[l] += double(block[l]);
                }
                for (; j + 8 <= plane; j += 8)
                    for (int l = 0; l < 8; ++l) lanes[l] += d[j + l];
                for (int l = 0; j + l < plane; ++l) lanes[l] += d[j + l];
            }
            double s = 0;
            for (double v : lanes) s += v;
            a.db[f] = float(s);
        });
    }
    if (!a.dx && !a.dw) return;

    const float* saved_floats = reinterpret_cast<const float*>(a.saved + kSavedHeaderBytes);
    Spectrum X = spectrum_at(const_cast<float*>(saved_floats), kept, n * g.C);
    const bool spatial_dw = a.dw && spatial(BL_PASS_BACKWARD_WEIGHTS, n, b);
    if (spatial_dw)
        spatial_weights(g, n, band_limited_input(X, n, b, ws), a.dy, a.dw, threads(), context_->cpu_path());
    if (!a.dx && (!a.dw || spatial_dw)) return;
    // dy is zero-extended from the strided output grid onto LH x LW (stride: scattered every s).
    Spectrum dY = spectrum_at(ws + off_y_, kept, n * g.F);
    {
        BL_STAGE(transform_dy);
        transform_all(a.dy, n * g.F, dy_at, b, dY, ws, /*tr=*/g.F);  // dY^ stored [f][n]
    }

    if (a.dx) {
        Spectrum Wk{};
        if (mode_ == BL_SPECTRA_INPUT_AND_WEIGHT) {
            Wk = spectrum_at(const_cast<float*>(saved_floats) + spectrum_floats(kept, n * g.C), kept,
                             g.F * g.C);
        } else {
            Wk = spectrum_at(ws + off_w_, kept, g.F * g.C);
            BL_STAGE(transform_w);
            transform_all(a.w, g.F * g.C, w_at_, b, Wk, ws, /*tr=*/g.C);
        }
        // dX^T[c][n] = sum_f W^[c][f] dY^[f][n]  (dX^ stored [c][n])
        Spectrum dX = spectrum_at(ws + off_out_, kept, n * g.C);
        product_all(kept, g.C, n, g.F, Operand{Wk.re, Wk.im, g.F, 1, false},
                    Operand{dY.re, dY.im, n, 1, false}, dX, g.F * g.C, n * g.F, ws);
        inverse_all(dX, n * g.C, b, x_at_, nullptr, 1, a.dx, ws, /*tr=*/g.C);
    }
    if (a.dw && !spatial_dw && dw_tile_rows(b) > 0) {
        // The stage timers time whole loops from the calling thread: the fused loop counts as
        // the product stage, its inverse transforms included.
        BL_STAGE(product);
        weight_gradient_tiled(dY, X, n, b, a.dw, ws);
    } else if (a.dw && !spatial_dw) {
        // dW^[f][c] = sum_n conj(dY^[f][n]) X^[n][c]
        Spectrum dW = spectrum_at(ws + off_out_, kept, g.F * g.C);
        product_all(kept, g.F, g.C, n, Operand{dY.re, dY.im, n, 1, true},
                    Operand{X.re, X.im, g.C, 1, false}, dW, n * g.F, n * g.C, ws,
                    cpu::stream_product(kept, g.F * g.C));
        inverse_all(dW, g.F * g.C, b, w_at_, nullptr, 1, a.dw, ws);
    }
}

class CpuBackend final : public Backend {
public:
    bl_backend kind() const override { return BL_BACKEND_CPU; }
    const char* name() const override { return "cpu"; }
    const BackendStatus& status() const override {
        static const BackendStatus available{true, ""};
        return available;
    }
    bl_memory_kind buffer_memory() const override { return BL_MEMORY_HOST; }
    bl_status check_context(const bl_context_options& o) const override {
        if (o.device != 0)
            return fail(BL_ERR_INVALID_ARGUMENT, "options.device",
                        "options.device must be 0 for the CPU backend, got " + std::to_string(o.device));
        if (o.stream)
            return fail(BL_ERR_INVALID_ARGUMENT, "options.stream", "options.stream must be NULL for the CPU backend");
        return BL_OK;
    }
    bl_status create_plan(const Plan& plan, const std::shared_ptr<const Context>& context,
                          std::unique_ptr<BackendPlan>* out) const override {
        if (plan.product == BL_PRODUCT_SPATIAL && !cpu::spatial_allowed(plan.geometry))
            return fail(BL_ERR_UNSUPPORTED, "options.product",
                        "options.product: the spatial product needs stride 1 and at most " +
                            std::to_string(kSpatialMaxTaps) + " kernel taps");
        auto built = std::make_unique<CpuPlan>(plan, context);
        built->build_tables();
        *out = std::move(built);
        return BL_OK;
    }
    bl_status estimate_plan(const Plan& plan, const Context&, PlanBytes* out) const override {
        // The layout of the plan create_plan would build, without its tables (microseconds).
        const CpuPlan layout(plan, plan.context);
        *out = PlanBytes{layout.estimated_table_bytes(), layout.workspace_bytes(), false};
        return BL_OK;
    }
    const LayerOps* layer_ops() const override { return &cpu_layer_ops(); }
    bl_status buffer_alloc(const Context&, int64_t bytes, void** out) const override {
        // Rounded up to the alignment in size_t (bytes >= 1 here): INT64_MAX + 63 overflowed
        // int64_t (UBSan, found by the fuzz driver); aligned_alloc then refuses the size.
        const size_t rounded = (size_t(bytes) + 63) / 64 * 64;
        void* p = std::aligned_alloc(64, rounded);
        if (!p)
            return fail(BL_ERR_OUT_OF_MEMORY, "bytes", "bytes: cannot allocate " + std::to_string(bytes) + " bytes of host memory");
        *out = p;
        return BL_OK;
    }
    bl_status buffer_free(const Context&, void* buffer) const override {
        std::free(buffer);
        return BL_OK;
    }
    bl_status buffer_copy(const Context&, void* dst, const void* src, int64_t bytes, bl_copy_kind) const override {
        std::memmove(dst, src, size_t(bytes));
        return BL_OK;
    }
    bl_status synchronize(const Context&) const override { return BL_OK; }
    bl_status buffer_zero(const Context&, void* buffer, int64_t bytes) const override {
        std::memset(buffer, 0, size_t(bytes));
        return BL_OK;
    }
};

}  // namespace

const Backend& cpu_backend() {
    static const CpuBackend backend;
    return backend;
}

}  // namespace bl
