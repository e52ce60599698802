// STUB: placeholder so the tree links while this file is being written; replaced wholesale.
#include "core/ops.h"
namespace tandem {
namespace {
Meta stub_shape(std::span<const Meta>, const Attrs&) { throw Error("op not built yet"); }
}
namespace ops {
OpDef index_select{"index_select", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef gather{"gather", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef one_hot{"one_hot", -1, stub_shape, nullptr, nullptr, nullptr, false};
}
Tensor index_select(const Tensor&, int64_t, const Tensor&) { throw Error("not built yet"); }
Tensor gather(const Tensor&, int64_t, const Tensor&) { throw Error("not built yet"); }
Tensor one_hot(const Tensor&, int64_t) { throw Error("not built yet"); }
}
