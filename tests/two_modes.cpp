// tests/two_modes.cpp — running a test case in either mode (tests/two_modes.h).
#include "tests/two_modes.h"

#include "autograd/engine.h"
#include "core/factories.h"
#include "core/ops.h"
#include "graph/gradients.h"

namespace tandem {

const graph::Output& FixtureOutputs::operator[](const std::string& name) const {
  for (const auto& [key, node] : nodes_)
    if (key == name) return node;
  values_[name];  // throws the fixture's own message, naming the case and the names it has
  throw Error(msg("no node for fixture input '", name, "'"));
}

ModeResult run_eagerly(const EagerFunctionN& f, const std::vector<Tensor>& inputs,
                       const std::vector<Tensor>& seeds, const std::vector<int>& wrt) {
  std::vector<Tensor> args;
  for (const Tensor& x : inputs) args.push_back(x.detach());
  std::vector<Tensor> leaves;
  for (int j : wrt) leaves.push_back(args[j].requires_grad_());
  ModeResult r;
  r.values = f(args);
  std::vector<Tensor> roots, root_seeds;
  for (size_t a = 0; a < r.values.size(); ++a)
    if (a < seeds.size() && seeds[a].defined() && r.values[a].requires_grad()) {
      roots.push_back(r.values[a]);
      root_seeds.push_back(seeds[a]);
    }
  r.grads.resize(wrt.size());
  if (!roots.empty() && !leaves.empty())
    r.grads = autograd::grad(roots, leaves, root_seeds, false, false, /*allow_unused=*/true);
  for (Tensor& v : r.values) v = v.detach();
  return r;
}

ModeResult run_as_graph(const GraphFunctionN& f, const std::vector<Tensor>& inputs, const std::vector<Tensor>& seeds,
                        const std::vector<int>& wrt, graph::Dims dims, const graph::SessionOptions& options) {
  graph::Graph g;
  graph::DefaultGraph use(g);
  std::vector<graph::Output> xs;
  for (size_t j = 0; j < inputs.size(); ++j)
    xs.push_back(graph::placeholder(inputs[j].dtype(), graph::declared_shape(inputs[j].shape(), dims)));
  const std::vector<graph::Output> ys = f(xs);
  graph::FeedDict feeds;
  for (size_t j = 0; j < inputs.size(); ++j) feeds.push_back({xs[j], inputs[j]});
  std::vector<graph::Output> roots, root_seeds, wrt_xs;
  for (size_t a = 0; a < ys.size(); ++a)
    if (a < seeds.size() && seeds[a].defined()) {
      roots.push_back(ys[a]);
      root_seeds.push_back(graph::placeholder(seeds[a].dtype(), ys[a].shape()));
      feeds.push_back({root_seeds.back(), seeds[a]});
    }
  for (int j : wrt) wrt_xs.push_back(xs[j]);
  std::vector<graph::Output> grads(wrt.size());
  if (!roots.empty() && !wrt_xs.empty()) grads = graph::gradients(roots, wrt_xs, root_seeds);
  std::vector<graph::Output> fetches = ys;
  for (const graph::Output& d : grads)
    if (d.defined()) fetches.push_back(d);
  graph::Session session(g, options);
  const std::vector<Tensor> got = session.run(fetches, feeds);
  ModeResult r;
  r.values.assign(got.begin(), got.begin() + static_cast<std::ptrdiff_t>(ys.size()));
  size_t k = ys.size();
  for (const graph::Output& d : grads) r.grads.push_back(d.defined() ? got[k++] : Tensor());
  return r;
}

namespace {
std::string compare_one(const Tensor& got, const Tensor& want, double rtol, double atol) {
  if (!got.defined() && !want.defined()) return "";
  if (!got.defined() || !want.defined()) {
    const Tensor& d = got.defined() ? got : want;  // an undefined gradient is a zero one
    return compare_with_fixture(d, zeros_like(d), {rtol, atol});
  }
  return compare_with_fixture(got, want, {rtol, atol});
}
}  // namespace

std::string compare_results(const ModeResult& got, const ModeResult& want, double rtol, double atol) {
  if (got.values.size() != want.values.size() || got.grads.size() != want.grads.size())
    return msg("different numbers of outputs (", got.values.size(), " and ", want.values.size(), ") or gradients (",
               got.grads.size(), " and ", want.grads.size(), ")");
  for (size_t a = 0; a < got.values.size(); ++a)
    if (std::string d = compare_one(got.values[a], want.values[a], rtol, atol); !d.empty())
      return msg("output ", a, ": ", d);
  for (size_t b = 0; b < got.grads.size(); ++b)
    if (std::string d = compare_one(got.grads[b], want.grads[b], rtol, atol); !d.empty())
      return msg("gradient ", b, ": ", d);
  return "";
}

}  // namespace tandem
