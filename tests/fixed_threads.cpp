// tests/fixed_threads.cpp — the test programs run with thread teams of a fixed size.
//
// Tandem shrinks its thread teams while other processes keep the cores busy (core/threads.h).
// Several tests compare two computations bit for bit within one process (a graph run with and
// without a pass, planned and unplanned memory), and a GEMM split between two threads rounds
// differently from one on a single thread: if the load changed the team between the two runs,
// such a test would fail for a reason that has nothing to do with what it checks. So the tests
// keep fixed teams, as OMP_DYNAMIC=false asks (the example programs they start inherit the
// variable); tests/test_threads.cpp turns load-awareness on where it is the subject.
#include <cstdlib>

#include "core/threads.h"

namespace {
const bool fixed_teams = [] {
  setenv("OMP_DYNAMIC", "false", /*overwrite=*/0);
  tandem::set_load_aware_threads(false);
  return true;
}();
}  // namespace
