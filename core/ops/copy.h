// core/ops/copy.h — copying values from one strided tensor into another.
//
// The workhorse behind clone(), contiguous(), to(dtype), cat/stack and the in-place copy_():
// read `src` through its strides, convert each value to dst's dtype, write it through dst's
// strides. `src` may also have a shape that broadcasts to dst's (used by expand-then-copy).
#pragma once

#include "core/tensor.h"

namespace tandem {

// dst[i] = static_cast<dst dtype>(src[i]) for every index of dst. Both on the CPU.
void copy_into(const Tensor& src, const Tensor& dst);

}  // namespace tandem
