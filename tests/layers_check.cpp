// tests/layers_check.cpp — the helpers of tests/layers_check.h.
#include "tests/layers_check.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "autograd/engine.h"
#include "graph/gradients.h"
#include "tests/fixture.h"

namespace tandem::testing {

namespace g = tandem::graph;

template <class T> const T& Named<T>::operator()(const std::string& name) const {
  auto it = values.find(name);
  if (it == values.end()) throw Error("test expression: no input named " + name);
  return it->second;
}
template struct Named<Tensor>;
template struct Named<g::Output>;

Run run_eager(nn::Module& module, const Tensor& x, const Tensor& upstream) {
  const Tensor leaf = x.detach().clone();
  if (leaf.is_floating_point()) leaf.requires_grad_();
  module.zero_grad();
  Run r;
  r.output = module.call(leaf);
  r.output.backward(upstream);
  if (leaf.is_floating_point()) r.grads["x"] = leaf.grad();
  for (const auto& [name, p] : module.named_parameters())
    if (p.grad().defined()) r.grads[name] = p.grad();
  r.output = r.output.detach();
  return r;
}

Run run_graph(nn::Module& module, const Tensor& x, const Tensor& upstream, bool unknown_batch) {
  g::Graph graph;
  g::DefaultGraph use(graph);
  Shape shape = x.shape();
  if (unknown_batch && !shape.empty()) shape[0] = kUnknown;
  const g::Output xp = g::placeholder(x.dtype(), shape, "x");
  const g::Output y = module.call(xp);
  const g::Output loss = sum(y * g::constant(upstream));
  std::vector<std::string> names;
  std::vector<g::Output> wrt;
  if (x.is_floating_point()) {
    names.push_back("x");
    wrt.push_back(xp);
  }
  for (const auto& [name, v] : module.named_variables(graph))
    if (v.node()->trainable) {
      names.push_back(name);
      wrt.push_back(v);
    }
  const std::vector<g::Output> grads = g::gradients({loss}, wrt);
  g::Session session(graph);
  session.run(g::global_variables_initializer(graph));
  std::vector<g::Output> fetches = {y};
  fetches.insert(fetches.end(), grads.begin(), grads.end());
  const std::vector<Tensor> values = session.run(fetches, {{xp, x}});
  Run r;
  r.output = values[0];
  for (size_t i = 0; i < names.size(); ++i) r.grads[names[i]] = values[i + 1];
  module.copy_from(session);  // buffers a training path updated (batch norm's running statistics)
  module.unbind(graph);
  return r;
}

namespace {
template <class T> T weighted_sum(const T& out, const T& upstream) {
  return out.dim() == 0 ? out : sum(out * upstream);
}
}  // namespace

Run run_expr_eager(const Expr& e, const std::map<std::string, Tensor>& inputs, const std::vector<std::string>& with_grad,
                   const Tensor& upstream) {
  Named<Tensor> in;
  for (const auto& [k, v] : inputs) {
    Tensor t = v.detach().clone();
    if (std::find(with_grad.begin(), with_grad.end(), k) != with_grad.end()) t.requires_grad_();
    in.values[k] = t;
  }
  Run r;
  const Tensor out = e.eager(in);
  r.output = out.detach();
  if (!with_grad.empty()) {
    weighted_sum(out, upstream.defined() ? upstream : ones_like(out)).backward();
    for (const std::string& k : with_grad) r.grads[k] = in.values[k].grad();
  }
  return r;
}

Run run_expr_graph(const Expr& e, const std::map<std::string, Tensor>& inputs, const std::vector<std::string>& with_grad,
                   const Tensor& upstream) {
  g::Graph graph;
  g::DefaultGraph use(graph);
  Named<g::Output> in;
  g::FeedDict feeds;
  for (const auto& [k, v] : inputs) {
    in.values[k] = g::placeholder(v.dtype(), v.shape(), k);
    feeds.emplace_back(in.values[k], v);
  }
  const g::Output out = e.graph(in);
  std::vector<g::Output> fetches = {out};
  if (!with_grad.empty()) {
    const g::Output l = weighted_sum(out, upstream.defined() ? g::constant(upstream) : ones_like(out));
    std::vector<g::Output> wrt;
    for (const std::string& k : with_grad) wrt.push_back(in.values[k]);
    for (const g::Output& gr : g::gradients({l}, wrt)) fetches.push_back(gr);
  }
  const std::vector<Tensor> values = g::Session(graph).run(fetches, feeds);
  Run r;
  r.output = values[0];
  for (size_t i = 0; i < with_grad.size(); ++i) r.grads[with_grad[i]] = values[i + 1];
  return r;
}

std::string graph_gradcheck(const Expr& e, const std::map<std::string, Tensor>& inputs,
                            const std::vector<std::string>& with_grad) {
  g::Graph graph;
  g::DefaultGraph use(graph);
  Named<g::Output> in;
  for (const auto& [k, v] : inputs) in.values[k] = g::placeholder(v.dtype(), v.shape(), k);
  const g::Output out = e.graph(in);
  manual_seed(1234);
  const Tensor w = randn(out.shape(), kFloat64);
  const g::Output l = sum(out * g::constant(w));
  std::vector<g::Output> wrt;
  for (const std::string& k : with_grad) wrt.push_back(in.values[k]);
  const std::vector<g::Output> grads = g::gradients({l}, wrt);
  g::Session session(graph);
  auto feeds_with = [&](const std::map<std::string, Tensor>& values) {
    g::FeedDict f;
    for (const auto& [k, v] : values) f.emplace_back(in.values.at(k), v);
    return f;
  };
  const std::vector<Tensor> analytic = session.run(grads, feeds_with(inputs));
  const double eps = 1e-6;
  bool any_nonzero = false;
  for (size_t i = 0; i < with_grad.size(); ++i) {
    const Tensor base = inputs.at(with_grad[i]);
    if (base.dtype() != kFloat64) return "graph_gradcheck: input " + with_grad[i] + " must be float64";
    const std::vector<double> a = analytic[i].to_vector<double>();
    for (int64_t k = 0; k < base.numel(); ++k) {
      auto shifted = [&](double delta) {
        std::map<std::string, Tensor> moved = inputs;
        Tensor t = base.clone();
        t.reshape({-1}).slice(0, k, k + 1).add_(tensor(delta, kFloat64));
        moved[with_grad[i]] = t;
        return session.run(l, feeds_with(moved)).item();
      };
      const double numeric = (shifted(eps) - shifted(-eps)) / (2 * eps);
      any_nonzero = any_nonzero || numeric != 0.0;
      if (std::abs(a[k] - numeric) > 1e-7 + 1e-5 * std::abs(numeric))
        return msg("graph gradient of input ", with_grad[i], " element ", k, ": analytical ", a[k], ", numerical ", numeric);
    }
  }
  return any_nonzero ? "" : "graph_gradcheck: every numerical derivative is zero; the check cannot fail";
}

std::map<std::string, std::string> load_text_fixtures(const std::string& file) {
  std::ifstream in(fixture_path(file));
  if (!in) throw Error("cannot read " + fixture_path(file));
  std::map<std::string, std::string> out;
  std::string line, name, body;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside) {
      if (line.rfind("case ", 0) == 0) {
        name = line.substr(5);
        body.clear();
        inside = true;
      }
    } else if (line == "end") {
      out[name] = body.empty() ? body : body.substr(0, body.size() - 1);
      inside = false;
    } else {
      body += line + "\n";
    }
  }
  return out;
}

}  // namespace tandem::testing
