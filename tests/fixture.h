// tests/fixture.h — PyTorch parity fixtures: answers computed once by PyTorch, read back in C++.
//
// WHY FIXTURES, AND NOT PYTHON AT TEST TIME
// Tandem promises to compute what PyTorch computes. The honest referee is PyTorch itself, but
// running it inside `make test` would make every test run depend on a Python installation, a
// particular torch version and its start-up time, and a failure could then come from either side.
// So the referee is consulted once: scripts/make_fixtures runs the generators in
// scripts/fixtures/gen_*.py, which build small random inputs (torch.manual_seed), evaluate the
// PyTorch expression and write inputs and results to a text file in tests/fixtures/. The files
// are committed; the C++ tests only read them. A reader can open a fixture and see, in plain
// numbers, what PyTorch answered — and a diff of a regenerated fixture shows exactly what changed.
//
// THE FORMAT (tests/fixtures/ops.txt is an example)
// Plain text, one line per record, fields separated by spaces. Lines that are empty or start with
// '#' are ignored. A file is a sequence of cases:
//
//     case add_row                                  <- a unique name, one word
//     expr add(a, b)                                <- the expression, in words (documentation)
//     input a float32 [2,3] 0.1227 -0.5663 ...      <- zero or more named inputs, in order
//     input b float32 [3] -0.8567 1.1006 -1.0712
//     output float32 [2,3] -0.7340 0.5343 ...       <- exactly one expected output
//     grad a float32 [2,3] 1 1 1 1 1 1              <- optional, for autograd cases: what
//     end                                              a.grad held after backward(), one line
//                                                      per input that requires grad
//
// A tensor is `<dtype> [<sizes>] <values...>`: dtype is float32, float64, int64 or bool; sizes
// are comma-separated without spaces ([] is a 0-dim tensor, [0] an empty one); the values follow
// in row-major order, exactly numel of them. Floats are written so that they read back to the
// very same bits: float32 with 9 significant digits ('%.9g' — enough to tell any two float32s
// apart, so a correctly rounding parser recovers the exact value), float64 with Python's repr()
// (the shortest string that reads back to the same double); nan, inf and -inf as such. int64 in
// decimal, bool as 0 or 1.
//
// The generator and the test each hold the expression, under the same case name: PyTorch's
// spelling in the generator, Tandem's in tests/test_parity.cpp. Tolerances are the test's
// choice (default_tolerance below), never the file's.
//
// Read next: tests/test_parity.cpp (how the cases are run), scripts/fixtures/gen_ops.py.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace tandem {

// Named tensors in file order, looked up by name. Unlike std::map::operator[], a missing name
// throws (naming the case) instead of quietly handing out an undefined tensor.
class FixtureTensors {
 public:
  explicit FixtureTensors(std::string case_name = {}) : case_name_(std::move(case_name)) {}
  void add(const std::string& name, Tensor t) { items_.emplace_back(name, std::move(t)); }
  const Tensor& operator[](const std::string& name) const;
  const Tensor& value(const std::string& name) const { return (*this)[name]; }  // as FixtureOutputs
  bool contains(const std::string& name) const;
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  const std::vector<std::pair<std::string, Tensor>>& items() const { return items_; }

 private:
  std::string case_name_;
  std::vector<std::pair<std::string, Tensor>> items_;
};

struct FixtureCase {
  std::string name;
  std::string expr;    // documentation: what PyTorch computed
  std::string file;    // where the case was read, for messages
  int line = 0;        // the line of its `case` record
  FixtureTensors inputs;
  Tensor output;
  FixtureTensors grads;  // by input name; empty unless the case checks gradients

  std::string where() const { return file + ":" + std::to_string(line); }
};

// Reads every case of a fixture file. Throws tandem::Error naming the file and the line when the
// file is missing or malformed (unknown record, wrong number of values, unparsable number,
// duplicate name, missing `end`...).
std::vector<FixtureCase> load_fixtures(const std::string& path);

// The path of a committed fixture: <source dir>/tests/fixtures/<name>.
std::string fixture_path(const std::string& name);

// How close a float result must be to PyTorch's: |actual - expected| <= atol + rtol * |expected|.
struct Tolerance {
  double rtol;
  double atol;
};
// float32: rtol 1e-5, atol 1e-6 — a few units in the last place of float32 (2^-23 ≈ 1.2e-7),
//          room for a different summation order or a different libm, not for a wrong formula;
// float64: rtol 1e-10, atol 1e-12 — same idea at double precision (2^-52 ≈ 2.2e-16);
// int64 and bool: exact (the tolerance is not used).
Tolerance default_tolerance(DType dtype);

// Compares a result with a fixture's expected tensor: same dtype, same shape, and values that
// match (exactly for int64/bool; within `tol` for floats, where NaN matches NaN and an infinity
// must match the same infinity). Returns "" on a match, otherwise a description of the first
// differences. It reads both tensors through their strides itself, so it does not depend on the
// ops under test.
std::string compare_with_fixture(const Tensor& actual, const Tensor& expected, Tolerance tol);
std::string compare_with_fixture(const Tensor& actual, const Tensor& expected);

}  // namespace tandem
