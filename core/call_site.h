// core/call_site.h — "where in the user's program was this created?"
//
// TF1's most painful debugging experience was an error raised inside Session::run, far from the
// line that built the failing op. Tandem fixes that the way TF later did: every graph node (and,
// in anomaly mode, every recorded eager op) keeps the call stack of its creation — a few return
// addresses, cheap to take. Only when an error must be reported are they turned into
// "file:line (function)", using the debug line tables (GCC's libbacktrace), and the first frame
// outside the engine's own folders is the user's line.
#pragma once

#include <array>
#include <string>

namespace tandem {

struct CallSite {
  std::array<void*, 32> frames{};
  int depth = 0;
};

// The current call stack (about a microsecond).
CallSite capture_call_site();

// "examples/02_mlp.cpp:41 (in main)": the innermost frame that is not inside Tandem's own
// source folders. "unknown location" when line tables are unavailable.
std::string describe(const CallSite& site);

}  // namespace tandem
