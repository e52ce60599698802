// tests/test_cuda.cpp — the CUDA backend, checked against the CPU.
//
// Two kinds of test:
//   [cuda-logic]  run everywhere, GPU or not: the host-side logic of cuda/ that is plain C++ —
//                 the allocator's size classes, launch sizes, the offsets of strided operands,
//                 the reduction split, the row-major-to-cuBLAS operand swap (checked by
//                 running its arguments through a column-major GEMM written from the BLAS
//                 definition), and cat, stack and the scatters as copies into views — plus, in a
//                 CUDA build, that every op has its kernel and that a machine without a GPU gets
//                 clear errors, not crashes.
//   [cuda]        need a GPU: every kernel against the CPU reference on random inputs (with
//                 broadcasting and sizes that are not multiples of any tile), every rung of the
//                 matmul ladder, gradients through the eager engine, and MLP training, eager
//                 and as a graph session placed on the GPU, that must give the CPU's losses. Where there is no GPU (or no CUDA backend) each one says
//                 "no CUDA device: skipping" and returns.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <string>
#include <tuple>
#include <vector>

#include "autograd/grad_mode.h"
#include "core/ops/matmul.h"
#include "cuda/allocator.h"
#include "cuda/cuda.h"
#include "cuda/gemm_plan.h"
#include "cuda/launch.h"
#include "tandem.h"

using namespace tandem;

// ==== [cuda-logic]: host-side logic, no GPU needed ====================================================

TEST_CASE("cuda allocator: size classes round up to 512 B, then to quarter powers of two", "[cuda-logic]") {
  constexpr size_t MiB = size_t{1} << 20;
  CHECK(cuda::size_class(0) == 512);  // an empty tensor still gets a real block
  CHECK(cuda::size_class(1) == 512);
  CHECK(cuda::size_class(512) == 512);
  CHECK(cuda::size_class(513) == 1024);
  CHECK(cuda::size_class(1000) == 1024);
  CHECK(cuda::size_class(MiB) == MiB);
  // 1 MiB < n <= 2 MiB: steps of 2^20 / 4 = 256 KiB.
  CHECK(cuda::size_class(MiB + 1) == MiB + MiB / 4);
  CHECK(cuda::size_class(MiB + MiB / 2) == MiB + MiB / 2);
  CHECK(cuda::size_class(2 * MiB) == 2 * MiB);
  // 2 MiB < n <= 4 MiB: steps of 512 KiB.
  CHECK(cuda::size_class(2 * MiB + 1) == 2 * MiB + MiB / 2);
  // 2^26 < 10^8 <= 2^27: steps of 2^24 = 16777216; ceil(10^8 / 2^24) = 6.
  CHECK(cuda::size_class(100000000) == 6 * 16777216);
  // Always enough, a multiple of 512, and at most 25% (or 511 bytes) more than asked.
  for (size_t n = 1; n < 64 * MiB; n = n * 3 / 2 + 7) {
    const size_t s = cuda::size_class(n);
    CHECK(s >= n);
    CHECK(s % 512 == 0);
    CHECK(s - n <= std::max<size_t>(511, n / 4));
  }
}

TEST_CASE("cuda launch: grid and block sizes", "[cuda-logic]") {
  CHECK(cuda::blocks_for(0) == 1);
  CHECK(cuda::blocks_for(1) == 1);
  CHECK(cuda::blocks_for(256) == 1);
  CHECK(cuda::blocks_for(257) == 2);
  CHECK(cuda::blocks_for(int64_t{1} << 40) == cuda::kMaxBlocks);  // the grid-stride loop does the rest
  CHECK(cuda::blocks_for(1000, 128) == 8);
  CHECK(cuda::row_threads(0) == 32);
  CHECK(cuda::row_threads(10) == 32);
  CHECK(cuda::row_threads(33) == 64);
  CHECK(cuda::row_threads(256) == 256);
  CHECK(cuda::row_threads(100000) == 256);
}

namespace {
// The reference for OffsetCalc: for element `linear` of `shape` (row-major), the offset
// Σ_d index_d · strides[d], with the multi-index computed digit by digit and no merging.
int64_t reference_offset(const Shape& shape, const Strides& strides, int64_t linear) {
  int64_t off = 0;
  for (size_t d = shape.size(); d-- > 0;) {
    off += (linear % shape[d]) * strides[d];
    linear /= shape[d];
  }
  return off;
}
}  // namespace

TEST_CASE("cuda launch: OffsetCalc finds the element of every operand, broadcast or strided", "[cuda-logic]") {
  struct Case {
    Shape shape;
    std::array<Strides, 3> strides;  // out, a, b
  };
  const std::vector<Case> cases = {
      // [3, 4] = [3, 1] * [4]: a broadcasts along dim 1, b along dim 0.
      {{3, 4}, {Strides{4, 1}, Strides{1, 0}, Strides{0, 1}}},
      // a transposed [5, 6] view (strides 1, 5), b a slice with step 2 of a [5, 12] matrix.
      {{5, 6}, {Strides{6, 1}, Strides{1, 5}, Strides{12, 2}}},
      // [2, 3, 4] with a middle broadcast and b a permuted contiguous [4, 3, 2].
      {{2, 3, 4}, {Strides{12, 4, 1}, Strides{4, 0, 1}, Strides{1, 2, 6}}},
      // a 0-dim output: one element, every offset 0.
      {{}, {Strides{}, Strides{}, Strides{}}},
      // sizes 1 anywhere are dropped.
      {{1, 7, 1, 3}, {Strides{21, 3, 3, 1}, Strides{0, 1, 0, 7}, Strides{99, 3, 5, 1}}},
  };
  for (const Case& c : cases) {
    const auto calc = cuda::make_offset_calc<3>(c.shape, c.strides, "test");
    for (int64_t i = 0; i < numel(c.shape); ++i) {
      int64_t off[3];
      calc.get(i, off);
      for (int k = 0; k < 3; ++k) CHECK(off[k] == reference_offset(c.shape, c.strides[k], i));
    }
  }
  // Coalescing: a contiguous [64, 784] tensor and its broadcast bias merge to few dims.
  CHECK(cuda::make_offset_calc<1>({64, 784}, {Strides{784, 1}}, "test").rank == 1);
  CHECK(cuda::make_offset_calc<2>({64, 784}, {Strides{784, 1}, Strides{0, 1}}, "test").rank == 2);
  // Nine dims that cannot merge (a fully reversed layout) exceed kMaxDims: a clear error.
  Shape nine(9, 2);
  Strides reversed(9);
  for (int d = 0; d < 9; ++d) reversed[d] = int64_t{1} << d;
  CHECK_THROWS_WITH((cuda::make_offset_calc<1>(nine, {reversed}, "mul")),
                    Catch::Contains("mul") && Catch::Contains("at most 8 dimensions"));
}

TEST_CASE("cuda launch: reductions put the kept dims first and the reduced dims last", "[cuda-logic]") {
  auto s = cuda::split_reduction({2, 3, 4}, {true, false, true});
  CHECK(s.order == std::vector<int64_t>{1, 0, 2});
  CHECK(s.reorders);
  CHECK(s.outer == 3);
  CHECK(s.inner == 8);
  s = cuda::split_reduction({2, 3, 4}, {false, false, true});  // trailing dim: no permute
  CHECK(s.order == std::vector<int64_t>{0, 1, 2});
  CHECK_FALSE(s.reorders);
  CHECK(s.outer == 6);
  CHECK(s.inner == 4);
  s = cuda::split_reduction({2, 3, 4}, {true, true, true});  // everything: one output
  CHECK_FALSE(s.reorders);
  CHECK(s.outer == 1);
  CHECK(s.inner == 24);
  s = cuda::split_reduction({}, {});  // a 0-dim tensor
  CHECK(s.outer == 1);
  CHECK(s.inner == 1);

  CHECK(cuda::reduced_mask(3, {}) == std::vector<bool>{true, true, true});
  CHECK(cuda::reduced_mask(3, {-1}) == std::vector<bool>{false, false, true});
  CHECK(cuda::reduced_mask(3, {0, 2}) == std::vector<bool>{true, false, true});
  CHECK(cuda::reduced_mask(0, {}).empty());
  // sum_to([2, 3, 4] -> [3, 1]): the missing leading dim and the dim where the target has 1.
  CHECK(cuda::sum_to_mask({2, 3, 4}, {3, 1}) == std::vector<bool>{true, false, true});
  CHECK(cuda::sum_to_mask({2, 1, 4}, {1, 4}) == std::vector<bool>{true, false, false});
}

TEST_CASE("cuda gemm plan: which layouts BLAS reads in place", "[cuda-logic]") {
  auto is = [](std::optional<cuda::BlasMatrix> m, bool transposed, int64_t ld) {
    return m && m->transposed == transposed && m->ld == ld;
  };
  CHECK(is(cuda::blas_matrix(3, 4, 4, 1), false, 4));    // contiguous row-major
  CHECK(is(cuda::blas_matrix(3, 4, 10, 1), false, 10));  // rows of a wider matrix (a column slice)
  CHECK(is(cuda::blas_matrix(3, 4, 1, 3), true, 3));     // a.t() of a contiguous [4, 3]
  CHECK(is(cuda::blas_matrix(1, 4, 0, 1), false, 4));    // a 1-D left operand, a 1 x k row
  CHECK(is(cuda::blas_matrix(1, 4, 0, 5), true, 5));     // the same with a stride: column-major
  CHECK(is(cuda::blas_matrix(4, 1, 3, 0), false, 3));    // a strided 1-D right operand, k x 1
  CHECK_FALSE(cuda::blas_matrix(3, 4, 8, 2));            // a slice with step 2: copy first
  CHECK_FALSE(cuda::blas_matrix(3, 4, 0, 1));            // expanded rows (stride 0): copy first
}

