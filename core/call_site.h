// core/call_site.h — "where in the user's program was this created?"
//
// TF1's most painful debugging experience was an error raised inside Session::run, far from the
// line that built the failing op. Tandem fixes that the way TF later did: every graph node (and,
// in anomaly mode, every recorded eager op) keeps the call stack of its creation — a few return
// addresses, cheap to take. Only when an error must be reported are they turned into
// "file:line (function)", using the debug line tables (GCC's libbacktrace), and the first frame
// that is neither the engine's nor a system library's is the user's line. A program built
// without line tables still gets the user's function and program named, never a glibc file.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace tandem {

struct CallSite {
  std::array<void*, 32> frames{};
  int depth = 0;
};

// The current call stack (about a microsecond).
CallSite capture_call_site();

// "examples/02_mlp.cpp:41 (in main)": the innermost frame that is the user's code — neither
// Tandem's own (its folders, its installed headers, its symbols) nor a system library's. Without
// line tables: "main in ./app (no line tables: build with -g1 or -g to see file:line)".
std::string describe(const CallSite& site);

// How describe() tells frames apart (core/call_site.cpp explains the rules; tests use these).
namespace detail {
bool is_system_object(std::string_view path);   // "/lib/x86_64-linux-gnu/libc.so.6": yes
bool is_user_file(std::string_view file);       // "/home/me/app/main.cpp": yes
bool is_user_symbol(std::string_view mangled);  // "main", "_Z3mlpIN6tandem6TensorEET_...": yes
// "tandem::Tensor mlp<tandem::Tensor>(tandem::Tensor const&)" → "mlp<tandem::Tensor>"
std::string function_name(std::string_view signature);
}  // namespace detail

}  // namespace tandem
