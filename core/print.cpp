// STUB: replaced wholesale by the printer.
#include <ostream>
#include "core/tensor.h"
namespace tandem {
std::ostream& operator<<(std::ostream& os, const Tensor&) { return os << "tensor(?)"; }
}