namespace {
// BLAS's definition of gemm (column-major, alpha = 1, beta = 0):
//   C (m x n) = op(A) (m x k) · op(B) (k x n),  X(i, j) of a column-major X at i + j·ld,
//   op(X) = X, or Xᵀ when its flag is set.
void column_major_gemm(const cuda::GemmCall& c, const std::vector<double>& A, const std::vector<double>& B,
                       std::vector<double>& C) {
  for (int64_t i = 0; i < c.m; ++i)
    for (int64_t j = 0; j < c.n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < c.k; ++p) {
        const double a = c.trans_first ? A[p + i * c.ld_first] : A[i + p * c.ld_first];
        const double b = c.trans_second ? B[j + p * c.ld_second] : B[p + j * c.ld_second];
        s += a * b;
      }
      C[i + j * c.ldc] = s;
    }
}

// A rows x cols matrix with values v(i, j) placed at i·rs + j·cs in a buffer whose other slots
// hold NaN, so that reading anywhere else poisons the result.
struct Placed {
  std::vector<double> buffer;
  int64_t rs, cs;
};
Placed place(int64_t rows, int64_t cols, int64_t rs, int64_t cs, const std::function<double(int64_t, int64_t)>& v) {
  Placed p{std::vector<double>(static_cast<size_t>(rows * rs + cols * cs + 1),
                               std::numeric_limits<double>::quiet_NaN()),
           rs, cs};
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) p.buffer[i * rs + j * cs] = v(i, j);
  return p;
}
}  // namespace

TEST_CASE("cuda gemm plan: the operand swap C^T = B^T A^T gives row-major C", "[cuda-logic]") {
  // Layouts of an r x c operand: row-major, row-major with padded rows, column-major (a
  // transposed view), column-major with padding.
  struct Layout {
    const char* name;
    std::function<std::pair<int64_t, int64_t>(int64_t, int64_t)> strides;  // (rows, cols) -> (rs, cs)
  };
  const std::vector<Layout> layouts = {
      {"row-major", [](int64_t, int64_t c) { return std::pair<int64_t, int64_t>{c, 1}; }},
      {"row-major padded", [](int64_t, int64_t c) { return std::pair<int64_t, int64_t>{c + 3, 1}; }},
      {"column-major", [](int64_t r, int64_t) { return std::pair<int64_t, int64_t>{1, r}; }},
      {"column-major padded", [](int64_t r, int64_t) { return std::pair<int64_t, int64_t>{1, r + 2}; }},
  };
  const std::vector<std::array<int64_t, 3>> sizes = {{3, 5, 4}, {1, 5, 4}, {3, 1, 4}, {3, 5, 1}, {1, 1, 7}};
  auto va = [](int64_t i, int64_t p) { return static_cast<double>((i * 5 + p * 3) % 7) - 3.0; };
  auto vb = [](int64_t p, int64_t j) { return static_cast<double>((p * 2 + j * 7) % 9) - 4.0; };
  for (const auto& [m, n, k] : sizes)
    for (const Layout& la : layouts)
      for (const Layout& lb : layouts) {
        INFO("m, n, k = " << m << ", " << n << ", " << k << "; A " << la.name << ", B " << lb.name);
        const auto [ars, acs] = la.strides(m, k);
        const auto [brs, bcs] = lb.strides(k, n);
        const Placed A = place(m, k, ars, acs, va);
        const Placed B = place(k, n, brs, bcs, vb);
        const auto ma = cuda::blas_matrix(m, k, ars, acs);
        const auto mb = cuda::blas_matrix(k, n, brs, bcs);
        REQUIRE(ma);
        REQUIRE(mb);
        const cuda::GemmCall c = cuda::row_major_gemm(m, n, k, *ma, *mb);
        // The argument checks cuBLAS makes (it returns CUBLAS_STATUS_INVALID_VALUE otherwise).
        CHECK(c.ld_first >= std::max<int64_t>(1, c.trans_first ? c.k : c.m));
        CHECK(c.ld_second >= std::max<int64_t>(1, c.trans_second ? c.n : c.k));
        CHECK(c.ldc >= std::max<int64_t>(1, c.m));
        // cuBLAS's first operand is our B, its second our A; its column-major C is row-major C.
        std::vector<double> C(static_cast<size_t>(m * n), std::numeric_limits<double>::quiet_NaN());
        column_major_gemm(c, B.buffer, A.buffer, C);
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n; ++j) {
            double expected = 0;
            for (int64_t p = 0; p < k; ++p) expected += va(i, p) * vb(p, j);
            CHECK(C[i * n + j] == expected);
          }
      }
}

TEST_CASE("cuda gemm plan: batches a fixed stride apart, or broadcast with stride 0", "[cuda-logic]") {
  CHECK(cuda::uniform_batch_stride({4, 3}, {36, 12}) == std::optional<int64_t>(12));  // back to back
  CHECK(cuda::uniform_batch_stride({4, 3}, {0, 0}) == std::optional<int64_t>(0));     // one matrix for all
  CHECK(cuda::uniform_batch_stride({4, 1, 3}, {36, 999, 12}) == std::optional<int64_t>(12));  // size 1 ignored
  CHECK(cuda::uniform_batch_stride({5}, {7}) == std::optional<int64_t>(7));
  CHECK(cuda::uniform_batch_stride({}, {}) == std::optional<int64_t>(0));
  CHECK_FALSE(cuda::uniform_batch_stride({4, 3}, {12, 0}));  // repeats inside the batch
  CHECK_FALSE(cuda::uniform_batch_stride({4, 3}, {0, 12}));
  CHECK_FALSE(cuda::uniform_batch_stride({4, 3}, {24, 12}));  // gaps between groups
}

namespace {
// What copy_on_device (cuda/elementwise.cu) does on the GPU, done here on the CPU: one "thread" per
// element t of dst, OffsetCalc finding element t in dst and in src, from the pointers of the two
// tensors (which include a view's offset). float32 only.
void copy_like_the_gpu(const Tensor& src, const Tensor& dst) {
  const auto calc = cuda::make_offset_calc<2>(
      dst.shape(), {dst.strides(), broadcast_strides(src.shape(), src.strides(), dst.shape())},
      "test");
  float* d = dst.data<float>();
  const float* s = src.data<float>();
  for (int64_t t = 0; t < dst.numel(); ++t) {
    int64_t off[2];
    calc.get(t, off);
    d[off[0]] = s[off[1]];
  }
}
}  // namespace

TEST_CASE("cuda join: cat, stack and the scatters are copies into views of the output",
          "[cuda-logic]") {
  // cuda/join.cu writes each input into a window of the output (narrow, select, slice: views) with
  // the strided copy. The same plan, run on the CPU, must give the CPU ops' results, whatever the
  // inputs' layouts: contiguous, transposed, a slice with a step, broadcast.
  manual_seed(15);
  const Tensor a = randn({4, 6, 5});
  const Tensor b = randn({4, 5, 3}).transpose(1, 2);      // [4, 3, 5]
  const Tensor c = randn({4, 2, 10}).slice(2, 0, 10, 2);  // [4, 2, 5]
  const Tensor d = randn({1, 1, 5}).expand({4, 1, 5});
  Tensor out = empty({4, 12, 5});
  int64_t at = 0;
  for (const Tensor& t : {a, b, c, d}) {
    copy_like_the_gpu(t, out.narrow(1, at, t.size(1)));
    at += t.size(1);
  }
  CHECK(equal(out, cat({a, b, c, d}, 1)));

  const Tensor e = randn({4, 5, 6}).transpose(1, 2);  // [4, 6, 5], like a
  out = empty({4, 6, 5, 2});
  copy_like_the_gpu(a, out.select(3, 0));
  copy_like_the_gpu(e, out.select(3, 1));
  CHECK(equal(out, stack({a, e}, 3)));

  const Tensor x = randn({9, 10}), src = randn({4, 9}).t();  // src fills columns 1, 3, 5, 7
  out = empty({9, 10});
  copy_like_the_gpu(x, out);
  copy_like_the_gpu(src, out.slice(1, 1, 9, 2));
  CHECK(equal(out, slice_scatter(x, src, 1, 1, 9, 2)));

  const Tensor row = randn({20}).slice(0, 0, 20, 2);  // 10 values, a step of 2
  out = empty({9, 10});
  copy_like_the_gpu(x, out);
  copy_like_the_gpu(row, out.select(0, 4));
  CHECK(equal(out, select_scatter(x, row, 0, 4)));
}

#ifdef TANDEM_HAVE_CUDA

TEST_CASE("cuda backend: kernels registered at start-up, and a machine without a GPU gets clear errors",
          "[cuda-logic]") {
  // The static registrars of cuda/ ran (and the linker kept them: programs link the whole
  // library): every compute op of the catalogue has a CUDA kernel. View ops need none; they copy
  // nothing and work on any device.
  for (const OpDef* op : catalogue()) {
    INFO(op->name);
    CHECK((op->is_view() || op->cuda != nullptr));
  }
  CHECK(matmul_accumulate_cuda != nullptr);  // cuBLAS behind matmul_accumulate (core/ops/matmul.h)
  // Asking never throws, GPU or not.
  bool available = false;
  REQUIRE_NOTHROW(available = cuda::is_available());
  CHECK(available == (cuda::device_count() > 0));
  if (!available) {
    CHECK_THROWS_AS(zeros({2}).to(Device::cuda()), Error);
    CHECK_THROWS_WITH(zeros({2}).to(Device::cuda()), Catch::Contains("cuda") && Catch::Contains("CUDA call"));
    CHECK_THROWS_AS(cuda::device_name(0), Error);
  }
  // One GPU: memory on cuda:1 is refused before any CUDA call, GPU or not.
  CHECK_THROWS_WITH(zeros({2}, kFloat32, Device::cuda(1)), Catch::Contains("uses one GPU, cuda:0"));
}

