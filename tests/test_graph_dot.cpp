// tests/test_graph_dot.cpp — drawing static graphs and Plans (graph/dot.h).
//
// The graph drawn here, built node by node so every ID is known by hand:
//     n0  x            placeholder (?, 4) float32
//     n1  W            variable (4, 3), with n2 W/initial_value (a constant) and n3 W/Assign
//     n4  dense/MatMul (?, 3)       n5 dense/Relu (?, 3)       (inside name scope "dense")
//     n6  Const        the scalar 2          n7 Mul = Relu * 2
//     n8  Mean         the loss, ()
//     n9...            gradients(loss, {W}): all is_gradient, under "gradients/"
//     last: init       NoOp with a control dependency on n3 (W/Assign)
// What the outputs need for loss alone: x, W, MatMul, Relu, 2, Mul, Mean = 7 nodes.
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <unistd.h>

#include "graph/dot.h"
#include "tandem.h"
#include "tests/run_program.h"

using namespace tandem;
namespace g = tandem::graph;
namespace fs = std::filesystem;

namespace {

int count_matches(const std::string& text, const std::string& pattern) {
  const std::regex re(pattern);
  return static_cast<int>(std::distance(std::sregex_iterator(text.begin(), text.end(), re),
                                        std::sregex_iterator()));
}
int count_nodes(const std::string& dot) { return count_matches(dot, R"(\n *[ns]\d+ \[label=)"); }
bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The text of `subgraph <name> { ... }`, braces matched (labels hold no braces here).
std::string cluster_text(const std::string& dot, const std::string& name) {
  const size_t start = dot.find("subgraph " + name + " {");
  if (start == std::string::npos) return "";
  int depth = 0;
  for (size_t i = start; i < dot.size(); ++i) {
    if (dot[i] == '{') ++depth;
    if (dot[i] == '}' && --depth == 0) return dot.substr(start, i + 1 - start);
  }
  return "";
}
// True when node `id` is declared (not just used in an edge) inside `text`.
bool declares(const std::string& text, const std::string& id) {
  return std::regex_search(text, std::regex("\\n *" + id + " \\[label="));
}

// The drawing's ID of a graph node: "n" and its creation index.
std::string node_id(int64_t id) { return tandem::msg("n", id); }

bool have_graphviz() { return std::system("command -v dot >/dev/null 2>&1") == 0; }

bool graphviz_accepts(const std::string& dot, const fs::path& dir) {
  const fs::path file = dir / "check.dot";
  std::ofstream(file) << dot;
  const ProgramOutput graphviz = run_program("dot -Tsvg '" + file.string() + "' -o /dev/null");
  INFO("dot said: " << graphviz.text);
  return graphviz.status == 0 && graphviz.text.empty();  // no warnings either
}

fs::path scratch_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() /
                       ("tandem_graph_dot_" + name + "_" + std::to_string(static_cast<long>(getpid())));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

struct Model {
  g::Graph graph;
  g::Output x, W, matmul, relu, two, mul, loss, init;
  std::vector<g::Output> grads;
  Model() {
    g::DefaultGraph use(graph);
    x = g::placeholder(kFloat32, {-1, 4}, "x");
    W = g::Variable(ones({4, 3}), true, "W");
    {
      g::NameScope dense("dense");
      matmul = g::matmul(x, W);
      relu = g::relu(matmul);
    }
    two = g::constant(2.0, kFloat32);
    mul = g::mul(relu, two);
    loss = g::mean(mul);
    grads = g::gradients({loss}, {W});
    init = g::global_variables_initializer();
  }
};

}  // namespace

