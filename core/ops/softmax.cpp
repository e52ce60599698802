// STUB: placeholder so the tree links while this file is being written; replaced wholesale.
#include "core/ops.h"
namespace tandem {
namespace {
Meta stub_shape(std::span<const Meta>, const Attrs&) { throw Error("op not built yet"); }
}
namespace ops {
OpDef softmax{"softmax", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef log_softmax{"log_softmax", -1, stub_shape, nullptr, nullptr, nullptr, false};
}
Tensor softmax(const Tensor&, int64_t) { throw Error("not built yet"); }
Tensor log_softmax(const Tensor&, int64_t) { throw Error("not built yet"); }
}