#else

TEST_CASE("cuda backend: absent from this build, and CUDA tensors say so", "[cuda-logic]") {
  CHECK(ops::add.cuda == nullptr);
  CHECK(ops::matmul.cuda == nullptr);
  CHECK(matmul_accumulate_cuda == nullptr);
  CHECK_THROWS_WITH(zeros({2}).to(Device::cuda()), Catch::Contains("no CUDA backend"));
}

#endif

// ==== [cuda]: on the GPU, against the CPU =============================================================

#ifndef TANDEM_HAVE_CUDA

TEST_CASE("cuda kernels against the CPU", "[cuda]") {
  WARN("no CUDA device: skipping (this build has no CUDA backend; configure with -DTANDEM_CUDA=ON)");
  CHECK(ops::softmax.cuda == nullptr);
}

#else

namespace {

// The check each GPU test starts with.
bool gpu_ready() {
  if (cuda::is_available()) return true;
  WARN("no CUDA device: skipping");
  return false;
}
#define SKIP_WITHOUT_GPU() \
  if (!gpu_ready()) return

Tensor gpu(const Tensor& t) { return t.to(Device::cuda()); }

// The GPU result, brought back, must match the CPU's: same shape, dtype, values to tolerance.
void check_close(const Tensor& on_gpu, const Tensor& on_cpu, double rtol = 1e-5, double atol = 1e-6) {
  REQUIRE(on_gpu.device() == Device::cuda());
  const Tensor back = on_gpu.cpu();
  REQUIRE(back.shape() == on_cpu.shape());
  REQUIRE(back.dtype() == on_cpu.dtype());
  CHECK(allclose(back, on_cpu, rtol, atol));
}

// Random inputs of odd sizes: shapes not multiples of 32, a 0-dim, a prime-length vector.
const std::vector<std::pair<Shape, Shape>> kBroadcastPairs = {
    {{37, 53}, {37, 53}},    // same shape: the contiguous path
    {{37, 53}, {53}},        // a bias row
    {{37, 53}, {37, 1}},     // a column
    {{5, 1, 7}, {1, 6, 1}},  // both broadcast
    {{}, {4, 5}},            // a 0-dim scalar
    {{100003}, {100003}},    // a long vector (many blocks)
};

}  // namespace

TEST_CASE("cuda: tensors move to the GPU and back, through the caching allocator", "[cuda]") {
  SKIP_WITHOUT_GPU();
  manual_seed(1);
  const Tensor x = randn({33, 65});
  CHECK(equal(gpu(x).cpu(), x));
  CHECK(equal(gpu(x.t()).cpu(), x.t().contiguous()));  // a strided source is made contiguous
  for (DType dt : {kFloat64, kInt64, kBool}) CHECK(equal(gpu(x.to(dt)).cpu(), x.to(dt)));
  CHECK(gpu(x).device() == Device::cuda(0));
  CHECK(gpu(zeros({0, 3})).cpu().shape() == Shape{0, 3});

  // A freed block is reused for the next request of its size class, without cudaMalloc.
  { const Tensor warm = empty({1000}, kFloat32, Device::cuda()); }
  const cuda::CacheStats before = cuda::cache_stats();
  { const Tensor t = empty({1000}, kFloat32, Device::cuda()); }
  const cuda::CacheStats after = cuda::cache_stats();
  CHECK(after.cuda_mallocs == before.cuda_mallocs);
  CHECK(after.reuses == before.reuses + 1);
  cuda::empty_cache();
  CHECK(cuda::cache_stats().cached_bytes == 0);
  // The device's tensor memory is counted like the CPU's.
  const int64_t in_use = memory_stats(Device::Type::cuda).bytes_in_use;
  { const Tensor t = empty({256}, kFloat32, Device::cuda()); CHECK(memory_stats(Device::Type::cuda).bytes_in_use == in_use + 1024); }
  CHECK(memory_stats(Device::Type::cuda).bytes_in_use == in_use);
}

TEST_CASE("cuda: binary ops with broadcasting match the CPU", "[cuda]") {
  SKIP_WITHOUT_GPU();
  manual_seed(2);
  using Binary = std::function<Tensor(const Tensor&, const Tensor&)>;
  const std::vector<std::pair<const char*, Binary>> arithmetic = {
      {"add", [](const Tensor& a, const Tensor& b) { return a + b; }},
      {"sub", [](const Tensor& a, const Tensor& b) { return a - b; }},
      {"mul", [](const Tensor& a, const Tensor& b) { return a * b; }},
      {"div", [](const Tensor& a, const Tensor& b) { return a / b; }},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }},
      {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }},
      {"pow", [](const Tensor& a, const Tensor& b) { return pow(abs(a) + 0.5, b); }},
  };
  const std::vector<std::pair<const char*, Binary>> comparisons = {
      {"eq", [](const Tensor& a, const Tensor& b) { return a == b; }},
      {"ne", [](const Tensor& a, const Tensor& b) { return a != b; }},
      {"lt", [](const Tensor& a, const Tensor& b) { return a < b; }},
      {"le", [](const Tensor& a, const Tensor& b) { return a <= b; }},
      {"gt", [](const Tensor& a, const Tensor& b) { return a > b; }},
      {"ge", [](const Tensor& a, const Tensor& b) { return a >= b; }},
  };
  for (const auto& [sa, sb] : kBroadcastPairs)
    for (DType dt : {kFloat32, kFloat64}) {
      const Tensor a = randn(sa, dt), b = randn(sb, dt);
      INFO(shape_str(sa) << " with " << shape_str(sb) << ", " << to_string(dt));
      for (const auto& [name, f] : arithmetic) {
        INFO(name);
        check_close(f(gpu(a), gpu(b)), f(a, b));
        check_close(f(gpu(b), gpu(a)), f(b, a));
      }
      for (const auto& [name, f] : comparisons) {
        INFO(name);
        CHECK(equal(f(gpu(a), gpu(b)).cpu(), f(a, b)));
        CHECK(equal(f(gpu(a), gpu(a)).cpu(), f(a, a)));  // ties
      }
    }
  // Strided operands: a transposed matrix and a slice with a step.
  const Tensor m = randn({40, 30}), n = randn({30, 80});
  check_close(gpu(m).t() * gpu(n).slice(1, 0, 80, 2), m.t() * n.slice(1, 0, 80, 2));
  // Promotion: float32 with a float64 tensor, with a Python-style scalar, with an int64 scalar.
  const Tensor d = randn({30, 40}, kFloat64);
  check_close(gpu(m) + gpu(d.t()), m + d.t());
  check_close(gpu(m) * 2.5, m * 2.5);
  check_close(gpu(m) - tensor(int64_t{3}).to(Device::cuda()), m - tensor(int64_t{3}));
  // where(cond, a, b) with broadcasting.
  const Tensor c = randn({40, 1}) > 0;
  const Tensor other = randn({30});
  check_close(where(gpu(c), gpu(m), gpu(other)), where(c, m, other));
  // The activation backward ops: g times the derivative, from the saved value.
  const Tensor g = randn({37, 53}), y = randn({37, 53});
  check_close(relu_backward(gpu(g), gpu(y)), relu_backward(g, y));
  check_close(sigmoid_backward(gpu(g), gpu(sigmoid(y))), sigmoid_backward(g, sigmoid(y)));
  check_close(tanh_backward(gpu(g), gpu(tanh(y))), tanh_backward(g, tanh(y)));
  check_close(gelu_backward(gpu(g), gpu(y)), gelu_backward(g, y), 1e-5, 1e-5);
}

TEST_CASE("cuda: unary ops and activations match the CPU", "[cuda]") {
  SKIP_WITHOUT_GPU();
  manual_seed(3);
  using Unary = std::function<Tensor(const Tensor&)>;
  const std::vector<std::pair<const char*, Unary>> unary = {
      {"neg", [](const Tensor& x) { return -x; }},
      {"exp", [](const Tensor& x) { return exp(x); }},
      {"log", [](const Tensor& x) { return log(abs(x) + 0.1); }},
      {"sqrt", [](const Tensor& x) { return sqrt(abs(x)); }},
      {"abs", [](const Tensor& x) { return abs(x); }},
      {"sin", [](const Tensor& x) { return sin(x); }},
      {"cos", [](const Tensor& x) { return cos(x); }},
      {"tanh", [](const Tensor& x) { return tanh(x); }},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x * 30); }},  // also far into both tails
      {"relu", [](const Tensor& x) { return relu(x); }},
      {"gelu", [](const Tensor& x) { return gelu(x); }},
      {"sign", [](const Tensor& x) { return sign(x); }},
  };
  for (const Shape& s : {Shape{}, Shape{7}, Shape{100003}, Shape{37, 53}})
    for (DType dt : {kFloat32, kFloat64}) {
      const Tensor x = randn(s, dt);
      for (const auto& [name, f] : unary) {
        INFO(name << " of " << shape_str(s) << " " << to_string(dt));
        check_close(f(gpu(x)), f(x), 1e-5, 1e-6);
      }
    }
  const Tensor x = randn({41, 29});  // a transposed input: the strided kernel
  for (const auto& [name, f] : unary) {
    INFO(name << " of a transposed matrix");
    check_close(f(gpu(x).t()), f(x.t()), 1e-5, 1e-6);
  }
  // Integer input of exp becomes float32, as on the CPU.
  check_close(exp(gpu(tensor({0, 1, 2}))), exp(tensor({0, 1, 2})));
}

