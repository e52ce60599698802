// layers/dropout.cpp — the dropout layers check their probability when built.
#include "layers/dropout.h"

namespace tandem::nn {

namespace {
double checked(double p, const char* layer) {
  if (!(p >= 0 && p <= 1))
    throw Error(msg(layer, ": dropout probability has to be between 0 and 1, but got ", p));
  return p;
}
}  // namespace

DropoutImpl::DropoutImpl(double p) : p(checked(p, "Dropout")) {}
Dropout2dImpl::Dropout2dImpl(double p) : p(checked(p, "Dropout2d")) {}

}  // namespace tandem::nn
