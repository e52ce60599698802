// tests/fixture.cpp — reading the PyTorch parity fixtures (format: tests/fixture.h).
//
// A line-by-line parser with no library: split a line into words, look at the first word, and
// check everything — a fixture that is subtly wrong would make a test pass or fail for the wrong
// reason, so every mistake stops the load with the file name and line number.
//
// Numbers are parsed with std::from_chars: it ignores the locale (a German locale would otherwise
// read "0.5" as 0) and rounds correctly, so "0.403346837" becomes exactly the float32 PyTorch had.
#include "tests/fixture.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "core/factories.h"

namespace tandem {

const Tensor& FixtureTensors::operator[](const std::string& name) const {
  for (const auto& [key, t] : items_)
    if (key == name) return t;
  std::string known;
  for (const auto& item : items_) known += (known.empty() ? "" : ", ") + item.first;
  throw Error(msg("fixture case ", case_name_, " has no tensor named '", name, "' (it has: ",
                  known.empty() ? "none" : known, "); check the names in the generator"));
}

bool FixtureTensors::contains(const std::string& name) const {
  for (const auto& item : items_)
    if (item.first == name) return true;
  return false;
}

std::string fixture_path(const std::string& name) {
  // Appended piece by piece: GCC 12 warns, wrongly, on `std::string(literal) + literal + name` at
  // -O3 (-Warray-bounds inside std::string's copy).
  std::string path = TANDEM_SOURCE_DIR;
  path += "/tests/fixtures/";
  path += name;
  return path;
}

// ---- reading ---------------------------------------------------------------------------------
namespace {

// Where we are in the file, so that every error can say so.
struct Cursor {
  std::string file;
  int line = 0;

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(msg(file, ":", line, ": ", what,
                    " (fixture files are written by scripts/make_fixtures; regenerate it "
                    "rather than editing by hand; the format is described in tests/fixture.h)"));
  }
};

std::vector<std::string> split_words(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

template <typename T> T parse_number(const Cursor& at, const std::string& word) {
  T value{};
  const char* end = word.data() + word.size();
  const auto [ptr, ec] = std::from_chars(word.data(), end, value);
  if (ec != std::errc() || ptr != end) {
    if (ec == std::errc::result_out_of_range) at.fail(msg("number out of range: '", word, "'"));
    at.fail(msg("cannot read '", word, "' as a number"));
  }
  return value;
}

DType parse_dtype(const Cursor& at, const std::string& word) {
  for (DType dt : {kFloat32, kFloat64, kInt64, kBool})
    if (word == to_string(dt)) return dt;
  at.fail(msg("unknown dtype '", word, "'; expected float32, float64, int64 or bool"));
}

// "[2,3]" -> {2, 3};  "[]" -> {} (0-dim).
Shape parse_shape(const Cursor& at, const std::string& word) {
  if (word.size() < 2 || word.front() != '[' || word.back() != ']')
    at.fail(msg("expected sizes in brackets such as [2,3] or [], got '", word, "'"));
  Shape shape;
  const std::string inner = word.substr(1, word.size() - 2);
  if (inner.empty()) return shape;
  std::istringstream parts(inner);
  for (std::string part; std::getline(parts, part, ',');) {
    const auto size = parse_number<int64_t>(at, part);
    if (size < 0) at.fail(msg("negative size in ", word));
    shape.push_back(size);
  }
  return shape;
}

// Builds a tensor from words[first] (the dtype), words[first+1] (the sizes) and the values after.
Tensor parse_tensor(const Cursor& at, const std::vector<std::string>& words, size_t first) {
  if (words.size() < first + 2) at.fail("expected '<dtype> [<sizes>] <values...>'");
  const DType dtype = parse_dtype(at, words[first]);
  const Shape shape = parse_shape(at, words[first + 1]);
  const size_t given = words.size() - first - 2;
  if (static_cast<int64_t>(given) != numel(shape))
    at.fail(msg("shape ", shape_str(shape), " needs ", numel(shape), " values, but the line has ",
                given));
  auto values = [&](size_t i) -> const std::string& { return words[first + 2 + i]; };
  switch (dtype) {
    case DType::float32: {
      std::vector<float> v(given);
      for (size_t i = 0; i < given; ++i) v[i] = parse_number<float>(at, values(i));
      return from_vector(v, shape);
    }
    case DType::float64: {
      std::vector<double> v(given);
      for (size_t i = 0; i < given; ++i) v[i] = parse_number<double>(at, values(i));
      return from_vector(v, shape);
    }
    case DType::int64: {
      std::vector<int64_t> v(given);
      for (size_t i = 0; i < given; ++i) v[i] = parse_number<int64_t>(at, values(i));
      return from_vector(v, shape);
    }
    case DType::boolean: {
      std::vector<bool> v(given);
      for (size_t i = 0; i < given; ++i) {
        if (values(i) != "0" && values(i) != "1")
          at.fail(msg("a bool value must be 0 or 1, got '", values(i), "'"));
        v[i] = values(i) == "1";
      }
      return from_vector(v, shape);
    }
  }
  at.fail("unreachable dtype");
}

void check_name(const Cursor& at, const std::vector<std::string>& words, const char* record) {
  if (words.size() < 2) at.fail(msg("'", record, "' needs a name"));
}

}  // namespace

std::vector<FixtureCase> load_fixtures(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw Error(msg("cannot open fixture file ", path,
                    ": generate it with scripts/make_fixtures (needs python3-torch), or check "
                    "that the source tree is complete"));
  std::vector<FixtureCase> cases;
  std::set<std::string> names;
  Cursor at{path, 0};
  FixtureCase* open = nullptr;  // the case being read, between `case` and `end`

  for (std::string line; std::getline(in, line);) {
    ++at.line;
    if (!line.empty() && line.back() == '\r') line.pop_back();  // tolerate CRLF checkouts
    const auto words = split_words(line);
    if (words.empty() || words[0][0] == '#') continue;
    const std::string& key = words[0];

    if (key == "case") {
      if (open) at.fail(msg("'case' inside case ", open->name, " (line ", open->line,
                            "): the previous case has no 'end'"));
      if (words.size() != 2) at.fail("expected 'case <name>' with a one-word name");
      if (!names.insert(words[1]).second) at.fail(msg("a second case named ", words[1]));
      FixtureCase c;
      c.name = words[1];
      c.file = path;
      c.line = at.line;
      c.inputs = FixtureTensors(c.name);
      c.grads = FixtureTensors(c.name + " (grads)");
      cases.push_back(std::move(c));
      open = &cases.back();
      continue;
    }
    if (!open) at.fail(msg("'", key, "' outside a case; a case starts with 'case <name>'"));

    if (key == "expr") {
      const size_t text = line.find_first_not_of(" \t", line.find("expr") + 4);
      open->expr = text == std::string::npos ? "" : line.substr(text);
    } else if (key == "input") {
      check_name(at, words, "input");
      if (open->output.defined()) at.fail("'input' after 'output': inputs come first");
      if (open->inputs.contains(words[1])) at.fail(msg("a second input named ", words[1]));
      open->inputs.add(words[1], parse_tensor(at, words, 2));
    } else if (key == "output") {
      if (open->output.defined()) at.fail("a second 'output': a case has exactly one");
      open->output = parse_tensor(at, words, 1);
    } else if (key == "grad") {
      check_name(at, words, "grad");
      if (!open->inputs.contains(words[1]))
        at.fail(msg("'grad ", words[1], "' names no input of case ", open->name));
      if (open->grads.contains(words[1])) at.fail(msg("a second grad for ", words[1]));
      const Tensor g = parse_tensor(at, words, 2);
      if (g.shape() != open->inputs[words[1]].shape())
        at.fail(msg("grad ", words[1], " has shape ", shape_str(g.shape()),
                    " but the input has shape ", shape_str(open->inputs[words[1]].shape())));
      open->grads.add(words[1], g);
    } else if (key == "end") {
      if (words.size() != 1) at.fail("'end' takes nothing after it");
      if (!open->output.defined()) at.fail(msg("case ", open->name, " has no 'output'"));
      open = nullptr;
    } else {
      at.fail(msg("unknown record '", key, "'; expected case, expr, input, output, grad or end"));
    }
  }
  if (open) {
    at.line = open->line;
    at.fail(msg("case ", open->name, " has no 'end' before the end of the file"));
  }
  if (cases.empty()) throw Error(msg("fixture file ", path, " holds no cases"));
  return cases;
}

// ---- comparing -------------------------------------------------------------------------------

Tolerance default_tolerance(DType dtype) {
  if (dtype == kFloat64) return {1e-10, 1e-12};
  return {1e-5, 1e-6};
}

namespace {

// Every element in row-major order, read through the strides (no call into the ops under test).
// int64 values are kept as int64 so that large ones compare exactly.
template <typename T> std::vector<T> read_elements(const Tensor& t) {
  std::vector<T> out;
  out.reserve(static_cast<size_t>(t.numel()));
  if (t.numel() == 0) return out;
  std::vector<int64_t> index(t.dim(), 0);
  visit_dtype(t.dtype(), [&]<typename S>() {
    const S* base = t.data<S>();
    for (int64_t n = 0; n < t.numel(); ++n) {
      int64_t off = 0;
      for (int64_t d = 0; d < t.dim(); ++d) off += index[d] * t.strides()[d];
      out.push_back(static_cast<T>(base[off]));
      for (int64_t d = t.dim() - 1; d >= 0; --d) {  // odometer: advance the last index first
        if (++index[d] < t.size(d)) break;
        index[d] = 0;
      }
    }
  });
  return out;
}

bool floats_match(double a, double e, Tolerance tol) {
  if (std::isnan(e) || std::isnan(a)) return std::isnan(e) && std::isnan(a);
  if (std::isinf(e) || std::isinf(a)) return a == e;
  return std::fabs(a - e) <= tol.atol + tol.rtol * std::fabs(e);
}

}  // namespace

std::string compare_with_fixture(const Tensor& actual_in, const Tensor& expected, Tolerance tol) {
  if (!actual_in.defined()) return "the result is an undefined tensor";
  if (actual_in.dtype() != expected.dtype())
    return msg("dtype: got ", to_string(actual_in.dtype()), ", PyTorch gives ",
               to_string(expected.dtype()));
  if (actual_in.shape() != expected.shape())
    return msg("shape: got ", shape_str(actual_in.shape()), ", PyTorch gives ",
               shape_str(expected.shape()));
  const Tensor actual = actual_in.device().is_cpu() ? actual_in : actual_in.cpu();

  std::ostringstream report;
  report.precision(9);
  int wrong = 0;
  auto note = [&](int64_t i, const auto& a, const auto& e) {
    if (++wrong <= 5) report << "\n  element " << i << ": got " << a << ", PyTorch gives " << e;
  };
  if (is_floating(expected.dtype())) {
    const auto a = read_elements<double>(actual), e = read_elements<double>(expected);
    for (size_t i = 0; i < e.size(); ++i)
      if (!floats_match(a[i], e[i], tol)) note(static_cast<int64_t>(i), a[i], e[i]);
  } else {
    const auto a = read_elements<int64_t>(actual), e = read_elements<int64_t>(expected);
    for (size_t i = 0; i < e.size(); ++i)
      if (a[i] != e[i]) note(static_cast<int64_t>(i), a[i], e[i]);
  }
  if (wrong == 0) return "";
  std::string head = msg(wrong, " of ", expected.numel(), " values differ (elements numbered in "
                         "row-major order");
  if (is_floating(expected.dtype())) head += msg("; rtol ", tol.rtol, ", atol ", tol.atol);
  return head + "):" + report.str() + (wrong > 5 ? "\n  ..." : "");
}

std::string compare_with_fixture(const Tensor& actual, const Tensor& expected) {
  return compare_with_fixture(actual, expected, default_tolerance(expected.dtype()));
}

}  // namespace tandem
