// layers/summary.cpp — summary(): the model's forward built on shapes alone, then Keras's table.
#include "layers/summary.h"

#include <algorithm>
#include <cctype>
#include <regex>

#include "graph/ops.h"

namespace tandem::nn {

namespace {

// Records the output shape of every call made directly by the model's forward (call depth 2: the
// model itself is depth 1).
struct ShapeRecorder : detail::CallObserver {
  std::vector<std::pair<const Module*, Shape>> seen;
  void called(const Module& m, const graph::Output& out, int depth) override {
    if (depth == 2) seen.emplace_back(&m, out.shape());
  }
};

// Installs an observer for this thread, and always removes it.
struct Observing {
  explicit Observing(detail::CallObserver* o) : previous(detail::call_observer()) { detail::call_observer() = o; }
  ~Observing() { detail::call_observer() = previous; }
  detail::CallObserver* previous;
};

// Keras's shape text: "(None, 64)"; a 1-tuple keeps its comma: "(None,)".
std::string keras_shape(const Shape& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + (s[i] == kUnknown ? std::string("None") : std::to_string(s[i]));
  return out + (s.size() == 1 ? ",)" : ")");
}

// 2817 -> "2,817" (Python's format(n, ",")).
std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// Keras 2's print_row: each field cut to its column (breaking long ones after "),", "},", "],"
// or "',"), padded to the column's end; fields that do not fit continue on the next line.
void print_row(std::string& out, std::vector<std::string> fields, const std::vector<int>& positions) {
  auto any_left = [&] { return std::any_of(fields.begin(), fields.end(), [](const std::string& f) { return !f.empty(); }); };
  while (any_left()) {
    std::string line;
    for (size_t col = 0; col < fields.size(); ++col) {
      const int start = col > 0 ? positions[col - 1] : 0, end = positions[col];
      const int space = col + 1 != positions.size() ? 2 : 0;
      size_t cutoff = static_cast<size_t>(std::max(0, end - start - space));
      std::string fit = fields[col].substr(0, cutoff);
      size_t best = std::string::npos;
      for (const char* cond : {"),", "},", "],", "',"})
        if (const size_t at = fit.find(cond); at != std::string::npos) best = std::min(best, at + 2);
      if (best != std::string::npos) {
        cutoff = best;
        fit = fit.substr(0, cutoff);
      }
      if (col == 0) line += " ";
      line += fit + std::string(static_cast<size_t>(space), ' ');
      fields[col] = cutoff < fields[col].size() ? fields[col].substr(cutoff) : "";
      if (static_cast<int>(line.size()) < positions[col]) line += std::string(positions[col] - line.size(), ' ');
    }
    out += line + "\n";
  }
}

// Parameters and floating buffers (Keras's weights), and how many of them are trainable.
struct Counts {
  int64_t total = 0, trainable = 0;
};
Counts count(const Module& m) {
  Counts c;
  for (const Tensor& p : m.parameters()) {
    c.total += p.numel();
    if (p.requires_grad()) c.trainable += p.numel();
  }
  for (const Tensor& b : m.buffers())
    if (b.is_floating_point()) c.total += b.numel();
  return c;
}

}  // namespace

std::string snake_case(const std::string& name) {
  // Keras's to_snake_case: "(.)([A-Z][a-z0-9]+)" -> "\1_\2", then "([a-z])([A-Z])" -> "\1_\2", lower.
  static const std::regex word("(.)([A-Z][a-z0-9]+)"), joint("([a-z])([A-Z])");
  std::string s = std::regex_replace(std::regex_replace(name, word, "$1_$2"), joint, "$1_$2");
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::vector<std::pair<const Module*, Shape>> trace_shapes(Module& model, const Shape& input_shape, DType dtype) {
  // In eval mode: the training path would add updates of batch norm's running statistics, which
  // need Variables, not placeholders. Each module's mode is restored afterwards.
  std::vector<std::pair<Module*, bool>> modes;
  for (const auto& [n, m] : model.named_modules()) modes.emplace_back(const_cast<Module*>(m), m->is_training());
  graph::Graph scratch;
  auto restore = [&] {
    for (const auto& [m, training] : modes) m->train(training);  // parents first: children restore their own
    model.unbind(scratch);
  };
  ShapeRecorder recorder;
  recorder.shapes_only = true;
  try {
    Shape shape = {kUnknown};
    shape.insert(shape.end(), input_shape.begin(), input_shape.end());
    graph::Output x;
    {
      graph::DefaultGraph use(scratch);
      x = graph::placeholder(dtype, shape, "input");
    }
    model.eval();
    const Observing observe(&recorder);
    model.call(x);
  } catch (...) {
    restore();
    throw;
  }
  restore();
  return recorder.seen;
}

std::string summary(Module& model, const Shape& input_shape, DType dtype, const std::string& model_name) {
  // 1. The shapes, from the forward built on a placeholder (no data).
  const auto seen = trace_shapes(model, input_shape, dtype);

  // 2. The table.
  const int line_length = 65;
  const std::vector<int> positions = {29, 55, 65};  // Keras: 65 · [.45, .85, 1.]
  std::string out = "Model: \"" + (model_name.empty() ? snake_case(model.name()) : model_name) + "\"\n";
  out += std::string(line_length, '_') + "\n";
  print_row(out, {"Layer (type)", "Output Shape", "Param #"}, positions);
  out += std::string(line_length, '=') + "\n";
  for (const auto& [name, child] : model.named_children()) {
    std::vector<Shape> shapes;
    for (const auto& [m, s] : seen)
      if (m == child.get() && std::find(shapes.begin(), shapes.end(), s) == shapes.end()) shapes.push_back(s);
    const std::string shape = shapes.empty() ? "?" : shapes.size() > 1 ? "multiple" : keras_shape(shapes[0]);
    print_row(out, {name + " (" + child->name() + ")", shape, std::to_string(count(*child).total)}, positions);
    out += std::string(line_length, ' ') + "\n";
  }
  out += std::string(line_length, '=') + "\n";
  const Counts all = count(model);
  out += "Total params: " + with_commas(all.total) + "\n";
  out += "Trainable params: " + with_commas(all.trainable) + "\n";
  out += "Non-trainable params: " + with_commas(all.total - all.trainable) + "\n";
  out += std::string(line_length, '_') + "\n";
  return out;
}

}  // namespace tandem::nn
