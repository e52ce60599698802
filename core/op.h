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
//     derivative   attached by autograd/ (the derivative sheet), written once for both modes.
//
// Both paradigms go through the same OpDef:
//   - eager mode calls `call(op, inputs, attrs)` below: shape rule, allocate, kernel, now;
//   - graph mode stores (op, inputs, attrs) in a node, runs the shape rule at once and the kernel
//     later, inside Session::run.
// So a reader who learns how `mul` works learns it for both.
//
// Two kinds of op:
//   - compute ops write into a freshly allocated, contiguous output tensor (`compute`);
//   - view ops return a new view of their input's storage and copy nothing (`view`).
// Graph mode's memory planner relies on that split: only compute ops need a buffer.
//
// HOW TO ADD AN OP (say `softplus`):
//   1. write its CPU kernel in the matching core/ops/*.cpp file (unary math: core/ops/unary.cpp);
//   2. define `const OpDef softplus{...}` in that file with name, shape rule and kernel, and declare
//      it in the `ops` namespace at the bottom of this header;
//   3. add a user-facing function `Tensor softplus(const Tensor&)` in core/ops.h that calls
//      `call(ops::softplus, {x})`;
//   4. add it to the catalogue list in core/catalogue.cpp (so graph files can name it);
//   5. give it a derivative rule in autograd/ and a test in tests/.
#pragma once

#include <array>
#include <span>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace tandem {

// The non-tensor arguments of an op. One plain struct for all ops: each op reads the fields it
// documents and ignores the rest (sum reads `dims` and `keepdim`, softmax reads `dim`...).
struct Attrs {
  Shape dims;                 // reduction dims, a permutation, a target shape, or a conv/pool window
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
  double beta1 = 0, beta2 = 0, eps = 0;
  bool nesterov = false;
  bool decoupled_weight_decay = false;  // AdamW: shrink the weight, don't add wd·w to the gradient
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
using ViewKernel = Tensor (*)(const Tensor& input, const Attrs& attrs);

struct OpDef {
  const char* name;         // "mul": used in errors, graph node names and saved graph files
  int arity;                // number of tensor inputs; -1 for a list (cat, stack)
  ShapeRule shape;          // output meta from input metas; throws tandem::Error on a mismatch
  ComputeKernel cpu;        // CPU kernel for compute ops (null for view ops)
  ViewKernel view;          // view kernel, device-independent (null for compute ops)
  ComputeKernel cuda;       // CUDA kernel, attached by cuda/ when built (null otherwise)
  bool elementwise;         // one output element from the same-index input elements (fusable)
  bool random = false;      // draws random numbers: not a function of its inputs (rand_like)

  // Update ops (an optimizer's step: sgd_update, adam_update) have no output of their own: the
  // kernel overwrites their first `updates` inputs — the parameter and the optimizer's state —
  // in place, and `out` is the parameter itself. Eager mode runs them with call_update() below;
  // graph mode with an update node (graph/ops.h, apply_update), whose state is variables.
  int updates = 0;

  bool is_view() const { return view != nullptr; }
};

// The checks both executors make before running a kernel (eager call() below, and graph mode's
// Session): every input on `device`, else an error naming the op and both devices; and the op's
// kernel for `device`, else an error naming the op and what to do.
void check_same_device(const OpDef& op, std::span<const Tensor> inputs, Device device);
ComputeKernel kernel_for(const OpDef& op, Device device);

// Runs an op eagerly: checks devices, applies the shape rule, allocates the output and runs the
// kernel of the inputs' device. Every eager op in Tandem ends up here.
Tensor call(const OpDef& op, std::vector<Tensor> inputs, const Attrs& attrs = {});

// Runs an update op (OpDef::updates > 0) eagerly: checks devices and shapes, then the kernel
// writes the parameter inputs[0] and the state after it in place and bumps their version
// counters. Records nothing on the tape; call it under no_grad, as optimizers do.
void call_update(const OpDef& op, std::vector<Tensor> inputs, const Attrs& attrs);

// The whole catalogue, in the order of core/catalogue.cpp, and lookup by name.
const std::vector<const OpDef*>& catalogue();
const OpDef* find_op(const std::string& name);  // null when unknown

// The metadata of a concrete tensor, as a shape rule sees it.
inline Meta meta_of(const Tensor& t) { return {t.shape(), t.dtype()}; }

// Every op of the catalogue, by name. Definitions live in core/ops/*.cpp. They are not const:
// backends built separately (cuda/) attach their kernels to them once, at start-up.
namespace ops {
// elementwise binary (core/ops/binary.cpp)
extern OpDef add, sub, mul, div, pow, maximum, minimum;
extern OpDef eq, ne, lt, le, gt, ge;
extern OpDef where;  // where(cond, a, b): three inputs
extern OpDef relu_backward, sigmoid_backward, tanh_backward, gelu_backward;  // (g, saved value)
// elementwise unary (core/ops/unary.cpp)
extern OpDef neg, exp, log, sqrt, abs, sin, cos, tanh, sigmoid, relu, gelu, sign;
extern OpDef cast;  // to(dtype)
extern OpDef clone;  // contiguous copy
// reductions (core/ops/reduce.cpp)
extern OpDef sum, mean, amax, amin, argmax, argmin, var, sum_to;
// linear algebra (core/ops/matmul.cpp)
extern OpDef matmul;
// softmax family (core/ops/softmax.cpp)
extern OpDef softmax, log_softmax;
// indexing (core/ops/index.cpp)
extern OpDef index_select, gather, one_hot;
// scattering: the backward of indexing and slicing (core/ops/scatter.cpp)
extern OpDef index_add, scatter_add, slice_scatter, select_scatter;
// views (core/ops/views.cpp)
extern OpDef reshape, permute, slice, select, expand, squeeze, unsqueeze, flatten, narrow;
// joining (core/ops/join.cpp); split_like is cat's inverse, for gradients of unknown sizes
extern OpDef cat, stack, split_like;
// convolution and pooling, and the ops their gradients need (core/ops/conv.cpp)
extern OpDef conv2d, conv2d_input_grad, conv2d_weight_grad;
extern OpDef max_pool2d, max_pool2d_backward, max_pool2d_gather;
// random numbers (core/ops/random.cpp)
extern OpDef rand_like;
// the losses' check of their class labels (core/ops/labels.cpp)
extern OpDef check_labels;
// optimizer updates, in place (core/ops/update.cpp)
extern OpDef sgd_update, momentum_update, adam_update;
}  // namespace ops

}  // namespace tandem