TEST_CASE("cuda: int64 and bool tensors: arithmetic, comparisons, where, sums, argmax", "[cuda]") {
  SKIP_WITHOUT_GPU();
  manual_seed(14);
  // Labels, counts and masks live on the GPU too. The accuracy line of every classifier:
  // mean((argmax(logits, 1) == labels).to(kFloat32)).
  const Tensor logits = randn({50, 10}), labels = randint(0, 10, {50});
  const Tensor hits = argmax(gpu(logits), 1) == gpu(labels);
  CHECK(hits.dtype() == kBool);
  CHECK(equal(hits.cpu(), argmax(logits, 1) == labels));
  CHECK(mean(hits.to(kFloat32)).item() == Approx(mean((argmax(logits, 1) == labels).to(kFloat32)).item()));
  // Sums of bools and of int64 are int64, as on the CPU.
  CHECK(sum(hits).dtype() == kInt64);
  CHECK(sum(hits).item<int64_t>() == sum(argmax(logits, 1) == labels).item<int64_t>());
  const Tensor a = randint(-50, 50, {37, 53}), b = randint(1, 9, {53});
  using Dims = std::vector<int64_t>;
  for (const Dims& dims : {Dims{}, Dims{0}, Dims{1}}) {
    INFO("dims of size " << dims.size() << (dims.empty() ? "" : dims[0] == 0 ? " (0)" : " (1)"));
    CHECK(equal(sum(gpu(a), dims).cpu(), sum(a, dims)));
    CHECK(equal(amax(gpu(a), dims).cpu(), amax(a, dims)));
    CHECK(equal(amin(gpu(a), dims).cpu(), amin(a, dims)));
    CHECK(equal(sum(gpu(a) > 0, dims).cpu(), sum(a > 0, dims)));
  }
  CHECK(equal(argmax(gpu(a), 0).cpu(), argmax(a, 0)));
  CHECK(equal(argmin(gpu(a), 1).cpu(), argmin(a, 1)));
  // Integer arithmetic, broadcast; comparisons; where; neg, abs, relu and sign keep int64.
  CHECK(equal((gpu(a) + gpu(b)).cpu(), a + b));
  CHECK(equal((gpu(a) * gpu(b) - gpu(a)).cpu(), a * b - a));
  CHECK(equal(maximum(gpu(a), gpu(b)).cpu(), maximum(a, b)));
  CHECK(equal(pow(gpu(b), gpu(tensor({int64_t{3}}))).cpu(), pow(b, tensor({int64_t{3}}))));
  CHECK(equal((gpu(a) <= gpu(b)).cpu(), a <= b));
  CHECK(equal(where(gpu(a) > 0, gpu(a), gpu(b)).cpu(), where(a > 0, a, b)));
  for (const Tensor& r : {-gpu(a), abs(gpu(a)), relu(gpu(a)), sign(gpu(a))}) CHECK(r.dtype() == kInt64);
  CHECK(equal((-gpu(a)).cpu(), -a));
  CHECK(equal(abs(gpu(a)).t().cpu(), abs(a).t()));
  CHECK(equal(relu(gpu(a).t()).cpu(), relu(a.t())));
  CHECK(equal(sign(gpu(a)).cpu(), sign(a)));
  // A bool mask as numbers: logical or and and, as add and mul of bools.
  const Tensor m1 = randn({20}) > 0, m2 = randn({20}) > 0;
  CHECK(equal((gpu(m1) + gpu(m2)).cpu(), m1 + m2));
  CHECK(equal((gpu(m1) * gpu(m2)).cpu(), m1 * m2));
}

TEST_CASE("cuda: copies and casts between dtypes match the CPU", "[cuda]") {
  SKIP_WITHOUT_GPU();
  manual_seed(4);
  const Tensor x = randn({23, 17}) * 3;
  for (DType dt : {kFloat32, kFloat64, kInt64, kBool}) {
    INFO(to_string(dt));
    CHECK(equal(gpu(x).to(dt).cpu(), x.to(dt)));
    CHECK(equal(gpu(x).t().to(dt).cpu(), x.t().to(dt)));
    CHECK(equal(gpu(x.to(dt)).to(kFloat32).cpu(), x.to(dt).to(kFloat32)));
  }
  const Tensor s = gpu(x).slice(0, 1, 23, 3).t();
  CHECK(equal(s.clone().cpu(), x.slice(0, 1, 23, 3).t().contiguous()));
  CHECK(s.clone().is_contiguous());
  CHECK(equal(gpu(x).expand({4, 23, 17}).contiguous().cpu(), x.expand({4, 23, 17}).contiguous()));
}

TEST_CASE("cuda: reductions match the CPU", "[cuda]") {
  SKIP_WITHOUT_GPU();
  manual_seed(5);
  using Dims = std::vector<int64_t>;
  for (DType dt : {kFloat32, kFloat64}) {
    const Tensor x = randn({13, 37, 300}, dt);
    for (const Dims& dims : {Dims{}, Dims{2}, Dims{-1}, Dims{0}, Dims{1}, Dims{0, 2}, Dims{0, 1}, Dims{1, 2}})
      for (bool keepdim : {false, true}) {
        INFO(to_string(dt) << ", dims " << shape_str(dims) << ", keepdim " << keepdim);
        check_close(sum(gpu(x), dims, keepdim), sum(x, dims, keepdim), 1e-5, 1e-4);
        check_close(mean(gpu(x), dims, keepdim), mean(x, dims, keepdim), 1e-5, 1e-6);
        check_close(amax(gpu(x), dims, keepdim), amax(x, dims, keepdim), 0, 0);
        check_close(amin(gpu(x), dims, keepdim), amin(x, dims, keepdim), 0, 0);
        if (dims.size() == 1) {  // max(x, dim) is argmax, then a gather at that index
          CHECK(equal(argmax(gpu(x), dims[0], keepdim).cpu(), argmax(x, dims[0], keepdim)));
          CHECK(equal(argmin(gpu(x), dims[0], keepdim).cpu(), argmin(x, dims[0], keepdim)));
          check_close(max(gpu(x), dims[0], keepdim), max(x, dims[0], keepdim), 0, 0);
        }
      }
    check_close(max(gpu(x)), max(x), 0, 0);
    CHECK(equal(argmax(gpu(x)).cpu(), argmax(x)));
    check_close(sum(gpu(x).transpose(0, 2)), sum(x.transpose(0, 2)), 1e-5, 1e-3);
    // A long row: one block folds 1,000,003 values.
    const Tensor v = randn({1000003}, dt);
    check_close(sum(gpu(v)), sum(v), 1e-5, 1e-3);
    check_close(mean(gpu(v)), mean(v), 1e-5, 1e-7);
  }
  // sum_to, the reduction of every broadcast gradient.
  const Tensor g = randn({6, 5, 4});
  for (const Shape& target : {Shape{4}, Shape{5, 1}, Shape{1, 5, 4}, Shape{6, 1, 4}, Shape{}})
    check_close(sum_to(gpu(g), target), sum_to(g, target), 1e-5, 1e-5);
  // NaN wins in max, as on the CPU; an empty sum is 0.
  const Tensor with_nan = tensor({1.f, NAN, 3.f, NAN});
  CHECK(std::isnan(max(gpu(with_nan)).cpu().item()));
  CHECK(argmax(gpu(with_nan)).cpu().item() == 1);  // the first NaN, as on the CPU
  // Ties go to the first occurrence, whichever thread saw which copy first.
  const Tensor ties = index_add(zeros({3, 1000}), 1, tensor({5, 700, 999}), ones({3, 3}));
  CHECK(argmax(gpu(ties), 1).cpu().to_vector<int64_t>() == std::vector<int64_t>{5, 5, 5});
  CHECK(argmin(gpu(ties), 1).cpu().to_vector<int64_t>() == std::vector<int64_t>{0, 0, 0});
  CHECK(sum(gpu(zeros({3, 0})), {1}).cpu().to_vector<double>() == std::vector<double>{0, 0, 0});
  // int64 stays on the CPU, with a message that says what to do.
  CHECK_THROWS_WITH(sum(gpu(tensor({1, 2}))), Catch::Contains("float32") && Catch::Contains(".cpu()"));
}

