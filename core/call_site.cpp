// core/call_site.cpp — capturing return addresses and turning them into the user's file:line.
//
// A captured stack, innermost first, looks like this for a node built in a user's main():
//
//     tandem::capture_call_site()          engine      (libtandem.a, in the program)
//     tandem::graph::Graph::add_node(...)  engine
//     tandem::graph::matmul(...)           engine
//     main                                 THE USER'S  <- the one to report
//     __libc_start_call_main               system      (libc.so.6)
//     _start                               startup code
//
// Each frame is classified by three facts, the first that settles it winning:
//   1. the file of the code (dladdr): a system library (under /lib or /usr/lib: glibc, libstdc++,
//      libgomp) is never the user's — whatever its debug info says;
//   2. the source file, when line tables exist (GCC's libbacktrace reads them): the engine's
//      folders or installed headers, system headers (/usr/...) and relative paths (glibc's and
//      GCC's own debug info name files like ../sysdeps/nptl/libc_start_call_main.h) are not the
//      user's; any other file is;
//   3. without line tables, the symbol (libbacktrace reads the ELF symbol table; dladdr the
//      dynamic one): C++ names in namespace tandem or std are not the user's ("_ZN6tandem..." —
//      the mangled name, because a demangled "tandem::Tensor mlp<tandem::Tensor>(...)" is the
//      user's template), nor is _start; anything else, like "main", is.
// A user frame with line tables reads "examples/02_mlp.cpp:41 (in main)"; without them,
// "main in ./app (no line tables: build with -g1 or -g to see file:line)".
#include "core/call_site.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <execinfo.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#ifdef TANDEM_HAVE_LIBBACKTRACE  // CMakeLists.txt defines it when GCC's libbacktrace is found
#include <backtrace.h>
#endif

#ifndef TANDEM_SOURCE_DIR
#define TANDEM_SOURCE_DIR ""
#endif

namespace tandem {

CallSite capture_call_site() {
  CallSite s;
  s.depth = backtrace(s.frames.data(), static_cast<int>(s.frames.size()));
  return s;
}

namespace detail {

bool is_system_object(std::string_view path) {
  for (std::string_view dir : {"/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/"})
    if (path.starts_with(dir)) return true;
  return path.starts_with("linux-vdso") || path.starts_with("linux-gate");
}

bool is_user_file(std::string_view file) {
  static const char* const kEngineDirs[] = {"core/", "autograd/", "graph/", "layers/", "optim/",
                                            "cuda/", "data/",     "io/",    "dist/",   "tandem.h"};
  if (!file.starts_with('/')) return false;     // relative: a system library's own debug info
  if (file.starts_with("/usr/")) return false;  // system headers (std::function, shared_ptr...)
  // The engine's sources, and its headers wherever they were installed (include/tandem/...).
  const std::string_view root = TANDEM_SOURCE_DIR;
  std::string_view rest;
  if (!root.empty() && file.starts_with(root) && file.size() > root.size() &&
      file[root.size()] == '/')
    rest = file.substr(root.size() + 1);
  else if (const size_t at = file.rfind("/include/tandem/"); at != std::string_view::npos)
    rest = file.substr(at + std::strlen("/include/tandem/"));
  for (const char* dir : kEngineDirs)
    if (rest.starts_with(dir)) return false;
  return true;
}

bool is_user_symbol(std::string_view mangled) {
  // Itanium C++ ABI manglings: _ZN6tandem... (a function in namespace tandem), _ZNK6tandem...
  // (a const member), _ZZN6tandem... (a lambda or local inside one); likewise St for std::.
  for (std::string_view prefix : {"_ZN6tandem", "_ZNK6tandem", "_ZZN6tandem", "_ZZNK6tandem",
                                  "_ZNSt", "_ZNKSt", "_ZSt", "_ZZNSt", "_ZZNKSt"})
    if (mangled.starts_with(prefix)) return false;
  return !mangled.empty() && mangled != "_start" && !mangled.starts_with("__libc_");
}

}  // namespace detail

namespace {

std::string demangle(const char* name) {
  int status = 0;
  char* readable = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string out = status == 0 ? readable : name;
  std::free(readable);
  return out;
}

}  // namespace

// A demangled signature is long: "tandem::Tensor mlp<tandem::Tensor>(tandem::Tensor const&,
// Params<tandem::Tensor> const&)". The reader needs the name, "mlp<tandem::Tensor>": drop what
// follows the parameter list (" const"), the parameter list, and the return type before the name
// (the last space outside brackets: "(anonymous namespace)" and "{lambda()#1}" keep theirs).
std::string detail::function_name(std::string_view signature) {
  std::string_view s = signature;
  while (!s.empty() && s.back() != ')') {  // " const", " &", " &&" after the parameters
    const size_t space = s.rfind(' ');
    if (space == std::string_view::npos || s.substr(space).find_first_of("()<>") != std::string_view::npos) break;
    s = s.substr(0, space);
  }
  if (!s.empty() && s.back() == ')') {  // the parameter list: from its matching '('
    int depth = 0;
    for (size_t i = s.size(); i-- > 0;) {
      depth += s[i] == ')' ? 1 : s[i] == '(' ? -1 : 0;
      if (depth == 0) {
        if (i > 0) s = s.substr(0, i);
        break;
      }
    }
  }
  size_t start = 0;
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    depth += (c == '<' || c == '(' || c == '{' || c == '[') ? 1 : (c == '>' || c == ')' || c == '}' || c == ']') ? -1 : 0;
    if (c == ' ' && depth == 0) start = i + 1;
  }
  return std::string(s.substr(start));
}

