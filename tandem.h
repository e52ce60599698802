// tandem.h — everything a program needs, in one include.
//
//   #include "tandem.h"
//   using namespace tandem;
//
// Students reading the engine should instead follow docs/tour.md, which opens the headers below one
// by one in the order they build on each other.
#pragma once

#include "core/dtype.h"
#include "core/error.h"
#include "core/factories.h"
#include "core/ops.h"
#include "core/print.h"
#include "core/shape.h"
#include "core/tensor.h"
