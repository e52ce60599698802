// graph/run_arguments.cpp — see run_arguments.h: each check, in the order the user's mistakes
// are most likely to be made.
#include "graph/run_arguments.h"

namespace tandem::graph {

namespace {

// A fed value fits a static shape when the ranks agree and every known size matches.
bool compatible(const Shape& static_shape, const Shape& actual) {
  if (static_shape.size() != actual.size()) return false;
  for (size_t i = 0; i < actual.size(); ++i)
    if (static_shape[i] != kUnknown && static_shape[i] != actual[i]) return false;
  return true;
}

void check_fetch(const Graph& graph, const Output& f) {
  if (!f.defined()) throw Error("Session::run: a fetch is undefined (a missing gradient?)");
  if (f.node()->graph != &graph)
    throw Error(msg("Session::run: fetch '", f.name(), "' is not an element of this graph; a Session "
                    "runs only the graph it was created with"));
}

void check_feed(const Graph& graph, size_t k, const Output& out, const Tensor& value) {
  if (!out.defined())
    throw Error(msg("Session::run: feed key ", k, " is undefined (a default-constructed Output, or a "
                    "gradient that does not exist); feed values to placeholders: {{x, value}}"));
  if (out.node()->graph != &graph)
    throw Error(msg("Session::run: feed key '", out.name(), "' is not an element of this graph"));
  if (!value.defined()) throw Error(msg("Session::run: the value fed for '", out.name(), "' is undefined"));
  if (value.dtype() != out.dtype())
    throw DTypeError(msg("Cannot feed value of dtype ", to_string(value.dtype()), " for Tensor '",
                         out.name(), "', which has dtype ", to_string(out.dtype()),
                         "; convert it with .to(", to_string(out.dtype()), ") first"));
  if (!compatible(out.shape(), value.shape()))
    throw ShapeError(msg("Cannot feed value of shape ", tf_shape_str(value.shape()), " for Tensor '",
                         out.name(), "', which has shape '", tf_shape_str(out.shape()), "'"));
}

}  // namespace

std::vector<Node*> check_run_arguments(const Graph& graph, const std::vector<Output>& fetches,
                                       const FeedDict& feeds) {
  for (const Output& f : fetches) check_fetch(graph, f);
  std::vector<Node*> fed;
  for (size_t k = 0; k < feeds.size(); ++k) {
    const auto& [out, value] = feeds[k];
    check_feed(graph, k, out, value);
    for (size_t j = 0; j < fed.size(); ++j)  // feed dicts are short: a linear search is enough
      if (fed[j] == out.node())
        throw Error(msg("Session::run: '", out.name(), "' is fed twice in one FeedDict (entries ", j,
                        " and ", k, "); give each tensor one value per run"));
    fed.push_back(out.node());
  }
  return fed;
}

}  // namespace tandem::graph
