// STUB: placeholder so the tree links while this file is being written; replaced wholesale.
#include "core/ops.h"
namespace tandem {
namespace {
Meta stub_shape(std::span<const Meta>, const Attrs&) { throw Error("op not built yet"); }
}
namespace ops {
OpDef reshape{"reshape", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef permute{"permute", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef slice{"slice", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef select{"select", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef expand{"expand", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef squeeze{"squeeze", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef unsqueeze{"unsqueeze", -1, stub_shape, nullptr, nullptr, nullptr, false};
}
Tensor reshape(const Tensor&, const Shape&) { throw Error("not built yet"); }
Tensor transpose(const Tensor&, int64_t, int64_t) { throw Error("not built yet"); }
Tensor permute(const Tensor&, const std::vector<int64_t>&) { throw Error("not built yet"); }
Tensor slice(const Tensor&, int64_t, int64_t, int64_t, int64_t) { throw Error("not built yet"); }
Tensor narrow(const Tensor&, int64_t, int64_t, int64_t) { throw Error("not built yet"); }
Tensor select(const Tensor&, int64_t, int64_t) { throw Error("not built yet"); }
Tensor squeeze(const Tensor&, std::optional<int64_t>) { throw Error("not built yet"); }
Tensor unsqueeze(const Tensor&, int64_t) { throw Error("not built yet"); }
Tensor expand(const Tensor&, const Shape&) { throw Error("not built yet"); }
Tensor flatten(const Tensor&, int64_t, int64_t) { throw Error("not built yet"); }
}