TEST_CASE("graph drawing: each kind of node has its shape and colour", "[graph][dot]") {
  Model m;
  REQUIRE(m.matmul.node()->id == 4);  // the numbering the header comment works out
  REQUIRE(m.loss.node()->id == 8);
  const std::string dot = g::graph_to_dot(m.graph, {.outputs = {m.loss}});
  INFO(dot);
  CHECK(contains(dot, R"(n0 [label="x\n(?, 4) float32", shape=invhouse, fillcolor=lightyellow];)"));
  CHECK(contains(dot, R"(n1 [label="W\n(4, 3) float32", shape=box, fillcolor=lightblue];)"));
  CHECK(contains(dot, R"(n6 [label="2", shape=circle, width=0.3, fillcolor=white];)"));
  // An op shows "Type\nname"; inside the "dense" box the local name is enough, and a name that
  // is just the type is said once.
  CHECK(contains(dot, R"(n4 [label="MatMul", shape=ellipse, fillcolor=white];)"));
  CHECK(contains(dot, R"(n8 [label="Mean", shape=ellipse, fillcolor=darkolivegreen1];)"));
  const std::string init = node_id(m.init.node()->id);
  CHECK(contains(dot, init + R"( [label="NoOp\ninit", shape=ellipse, fillcolor=white];)"));
  // A constant of more than one number shows its name.
  CHECK(contains(dot, R"(n2 [label="initial_value", shape=circle)"));
  // A name given in the options replaces the node's own, as the eager drawing's names do.
  const std::string named = g::graph_to_dot(m.graph, {.names = {{"dL/dW", m.grads[0]}}});
  CHECK(contains(named, node_id(m.grads[0].node()->id) + " [label=\"" + m.grads[0].node()->type + "\\ndL/dW\""));
  // The same fonts as the eager tape's drawing: one header for both.
  CHECK(dot.rfind(dot_header("graph"), 0) == 0);
}

TEST_CASE("graph drawing: edges carry the static shape and dtype, control edges are dashed", "[graph][dot]") {
  Model m;
  const std::string dot = g::graph_to_dot(m.graph);
  INFO(dot);
  CHECK(contains(dot, R"(n0 -> n4 [label=" (?, 4) float32"];)"));  // x into MatMul
  CHECK(contains(dot, R"(n1 -> n4 [label=" (4, 3) float32"];)"));  // W into MatMul
  CHECK(contains(dot, R"(n5 -> n7 [label=" (?, 3) float32"];)"));  // Relu into Mul
  CHECK(contains(dot, R"(n7 -> n8 [label=" (?, 3) float32"];)"));  // Mul into Mean
  // init runs W/Assign first: a control dependency, the only dashed edge of this graph.
  const std::string init = node_id(m.init.node()->id);
  CHECK(contains(dot, "n3 -> " + init + " [style=dashed];"));
  CHECK(count_matches(dot, "style=dashed\\]") == 1);
  // Every data input is one edge: count them from the graph itself.
  int data_edges = 0;
  for (const auto& n : m.graph.nodes()) data_edges += static_cast<int>(n->inputs.size());
  CHECK(count_matches(dot, R"( -> \w+ \[label=)") == data_edges);
  CHECK(count_nodes(dot) == m.graph.size());
}

TEST_CASE("graph drawing: gradient nodes are grey and inside cluster_gradients", "[graph][dot]") {
  Model m;
  const std::string dot = g::graph_to_dot(m.graph);
  const std::string cluster = cluster_text(dot, "cluster_gradients");
  INFO(dot);
  REQUIRE(!cluster.empty());
  int gradient_nodes = 0;
  for (const auto& n : m.graph.nodes()) {
    const std::string id = node_id(n->id);
    CHECK(declares(cluster, id) == n->is_gradient);  // inside exactly when made by gradients()
    CHECK(declares(dot, id));
    gradient_nodes += n->is_gradient;
  }
  REQUIRE(gradient_nodes > 0);
  // Grey: every ellipse inside the cluster is filled with the gradient colour.
  CHECK(count_matches(cluster, "fillcolor=lightgrey") == count_nodes(cluster));
  // The gradient of W is drawn, inside the cluster.
  CHECK(declares(cluster, node_id(m.grads[0].node()->id)));
  // The per-op boxes of gradients(): "Mean_grad", "MatMul_grad" (TF's names), not "gradients".
  CHECK(contains(cluster, "label=\"Mean_grad\""));
  CHECK(contains(cluster, "label=\"MatMul_grad\""));
  CHECK(count_matches(dot, "label=\"gradients\"") == 1);  // the big box only
}

