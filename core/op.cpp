// core/op.cpp — running one op eagerly: the path every eager Tensor operation takes.
//
//   call(op, inputs, attrs)
//     1. all inputs on one device          (else: a clear error naming the op and the devices)
//     2. meta = op.shape(input metas)      (the same shape rule graph mode runs at declaration)
//     3. view op:    out = op.view(input)  (no allocation)
//        compute op: out = empty(meta) on that device; kernel(inputs, attrs, out)
//
// autograd/ wraps this path to record the tape (see autograd/engine.cpp).
#include "core/op.h"

namespace tandem {

Tensor call(const OpDef& op, std::vector<Tensor> inputs, const Attrs& attrs) {
  if (op.arity >= 0 && static_cast<int>(inputs.size()) != op.arity)
    throw Error(msg(op.name, ": expected ", op.arity, " input tensors, got ", inputs.size()));
  std::vector<Meta> metas;
  metas.reserve(inputs.size());
  for (const Tensor& t : inputs) metas.push_back(meta_of(t));  // throws if t is undefined
  const Device device = inputs.empty() ? Device::cpu() : inputs[0].device();
  for (size_t i = 1; i < inputs.size(); ++i)
    if (inputs[i].device() != device)
      throw Error(msg(op.name, ": expected all tensors to be on the same device, but found at "
                      "least two devices, ", to_string(device), " and ", to_string(inputs[i].device()),
                      "; move them with .to(device) first"));

  const Meta out_meta = op.shape(metas, attrs);
  if (op.is_view()) return op.view(inputs[0], attrs);

  const ComputeKernel kernel = device.is_cpu() ? op.cpu : op.cuda;
  if (!kernel)
    throw Error(msg(op.name, ": no kernel for device ", to_string(device),
                    device.is_cuda() ? " (the CUDA backend does not implement this op; move the "
                                       "tensors to the CPU with .cpu())"
                                     : ""));
  Tensor out = Tensor::empty(out_meta.shape, out_meta.dtype, device);
  kernel(inputs, attrs, out);
  return out;
}

}  // namespace tandem
