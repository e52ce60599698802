// core/ops/like.cpp — ops that read another value's *shape*: sum_to_like, zeros_like, ones_like,
// count_ratio (with expand_like and reshape_like, which are views: core/ops/views.cpp).
//
// Why they exist. A derivative rule often needs a shape: the gradient of a + b for a broadcast
// operand b is g summed down to b's shape. In eager mode every shape is a number, so the rule
// writes sum_to(g, {3}). In graph mode a placeholder may be declared [?, 3]: the shape is unknown
// until Session::run, so the rule cannot write the number down. It writes sum_to_like(g, b) instead:
// "sum g down to whatever b's shape turns out to be", and the answer is decided when the values
// exist. (TensorFlow 1 builds the same thing from Shape and BroadcastGradientArgs nodes.)
//
// The second input (and, for zeros_like / ones_like / count_ratio, every input) is read for its
// shape and dtype only: OpDef::shape_only_inputs says so, and graph mode's memory planner frees such
// an input after its last *value* reader.
//
// Read next: graph/gradients.cpp (GraphContext, which uses them).
#include "core/factories.h"
#include "core/op.h"
#include "core/ops.h"
#include "core/ops/copy.h"

namespace tandem {
namespace {

// sum_to_like(x, like): x summed down to like's shape, with sum_to's rules.
Meta sum_to_like_meta(std::span<const Meta> in, const Attrs&) {
  return ops::sum_to.shape(in.first(1), {.dims = in[1].shape});
}
// When the shapes already agree it is x itself, a view, as sum_to is; otherwise it sums. So it is a
// view op that sometimes computes — the memory planner treats it as a view of x, which is safe.
Tensor sum_to_like_view(std::span<const Tensor> in, const Attrs&) { return sum_to(in[0], in[1].shape()); }

// Sets every element of `out` to v, on its device (filled on the host, then one copy for a GPU).
void fill(Tensor& out, double v) {
  if (out.device().is_cpu()) {
    visit_dtype(out.dtype(), [&]<typename T>() {
      T* p = static_cast<T*>(out.raw_data());
      std::fill(p, p + out.numel(), static_cast<T>(v));
    });
  } else {
    const Tensor host = full(out.shape(), v, out.dtype());
    copy_bytes(out.raw_data(), out.device(), host.raw_data(), Device::cpu(), out.nbytes());
  }
}

Meta same_meta(std::span<const Meta> in, const Attrs&) { return in[0]; }
void zeros_kernel(std::span<const Tensor>, const Attrs&, Tensor& out) { fill(out, 0.0); }
void ones_kernel(std::span<const Tensor>, const Attrs&, Tensor& out) { fill(out, 1.0); }

// count_ratio(a, b) = numel(a) / numel(b), a float64 scalar: how many input elements each output
// element of a mean averages (mean's gradient divides by it). 0 when b is empty.
Meta count_ratio_meta(std::span<const Meta>, const Attrs&) { return {{}, kFloat64}; }
void count_ratio_kernel(std::span<const Tensor> in, const Attrs&, Tensor& out) {
  const int64_t den = in[1].numel();
  fill(out, den == 0 ? 0.0 : static_cast<double>(in[0].numel()) / static_cast<double>(den));
}

}  // namespace

namespace ops {
TANDEM_OP(sum_to_like, .arity = 2, .shape = sum_to_like_meta, .view = sum_to_like_view,
          .shape_only_inputs = 0b10);
constexpr const char* kFilled = "its values are constants; only its input's shape is read";
TANDEM_OP(zeros_like, .shape = same_meta, .cpu = zeros_kernel, .cuda = zeros_kernel,
          .shape_only_inputs = 0b1, .no_derivative = kFilled);
TANDEM_OP(ones_like, .shape = same_meta, .cpu = ones_kernel, .cuda = ones_kernel,
          .shape_only_inputs = 0b1, .no_derivative = kFilled);
TANDEM_OP(count_ratio, .arity = 2, .shape = count_ratio_meta, .cpu = count_ratio_kernel,
          .cuda = count_ratio_kernel, .shape_only_inputs = 0b11,
          .no_derivative = "it counts elements, a constant for given shapes");
}  // namespace ops

}  // namespace tandem