namespace {

// "./app+0x1a2b": where the code is, when nothing better is known.
std::string object_offset(const Dl_info& info, uintptr_t pc) {
  char hex[32];
  std::snprintf(hex, sizeof hex, "+0x%zx",
                static_cast<size_t>(pc - reinterpret_cast<uintptr_t>(info.dli_fbase)));
  return std::string(info.dli_fname ? info.dli_fname : "?") + hex;
}

// What line tables say about one frame: the user's file:line if any entry (the frame itself, or
// a function inlined into it) is the user's; whether any file was known at all.
struct LineInfo {
  std::string user_line;
  bool any_file = false;
  std::string symbol;  // the function's linkage name, when the reader has one without line tables
};

#ifdef TANDEM_HAVE_LIBBACKTRACE
backtrace_state* state() {
  static backtrace_state* s = backtrace_create_state(nullptr, /*threaded=*/1, nullptr, nullptr);
  return s;
}

int on_line(void* data, uintptr_t, const char* file, int line, const char* function) {
  auto* info = static_cast<LineInfo*>(data);
  if (!file) {
    if (function && info->symbol.empty()) info->symbol = function;
    return 0;
  }
  info->any_file = true;
  if (!detail::is_user_file(file)) return 0;  // an inlined engine or library function: go on
  // The engine's own examples and tests are named relative to its root.
  std::string text(file);
  const std::string_view root = TANDEM_SOURCE_DIR;
  if (!root.empty() && text.starts_with(root) && text.size() > root.size() + 1)
    text = text.substr(root.size() + 1);
  info->user_line = text + ":" + std::to_string(line);
  if (function) info->user_line += " (in " + detail::function_name(demangle(function)) + ")";
  return 1;  // stop: this is the user's line
}

void on_symbol(void* data, uintptr_t, const char* symname, uintptr_t, uintptr_t) {
  auto* info = static_cast<LineInfo*>(data);
  if (symname && info->symbol.empty()) info->symbol = symname;
}

void on_error(void*, const char*, int) {}  // missing debug info is an answer, not an error

LineInfo line_info(uintptr_t pc) {
  LineInfo info;
  backtrace_pcinfo(state(), pc, on_line, on_error, &info);
  if (!info.any_file && info.symbol.empty())
    backtrace_syminfo(state(), pc, on_symbol, on_error, &info);
  return info;
}
#else
LineInfo line_info(uintptr_t) { return {}; }  // no reader: symbols only
#endif

}  // namespace

std::string describe(const CallSite& site) {
#ifdef TANDEM_HAVE_LIBBACKTRACE
  const char* const kNoLines = " (no line tables: build with -g1 or -g to see file:line)";
#else
  const char* const kNoLines = " (Tandem was built without libbacktrace, which reads file:line)";
#endif
  // The first frame with neither line tables nor a symbol (a stripped program), if nothing better.
  std::string nameless;
  for (int i = 1; i < site.depth; ++i) {  // frame 0 is capture_call_site itself
    // A return address points after the call; one byte back is inside it, on the caller's line.
    const uintptr_t pc = reinterpret_cast<uintptr_t>(site.frames[i]) - 1;
    Dl_info object{};
    const bool located = dladdr(reinterpret_cast<void*>(pc), &object) != 0 && object.dli_fname;
    if (located && detail::is_system_object(object.dli_fname)) continue;
    LineInfo info = line_info(pc);
    if (!info.user_line.empty()) return info.user_line;
    if (info.any_file) continue;  // line tables exist, and none of the entries is the user's
    if (info.symbol.empty() && located && object.dli_sname) info.symbol = object.dli_sname;
    if (info.symbol.empty()) {
      if (nameless.empty() && located) nameless = object_offset(object, pc);
      continue;
    }
    if (detail::is_user_symbol(info.symbol))  // the user's code, compiled without line tables
      return detail::function_name(demangle(info.symbol.c_str())) + " in " + (located ? object.dli_fname : "the program") +
             kNoLines;
  }
  if (!nameless.empty()) return "somewhere in " + nameless + kNoLines;
  return "unknown location (build with debug line tables, -g1, to see file:line)";
}

}  // namespace tandem
