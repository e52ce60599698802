// core/error.h — the one exception type Tandem throws.
//
// "Errors are lessons": every misuse raises a tandem::Error whose message names the op, the shapes
// or dtypes involved and what to do about it. Nothing in Tandem asserts or crashes on bad input.
// The subclasses only exist so that a test (or a student) can catch one family of mistakes.
//
// Read next: core/shape.h.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace tandem {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Shapes that do not fit together: broadcasting, matmul, reshape, cat...
class ShapeError : public Error {
  using Error::Error;
};
// A dtype an op cannot take (e.g. mean of an int64 tensor).
class DTypeError : public Error {
  using Error::Error;
};
// An index or dimension out of range.
class IndexError : public Error {
  using Error::Error;
};
// A device that cannot hold what was asked of it (torch.cuda.OutOfMemoryError): the message says
// which op asked, for what shape, and how much the device has.
class OutOfMemoryError : public Error {
  using Error::Error;
};

// What a student's copy of the engine throws where an assignment's task is still to be written
// (assignments/README.md): the message names the task and its README, e.g.
//   throw NotImplemented("a2.t1: implement the backward walk — see assignments/a2/README.md");
class NotImplemented : public Error {
  using Error::Error;
};

// The stub of a one-line task (`return a * b;  // SOLUTION a1.t2` becomes `return todo("a1.t2: ...");`):
// a value of any type, which throws NotImplemented the moment it is converted to one.
struct Todo {
  const char* what;
  template <typename T> operator T() const { throw NotImplemented(what); }
};
[[nodiscard]] inline Todo todo(const char* what) { return Todo{what}; }

// The stub of a task inside a function that also runs on the GPU (TANDEM_HD: cuda/ladder_index.h,
// core/ops/update_math.h): on the CPU it throws NotImplemented with the task's message; device
// code cannot throw, so there it stops the kernel (__trap: the launch fails with an error).
#if defined(__CUDA_ARCH__)
#define TANDEM_NOT_IMPLEMENTED(what) (__trap(), __builtin_unreachable())
#else
#define TANDEM_NOT_IMPLEMENTED(what) throw ::tandem::NotImplemented(what)
#endif

// Builds a message from pieces: throw ShapeError(msg("mul: ", a, " vs ", b)).
template <typename... Args> std::string msg(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

// Re-throws `e` with `context` appended to its message, keeping its class (a ShapeError stays a
// ShapeError), so a layer that adds where an error happened never hides what kind it was.
[[noreturn]] inline void rethrow_with_context(const Error& e, const std::string& context) {
  const std::string text = e.what() + context;
  if (dynamic_cast<const ShapeError*>(&e)) throw ShapeError(text);
  if (dynamic_cast<const DTypeError*>(&e)) throw DTypeError(text);
  if (dynamic_cast<const IndexError*>(&e)) throw IndexError(text);
  if (dynamic_cast<const OutOfMemoryError*>(&e)) throw OutOfMemoryError(text);
  throw Error(text);
}

}  // namespace tandem
