// core/op.h — the op catalogue: every operation Tandem knows, defined once.
//
// This is the heart of the design. An operation such as `mul` is one OpDef:
//
//     name         "mul"
//     shape rule   (input shapes, dtypes) -> output shape, dtype; throws on a mismatch.
//                  It must accept unknown dimensions (-1), because graph mode runs it when a node
//                  is *declared*, long before any value exists.
//     kernels      one per device: the CPU kernel (Eigen / plain loops) here in core/ops/, the
//                  CUDA kernel attached by cuda/ when that backend is built.
//     derivative   its row of the derivative sheet (autograd/derivatives.cpp), written once for
//                  both modes — or the reason it has none.
//
// Both paradigms go through the same OpDef, by way of one function, apply() below:
//   - eager mode (apply on Tensors) calls `call(op, inputs, attrs)`: shape rule, allocate, kernel,
//     now — and records the op on the autograd tape;
//   - graph mode (apply on graph::Outputs) adds a node holding (op, inputs, attrs): the shape rule
//     runs at once, the kernel later, inside Session::run.
// So a reader who learns how `mul` works learns it for both.
//
// Two kinds of op:
//   - compute ops write into a freshly allocated, contiguous output tensor (`cpu`, `cuda`);
//   - view ops return their input's storage read another way, copying nothing (`view`) — or, for
//     the few that must (reshape of a transposed matrix), a fresh copy.
// Graph mode's memory planner relies on that split: only compute ops need a buffer.
//
// HOW TO ADD AN OP. Two ways (docs/adding_an_op.md walks through both):
//   - a COMPOSITE, written from existing ops as one function template in core/ops.h (softplus is
//     one). Both modes, the derivative, CUDA and fusion come for free. This is the normal way.
//   - a PRIMITIVE, with kernels of its own, when a composite is too slow or unstable. It touches at
//     most four source files:
//       1. its OpDef and CPU kernel, defined with TANDEM_OP in the matching core/ops/*.cpp — or,
//          for an elementwise op, one row in core/ops/elementwise_ops.h plus its functor in
//          core/ops/math.h, which gives it CPU and CUDA kernels and a place in fused loops;
//       2. its user function, one line in core/ops.h (with its `extern OpDef` there);
//       3. its derivative: the rule and its row in autograd/derivatives.cpp (or, in its OpDef,
//          `.no_derivative = "why"`);
//       4. its CUDA kernel in cuda/ (elementwise ops have theirs from step 1).
//     The catalogue lists it by itself (TANDEM_OP). tests/test_catalogue.cpp checks the recipe:
//     every op listed, every compute op differentiable or saying why not, every elementwise op
//     fusable, and gradcheck over the whole sheet in both modes.
#pragma once

#include <array>
#include <concepts>
#include <span>
#include <string>
#include <vector>

#include "core/inline_list.h"
#include "core/tensor.h"

namespace tandem {

namespace autograd {
struct Derivative;  // autograd/derivatives.h: one row of the derivative sheet
}

// The non-tensor arguments of an op. One plain struct for all ops: each op reads the fields it
// documents and ignores the rest (sum reads `dims` and `keepdim`, softmax reads `dim`...). Built
// with designated initializers, in this order: {.dim = 1, .keepdim = true}.
struct Attrs {
  Shape dims = {};            // reduction dims, a permutation, a target shape, or a conv/pool window
  int64_t dim = 0;            // the one dimension softmax / cat / gather / select / slice act on
  int64_t start = 0;          // slice: first index
  int64_t end = 0;            // slice: one past the last index
  int64_t step = 1;           // slice: stride
  int64_t correction = 1;     // var: divide by N - correction (1 = unbiased, PyTorch's default)
  int64_t num_classes = 0;    // one_hot
  bool keepdim = false;       // reductions: keep reduced dims with size 1
  DType dtype = kFloat32;     // to(dtype)
  // Optimizer updates (core/ops/update.cpp): the hyper-parameters, named as in torch.optim.
  double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  double beta1 = 0, beta2 = 0, eps = 0;  // eps: also batch norm's (core/ops/batch_norm.cpp)
  double alpha = 0;     // RMSprop's smoothing constant (TensorFlow calls it decay, or rho)
  double lr_decay = 0;  // Adagrad: lr / (1 + (t − 1) · lr_decay)
  bool nesterov = false;
  bool decoupled_weight_decay = false;  // AdamW: shrink the weight, don't add wd·w to the gradient
  bool centered = false;                // RMSprop: divide by the gradient's std, not its RMS
  // The debugging ops' text (core/ops/debug.cpp): check_numerics' message, print's prefix.
  std::string message = {};
};

// (height, width): a stride, a padding or a kernel size of conv2d and max_pool2d.
using Pair = std::array<int64_t, 2>;

// What a shape rule knows about a value: its shape (possibly with unknown dims) and dtype.
struct Meta {
  Shape shape;
  DType dtype = kFloat32;
};

using ShapeRule = Meta (*)(std::span<const Meta> inputs, const Attrs& attrs);
using ComputeKernel = void (*)(std::span<const Tensor> inputs, const Attrs& attrs, Tensor& out);
using ViewKernel = Tensor (*)(std::span<const Tensor> inputs, const Attrs& attrs);

// One entry of the catalogue. Defined with TANDEM_OP and designated initializers, fields in this
// order, leaving out what does not apply:
//
//   TANDEM_OP(matmul, .arity = 2, .shape = matmul_shape, .cpu = matmul_kernel);
struct OpDef {
  const char* name = "";    // "mul": used in errors, graph node names and saved graph files
  int arity = 1;            // number of tensor inputs; -1 for a list (cat, stack, add_n)
  ShapeRule shape = nullptr;  // output meta from input metas; throws tandem::Error on a mismatch
  ComputeKernel cpu = nullptr;   // CPU kernel of a compute op
  ViewKernel view = nullptr;     // the kernel of a view op, for every device
  ComputeKernel cuda = nullptr;  // CUDA kernel, attached by cuda/ when built
  bool elementwise = false;  // one output element from the same-index input elements (fusable)
  bool random = false;       // draws random numbers: not a function of its inputs (rand_like)
  // Runs for an effect besides its value (print writes to stderr): like TF's is_stateful, it is
  // never folded into a constant nor merged with a twin, so it runs on every run, every time.
  bool stateful = false;
  // Update ops (an optimizer's step: sgd_update, adam_update) have no output of their own: the
  // kernel overwrites their first `updates` inputs — the parameter and the optimizer's state —
  // in place, and `out` is the parameter itself. Eager mode runs them with call_update() below;
  // graph mode with an update node (graph/ops.h, apply_update), whose state is variables.
  int updates = 0;
  // Bit i set: input i is read for its shape and dtype only, never its values (zeros_like, and
  // sum_to_like's target). Graph mode's memory planner frees such an input after its last *value*
  // reader (graph/passes/memory_plan.cpp).
  uint32_t shape_only_inputs = 0;
  // Why the op has no derivative, for ops that have none ("a comparison: its output is piecewise
  // constant"). Every other op must have a row in the derivative sheet (tests check it).
  const char* no_derivative = nullptr;
  // Its row of the derivative sheet. Set by autograd/derivatives.cpp when the sheet is built;
  // read it through autograd::derivative_for(op).
  const autograd::Derivative* derivative = nullptr;

