// graph/gradcheck.cpp — the graph twin of autograd::gradcheck (see the header for the idea).
//
// The graph is built once: placeholders x_j for the inputs, ys = f(x), and one more placeholder per
// floating output, v_a, fed the output gradient: gradients(ys, xs, v) is then the vector-Jacobian
// product vᵀJ as nodes. Every evaluation is a Session::run of that one graph — the forward nodes
// for the numerical side, the gradient nodes with a one-hot v for the analytical side — so the
// passes (folding, CSE, fusion, memory planning) and the run-time shape handling are checked too.
#include "graph/gradcheck.h"

#include "core/factories.h"
#include "graph/gradients.h"

namespace tandem::graph {

const char* dims_name(Dims d) {
  switch (d) {
    case Dims::known: return "known shapes";
    case Dims::batch_unknown: return "batch dim unknown";
    case Dims::all_unknown: return "every dim unknown";
  }
  return "?";
}

Shape declared_shape(const Shape& s, Dims dims) {
  Shape out = s;
  if (dims == Dims::batch_unknown && !out.empty()) out[0] = kUnknown;
  if (dims == Dims::all_unknown) std::fill(out.begin(), out.end(), kUnknown);
  return out;
}

namespace {

// The graph of one check: inputs, outputs, output gradients and input gradients, as nodes.
struct CheckGraph {
  Graph graph;
  std::vector<Output> xs, ys;
  std::vector<Output> seeds;  // per output: its gradient's placeholder (undefined if not floating)
  std::vector<Output> grads;  // per checked input: d(Σ v·y)/dx (undefined if unconnected)
};

void build(CheckGraph& cg, const GraphFunction& f, const std::vector<Tensor>& inputs, Dims dims) {
  DefaultGraph use(cg.graph);
  for (size_t j = 0; j < inputs.size(); ++j)
    cg.xs.push_back(placeholder(inputs[j].dtype(), declared_shape(inputs[j].shape(), dims), msg("x", j)));
  cg.ys = f(cg.xs);
  std::vector<Output> roots, root_seeds, wrt;
  cg.seeds.resize(cg.ys.size());
  for (size_t a = 0; a < cg.ys.size(); ++a) {
    if (!is_floating(cg.ys[a].dtype())) continue;
    cg.seeds[a] = placeholder(cg.ys[a].dtype(), cg.ys[a].shape(), msg("v", a));
    roots.push_back(cg.ys[a]);
    root_seeds.push_back(cg.seeds[a]);
  }
  for (size_t j = 0; j < inputs.size(); ++j)
    if (inputs[j].requires_grad()) wrt.push_back(cg.xs[j]);
  if (!roots.empty() && !wrt.empty()) cg.grads = gradients(roots, wrt, root_seeds);
  cg.grads.resize(wrt.size());
}

}  // namespace

autograd::GradcheckResult gradcheck(const GraphFunction& f, const std::vector<Tensor>& inputs,
                                    const autograd::GradcheckOptions& opts, Dims dims,
                                    const SessionOptions& session_options) {
  CheckGraph cg;
  build(cg, f, inputs, dims);
  Session session(cg.graph, session_options);
  auto feeds_for = [&cg](const std::vector<Tensor>& args) {
    FeedDict feeds;
    for (size_t j = 0; j < args.size(); ++j) feeds.push_back({cg.xs[j], args[j]});
    return feeds;
  };

  const autograd::GradcheckFunctionN forward = [&](const std::vector<Tensor>& args) {
    return session.run(cg.ys, feeds_for(args));
  };

  // The analytical side: run the gradient nodes with output `output`'s seed one-hot and every
  // other output's zero (so only that output's row of the Jacobian comes back).
  const autograd::Backward backward = [&](const std::vector<Tensor>& args, const std::vector<int>&) {
    const std::vector<Tensor> outputs = forward(args);  // for the shapes of the zero seeds
    return autograd::VjpFunction([&, args, outputs](int output, const Tensor& seed) {
      FeedDict feeds = feeds_for(args);
      for (size_t a = 0; a < cg.ys.size(); ++a)
        if (cg.seeds[a].defined())
          feeds.push_back({cg.seeds[a], static_cast<int>(a) == output ? seed : zeros_like(outputs[a])});
      std::vector<Output> fetches;
      for (const Output& g : cg.grads)
        if (g.defined()) fetches.push_back(g);
      const std::vector<Tensor> got = fetches.empty() ? std::vector<Tensor>{} : session.run(fetches, feeds);
      std::vector<Tensor> result;
      size_t k = 0;
      for (const Output& g : cg.grads) result.push_back(g.defined() ? got[k++] : Tensor());
      return result;
    });
  };
  return autograd::gradcheck_with(forward, backward, inputs, opts);
}

}  // namespace tandem::graph