TEST_CASE("cuda: var matches the CPU, over any dims, with any correction", "[cuda]") {
  SKIP_WITHOUT_GPU();
  manual_seed(16);
  using Dims = std::vector<int64_t>;
  for (DType dt : {kFloat32, kFloat64}) {
    // A mean of 1000 next to a spread of 1: where the one-pass formula E[x²] - E[x]² would cancel.
    const Tensor x = randn({13, 37, 300}, dt) + 1000;
    for (const Dims& dims : {Dims{}, Dims{2}, Dims{-1}, Dims{0}, Dims{1}, Dims{0, 2}, Dims{1, 2}})
      for (bool keepdim : {false, true})
        for (int64_t correction : {0, 1, 2}) {
          INFO(to_string(dt) << ", dims " << shape_str(dims) << ", keepdim " << keepdim
                             << ", correction " << correction);
          check_close(var(gpu(x), dims, correction, keepdim), var(x, dims, correction, keepdim),
                      1e-5, 1e-6);
        }
    // Strided inputs: a transposed tensor, a slice with a step.
    check_close(var(gpu(x).transpose(0, 2), {0, 1}), var(x.transpose(0, 2), {0, 1}), 1e-5, 1e-6);
    check_close(var(gpu(x).slice(1, 0, 37, 3), {1}), var(x.slice(1, 0, 37, 3), {1}), 1e-5, 1e-6);
    // One block folds a long row, twice.
    const Tensor v = randn({1000003}, dt);
    check_close(var(gpu(v)), var(v), 1e-5, 1e-6);
    check_close(var(gpu(tensor(2.5).to(dt)), {}, 0), var(tensor(2.5).to(dt), {}, 0));  // 0-dim: 0
  }
  // N - correction <= 0 divides by 0, as on the CPU: NaN for an empty row or one element,
  // inf when the sum of squares is not 0.
  auto all_nan = [](const Tensor& t) {
    for (double v : t.cpu().to_vector<double>())
      if (!std::isnan(v)) return false;
    return true;
  };
  CHECK(all_nan(var(gpu(randn({4, 1})), {1})));
  CHECK(all_nan(var(gpu(zeros({3, 0})), {1})));
  CHECK(var(gpu(tensor({1.f, 2.f})), {0}, 2).cpu().item() ==
        std::numeric_limits<double>::infinity());
  CHECK_THROWS_AS(var(gpu(tensor({1, 2}))), DTypeError);  // the shape rule: floating dtypes only
}

TEST_CASE("cuda: softmax and log_softmax match the CPU, along any dim", "[cuda]") {
  SKIP_WITHOUT_GPU();
  manual_seed(6);
  for (DType dt : {kFloat32, kFloat64})
    for (const Shape& s : {Shape{64, 10}, Shape{3, 1}, Shape{7, 1000}, Shape{2, 5003}, Shape{4, 6, 9}}) {
      const Tensor x = randn(s, dt) * 4;
      for (int64_t dim = 0; dim < static_cast<int64_t>(s.size()); ++dim) {
        INFO(shape_str(s) << " dim " << dim << " " << to_string(dt));
        check_close(softmax(gpu(x), dim), softmax(x, dim), 1e-5, 1e-7);
        check_close(log_softmax(gpu(x), dim), log_softmax(x, dim), 1e-5, 1e-5);
      }
      check_close(softmax(gpu(x).transpose(0, -1), 0), softmax(x.transpose(0, -1), 0), 1e-5, 1e-7);  // strided
    }
  // Large logits do not overflow: [1000, 1001, 1002] behaves exactly like [0, 1, 2].
  const Tensor big = tensor({{1000.f, 1001.f, 1002.f}});
  check_close(log_softmax(gpu(big), 1), log_softmax(tensor({{0.f, 1.f, 2.f}}), 1), 1e-6, 1e-6);
  check_close(softmax(gpu(tensor(3.f)), 0), softmax(tensor(3.f), 0));  // a 0-dim tensor
}

TEST_CASE("cuda: index_select, gather and their backwards match the CPU, and bad indices are named", "[cuda]") {
  SKIP_WITHOUT_GPU();
  manual_seed(7);
  const Tensor table = randn({50, 33});
  const Tensor ids = tensor({3, 0, 49, 3, 17});  // repeats allowed
  CHECK(equal(index_select(gpu(table), 0, gpu(ids)).cpu(), index_select(table, 0, ids)));
  CHECK(equal(index_select(gpu(table), 1, gpu(ids)).cpu(), index_select(table, 1, ids)));
  CHECK(equal(index_select(gpu(table).t(), 0, gpu(ids)).cpu(), index_select(table.t(), 0, ids)));
  CHECK(equal(index_select(gpu(table.to(kInt64)), 0, gpu(ids)).cpu(), index_select(table.to(kInt64), 0, ids)));
  CHECK_THROWS_WITH(index_select(gpu(table), 0, gpu(tensor({1, 50}))),
                    Catch::Contains("index 50 is out of range for dimension 0 with size 50"));
  // index_add, its backward: repeated indices add up (atomically on the GPU), negative ones wrap.
  const Tensor src = randn({5, 33});
  check_close(index_add(gpu(table), 0, gpu(ids), gpu(src)), index_add(table, 0, ids, src), 1e-5, 1e-6);
  const Tensor src1 = randn({50, 5});
  check_close(index_add(gpu(table), 1, gpu(tensor({-1, 0, 32, 0, 1})), gpu(src1)),
              index_add(table, 1, tensor({-1, 0, 32, 0, 1}), src1), 1e-5, 1e-6);
  CHECK_THROWS_WITH(index_add(gpu(table), 0, gpu(tensor({50})), gpu(randn({1, 33}))),
                    Catch::Contains("index 50 is out of bounds for dimension 0 with size 50"));
  // gather (one element per index: the logit of the true class) and scatter_add, its backward.
  const Tensor picks = randint(0, 33, {50, 4});
  CHECK(equal(gather(gpu(table), 1, gpu(picks)).cpu(), gather(table, 1, picks)));
  CHECK(equal(gather(gpu(table).t(), 0, gpu(picks.t())).cpu(), gather(table.t(), 0, picks.t())));
  const Tensor vals = randn({50, 4});
  check_close(scatter_add(gpu(table), 1, gpu(picks), gpu(vals)), scatter_add(table, 1, picks, vals), 1e-5, 1e-6);
  CHECK_THROWS_WITH(gather(gpu(table), 1, gpu(tensor({{33}}))),
                    Catch::Contains("index 33 is out of bounds for dimension 1 with size 33"));
}

TEST_CASE("cuda: one_hot matches the CPU, and bad labels are named", "[cuda]") {
  SKIP_WITHOUT_GPU();
  manual_seed(17);
  const Tensor labels = randint(0, 7, {1001});
  CHECK(equal(one_hot(gpu(labels), 7).cpu(), one_hot(labels, 7)));
  CHECK(equal(one_hot(gpu(labels), 10).cpu(), one_hot(labels, 10)));  // classes no label uses
  CHECK(equal(one_hot(gpu(labels)).cpu(), one_hot(labels)));          // -1: max label + 1
  // Labels of any shape and layout: a matrix, its transpose, a slice with a step, a 0-dim label.
  const Tensor grid = randint(0, 5, {6, 9});
  CHECK(equal(one_hot(gpu(grid), 5).cpu(), one_hot(grid, 5)));
  CHECK(equal(one_hot(gpu(grid).t(), 5).cpu(), one_hot(grid.t(), 5)));
  CHECK(equal(one_hot(gpu(grid).slice(1, 1, 9, 3), 5).cpu(), one_hot(grid.slice(1, 1, 9, 3), 5)));
  CHECK(equal(one_hot(gpu(tensor(int64_t{3})), 4).cpu(), one_hot(tensor(int64_t{3}), 4)));
  CHECK(one_hot(gpu(zeros({0}, kInt64)), 3).cpu().shape() == Shape{0, 3});
  // Bad labels are checked on the CPU first, with the CPU kernel's messages.
  CHECK_THROWS_WITH(one_hot(gpu(tensor({1, -2, 0})), 3),
                    Catch::Contains("Class values must be non-negative (found -2)"));
  CHECK_THROWS_WITH(one_hot(gpu(tensor({1, 3, 0})), 3),
                    Catch::Contains("smaller than num_classes (found 3 with num_classes = 3)"));
}

TEST_CASE("cuda: cat and stack match the CPU, for every dtype and layout", "[cuda]") {
  SKIP_WITHOUT_GPU();
  manual_seed(18);
  for (DType dt : {kFloat32, kFloat64, kInt64, kBool}) {
    INFO(to_string(dt));
    auto make = [dt](const Shape& s) { return dt == kBool ? randn(s) > 0 : (randn(s) * 3).to(dt); };
    const Tensor a = make({5, 7, 3}), b = make({5, 2, 3}), c = make({5, 11, 3});
    for (int64_t dim : {1, -2})
      CHECK(equal(cat({gpu(a), gpu(b), gpu(c)}, dim).cpu(), cat({a, b, c}, dim)));
    for (int64_t dim : {0, 2})
      CHECK(equal(cat({gpu(a), gpu(a), gpu(a)}, dim).cpu(), cat({a, a, a}, dim)));
    // Non-contiguous inputs, viewed on the GPU: transposed, a slice with a step, expanded.
    const Tensor p = make({3, 4, 5}), q = make({5, 12, 3}), r = make({5, 1, 1});
    const std::vector<Tensor> on_cpu = {p.transpose(0, 2), q.slice(1, 1, 12, 4),
                                        r.expand({5, 6, 3})};
    const std::vector<Tensor> on_gpu = {gpu(p).transpose(0, 2), gpu(q).slice(1, 1, 12, 4),
                                        gpu(r).expand({5, 6, 3})};
    CHECK(equal(cat(on_gpu, 1).cpu(), cat(on_cpu, 1)));
    // stack along every dim, the last one counted from the end too.
    const Tensor a2 = make({3, 7, 5});
    for (int64_t dim : {0, 1, 2, 3, -1}) {
      INFO("stack along " << dim);
      CHECK(equal(stack({gpu(a), gpu(a2).transpose(0, 2), gpu(a)}, dim).cpu(),
                  stack({a, a2.transpose(0, 2), a}, dim)));
    }
  }
  // Mixed dtypes promote as on the CPU: float32, int64 and bool make float32; int64 and float64
  // make float64.
  const Tensor f = randn({4, 3}), i = randint(-5, 5, {2, 3}), yes = randn({1, 3}) > 0;
  CHECK(equal(cat({gpu(f), gpu(i), gpu(yes)}, 0).cpu(), cat({f, i, yes}, 0)));
  CHECK(equal(stack({gpu(i), gpu(i.to(kFloat64))}, 1).cpu(), stack({i, i.to(kFloat64)}, 1)));
  // A long input (many blocks), an empty one, a single input.
  const Tensor big = randn({100003, 3}), none = randn({0, 3});
  CHECK(equal(cat({gpu(big), gpu(none), gpu(big).slice(0, 0, 100003, 2)}, 0).cpu(),
              cat({big, none, big.slice(0, 0, 100003, 2)}, 0)));
  CHECK(equal(cat({gpu(f)}, 1).cpu(), f));
  CHECK(equal(stack({gpu(f)}, 2).cpu(), stack({f}, 2)));
  CHECK_THROWS_WITH(cat({gpu(f), f}), Catch::Contains("same device"));  // never a silent copy
}

