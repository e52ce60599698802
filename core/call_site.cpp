// core/call_site.cpp — capturing return addresses and turning them into file:line.
#include "core/call_site.h"

#include <cxxabi.h>
#include <execinfo.h>

#include <cstdlib>

#include <cstdint>
#include <cstring>
#include <string_view>

#if __has_include(<backtrace.h>)
#include <backtrace.h>
#define TANDEM_HAVE_LIBBACKTRACE 1
#endif

namespace tandem {

CallSite capture_call_site() {
  CallSite s;
  s.depth = backtrace(s.frames.data(), static_cast<int>(s.frames.size()));
  return s;
}

namespace {

#ifndef TANDEM_SOURCE_DIR
#define TANDEM_SOURCE_DIR ""
#endif

// A frame belongs to the engine when its file is under one of the engine's folders, or is a
// system header (std::function, shared_ptr...). Everything else is the user's code.
bool is_engine_file(std::string_view file) {
  static const char* const kEngineDirs[] = {"/core/", "/autograd/", "/graph/", "/layers/",
                                            "/optim/", "/cuda/",    "/data/",  "/io/"};
  const std::string_view root = TANDEM_SOURCE_DIR;
  if (file.starts_with("/usr/")) return true;
  if (!root.empty() && file.starts_with(root)) {
    const std::string_view rest = file.substr(root.size());
    for (const char* d : kEngineDirs)
      if (rest.starts_with(d)) return true;
    return false;
  }
  return false;
}

std::string relative(std::string_view file) {
  const std::string_view root = TANDEM_SOURCE_DIR;
  if (!root.empty() && file.starts_with(root) && file.size() > root.size() + 1)
    return std::string(file.substr(root.size() + 1));
  return std::string(file);
}

#ifdef TANDEM_HAVE_LIBBACKTRACE
struct Found {
  std::string text;
  bool done = false;
};

int on_frame(void* data, uintptr_t, const char* file, int line, const char* function) {
  auto* found = static_cast<Found*>(data);
  if (found->done || !file || is_engine_file(file)) return 0;
  found->text = relative(file) + ":" + std::to_string(line);
  if (function) {
    int status = 0;
    char* readable = abi::__cxa_demangle(function, nullptr, nullptr, &status);
    found->text += std::string(" (in ") + (status == 0 ? readable : function) + ")";
    std::free(readable);
  }
  found->done = true;
  return 1;  // stop: this is the user's line
}

backtrace_state* state() {
  static backtrace_state* s = backtrace_create_state(nullptr, /*threaded=*/1, nullptr, nullptr);
  return s;
}
#endif

}  // namespace

std::string describe(const CallSite& site) {
#ifdef TANDEM_HAVE_LIBBACKTRACE
  Found found;
  for (int i = 1; i < site.depth && !found.done; ++i)  // frame 0 is capture_call_site itself
    backtrace_pcinfo(state(), reinterpret_cast<uintptr_t>(site.frames[i]) - 1, on_frame, nullptr, &found);
  if (found.done) return found.text;
#else
  (void)site;
#endif
  return "unknown location (build with debug line tables, -g1, to see file:line)";
}

}  // namespace tandem
