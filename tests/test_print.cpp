// tests/test_print.cpp — tensors print exactly as PyTorch prints them.
//
// Most cases come from tests/fixtures/print_cases.txt, written by running PyTorch on each tensor
// (scripts/fixtures/gen_print.py; the file's format is described there). For each case the test
// builds the tensor with from_vector, sets the print options, and compares repr() with PyTorch's
// string; a failing case shows both. The hand-written tests below cover the options API, views
// and the suffix list.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/factories.h"
#include "core/ops.h"
#include "core/print.h"

using namespace tandem;

namespace {

// Puts the print options back as they were when the test ends, even when a check throws.
struct RestorePrintOptions {
  PrintOptions saved = get_printoptions();
  ~RestorePrintOptions() { set_printoptions(saved); }
};

struct PrintCase {
  std::string name, dtype;
  Shape shape;
  std::vector<std::string> values;   // as written in the file; parsed per dtype
  std::vector<int64_t> transpose;    // empty, or the two dimensions to swap
  std::vector<std::string> options;  // "key=value" pairs
  std::string expected;
};

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::vector<PrintCase> load_cases() {
  const std::string path = TANDEM_SOURCE_DIR "/tests/fixtures/print_cases.txt";
  std::ifstream in(path);
  if (!in) FAIL("cannot open " << path << "; regenerate it with scripts/fixtures/gen_print.py");
  std::vector<PrintCase> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("case ", 0) != 0) continue;  // the header comment
    PrintCase c;
    c.name = line.substr(5);
    while (std::getline(in, line) && line != "expected") {
      std::vector<std::string> w = words(line);
      const std::string key = w.empty() ? "" : w[0];
      w.erase(w.begin(), w.begin() + (w.empty() ? 0 : 1));
      if (key == "dtype")
        c.dtype = w.at(0);
      else if (key == "shape")
        for (const auto& s : w) c.shape.push_back(std::stoll(s));
      else if (key == "values")
        c.values = w;
      else if (key == "transpose")
        c.transpose = {std::stoll(w.at(0)), std::stoll(w.at(1))};
      else if (key == "options")
        c.options = w;
      else
        FAIL("case " << c.name << ": unknown line '" << line << "'");
    }
    std::string expected;
    bool first = true;
    while (std::getline(in, line) && line != "end") {
      expected += (first ? "" : "\n") + line;
      first = false;
    }
    c.expected = expected;
    cases.push_back(c);
  }
  return cases;
}

Tensor build(const PrintCase& c) {
  Tensor t;
  if (c.dtype == "float32" || c.dtype == "float64") {
    // strtod reads "nan", "inf" and "-inf" as well as the shortest round-trip decimals.
    std::vector<double> v;
    for (const auto& s : c.values) v.push_back(std::strtod(s.c_str(), nullptr));
    if (c.dtype == "float64")
      t = from_vector(v, c.shape);
    else
      t = from_vector(std::vector<float>(v.begin(), v.end()), c.shape);
  } else if (c.dtype == "int64") {
    std::vector<int64_t> v;
    for (const auto& s : c.values) v.push_back(std::stoll(s));
    t = from_vector(v, c.shape);
  } else if (c.dtype == "bool") {
    std::vector<bool> v;
    for (const auto& s : c.values) v.push_back(s == "1");
    t = from_vector(v, c.shape);
  } else {
    FAIL("case " << c.name << ": unknown dtype " << c.dtype);
  }
  if (!c.transpose.empty()) t = t.transpose(c.transpose[0], c.transpose[1]);
  return t;
}

PrintOptions options_of(const PrintCase& c) {
  PrintOptions o;
  for (const auto& kv : c.options)  // the profile first, then the single options
    if (kv == "profile=short")
      o = print_profile(PrintProfile::short_);
    else if (kv == "profile=full")
      o = print_profile(PrintProfile::full);
  for (const auto& kv : c.options) {
    const std::string key = kv.substr(0, kv.find('=')), value = kv.substr(kv.find('=') + 1);
    if (key == "precision")
      o.precision = std::stoi(value);
    else if (key == "threshold")
      o.threshold = std::stoll(value);
    else if (key == "edgeitems")
      o.edgeitems = std::stoi(value);
    else if (key == "linewidth")
      o.linewidth = std::stoi(value);
    else if (key == "sci_mode" && value != "none")
      o.sci_mode = (value == "true");
  }
  return o;
}

}  // namespace

