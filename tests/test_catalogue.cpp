// tests/test_catalogue.cpp — the op catalogue keeps its own recipe (core/op.h, "HOW TO ADD AN OP").
//
// An op has four parts — its OpDef in the catalogue, its user function, its derivative, its kernels
// (CPU, CUDA, fused) — and each test here fails when one part is missing: an op declared in
// core/ops.h but not listed, a compute op with neither a derivative nor a reason, an elementwise op
// that fused loops cannot run. Then the two ways of adding an op at work: softplus, a composite, in
// both modes; and the speed section of the derivative sheet checked against its plain formulas.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "autograd/derivatives.h"
#include "autograd/engine.h"
#include "autograd/gradcheck.h"
#include "graph/passes.h"
#include "io/graph_file.h"
#include "tandem.h"

#include <zlib.h>

using namespace tandem;
namespace g = tandem::graph;

namespace {

// The names of every `extern OpDef a, b, c;` in core/ops.h: the ops a user function can call.
std::set<std::string> declared_ops() {
  std::ifstream in(std::string(TANDEM_SOURCE_DIR) + "/core/ops.h");
  std::stringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  std::set<std::string> names;
  const std::regex decl(R"(extern OpDef ([^;]+);)");
  for (auto it = std::sregex_iterator(s.begin(), s.end(), decl); it != std::sregex_iterator(); ++it) {
    const std::string list = (*it)[1];
    const std::regex name(R"([a-z_0-9]+)");
    for (auto n = std::sregex_iterator(list.begin(), list.end(), name); n != std::sregex_iterator(); ++n)
      names.insert(n->str());
  }
  return names;
}

// Asks the fusion pass itself: in (x * 2) -> op -> (+ 1), is the op's step absorbed into a fused loop?
bool fusable(const OpDef& op) {
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat32, {4});
  std::vector<g::Output> in(static_cast<size_t>(op.arity < 0 ? 2 : op.arity), x * 2.0);
  const g::Output y = g::make_op(op, in) + 1.0;
  g::Plan plan = g::lower(graph, {y}, {x.node()});
  g::prune(plan);
  g::fuse_elementwise(plan);
  for (const g::Step& s : plan.steps)
    if (s.op == &op && !s.kernel_override) return false;  // still a step of its own
  return true;
}

}  // namespace

TEST_CASE("catalogue: every op core/ops.h declares is listed, and findable by its name", "[catalogue]") {
  const std::set<std::string> names = declared_ops();
  CHECK(names.size() > 60);
  for (const std::string& n : names) {
    INFO("op " << n << ": define it with TANDEM_OP (core/op.h)");
    const OpDef* op = find_op(n);
    REQUIRE(op);
    CHECK(op->name == n);
  }
  // The catalogue is sorted by name and holds each op once.
  const auto& all = catalogue();
  for (size_t i = 1; i < all.size(); ++i) CHECK(std::string(all[i - 1]->name) < all[i]->name);
}

TEST_CASE("catalogue: every op has a derivative or says why it has none — never both", "[catalogue]") {
  for (const OpDef* op : catalogue()) {
    INFO("op " << op->name << ": add its rule and row to autograd/derivatives.cpp, or set "
                              ".no_derivative in its OpDef");
    const autograd::Derivative* d = autograd::derivative_for(*op);
    CHECK((d != nullptr) != (op->no_derivative != nullptr));
    if (d) CHECK(d->op == op);
    if (op->updates > 0) CHECK(op->no_derivative);  // optimizer steps are never differentiated
  }
}

TEST_CASE("catalogue: every elementwise op runs in fused loops, except the ones that cannot", "[catalogue]") {
  // Comparisons and where make or read bools (fused loops run in float32/float64); cast and clone
  // are copies that change or keep storage on purpose. Each of these ends a fused group.
  const std::set<std::string> not_fused = {"eq", "ne", "lt", "le", "gt", "ge", "where", "cast", "clone"};
  int checked = 0;
  for (const OpDef* op : catalogue()) {
    if (!op->elementwise) continue;
    INFO("op " << op->name << ": add it to core/ops/elementwise_ops.h");
    if (op == &ops::where) continue;  // needs a bool input: not fusable by construction (above)
    CHECK(fusable(*op) != (not_fused.count(op->name) == 1));
    ++checked;
  }
  CHECK(checked > 30);
}