TEST_CASE("cuda: slice_scatter and select_scatter match the CPU", "[cuda]") {
  SKIP_WITHOUT_GPU();
  manual_seed(19);
  struct Window {
    int64_t dim, start, end, step;
  };
  const std::vector<Window> windows = {{0, 0, 9, 1},   {0, 2, 7, 2}, {1, 1, 10, 3}, {2, -5, 11, 1},
                                       {-1, 0, 11, 4}, {1, 3, 3, 1}};  // the last: empty
  for (DType dt : {kFloat32, kFloat64, kInt64, kBool}) {
    auto make = [dt](const Shape& s) { return dt == kBool ? randn(s) > 0 : (randn(s) * 3).to(dt); };
    const Tensor x = make({9, 10, 11});
    for (const Window& w : windows) {
      INFO(to_string(dt) << ", slice(" << w.dim << ", " << w.start << ", " << w.end << ", "
                         << w.step << ")");
      const Tensor src = make(x.slice(w.dim, w.start, w.end, w.step).shape());
      CHECK(equal(slice_scatter(gpu(x), gpu(src), w.dim, w.start, w.end, w.step).cpu(),
                  slice_scatter(x, src, w.dim, w.start, w.end, w.step)));
    }
    for (int64_t dim : {0, 1, 2, -1})
      for (int64_t index : {0, 4, -1}) {
        INFO(to_string(dt) << ", select(" << dim << ", " << index << ")");
        const Tensor src = make(x.select(dim, index).shape());
        CHECK(equal(select_scatter(gpu(x), gpu(src), dim, index).cpu(),
                    select_scatter(x, src, dim, index)));
      }
    // Non-contiguous x and source, viewed on the GPU.
    const Tensor xt = make({11, 10, 9}), st = make({10, 9}), sq = make({9, 20, 11});
    CHECK(equal(select_scatter(gpu(xt).transpose(0, 2), gpu(st).t(), 2, 3).cpu(),
                select_scatter(xt.transpose(0, 2), st.t(), 2, 3)));
    const Tensor stepped = sq.slice(1, 0, 20, 5), gpu_stepped = gpu(sq).slice(1, 0, 20, 5);
    CHECK(equal(slice_scatter(gpu(xt).transpose(0, 2), gpu_stepped, 1, 0, 10, 3).cpu(),
                slice_scatter(xt.transpose(0, 2), stepped, 1, 0, 10, 3)));
  }
  // Promotion, as on the CPU: float32 with int64 gives float32, int64 with float64 gives float64.
  const Tensor x = randn({6, 5}), ints = randint(-3, 3, {6, 2}), m = randint(0, 9, {6, 5});
  CHECK(equal(slice_scatter(gpu(x), gpu(ints), 1, 0, 4, 2).cpu(),
              slice_scatter(x, ints, 1, 0, 4, 2)));
  const Tensor d = randn({5}, kFloat64);
  CHECK(equal(select_scatter(gpu(m), gpu(d), 0, 2).cpu(), select_scatter(m, d, 0, 2)));
  // A source of the wrong shape is named.
  CHECK_THROWS_WITH(slice_scatter(gpu(x), gpu(randn({6, 3})), 1, 0, 4, 2),
                    Catch::Contains("must have the shape of the slice [6, 2]"));
  CHECK_THROWS_WITH(select_scatter(gpu(x), gpu(randn({6})), 0, 2),
                    Catch::Contains("must have the shape of the selected slice [5]"));
}

TEST_CASE("cuda: matmul through cuBLAS follows every rank rule and layout", "[cuda]") {
  SKIP_WITHOUT_GPU();
  manual_seed(8);
  struct Case {
    Shape a, b;
  };
  const std::vector<Case> cases = {
      {{7}, {7}},                    // dot
      {{5, 7}, {7}},                 // matrix · vector
      {{7}, {7, 3}},                 // vector · matrix
      {{33, 65}, {65, 17}},          // matrix · matrix, odd sizes
      {{4, 33, 65}, {65, 17}},       // a batch against one matrix: one tall GEMM
      {{65, 17}, {4, 17, 9}},        // one matrix against a batch: stride 0
      {{2, 1, 6, 5}, {3, 5, 4}},     // broadcast batch dims
      {{3, 6, 5}, {3, 5, 4}},        // a plain batch
      {{2, 3, 5}, {5}},              // batch · vector
      {{5, 0}, {0, 4}},              // k = 0: zeros
      {{0, 5}, {5, 4}},              // m = 0: empty
  };
  for (DType dt : {kFloat32, kFloat64})
    for (const Case& c : cases) {
      INFO(shape_str(c.a) << " @ " << shape_str(c.b) << " " << to_string(dt));
      const Tensor a = randn(c.a, dt), b = randn(c.b, dt);
      check_close(matmul(gpu(a), gpu(b)), matmul(a, b), 1e-4, 1e-5);
    }
  // Layouts: transposed views go to cuBLAS as they are, stepped slices are copied first.
  const Tensor a = randn({40, 30}), b = randn({50, 40});
  check_close(matmul(gpu(a).t(), gpu(b).t()), matmul(a.t(), b.t()), 1e-4, 1e-5);
  check_close(matmul(gpu(a).slice(1, 0, 30, 2), gpu(b).t().slice(0, 0, 15)),
              matmul(a.slice(1, 0, 30, 2), b.t().slice(0, 0, 15)), 1e-4, 1e-5);
  check_close(matmul(gpu(a).select(1, 3), gpu(b).t()), matmul(a.select(1, 3), b.t()), 1e-4, 1e-5);
  const Tensor batch = randn({6, 40, 30});
  check_close(matmul(gpu(batch).transpose(1, 2), gpu(b).t()), matmul(batch.transpose(1, 2), b.t()), 1e-4, 1e-5);
  // Batches that repeat inside (a stride-0 dim before a real one) are expanded to a full batch.
  const Tensor per_group = randn({2, 1, 30, 7});
  check_close(matmul(gpu(batch).expand({2, 6, 40, 30}), gpu(per_group)),
              matmul(batch.expand({2, 6, 40, 30}), per_group), 1e-4, 1e-5);
  CHECK_THROWS_WITH(matmul(gpu(tensor({{1, 2}})), gpu(tensor({{3}, {4}}))), Catch::Contains("float32"));
  CHECK_THROWS_WITH(matmul(gpu(a), gpu(a)), Catch::Contains("cannot be multiplied"));
}

TEST_CASE("cuda: every rung of the matmul ladder matches the CPU matmul", "[cuda]") {
  SKIP_WITHOUT_GPU();
  manual_seed(9);
  using Rung = Tensor (*)(const Tensor&, const Tensor&);
  const std::vector<std::pair<const char*, Rung>> rungs = {{"naive", cuda::matmul_naive},
                                                           {"tiled", cuda::matmul_tiled},
                                                           {"register_tiled", cuda::matmul_register_tiled},
                                                           {"cublas", cuda::matmul_cublas}};
  // Sizes below, at and across the tile edges (32 and 128), and K = 0.
  const std::vector<std::array<int64_t, 3>> sizes = {{1, 1, 1},     {5, 3, 7},      {32, 32, 32},
                                                     {33, 17, 65},  {128, 128, 8},  {129, 257, 65},
                                                     {300, 200, 100}, {1, 300, 513}, {64, 64, 0}};
  for (const auto& [m, n, k] : sizes) {
    const Tensor a = randn({m, k}), b = randn({k, n});
    const Tensor expected = matmul(a, b);
    for (const auto& [name, rung] : rungs) {
      INFO(name << ": " << m << " x " << k << " times " << k << " x " << n);
      check_close(rung(gpu(a), gpu(b)), expected, 1e-4, 1e-4);
    }
  }
  // A transposed input is made contiguous first.
  const Tensor a = randn({70, 40}), b = randn({70, 50});
  for (const auto& [name, rung] : rungs) {
    INFO(name << " with a transposed operand");
    check_close(rung(gpu(a).t(), gpu(b)), matmul(a.t(), b), 1e-4, 1e-4);
  }
  CHECK_THROWS_WITH(cuda::matmul_tiled(gpu(a), gpu(b)), Catch::Contains("cannot be multiplied"));
  CHECK_THROWS_WITH(cuda::matmul_naive(a, b.t()), Catch::Contains("CUDA"));
}