TEST_CASE("graph drawing: name scopes become nested clusters, or full names when off", "[graph][dot]") {
  Model m;
  // Boxes are numbered in order of first appearance: W's initializer ("W/Assign") comes first.
  const std::string dot = g::graph_to_dot(m.graph, {.show_gradients = false});
  CHECK(contains(cluster_text(dot, "cluster_0"), "label=\"W\""));
  CHECK(declares(cluster_text(dot, "cluster_0"), "n3"));
  const std::string dense = cluster_text(dot, "cluster_1");
  CHECK(contains(dense, "label=\"dense\""));
  CHECK(declares(dense, "n4"));
  CHECK(declares(dense, "n5"));
  CHECK(!declares(dense, "n6"));
  const std::string flat = g::graph_to_dot(m.graph, {.show_gradients = false, .scopes = false});
  CHECK(!contains(flat, "cluster_0"));
  CHECK(contains(flat, R"(n4 [label="MatMul\ndense/MatMul")"));
}

TEST_CASE("graph drawing: only what the outputs need, or without gradients", "[graph][dot]") {
  Model m;
  const std::string needed = g::graph_to_dot(m.graph, {.outputs = {m.loss}, .only_needed = true});
  CHECK(count_nodes(needed) == 7);  // x, W, MatMul, Relu, 2, Mul, Mean (see the top of the file)
  CHECK(!contains(needed, "cluster_gradients"));
  CHECK(!contains(needed, "style=dashed"));
  const std::string forward = g::graph_to_dot(m.graph, {.show_gradients = false});
  int forward_nodes = 0;
  for (const auto& n : m.graph.nodes()) forward_nodes += !n->is_gradient;
  CHECK(count_nodes(forward) == forward_nodes);
  CHECK(!contains(forward, "cluster_gradients"));
  // The same program always gives the same text.
  CHECK(g::graph_to_dot(m.graph) == g::graph_to_dot(m.graph));
}

TEST_CASE("plan drawing: the passes' work is visible, fetches green, feeds as placeholders", "[graph][dot]") {
  Model m;
  g::Session s(m.graph);
  s.run(m.init);
  const Tensor batch = ones({2, 4});
  s.run(m.loss, {{m.x, batch}});
  const std::string optimized = g::plan_to_dot(s.last_plan());
  INFO(optimized);
  // relu(.) * 2 are two elementwise steps of the same shape: fusion makes them one loop.
  CHECK(contains(optimized, "Fused[Relu,Mul]"));
  CHECK(count_matches(optimized, "fillcolor=darkolivegreen1") == 1);  // the one fetch
  CHECK(count_nodes(optimized) == static_cast<int>(s.last_plan().steps.size()));

  g::Session plain(m.graph, g::SessionOptions::no_passes());
  plain.run(m.init);
  plain.run(m.loss, {{m.x, batch}});
  const std::string unoptimized = g::plan_to_dot(plain.last_plan());
  CHECK(!contains(unoptimized, "Fused["));
  CHECK(count_nodes(unoptimized) == 7);  // pruned to what the loss needs: the same 7 as above

  // Feeding an inner value cuts its upstream: the fed step is drawn as a placeholder.
  plain.run(m.loss, {{m.relu, ones({2, 3})}});
  const std::string fed = g::plan_to_dot(plain.last_plan());
  CHECK(contains(fed, R"([label="Relu\n(?, 3) float32\nfed", shape=invhouse, fillcolor=lightyellow];)"));
}

TEST_CASE("graph drawing: Graphviz accepts the text, and draw_graph writes the files", "[graph][dot]") {
  Model m;
  const fs::path dir = scratch_dir("files");
  const DotRender r = g::draw_graph(m.graph, (dir / "model").string(), {.outputs = {m.loss}, .title = "a title"});
  CHECK(fs::exists(dir / "model.dot"));
  std::ifstream in(dir / "model.dot");
  const std::string written((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(written == g::graph_to_dot(m.graph, {.outputs = {m.loss}, .title = "a title"}));
  if (!have_graphviz()) {
    WARN("Graphviz's dot is not installed: only the .dot file was checked");
    CHECK(!r.rendered);
  } else {
    CHECK(r.rendered);
    CHECK(fs::exists(dir / "model.svg"));
    CHECK(graphviz_accepts(written, dir));
    g::Session s(m.graph);
    s.run(m.init);
    s.run(m.grads[0], {{m.x, ones({2, 4})}});
    CHECK(graphviz_accepts(g::plan_to_dot(s.last_plan()), dir));
  }
  fs::remove_all(dir);
}