TEST_CASE("tensors print as PyTorch prints them (fixtures from PyTorch)", "[print]") {
  RestorePrintOptions restore;
  const std::vector<PrintCase> cases = load_cases();
  REQUIRE(cases.size() >= 70);
  for (const PrintCase& c : cases) {
    INFO("case " << c.name);
    set_printoptions(options_of(c));
    const std::string actual = repr(build(c));
    INFO("expected (PyTorch):\n" << c.expected << "\nactual (Tandem):\n" << actual);
    CHECK(actual == c.expected);
  }
}

TEST_CASE("operator<< writes repr()", "[print]") {
  std::ostringstream os;
  os << tensor({1.5, 2.25});
  CHECK(os.str() == "tensor([1.5000, 2.2500])");
  CHECK(repr(tensor({1.5, 2.25})) == os.str());
}

TEST_CASE("print options: profiles, set and get", "[print]") {
  RestorePrintOptions restore;
  const PrintOptions d = print_profile(PrintProfile::default_);
  CHECK(d.precision == 4);
  CHECK(d.threshold == 1000);
  CHECK(d.edgeitems == 3);
  CHECK(d.linewidth == 80);
  CHECK_FALSE(d.sci_mode.has_value());
  const PrintOptions s = print_profile(PrintProfile::short_);
  CHECK(s.precision == 2);
  CHECK(s.edgeitems == 2);
  CHECK(s.threshold == 1000);
  CHECK(print_profile(PrintProfile::full).threshold > int64_t{1} << 62);

  // Two decimals: 1.12345 rounds to 1.12 and 2.5 prints as 2.50.
  set_printoptions({.precision = 2});
  CHECK(get_printoptions().precision == 2);
  CHECK(repr(tensor({1.12345, 2.5})) == "tensor([1.12, 2.50])");

  // Forced scientific notation; %.1e of 1.5 is 1.5e+00.
  set_printoptions({.precision = 1, .sci_mode = true});
  CHECK(repr(tensor({1.5, 2.5})) == "tensor([1.5e+00, 2.5e+00])");

  // threshold 4 and edgeitems 1: six elements become first, "...", last.
  set_printoptions({.threshold = 4, .edgeitems = 1});
  CHECK(repr(arange(6)) == "tensor([0,  ..., 5])");

  set_printoptions(PrintProfile::default_);
  CHECK(repr(tensor({1.12345, 2.5})) == "tensor([1.1235, 2.5000])");

  CHECK_THROWS_AS(set_printoptions({.precision = -1}), Error);
  CHECK_THROWS_AS(set_printoptions({.linewidth = 0}), Error);
  CHECK(get_printoptions().precision == 4);  // a rejected call changes nothing
}

TEST_CASE("a non-contiguous view prints its logical values", "[print]") {
  // a = [[1, 2], [3, 4]]; a.t() reads the same storage column by column.
  const Tensor a = tensor({{1., 2.}, {3., 4.}});
  const Tensor at = a.t();
  REQUIRE_FALSE(at.is_contiguous());
  CHECK(repr(at) == "tensor([[1., 3.],\n        [2., 4.]])");

  // Every second element of 0..5 (stride 2): 0, 2, 4.
  const Tensor every_other = arange(6).slice(0, 0, 6, 2);
  REQUIRE(every_other.stride(0) == 2);
  CHECK(repr(every_other) == "tensor([0, 2, 4])");

  // Row 1 of a 2x3 matrix is a view with an offset: [3, 4, 5].
  CHECK(repr(arange(6).reshape({2, 3})[1]) == "tensor([3, 4, 5])");
}

TEST_CASE("suffixes name what the values cannot show", "[print]") {
  CHECK(suffixes(tensor({1., 2.})).empty());
  CHECK(suffixes(tensor({1, 2})).empty());
  CHECK(suffixes(tensor({true})).empty());
  CHECK(suffixes(tensor({1., 2.}, kFloat64)) == std::vector<std::string>{"dtype=tandem.float64"});
  CHECK(suffixes(zeros({0, 3}, kInt64)) ==
        std::vector<std::string>{"size=(0, 3)", "dtype=tandem.int64"});
  CHECK(repr(Tensor()) == "[ Tensor (undefined) ]");
}

TEST_CASE("autograd can add its suffixes", "[print]") {
  // What autograd/ registers; PyTorch prints a leaf that requires grad as
  // tensor([[1., 2.],\n        [3., 4.]], requires_grad=True).
  register_autograd_suffixes(
      [](const Tensor&, std::vector<std::string>& out) { out.push_back("requires_grad=True"); });
  const std::string s = repr(tensor({{1., 2.}, {3., 4.}}));
  register_autograd_suffixes(nullptr);
  CHECK(s == "tensor([[1., 2.],\n        [3., 4.]], requires_grad=True)");
  CHECK(repr(tensor({{1., 2.}, {3., 4.}})) == "tensor([[1., 2.],\n        [3., 4.]])");
}