TEST_CASE("cuda: matmul_accumulate adds into a GPU matrix through cuBLAS, as on the CPU",
          "[cuda]") {
  SKIP_WITHOUT_GPU();
  manual_seed(21);
  for (DType dt : {kFloat32, kFloat64})
    for (const auto& [m, k, n] :
         {std::tuple{5, 7, 3}, {64, 1, 33}, {1, 9, 4}, {6, 5, 1}, {130, 67, 45}})
      for (int layout = 0; layout < 5; ++layout) {
        INFO(to_string(dt) << ": m=" << m << " k=" << k << " n=" << n << " layout=" << layout);
        // Transposed views go to cuBLAS as they lie (its 'T' flag): all four combinations. Layout
        // 4: a slice with a step, which cuBLAS cannot read, is copied first.
        const Tensor a0 = layout & 1 ? randn({k, m}, dt) : randn({m, 2 * k}, dt);
        const Tensor b0 = layout & 2 ? randn({n, k}, dt) : randn({k, n}, dt);
        auto a_of = [&](const Tensor& t) {
          return layout & 1 ? t.t() : t.slice(1, 0, 2 * k, layout == 4 ? 2 : 1).slice(1, 0, k);
        };
        auto b_of = [&](const Tensor& t) { return layout & 2 ? t.t() : t; };
        const Tensor c_cpu = randn({m, n}, dt), c_gpu = gpu(c_cpu);
        const uint64_t version = c_gpu.version();
        REQUIRE(matmul_accumulate(c_gpu, a_of(gpu(a0)), b_of(gpu(b0)), -0.25));
        REQUIRE(matmul_accumulate(c_cpu, a_of(a0), b_of(b0), -0.25));
        CHECK(c_gpu.version() == version + 1);  // an in-place write bumps the version
        check_close(c_gpu, c_cpu, 1e-4, 1e-5);
      }
  // What it cannot add in place, it refuses (the caller then computes out of place).
  const Tensor a = gpu(randn({3, 4})), b = gpu(randn({4, 2}));
  CHECK_FALSE(matmul_accumulate(gpu(zeros({3, 2}, kFloat64)), a, b, 1.0));  // dtypes differ
  CHECK_FALSE(matmul_accumulate(gpu(zeros({2, 3})).t(), a, b, 1.0));        // c not contiguous
  CHECK_FALSE(matmul_accumulate(zeros({3, 2}), a, b, 1.0));                 // c on another device
  const Tensor square = gpu(randn({4, 4}));
  CHECK_FALSE(matmul_accumulate(square, square, gpu(randn({4, 4})), 1.0));  // c is an operand
  CHECK_THROWS_AS(matmul_accumulate(gpu(zeros({3, 3})), a, b, 1.0), ShapeError);
  // k = 0: nothing to add.
  const Tensor c = gpu(ones({3, 2}));
  CHECK(matmul_accumulate(c, gpu(zeros({3, 0})), gpu(zeros({0, 2})), 1.0));
  CHECK(equal(c.cpu(), ones({3, 2})));
}

TEST_CASE("cuda: gradients through the eager engine match the CPU", "[cuda]") {
  SKIP_WITHOUT_GPU();
  manual_seed(10);
  const Tensor x0 = randn({16, 12}), w0 = randn({12, 7}), b0 = randn({7}), t0 = randn({16, 7});
  // Most ops with a CUDA kernel take part, forward and backward: matmul, broadcasting add,
  // relu, gelu, tanh, sigmoid, exp, log, abs, log_softmax, softmax, sum along a dim, mean, the
  // max of everything (amax) and along a dim (argmax + gather, whose backward is scatter_add),
  // index_select (backward: index_add, with a repeated index).
  auto loss_and_grads = [&](Device d) {
    const Tensor x = x0.to(d).requires_grad_(), w = w0.to(d).requires_grad_(), b = b0.to(d).requires_grad_();
    const Tensor t = t0.to(d);
    const Tensor h = matmul(x, w) + b;
    const Tensor z = relu(h) + gelu(h) * 0.5 - tanh(h) * sigmoid(h) + exp(h * 0.1) + log(abs(h) + 1);
    const Tensor rows = index_select(log_softmax(z, 1), 0, tensor({0, 3, 3, 15}).to(d));
    const Tensor loss = -(rows * index_select(t, 0, tensor({0, 3, 3, 15}).to(d))).sum({1}).mean() +
                        (z * z).mean() + softmax(z, 0).max() + max(z, 1).sum() * 0.1;
    loss.backward();
    return std::vector<Tensor>{loss.cpu(), x.grad().cpu(), w.grad().cpu(), b.grad().cpu()};
  };
  const auto on_cpu = loss_and_grads(Device::cpu());
  const auto on_gpu = loss_and_grads(Device::cuda());
  for (size_t i = 0; i < on_cpu.size(); ++i) {
    INFO("result " << i << " (loss, dx, dw, db)");
    CHECK(allclose(on_gpu[i], on_cpu[i], 1e-4, 1e-5));
  }
}

TEST_CASE("cuda: in-place ops recorded by autograd on the GPU match the CPU", "[cuda]") {
  SKIP_WITHOUT_GPU();
  manual_seed(21);
  // h.add_(b), h.mul_(s) and h.copy_(...) on a tensor with history: computed out of place,
  // written back with a device copy, and the history continues from the new value.
  const Tensor x0 = randn({6, 4}), w0 = randn({4, 5}), b0 = randn({5}), c0 = randn({6, 5});
  auto loss_and_grads = [&](Device d) {
    const Tensor x = x0.to(d), w = w0.to(d).requires_grad_(), b = b0.to(d).requires_grad_();
    const Tensor h = matmul(x, w);
    h.add_(b);
    h.mul_(h);
    const Tensor k = zeros({6, 5}, kFloat32, d);
    k.copy_(h * 0.5);
    const Tensor loss = (k + c0.to(d)).sum();
    loss.backward();
    return std::vector<Tensor>{loss.cpu(), w.grad().cpu(), b.grad().cpu()};
  };
  const auto on_cpu = loss_and_grads(Device::cpu()), on_gpu = loss_and_grads(Device::cuda());
  for (size_t i = 0; i < on_cpu.size(); ++i) {
    INFO("result " << i << " (loss, dw, db)");
    CHECK(allclose(on_gpu[i], on_cpu[i], 1e-4, 1e-5));
  }
  // A CPU source that needs its gradient cannot be copied into a GPU tensor with history.
  const Tensor src = randn({2}).requires_grad_();
  const Tensor dst = gpu(zeros({2})).requires_grad_() * 1;
  CHECK_THROWS_WITH(dst.copy_(src), Catch::Contains("across devices"));
}

TEST_CASE("cuda: gradients through cat, stack, slice, select and var match the CPU", "[cuda]") {
  SKIP_WITHOUT_GPU();
  manual_seed(20);
  // The backward of a slice is slice_scatter, of a select select_scatter, of cat slices of g, of
  // stack selects of g; var's needs mean. All of them now run on the GPU.
  const Tensor a0 = randn({6, 5}), b0 = randn({6, 3});
  auto loss_and_grads = [&](Device d) {
    const Tensor a = a0.to(d).requires_grad_(), b = b0.to(d).requires_grad_();
    const Tensor joined = cat({a, b * 2}, 1);                                           // [6, 8]
    const Tensor picked = stack({joined.slice(1, 1, 8, 3), joined.slice(1, 0, 3)}, 2);  // [6, 3, 2]
    const Tensor row = joined.select(0, 4);
    const Tensor loss = var(picked, {0, 2}).sum() + (row * row).sum() + var(joined);
    loss.backward();
    return std::vector<Tensor>{loss.cpu(), a.grad().cpu(), b.grad().cpu()};
  };
  const auto on_cpu = loss_and_grads(Device::cpu()), on_gpu = loss_and_grads(Device::cuda());
  for (size_t i = 0; i < on_cpu.size(); ++i) {
    INFO("result " << i << " (loss, da, db)");
    CHECK(allclose(on_gpu[i], on_cpu[i], 1e-4, 1e-5));
  }
}

TEST_CASE("cuda: an MLP trained on the GPU gives the CPU's losses", "[cuda]") {
  SKIP_WITHOUT_GPU();
  // A 2-layer MLP, cross-entropy on one-hot targets, plain SGD for 20 steps, run twice from the
  // same initial weights: on the CPU and on the GPU, with the same Tensor::sub_ (on the GPU it
  // computes out of place and copies back; see core/ops/inplace.cpp).
  manual_seed(11);
  const Tensor x0 = randn({64, 20}), labels = randint(0, 5, {64});
  const Tensor w1_0 = randn({20, 32}) * 0.3, w2_0 = randn({32, 5}) * 0.3;
  const Tensor target0 = one_hot(labels, 5).to(kFloat32);
  const double lr = 0.1;
  auto train = [&](Device d, std::vector<Tensor>& params) {
    const Tensor x = x0.to(d), target = target0.to(d);
    params = {w1_0.to(d).requires_grad_(), zeros({32}, kFloat32, d).requires_grad_(),
              w2_0.to(d).requires_grad_(), zeros({5}, kFloat32, d).requires_grad_()};
    std::vector<double> losses;
    for (int step = 0; step < 20; ++step) {
      const Tensor h = relu(matmul(x, params[0]) + params[1]);
      const Tensor logits = matmul(h, params[2]) + params[3];
      const Tensor loss = -(log_softmax(logits, 1) * target).sum({1}).mean();
      loss.backward();
      losses.push_back(loss.cpu().item());
      no_grad guard;
      for (const Tensor& p : params) {
        p.sub_(p.grad(), lr);
        p.set_grad(Tensor());
      }
    }
    return losses;
  };
  std::vector<Tensor> cpu_params, gpu_params;
  const std::vector<double> cpu_losses = train(Device::cpu(), cpu_params);
  const std::vector<double> gpu_losses = train(Device::cuda(), gpu_params);
  REQUIRE(cpu_losses.size() == gpu_losses.size());
  CHECK(cpu_losses.back() < cpu_losses.front());  // it does learn
  for (size_t i = 0; i < cpu_losses.size(); ++i) {
    INFO("step " << i);
    CHECK(gpu_losses[i] == Approx(cpu_losses[i]).epsilon(1e-4));
  }
  for (size_t i = 0; i < cpu_params.size(); ++i) CHECK(allclose(gpu_params[i].cpu(), cpu_params[i], 1e-3, 1e-5));
}