  bool is_view() const { return view != nullptr; }
};

// Files `op` in the catalogue (called by TANDEM_OP). Returns true.
bool list_op(OpDef& op);

// TANDEM_OP(id, fields...) defines the catalogue entry `id` (in namespace tandem::ops), named
// after it, and files it in the catalogue — so an op can never exist without being listed, which
// is how graph files find an op by its name and how the recipe tests find every op. The op is
// constant-initialized (nothing runs before main to build it); only the listing runs at start-up.
// A macro only because "define it" and "list it" must never come apart.
#define TANDEM_OP(id, ...)                 \
  OpDef id{.name = #id, __VA_ARGS__};      \
  [[maybe_unused]] static const bool id##_is_listed = ::tandem::list_op(id)

// The whole catalogue (sorted by name), and lookup by name.
const std::vector<const OpDef*>& catalogue();
const OpDef* find_op(const std::string& name);  // null when unknown

// The checks both executors make before running a kernel (eager call() below, and graph mode's
// Session): every input on `device`, else an error naming the op and both devices; and the op's
// kernel for `device`, else an error naming the op and what to do.
void check_same_device(const OpDef& op, std::span<const Tensor> inputs, Device device);
ComputeKernel kernel_for(const OpDef& op, Device device);

// An op's tensor inputs, as the user functions pass them: apply(ops::mul, {a, b}). Up to four
// are kept inside the list itself (core/inline_list.h): one heap allocation less per op; a
// std::vector (cat's list) is taken over as it is.
template <class T> using OpInputs = InlineList<T, 4>;

// Runs an op eagerly: checks devices, applies the shape rule, allocates the output and runs the
// kernel of the inputs' device. Every eager op in Tandem ends up here.
Tensor call(const OpDef& op, const OpInputs<Tensor>& inputs, const Attrs& attrs = {});

// Runs an update op (OpDef::updates > 0) eagerly: checks devices and shapes, then the kernel
// writes the parameter inputs[0] and the state after it in place and bumps their version
// counters. Records nothing on the tape; call it under no_grad, as optimizers do.
void call_update(const OpDef& op, std::vector<Tensor> inputs, const Attrs& attrs);

// The metadata of a concrete tensor, as a shape rule sees it.
inline Meta meta_of(const Tensor& t) { return {t.shape(), t.dtype()}; }

// ---- one op function for both modes ------------------------------------------------------------
//
// The functions a user calls (core/ops.h) are written once, as templates over the tensor type T:
//
//     template <TensorLike T> T mul(const T& a, const T& b) { return apply(ops::mul, {a, b}); }
//
// T is tandem::Tensor (eager) or tandem::graph::Output (graph). The two executors differ in one
// place only, apply(): the eager one computes now, the graph one adds a node. That is the whole
// difference between the paradigms, seen from an op.
namespace graph {
class Output;
}
template <class T>
concept TensorLike = std::same_as<T, Tensor> || std::same_as<T, graph::Output>;

// True when T is an eager tensor: generic code branches on it where the modes must differ (a
// value that eager mode can read and a graph does not have yet).
template <class T> inline constexpr bool is_eager = std::same_as<T, Tensor>;

// Runs `op` on `inputs` the way T's executor does. Defined for Tensor in core/op.cpp (call) and
// for graph::Output in graph/ops.cpp (a new node).
template <TensorLike T> T apply(const OpDef& op, const OpInputs<T>& inputs, const Attrs& attrs = {});
template <> Tensor apply<Tensor>(const OpDef& op, const OpInputs<Tensor>& inputs, const Attrs& attrs);
template <>
graph::Output apply<graph::Output>(const OpDef& op, const OpInputs<graph::Output>& inputs, const Attrs& attrs);

// A concrete value as a T beside `like`: the tensor itself in eager mode (on like's device), a
// constant node in like's graph in graph mode. Scalars in formulas (`x * 2`) come in this way.
template <TensorLike T> T lift(const Tensor& value, const T& like);
template <> Tensor lift<Tensor>(const Tensor& value, const Tensor& like);
template <> graph::Output lift<graph::Output>(const Tensor& value, const graph::Output& like);

}  // namespace tandem