namespace {
std::string le32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}
std::string field(const std::string& text) { return le32(static_cast<uint32_t>(text.size())) + text; }
}  // namespace

TEST_CASE("catalogue: a graph file from before add_n was an op (kind code 5) still loads", "[catalogue][io]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat32, {2}, "x");
  const g::Output y = g::identity(add_n({x, x * 2.0, x}), "y");
  g::Session session(graph);
  std::string bytes = io::serialize_graph(io::freeze(session, {y}));
  // Rewrite the AddN record the old way: kind code 5, no op name. Then fix the sizes and checksum
  // (docs/graph_file_format.md): the body's size at byte 12, the CRC-32 of everything before it last.
  const std::string now = std::string(1, '\0') + field("AddN") + field("add_n");
  const std::string old = std::string(1, '\5') + field("AddN") + field("");
  const size_t at = bytes.find(now);
  REQUIRE(at != std::string::npos);
  bytes.replace(at, now.size(), old);
  bytes.resize(bytes.size() - 4);
  const uint64_t body = bytes.size() - 20;
  for (int i = 0; i < 8; ++i) bytes[12 + i] = static_cast<char>((body >> (8 * i)) & 0xff);
  bytes += le32(static_cast<uint32_t>(crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(bytes.data()),
                                            static_cast<uInt>(bytes.size()))));
  const io::FrozenGraph loaded = io::parse_graph(bytes);
  CHECK(loaded.graph->find("AddN")->op == &ops::add_n);
  g::Session s(*loaded.graph);
  CHECK(s.run(loaded.output("y"), {{loaded.input("x"), tensor({1.f, 2.f})}}).to_vector<float>() ==
        std::vector<float>{4.f, 8.f});
}

// ---- the derivative sheet's speed section ------------------------------------------------------------

TEST_CASE("speed section: each fused activation derivative equals its plain formula", "[catalogue][autograd]") {
  manual_seed(3);
  const Tensor x = randn({3, 5}, kFloat64) * 3.0;
  const Tensor g = randn({3, 5}, kFloat64);
  int rows = 0;
  for (const autograd::Derivative& d : autograd::derivative_sheet()) {
    if (!d.eager_plain) continue;
    ++rows;
    INFO("op " << d.op->name);
    // The same op recorded twice on the tape; backward through each rule.
    Tensor fused_in = x.clone().requires_grad_(), plain_in = x.clone().requires_grad_();
    const Tensor y1 = call(*d.op, {fused_in}), y2 = call(*d.op, {plain_in});
    autograd::EagerContext fused(*y1.grad_fn(), g, false), plain(*y2.grad_fn(), g, false);
    const Tensor a = d.eager(fused)[0], b = d.eager_plain(plain)[0];
    CHECK(allclose(a, b, 1e-12, 1e-12));
  }
  CHECK(rows == 4);  // relu, sigmoid, tanh, gelu
}

// ---- a composite op: softplus, written once in core/ops.h ---------------------------------------------