TEST_CASE("cuda: the MLP as a graph session on the GPU gives the CPU session's losses", "[cuda][graph]") {
  SKIP_WITHOUT_GPU();
  // The same kind of MLP in graph mode: symbolic gradients and SGD by hand (w -= lr * dw), which
  // update fusion turns into one GEMM per weight that adds into it (matmul_accumulate, cuBLAS
  // with beta = 1 on the GPU). The session placed on the GPU must follow the CPU session.
  namespace g = tandem::graph;
  manual_seed(12);
  const Tensor x0 = randn({64, 20}), labels0 = randint(0, 5, {64, 1});
  const Tensor w1_0 = randn({20, 32}) * 0.3, w2_0 = randn({32, 5}) * 0.3;
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat32, {-1, 20}, "x");
  const g::Output y = g::placeholder(kInt64, {-1, 1}, "y");
  const std::vector<g::Output> params = {
      g::Variable(w1_0, true, "w1"), g::Variable(zeros({32}), true, "b1"),
      g::Variable(w2_0, true, "w2"), g::Variable(zeros({5}), true, "b2")};
  const g::Output h = g::relu(g::matmul(x, params[0]) + params[1]);
  const g::Output z = g::matmul(h, params[2]) + params[3];
  const g::Output loss = -g::mean(g::gather(g::log_softmax(z, 1), 1, y));
  const std::vector<g::Output> grads = g::gradients({loss}, params);
  std::vector<g::Output> updates;
  for (size_t k = 0; k < params.size(); ++k) updates.push_back(g::assign_sub(params[k], grads[k] * 0.1));
  const g::Output train = g::group(updates, "train");

  g::SessionOptions on_gpu;
  on_gpu.device = Device::cuda();
  g::Session cpu_session(graph), gpu_session(graph, on_gpu);
  cpu_session.run(g::global_variables_initializer(graph));
  gpu_session.run(g::global_variables_initializer(graph));
  for (int step = 0; step < 20; ++step) {
    INFO("step " << step);
    // Feeds are CPU tensors; the GPU session copies them to the device.
    const Tensor l_cpu = cpu_session.run({loss, train}, {{x, x0}, {y, labels0}})[0];
    const Tensor l_gpu = gpu_session.run({loss, train}, {{x, x0}, {y, labels0}})[0];
    CHECK(l_gpu.device() == Device::cuda());  // fetched values stay on the device
    CHECK(l_gpu.item() == Approx(l_cpu.item()).epsilon(1e-4));
  }
  for (const g::Output& p : params) {
    INFO(p.name());
    check_close(gpu_session.variable_value(p), cpu_session.variable_value(p), 1e-3, 1e-5);
  }
  // Both weight updates were fused on the GPU too.
  int fused = 0;
  for (const g::Step& s : gpu_session.last_plan().steps) fused += s.label.rfind("AssignAdd[", 0) == 0;
  CHECK(fused == 2);
}

TEST_CASE("cuda: conv2d, max_pool2d and their gradients match the CPU", "[cuda]") {
  SKIP_WITHOUT_GPU();
  manual_seed(13);
  // Odd sizes, a stride, padding and overlapping pooling windows.
  const Tensor x = randn({3, 2, 11, 9}), w = randn({5, 2, 3, 4}) * 0.3, b = randn({5});
  auto loss_and_grads = [&](Device d) {
    const Tensor xd = x.to(d).requires_grad_(), wd = w.to(d).requires_grad_(), bd = b.to(d).requires_grad_();
    const Tensor y = max_pool2d(relu(conv2d(xd, wd, bd, {2, 1}, {1, 2})), {3, 3}, {2, 2}, {1, 1});
    const Tensor loss = (y * y).sum();
    loss.backward();
    return std::vector<Tensor>{y.detach().cpu(), xd.grad().cpu(), wd.grad().cpu(), bd.grad().cpu()};
  };
  const auto on_cpu = loss_and_grads(Device::cpu()), on_gpu = loss_and_grads(Device::cuda());
  for (size_t i = 0; i < on_cpu.size(); ++i) {
    INFO("result " << i << " (y, dx, dw, db)");
    CHECK(allclose(on_gpu[i], on_cpu[i], 1e-4, 1e-5));
  }
  // The ops the second derivatives use, directly.
  const Tensor g = randn({3, 5, 6, 10});
  check_close(conv2d_input_grad(gpu(g), gpu(w), {2, 1, 1, 2, 11, 9}), conv2d_input_grad(g, w, {2, 1, 1, 2, 11, 9}), 1e-4, 1e-5);
  check_close(conv2d_weight_grad(gpu(x), gpu(g), {2, 1, 1, 2, 3, 4}), conv2d_weight_grad(x, g, {2, 1, 1, 2, 3, 4}), 1e-4, 1e-5);
  const Tensor v = randn({3, 2, 11, 9});
  check_close(max_pool2d_gather(gpu(v), gpu(x), {3, 3, 2, 2, 1, 1}), max_pool2d_gather(v, x, {3, 3, 2, 2, 1, 1}));
}

TEST_CASE("cuda: dropout draws the CPU's masks from the same seed", "[cuda]") {
  SKIP_WITHOUT_GPU();
  manual_seed(14);
  const Tensor on_cpu = dropout(ones({4, 100}), 0.3);
  manual_seed(14);
  check_close(dropout(gpu(ones({4, 100})), 0.3), on_cpu);
}

TEST_CASE("cuda: errors on the GPU are lessons too", "[cuda]") {
  SKIP_WITHOUT_GPU();
  const Tensor x = gpu(randn({3, 4}));
  // An op without a CUDA kernel says so, and what to do. Every op of the catalogue has one, so
  // here is an op as a new one starts out, with a shape rule and a CPU kernel only (core/op.h).
  const ShapeRule same_shape = [](std::span<const Meta> in, const Attrs&) { return in[0]; };
  const ComputeKernel nothing = [](std::span<const Tensor>, const Attrs&, Tensor&) {};
  const OpDef cpu_only{"cpu_only", 1, same_shape, nothing, nullptr, nullptr, false};
  CHECK_THROWS_WITH(call(cpu_only, {x}), Catch::Contains("cpu_only: no kernel for device cuda:0") &&
                                             Catch::Contains(".cpu()"));
  // Mixing devices is an error, never a silent copy.
  CHECK_THROWS_WITH(x + randn({3, 4}), Catch::Contains("same device"));
  // Float-only math on integers is refused, with what to do.
  CHECK_THROWS_WITH(mean(gpu(tensor({1, 2}))), Catch::Contains(".to(kFloat32)"));
  CHECK_THROWS_WITH(amax(gpu(tensor({1, 2}) > 1), {}), Catch::Contains(".to(kInt64)"));
  // One GPU: cuda:1 is refused clearly.
  CHECK_THROWS_WITH(zeros({2}).to(Device::cuda(1)), Catch::Contains("cuda:0"));
  // In-place ops on the GPU: fill_, copy_, mul_ and a gradient accumulated over two backward calls.
  {
    no_grad guard;
    const Tensor t = gpu(zeros({2, 3}));
    t.fill_(2.0);
    CHECK(t.cpu().to_vector<float>() == std::vector<float>(6, 2.0f));
    t.mul_(gpu(tensor({1.f, 2.f, 3.f})));
    CHECK(t.cpu().to_vector<float>() == std::vector<float>{2, 4, 6, 2, 4, 6});
    t.copy_(tensor({{1.f, 1.f, 1.f}, {0.f, 0.f, 0.f}}));  // from the CPU: moved, then copied
    CHECK(t.cpu().to_vector<float>() == std::vector<float>{1, 1, 1, 0, 0, 0});
    CHECK_THROWS_WITH(gpu(zeros({3, 2})).t().add_(t), Catch::Contains("non-contiguous"));
  }
  const Tensor a = gpu(tensor({1.f, 2.f})).requires_grad_();
  (a * a).sum().backward();
  (a * a).sum().backward();  // accumulates into the existing .grad: 2a + 2a
  CHECK(a.grad().cpu().to_vector<float>() == std::vector<float>{4, 8});
  // cuda::add_ checks what Tensor::add_ checks.
  const Tensor w = gpu(randn({3, 4})).requires_grad_();
  CHECK_THROWS_WITH(cuda::add_(w, x, -0.1), Catch::Contains("no_grad"));
  {
    no_grad guard;
    CHECK_THROWS_AS(cuda::add_(w, gpu(randn({4, 3})), 1.0), ShapeError);
    const uint64_t version = w.version();
    const Tensor before = w.cpu();
    cuda::add_(w, gpu(ones({4})), -0.5);  // broadcast along rows
    CHECK(w.version() == version + 1);
    CHECK(allclose(w.cpu(), before - 0.5));
  }
}

#endif  // TANDEM_HAVE_CUDA
