// core/ops/loops.h — how a CPU kernel walks a strided tensor.
//
// An elementwise kernel must visit every element of its output and, for each, find the matching
// elements of its inputs — which may be transposed, sliced or broadcast (stride 0). The naive way
// is one multi-index per element, converted to an offset per input: correct, but it does O(rank)
// integer work per element and the compiler cannot vectorise it.
//
// The trick (PyTorch calls it TensorIterator) is to split the iteration into *rows*: the innermost
// dimension is a simple loop `for i < n: p[i * stride]` that the compiler vectorises, and only the
// start of each row needs the multi-index arithmetic. Before that we *coalesce*: two adjacent
// dimensions that are laid out back to back in every operand behave like one longer dimension, so
// a contiguous [64, 784] tensor is walked as one row of 50176 elements, not 64 rows of 784.
//
// Rows are independent, so large loops are split across threads with OpenMP (parallel_for).
#pragma once

#include <array>
#include <cstdint>
#include <exception>
#include <vector>

#include "core/shape.h"
#include "core/threads.h"

namespace tandem::loops {

// Below this many elements, a loop runs on one thread: starting threads would cost more than it
// saves. An elementwise loop over 2^17 floats (512 KiB) takes about 15-20 µs on one core of a
// 2020s CPU when its data sits in the L3 cache; a second thread saves up to half of that, while
// handing work to a team whose threads are still spinning from the last loop costs about a
// microsecond. (A weight of 784 x 256 floats, the first layer of bench/'s MLP, is above the grain:
// its SGD update and its batch-1 products run on every thread.) PyTorch's grain is smaller
// (32768). The risk of any grain is a busy machine: a thread of the team that the OS has
// descheduled holds up the whole loop, for milliseconds. So the team is sized to the cores other
// processes leave free (core/threads.h), and a team of one runs the plain loop. Fused loops in
// graph mode use the same grain.
inline constexpr int64_t kParallelGrain = int64_t{1} << 17;

// How many elements of a long row one thread takes at a time (32 KiB of floats).
inline constexpr int64_t kRowPiece = 8192;

// for (i = 0; i < n; ++i) body(i), split among the OpenMP threads when `parallel` is true (pass
// something like `n * work_per_i >= kParallelGrain`).
//
// Why not simply `#pragma omp parallel for if (parallel)`? Because that still calls into the
// OpenMP runtime when the condition is false: it builds a team of one thread, runs the loop and
// tears the team down again — about 0.4 µs per loop, measured with GCC's libgomp, which is more
// than the whole work of a kernel on a small tensor, and it is paid by every op of every eager
// training step. So the serial case is a plain loop that never enters OpenMP.
//
// The team is sized to the cores other processes leave free (adapt_threads_to_load, core/threads.h):
// on a busy machine it may be a team of one, which waits for nobody.
//
// An exception must not leave an OpenMP region (the program would stop at once, in
// std::terminate): a body that throws — a kernel's check, or an assignment's stub — has its first
// exception kept, the other iterations finish, and the exception is thrown again after the loop,
// as the serial loop would throw it.
template <typename F> void parallel_for(int64_t n, bool parallel, F&& body) {
  if (!parallel || n < 2) {
    for (int64_t i = 0; i < n; ++i) body(i);
    return;
  }
  [[maybe_unused]] const int team = adapt_threads_to_load();  // unused where OpenMP is off (nvcc)
  // A team of one (--threads 1, or a busy machine) runs the plain loop too: `num_threads(1)` would
  // still enter the OpenMP runtime and build and tear down a team for every loop (libgomp
  // allocates and frees it each time). That was about 5 of the 72 µs of bench_mlp_step's batch-1
  // eager step at one thread, where the three loops over the 784 x 256 weight are above the grain.
  if (team <= 1) {
    for (int64_t i = 0; i < n; ++i) body(i);
    return;
  }
  std::exception_ptr failed;
#pragma omp parallel for schedule(static) num_threads(team)
  for (int64_t i = 0; i < n; ++i) {
    try {
      body(i);
    } catch (...) {
#pragma omp critical(tandem_parallel_for_failed)
      if (!failed) failed = std::current_exception();
    }
  }
  if (failed) std::rethrow_exception(failed);
}

// Merges dimensions d and d+1 wherever, for every operand k, stride[k][d] == stride[k][d+1] *
// shape[d+1]. Drops size-1 dimensions. Returns the reduced shape; rewrites `strides` to match.
template <size_t N> Shape coalesce(const Shape& shape, std::array<Strides, N>& strides) {
  Shape out_shape;
  std::array<Strides, N> out_strides;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !out_shape.empty();
    for (size_t k = 0; k < N && merge; ++k)
      merge = out_strides[k].back() == strides[k][d] * shape[d];
    if (merge) {
      out_shape.back() *= shape[d];
      for (size_t k = 0; k < N; ++k) out_strides[k].back() = strides[k][d];
    } else {
      out_shape.push_back(shape[d]);
      for (size_t k = 0; k < N; ++k) out_strides[k].push_back(strides[k][d]);
    }
  }
  strides = out_strides;
  return out_shape;
}

// Calls row(offsets, n, inner_strides) once per innermost row of `shape`, where offsets[k] is the
// element offset of the row's first element in operand k and inner_strides[k] its step along the
// row. Operand k is read with strides[k] (use broadcast_strides for broadcast inputs).
template <size_t N, typename RowFn>
void for_each_row(const Shape& full_shape, std::array<Strides, N> strides, RowFn&& row) {
  const Shape shape = coalesce(full_shape, strides);
  const auto rank = static_cast<int64_t>(shape.size());
  if (rank == 0) {  // a single element (0-dim, or all sizes 1)
    if (numel(full_shape) == 1) row(std::array<int64_t, N>{}, int64_t{1}, std::array<int64_t, N>{});
    return;
  }
  const int64_t n = shape[rank - 1];
  if (n == 0) return;
  std::array<int64_t, N> inner{};
  for (size_t k = 0; k < N; ++k) inner[k] = strides[k][rank - 1];
  const int64_t rows = numel(shape) / n;
  const bool parallel = rows * n >= kParallelGrain;
  // Threads share rows. A contiguous tensor coalesces into ONE long row, which would leave one
  // thread all the work: when there are fewer rows than pieces of kRowPiece elements, the rows are
  // cut into such pieces, and the threads share the pieces. (Every caller treats the elements of a
  // row independently, so a piece is as good as a row.)
  const int64_t pieces = parallel && rows < 64 ? (n + kRowPiece - 1) / kRowPiece : 1;
  const int64_t piece = pieces == 1 ? n : kRowPiece;

  parallel_for(rows * pieces, parallel, [&](int64_t t) {
    const int64_t r = t / pieces, start = (t % pieces) * piece;
    // Decompose the row number into indices of the outer dimensions (last varies fastest).
    std::array<int64_t, N> off{};
    int64_t rem = r;
    for (int64_t d = rank - 2; d >= 0; --d) {
      const int64_t i = rem % shape[d];
      rem /= shape[d];
      for (size_t k = 0; k < N; ++k) off[k] += i * strides[k][d];
    }
    for (size_t k = 0; k < N; ++k) off[k] += start * inner[k];
    row(off, std::min(piece, n - start), inner);
  });
}

}  // namespace tandem::loops