TEST_CASE("softplus: a composite op, stable for large |x|, with its gradient in both modes", "[catalogue]") {
  // Values: log(1 + e^x), computed in long double as the reference. (Far below 0 the answer is
  // e^x itself, ~1e-13 at x = -30: log(1 + e^x) there is exact to 1e-16 absolutely, not relatively —
  // an op log1p would be needed for that.)
  const std::vector<double> xs = {-30.0, -2.0, -0.5, 0.0, 0.7, 3.0, 25.0};
  const Tensor x = from_vector(xs, {7});
  const std::vector<double> got = softplus(x).to_vector<double>();
  for (size_t i = 0; i < xs.size(); ++i)
    CHECK(got[i] == Approx(static_cast<double>(std::log1p(std::exp(static_cast<long double>(xs[i])))))
                        .epsilon(1e-14).margin(1e-15));
  // No overflow where the naive log(1 + exp(x)) gives inf: float32 e^100 is inf.
  const Tensor big = tensor({100.f, -100.f, 1e4f});
  CHECK(softplus(big).to_vector<float>() == std::vector<float>{100.f, 0.f, 1e4f});
  CHECK(std::isinf(log(exp(big) + 1.0).to_vector<float>()[0]));

  // Eager: gradcheck (its derivative is the sigmoid, found by the sheet from relu, abs, exp, log).
  const Tensor leaf = from_vector(std::vector<double>{-2.0, -0.5, 0.7, 3.0}, {4}).requires_grad_();
  autograd::GradcheckOptions o;
  o.require_nonzero = true;
  CHECK(autograd::gradcheck([](const std::vector<Tensor>& v) { return softplus(v[0]); }, {leaf}, o));
  // Graph: the same function on a placeholder; gradients() by central differences through a session.
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output p = g::placeholder(kFloat64, {-1});
  const g::Output y = softplus(p).sum();
  const g::Output dy = g::gradients({y}, {p})[0];
  g::Session s(graph);
  const Tensor x0 = leaf.detach();
  const std::vector<double> analytic = s.run(dy, {{p, x0}}).to_vector<double>();
  const double h = 1e-6;
  for (int64_t i = 0; i < 4; ++i) {
    Tensor up = x0.clone(), down = x0.clone();
    up.slice(0, i, i + 1).add_(tensor(h, kFloat64));
    down.slice(0, i, i + 1).sub_(tensor(h, kFloat64));
    const double numeric = (s.run(y, {{p, up}}).item() - s.run(y, {{p, down}}).item()) / (2 * h);
    CHECK(analytic[i] == Approx(numeric).epsilon(1e-6));
    CHECK(analytic[i] == Approx(1 / (1 + std::exp(-x0.at({i})))).epsilon(1e-9));  // σ(x)
  }
}

// ---- one front door: the same functions, methods and operators on both kinds of tensor ---------------

namespace {
// A model written once with methods and scalar operators (no function named for either mode).
template <class T> T features(const T& x, const T& w) {
  const T h = x.matmul(w).relu();
  const T mask = where(h > 0.5, h, 0.0);        // comparison with a number, where with a number
  const T z = (mask * 2.0 - 1.0).pow(2.0) / 4.0;
  return (z + pow(2.0, h)).sum({1}).t() + (x != 0.0).to(x.dtype()).mean() + gt(x, 0.0).to(x.dtype()).sum();
}
}  // namespace

TEST_CASE("one front door: Tensor's methods and scalar operators work on graph outputs", "[catalogue][graph]") {
  manual_seed(5);
  const Tensor xv = randn({3, 4}), wv = randn({4, 2});
  const Tensor eager = features(xv, wv);
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat32, {-1, 4});
  const g::Output w = g::constant(wv);
  const g::Output y = features(x, w);
  CHECK(y.shape() == Shape{-1});  // the batch dimension: unknown until run time
  const Tensor graph_value = g::Session(graph).run(y, {{x, xv}});
  CHECK(allclose(graph_value, eager, 1e-6, 1e-6));
}

TEST_CASE("one front door: a number in a formula becomes a constant of the operand's graph", "[catalogue][graph]") {
  g::Graph mine, other;
  g::Output x;
  {
    g::DefaultGraph use(mine);
    x = g::placeholder(kFloat32, {2});
  }
  g::DefaultGraph use(other);  // the default graph is another one now
  const g::Output y = x * 3.0;
  CHECK(&y.graph() == &mine);
  CHECK(mine.size() == 3);  // x, the constant 3, the product
  CHECK(other.size() == 0);
  CHECK(g::Session(mine).run(y, {{x, tensor({1.f, 2.f})}}).to_vector<float>() == std::vector<float>{3.f, 6.f});
}
