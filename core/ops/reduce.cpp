// STUB: placeholder so the tree links while this file is being written; replaced wholesale.
#include "core/ops.h"
namespace tandem {
namespace {
Meta stub_shape(std::span<const Meta>, const Attrs&) { throw Error("op not built yet"); }
}
namespace ops {
OpDef sum{"sum", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef mean{"mean", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef amax{"amax", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef amin{"amin", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef argmax{"argmax", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef argmin{"argmin", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef var{"var", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef sum_to{"sum_to", -1, stub_shape, nullptr, nullptr, nullptr, false};
}
Tensor sum(const Tensor&) { throw Error("not built yet"); }
Tensor sum(const Tensor&, const std::vector<int64_t>&, bool) { throw Error("not built yet"); }
Tensor mean(const Tensor&) { throw Error("not built yet"); }
Tensor mean(const Tensor&, const std::vector<int64_t>&, bool) { throw Error("not built yet"); }
Tensor max(const Tensor&) { throw Error("not built yet"); }
Tensor max(const Tensor&, int64_t, bool) { throw Error("not built yet"); }
Tensor min(const Tensor&) { throw Error("not built yet"); }
Tensor min(const Tensor&, int64_t, bool) { throw Error("not built yet"); }
Tensor argmax(const Tensor&) { throw Error("not built yet"); }
Tensor argmax(const Tensor&, int64_t, bool) { throw Error("not built yet"); }
Tensor argmin(const Tensor&) { throw Error("not built yet"); }
Tensor argmin(const Tensor&, int64_t, bool) { throw Error("not built yet"); }
Tensor var(const Tensor&, int64_t) { throw Error("not built yet"); }
Tensor var(const Tensor&, const std::vector<int64_t>&, int64_t, bool) { throw Error("not built yet"); }
Tensor sum_to(const Tensor&, const Shape&) { throw Error("not built yet"); }
}
