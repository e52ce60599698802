// STUB: placeholder so the tree links while this file is being written; replaced wholesale.
#include "core/ops.h"
namespace tandem {
namespace {
Meta stub_shape(std::span<const Meta>, const Attrs&) { throw Error("op not built yet"); }
}
namespace ops {
OpDef neg{"neg", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef exp{"exp", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef log{"log", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef sqrt{"sqrt", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef abs{"abs", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef sin{"sin", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef cos{"cos", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef tanh{"tanh", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef sigmoid{"sigmoid", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef relu{"relu", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef gelu{"gelu", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef cast{"cast", -1, stub_shape, nullptr, nullptr, nullptr, false};
OpDef clone{"clone", -1, stub_shape, nullptr, nullptr, nullptr, false};
}
Tensor neg(const Tensor&) { throw Error("not built yet"); }
Tensor exp(const Tensor&) { throw Error("not built yet"); }
Tensor log(const Tensor&) { throw Error("not built yet"); }
Tensor sqrt(const Tensor&) { throw Error("not built yet"); }
Tensor abs(const Tensor&) { throw Error("not built yet"); }
Tensor sin(const Tensor&) { throw Error("not built yet"); }
Tensor cos(const Tensor&) { throw Error("not built yet"); }
Tensor tanh(const Tensor&) { throw Error("not built yet"); }
Tensor sigmoid(const Tensor&) { throw Error("not built yet"); }
Tensor relu(const Tensor&) { throw Error("not built yet"); }
Tensor gelu(const Tensor&) { throw Error("not built yet"); }
Tensor operator-(const Tensor&) { throw Error("not built yet"); }
Tensor contiguous(const Tensor&) { throw Error("not built yet"); }
Tensor clone(const Tensor&) { throw Error("not built yet"); }
Tensor to(const Tensor&, DType) { throw Error("not built yet"); }
}
