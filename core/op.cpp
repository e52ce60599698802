// core/op.cpp — running one op eagerly: the path every eager Tensor operation takes.
//
//   call(op, inputs, attrs)
//     1. all inputs on one device          (else: a clear error naming the op and the devices)
//     2. meta = op.shape(input metas)      (the same shape rule graph mode runs at declaration),
//        then check_shape(meta)            (no size < 0, no element count that overflows)
//     3. view op:    out = op.view(inputs) (no allocation)
//        compute op: out = empty(meta) on that device; kernel(inputs, attrs, out)
//
// autograd/ wraps this path to record the tape (see autograd/engine.cpp).
#include "core/op.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "core/call_site.h"
#include "core/kernel_count.h"

namespace tandem {

namespace {
Tensor compute(const OpDef& op, std::span<const Tensor> inputs, const Attrs& attrs,
               const Meta& out_meta, Device device);
thread_local int64_t kernels_run = 0;  // core/kernel_count.h
}  // namespace

int64_t eager_kernels_run() { return kernels_run; }

void check_same_device(const OpDef& op, std::span<const Tensor> inputs, Device device) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (i < 32 && ((op.shape_only_inputs >> i) & 1u)) continue;  // only its shape is read: any device
    const Tensor& t = inputs[i];
    if (t.device() != device)
      throw Error(msg(op.name, ": expected all tensors to be on the same device, but found at "
                      "least two devices, ", to_string(device), " and ", to_string(t.device()),
                      "; move them with .to(device) first"));
  }
}

ComputeKernel kernel_for(const OpDef& op, Device device) {
  const ComputeKernel kernel = device.is_cpu() ? op.cpu : op.cuda;
  if (!kernel)
    throw Error(msg(op.name, ": no kernel for device ", to_string(device),
                    device.is_cuda() ? " (the CUDA backend does not implement this op; move the "
                                       "tensors to the CPU with .cpu())"
                                     : ""));
  return kernel;
}

Tensor call(const OpDef& op, const OpInputs<Tensor>& inputs, const Attrs& attrs) {
  if (op.arity >= 0 && static_cast<int>(inputs.size()) != op.arity)
    throw Error(msg(op.name, ": expected ", op.arity, " input tensors, got ", inputs.size()));
  if (op.updates > 0)
    throw Error(msg(op.name, " overwrites its inputs and has no result: run it with call_update()"));
  // The inputs' metas, for the shape rule: in a small array for the usual one to four inputs (an
  // op is called thousands of times per training step; each heap allocation shows).
  std::array<Meta, 4> few;
  std::vector<Meta> many;
  if (inputs.size() > few.size()) many.resize(inputs.size());
  Meta* const m = inputs.size() > few.size() ? many.data() : few.data();
  for (size_t i = 0; i < inputs.size(); ++i) m[i] = meta_of(inputs[i]);  // throws if undefined
  const std::span<const Meta> metas(m, inputs.size());
  const Device device = inputs.empty() ? Device::cpu() : inputs[0].device();
  check_same_device(op, inputs, device);

  const Meta out_meta = op.shape(metas, attrs);
  check_shape(out_meta.shape, itemsize(out_meta.dtype), op.name);  // views too: expand to 2^80...
  Tensor out;
  if (op.is_view()) {
    no_grad inside_kernel;  // a view that must copy (reshape) calls ops; they are not the user's steps
    out = op.view(inputs, attrs);
  } else {
    out = compute(op, inputs, attrs, out_meta, device);
  }

  // 4. Autograd: if any input requires grad, leave a record on the tape (autograd/engine.cpp).
  if (autograd::is_grad_enabled() && autograd::any_requires_grad(inputs))
    autograd::record(op, inputs, attrs, out);
  return out;
}

