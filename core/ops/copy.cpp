// core/ops/copy.cpp — the strided, converting copy (see copy.h).
#include "core/ops/copy.h"

#include <cstring>

#include "core/ops/loops.h"

namespace tandem {

namespace {
// Converting one value: casting to bool means "is it nonzero", as in PyTorch.
template <typename D, typename S> inline D convert(S v) {
  if constexpr (std::is_same_v<D, bool>) return v != S(0);
  else return static_cast<D>(v);
}
}  // namespace

void copy_into(const Tensor& src, const Tensor& dst) {
  if (!is_expandable_to(src.shape(), dst.shape()))
    throw ShapeError(msg("copy: the source shape ", shape_str(src.shape()),
                         " cannot be broadcast to the destination shape ", shape_str(dst.shape())));
  // The commonest case, a same-dtype copy of two contiguous blocks, is one memcpy.
  if (src.dtype() == dst.dtype() && src.shape() == dst.shape() && src.is_contiguous() &&
      dst.is_contiguous()) {
    std::memcpy(dst.raw_data(), src.raw_data(), dst.nbytes());
    return;
  }
  visit_dtype(dst.dtype(), [&]<typename D>() {
    visit_dtype(src.dtype(), [&]<typename S>() {
      D* pd = static_cast<D*>(dst.raw_data());
      const S* ps = static_cast<const S*>(src.raw_data());
      loops::for_each_row<2>(
          dst.shape(), {dst.strides(), broadcast_strides(src.shape(), src.strides(), dst.shape())},
          [&](const std::array<int64_t, 2>& off, int64_t n, const std::array<int64_t, 2>& st) {
            D* d = pd + off[0];
            const S* s = ps + off[1];
            if (st[0] == 1 && st[1] == 1)
              for (int64_t i = 0; i < n; ++i) d[i] = convert<D>(s[i]);
            else
              for (int64_t i = 0; i < n; ++i) d[i * st[0]] = convert<D>(s[i * st[1]]);
          });
    });
  });
}

}  // namespace tandem