void call_update(const OpDef& op, std::vector<Tensor> inputs, const Attrs& attrs) {
  if (op.updates == 0) throw Error(msg(op.name, " is not an update op: run it with call()"));
  if (static_cast<int>(inputs.size()) != op.arity)
    throw Error(msg(op.name, ": expected ", op.arity, " input tensors, got ", inputs.size()));
  std::vector<Meta> metas;
  for (const Tensor& t : inputs) metas.push_back(meta_of(t));  // throws if one is undefined
  const Device device = inputs[0].device();
  check_same_device(op, inputs, device);
  op.shape(metas, attrs);  // checks that the state and the gradient fit the parameter
  // The kernels walk the written tensors as flat arrays: they must be contiguous. The read-only
  // ones (the gradient) are made so here.
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (static_cast<int>(k) < op.updates && !inputs[k].is_contiguous())
      throw Error(msg(op.name, ": input ", k, " of shape ", shape_str(inputs[k].shape()),
                      " is written in place and must be contiguous; optimize a contiguous "
                      "parameter (p = p.contiguous().detach().requires_grad_())"));
    if (!inputs[k].is_contiguous()) inputs[k] = inputs[k].contiguous();
  }
  no_grad inside_kernel;
  ++kernels_run;
  kernel_for(op, device)(inputs, attrs, inputs[0]);
  for (int k = 0; k < op.updates; ++k) inputs[k].storage()->version++;
}

// ---- the catalogue -------------------------------------------------------------------------------

namespace {
// The list TANDEM_OP files every op into, kept sorted by name. A function-local static, so that it
// exists before the first op is listed, whichever file's start-up code runs first.
std::vector<const OpDef*>& listed_ops() {
  static std::vector<const OpDef*> all;
  return all;
}
}  // namespace

bool list_op(OpDef& op) {
  std::vector<const OpDef*>& all = listed_ops();
  auto at = std::lower_bound(all.begin(), all.end(), &op,
                             [](const OpDef* a, const OpDef* b) { return std::strcmp(a->name, b->name) < 0; });
  all.insert(at, &op);
  return true;
}

const std::vector<const OpDef*>& catalogue() { return listed_ops(); }

const OpDef* find_op(const std::string& name) {
  for (const OpDef* op : catalogue())
    if (name == op->name) return op;
  return nullptr;
}

// ---- the eager executor's side of apply() -----------------------------------------------------------

// A C++ exception carries no traceback: where PyTorch's error shows the Python line that called
// the op, a C++ program would learn only what went wrong, never where. So an op that fails here
// adds the line of the user's program that called it (core/call_site.h; taken only on the error
// path, so a working op pays nothing), keeping the error's class:
//     matmul: mat1 and mat2 shapes cannot be multiplied (8x4 and 5x2)
//       in 'matmul' called at examples/13_debugging.cpp:52 (in main)
// An op called inside another op's kernel that fails is already annotated: it is left as it is.
// (Graph mode's twin is graph/ops.cpp's make_op, which names the line that created the node.)
template <> Tensor apply<Tensor>(const OpDef& op, const OpInputs<Tensor>& inputs, const Attrs& attrs) {
  try {
    return call(op, inputs, attrs);
  } catch (const Error& e) {
    if (std::strstr(e.what(), "' called at ")) throw;
    rethrow_with_context(e, msg("\n  in '", op.name, "' called at ", describe(capture_call_site())));
  }
}

template <> Tensor lift<Tensor>(const Tensor& value, const Tensor& like) {
  return value.device() == like.device() ? value : value.to(like.device());
}

namespace {
Tensor compute(const OpDef& op, std::span<const Tensor> inputs, const Attrs& attrs,
               const Meta& out_meta, Device device) {
  const ComputeKernel kernel = kernel_for(op, device);
  Tensor out = Tensor::empty(out_meta.shape, out_meta.dtype, device, op.name);
  // A kernel may call other ops on its inputs (a dtype conversion, a contiguous copy); those are
  // implementation details, not steps of the user's computation, so nothing inside is recorded.
  no_grad inside_kernel;
  ++kernels_run;
  kernel(inputs, attrs, out);
  return out;
}
}  // namespace

}  // namespace tandem
