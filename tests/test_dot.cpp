// tests/test_dot.cpp — drawing the eager tape (autograd/dot.h).
//
// The expected drawings are worked out by hand from the tape's known structure. For
//     loss = sum(relu(x.matmul(w) + b)),   x (4, 3) data, w (3, 2) and b (2,) leaves,
// the walk starts at loss's Node and goes breadth-first, inputs in order:
//     fn0 SumBackward0 () ← fn1 ReluBackward0 (4, 2) ← fn2 AddBackward0 (4, 2)
//                         ← fn3 MatmulBackward0 (4, 2)
//     AddBackward0's inputs: fn3 (input 0) and b (input 1, the first leaf met: leaf0)
//     MatmulBackward0's inputs: x (no grad: not drawn) and w (leaf1)
// Saved values (the derivative sheet): relu its output, matmul both inputs, add and sum nothing.
// So: 4 Nodes + 2 leaves + 3 saved + 1 output = 10 drawn nodes, and
//     6 data edges (w→fn3, fn3→fn2, b→fn2, fn2→fn1, fn1→fn0, fn0→out) + 3 saved edges = 9.
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <unistd.h>

#include "autograd/dot.h"
#include "tandem.h"
#include "tests/run_program.h"

using namespace tandem;
namespace fs = std::filesystem;

namespace {

int count_matches(const std::string& text, const std::string& pattern) {
  const std::regex re(pattern);
  return static_cast<int>(std::distance(std::sregex_iterator(text.begin(), text.end(), re),
                                        std::sregex_iterator()));
}
// A node statement is `  id [label=...`; an edge statement is `  a -> b`.
int count_nodes(const std::string& dot) { return count_matches(dot, R"((^|\n)  \w+ \[label=)"); }
int count_edges(const std::string& dot) { return count_matches(dot, R"( -> )"); }
bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

bool have_graphviz() { return std::system("command -v dot >/dev/null 2>&1") == 0; }

// A fresh, empty folder for files a test writes.
fs::path scratch_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() /
                       ("tandem_dot_" + name + "_" + std::to_string(static_cast<long>(getpid())));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Runs Graphviz on the text; true when it accepts it (exit status 0).
bool graphviz_accepts(const std::string& dot) {
  const fs::path dir = scratch_dir("parse");
  const fs::path file = dir / "g.dot";
  std::ofstream(file) << dot;
  const ProgramOutput graphviz = run_program("dot -Tsvg '" + file.string() + "' -o /dev/null");
  fs::remove_all(dir);
  INFO("dot said: " << graphviz.text);
  return graphviz.status == 0;
}

struct Mlp {
  Tensor x = arange(12).to(kFloat32).reshape({4, 3});
  Tensor w = ones({3, 2}).requires_grad_();
  Tensor b = zeros({2}).requires_grad_();
  Tensor h = relu(x.matmul(w) + b);
  Tensor loss = sum(h);
};

}  // namespace

TEST_CASE("dot_shape writes sizes as Python tuples, dot_quote escapes", "[dot]") {
  CHECK(dot_shape({}) == "()");
  CHECK(dot_shape({3}) == "(3,)");
  CHECK(dot_shape({4, 3}) == "(4, 3)");
  CHECK(dot_shape({kUnknown, 784}) == "(?, 784)");
  CHECK(dot_quote("plain") == "\"plain\"");
  CHECK(dot_quote("a\"b\\c\nd") == "\"a\\\"b\\\\c\\nd\"");
}

TEST_CASE("the tape of sum(relu(x W + b)): nodes, leaves, saved values, edges", "[dot]") {
  Mlp m;
  const std::string dot = tape_to_dot(m.loss, {.names = {{"x", m.x}, {"w", m.w}, {"b", m.b}}});
  INFO(dot);
  CHECK(dot.starts_with("digraph \"tape\" {\n"));
  CHECK(dot.ends_with("}\n"));
  CHECK(contains(dot, "fontname=\"monospace\""));

  CHECK(count_nodes(dot) == 10);
  CHECK(count_edges(dot) == 9);
  CHECK(count_matches(dot, R"(\[dir=none\])") == 3);

  // The Nodes: name, output shape and dtype, grey.
  CHECK(contains(dot, "  fn0 [label=\"SumBackward0\\n() float32\", fillcolor=lightgrey];"));
  CHECK(contains(dot, "  fn1 [label=\"ReluBackward0\\n(4, 2) float32\", fillcolor=lightgrey];"));
  CHECK(contains(dot, "  fn2 [label=\"AddBackward0\\n(4, 2) float32\", fillcolor=lightgrey];"));
  CHECK(contains(dot, "  fn3 [label=\"MatmulBackward0\\n(4, 2) float32\", fillcolor=lightgrey];"));
  // The leaves, by name, light blue; the output, green.
  CHECK(contains(dot, "  leaf0 [label=\"b\\n(2,) float32\", fillcolor=lightblue];"));
  CHECK(contains(dot, "  leaf1 [label=\"w\\n(3, 2) float32\", fillcolor=lightblue];"));
  CHECK(contains(dot, "  out [label=\"output\\n() float32\", fillcolor=darkolivegreen1];"));
  // Data-flow edges, inputs towards the loss.
  for (const char* edge : {"leaf1 -> fn3;", "fn3 -> fn2;", "leaf0 -> fn2;", "fn2 -> fn1;",
                           "fn1 -> fn0;", "fn0 -> out;"})
    CHECK(contains(dot, std::string("  ") + edge + "\n"));
  // Saved values: relu's output, then matmul's two inputs (x is named through its shared elements).
  CHECK(contains(dot, "[label=\"output\\n(4, 2)\", fillcolor=orange];"));
  CHECK(contains(dot, "[label=\"input 0: x\\n(4, 3)\", fillcolor=orange];"));
  CHECK(contains(dot, "[label=\"input 1: w\\n(3, 2)\", fillcolor=orange];"));
  CHECK(count_matches(dot, R"(saved\d+ -> fn3 \[dir=none\])") == 2);  // MatmulBackward0
  CHECK(count_matches(dot, R"(saved\d+ -> fn1 \[dir=none\])") == 1);  // ReluBackward0
  CHECK(count_matches(dot, R"(-> fn2 \[dir=none\])") == 0);           // AddBackward0 saves nothing
  CHECK(count_matches(dot, R"(-> fn0 \[dir=none\])") == 0);           // nor does SumBackward0
}

TEST_CASE("the tape's text is deterministic: IDs count, they are not addresses", "[dot]") {
  Mlp first, second;
  CHECK(tape_to_dot(first.loss) == tape_to_dot(first.loss));
  CHECK(tape_to_dot(first.loss) == tape_to_dot(second.loss));  // other tensors, same text
}

TEST_CASE("names reach intermediate results, their Nodes and the saved values", "[dot]") {
  Mlp m;
  const std::string dot = tape_to_dot(m.loss, {.names = {{"h", m.h}, {"loss", m.loss}}});
  INFO(dot);
  CHECK(contains(dot, "fn1 [label=\"ReluBackward0\\nh: (4, 2) float32\""));
  CHECK(contains(dot, "[label=\"output: h\\n(4, 2)\", fillcolor=orange]"));
  CHECK(contains(dot, "out [label=\"loss\\n() float32\""));
  CHECK(contains(dot, "fn0 [label=\"SumBackward0\\n() float32\""));  // the name goes on `out` only
  // The leaves were not named: they show their shapes alone.
  CHECK(contains(dot, "leaf1 [label=\"(3, 2) float32\", fillcolor=lightblue]"));
}

TEST_CASE("a product saves its inputs, a sum of the same inputs saves nothing", "[dot]") {
  Tensor a = tensor({1., 2.}, kFloat64).requires_grad_();
  Tensor c = tensor({3., 4.}, kFloat64).requires_grad_();
  const DotOptions named{.names = {{"a", a}, {"c", c}}};
  const std::string product = tape_to_dot(a * c, named);
  CHECK(contains(product, "fn0 [label=\"MulBackward0\\n(2,) float64\""));
  CHECK(contains(product, "[label=\"input 0: a\\n(2,)\", fillcolor=orange]"));
  CHECK(contains(product, "[label=\"input 1: c\\n(2,)\", fillcolor=orange]"));
  CHECK(count_matches(product, R"(saved\d+ -> fn0 \[dir=none\])") == 2);
  const std::string total = tape_to_dot(a + c, named);
  CHECK(contains(total, "fn0 [label=\"AddBackward0\\n(2,) float64\""));
  CHECK_FALSE(contains(total, "saved"));
  CHECK_FALSE(contains(total, "orange"));
  // show_saved = false leaves the orange nodes out.
  CHECK_FALSE(contains(tape_to_dot(a * c, {.show_saved = false}), "saved"));
}

TEST_CASE("the diamond b = a + a, c = b + b: each Node drawn once, one edge per use", "[dot]") {
  Tensor a = tensor(3.).requires_grad_();
  Tensor b = a + a;
  Tensor c = b + b;
  const std::string dot = tape_to_dot(c);
  INFO(dot);
  CHECK(count_nodes(dot) == 4);  // fn0 (c), fn1 (b), leaf0 (a), out
  CHECK(count_matches(dot, R"(  fn1 -> fn0;)") == 2);
  CHECK(count_matches(dot, R"(  leaf0 -> fn1;)") == 2);
  CHECK(count_edges(dot) == 5);
}

TEST_CASE("after backward the saved values show as freed, unless retain_graph", "[dot]") {
  Mlp kept;
  kept.loss.backward(Tensor(), /*retain_graph=*/true);
  const std::string retained = tape_to_dot(kept.loss);
  CHECK_FALSE(contains(retained, "freed"));

  Mlp m;
  m.loss.backward();
  const std::string dot = tape_to_dot(m.loss, {.names = {{"w", m.w}}});
  INFO(dot);
  CHECK(count_nodes(dot) == 10);  // still the whole tape
  CHECK(count_edges(dot) == 9);
  CHECK(count_matches(dot, R"(\\nfreed\", fillcolor=white, style=\"filled,dashed\")") == 3);
  CHECK_FALSE(contains(dot, "orange"));
  CHECK(contains(dot, "[label=\"input 1: w\\n(3, 2)\\nfreed\""));  // named through its edge
}

TEST_CASE("roots without a tape: a leaf, and a tensor that needs no grad", "[dot]") {
  Tensor w = ones({2}).requires_grad_();
  const std::string leaf = tape_to_dot(w, {.names = {{"w", w}}});
  CHECK(count_nodes(leaf) == 1);
  CHECK(contains(leaf, "leaf0 [label=\"w\\n(2,) float32\", fillcolor=lightblue]"));
  const std::string none = tape_to_dot(ones({2}) * 2);
  CHECK(count_nodes(none) == 1);
  CHECK(contains(none, "no tape"));
  CHECK(count_edges(none) == 0);
}

TEST_CASE("a 10^5-op tape draws without recursion", "[dot]") {
  Tensor x = tensor(1.).requires_grad_();
  Tensor y = x;
  for (int i = 0; i < 100000; ++i) y = y * 1.0;
  const std::string dot = tape_to_dot(y, {.show_saved = false});
  CHECK(count_matches(dot, "MulBackward0") == 100000);
  CHECK(contains(dot, "  fn99999 [label="));
  CHECK(contains(dot, "  leaf0 -> fn99999;\n"));
}

TEST_CASE("Graphviz accepts the DOT text, titles and awkward names included", "[dot]") {
  if (!have_graphviz()) {
    WARN("Graphviz's `dot` is not installed: skipping the check that it parses Tandem's drawings");
    return;
  }
  Mlp m;
  CHECK(graphviz_accepts(tape_to_dot(m.loss, {.names = {{"w", m.w}}})));
  const DotOptions awkward{.names = {{"say \"hi\"\\n", m.w}, {"b {1}; -> c", m.b}},
                           .title = "a \"title\"\nwith two lines"};
  const std::string dot = tape_to_dot(m.loss, awkward);
  CHECK(contains(dot, "label=\"say \\\"hi\\\"\\\\n\\n(3, 2) float32\""));
  CHECK(graphviz_accepts(dot));
  m.loss.backward();
  CHECK(graphviz_accepts(tape_to_dot(m.loss)));  // freed values
  CHECK(graphviz_accepts(tape_to_dot(ones({2}))));
}

TEST_CASE("draw_tape writes .dot, renders .svg with Graphviz, and says so when it cannot",
          "[dot]") {
  Mlp m;
  const fs::path dir = scratch_dir("draw");
  const std::string path = (dir / "tape").string();

  // Without Graphviz on the PATH: the .dot is written, nothing is rendered, nothing throws.
  const std::string saved_path = std::getenv("PATH") ? std::getenv("PATH") : "";
  setenv("PATH", (dir / "nothing_here").c_str(), 1);
  const DotRender without = draw_tape(m.loss, path);
  setenv("PATH", saved_path.c_str(), 1);
  CHECK_FALSE(without.rendered);
  CHECK(without.svg_path.empty());
  CHECK(contains(without.message, "not installed"));
  CHECK(fs::exists(path + ".dot"));
  CHECK_FALSE(fs::exists(path + ".svg"));
  std::stringstream written;
  written << std::ifstream(path + ".dot").rdbuf();
  CHECK(written.str() == tape_to_dot(m.loss));

  if (!have_graphviz()) {
    WARN("Graphviz's `dot` is not installed: skipping the check that draw_tape renders an SVG");
  } else {
    const DotRender with = draw_tape(m.loss, path);
    INFO(with.message);
    CHECK(with.rendered);
    CHECK(with.svg_path == path + ".svg");
    std::stringstream svg;
    svg << std::ifstream(path + ".svg").rdbuf();
    CHECK(contains(svg.str(), "<svg"));
    CHECK(contains(svg.str(), "MatmulBackward0"));
  }
  CHECK_THROWS_AS(draw_tape(m.loss, (dir / "no_such_folder" / "tape").string()), Error);
  fs::remove_all(dir);
}

TEST_CASE("examples/02_eager_tape draws its tape in the current folder and prints the gradients",
          "[dot][examples]") {
  const fs::path dir = scratch_dir("example");
  const std::string output = run_ok(TANDEM_BINARY_DIR "/02_eager_tape", dir.string());
  INFO(output);
  // By hand: pred = relu(x W1 + b1) W2 + b2 = (0.14, -0.25), err = (-0.86, -0.25);
  // loss = (0.86² + 0.25²)/2 = 0.40105 (0.4011 in float32, as PyTorch prints it);
  // dloss/db2 = Σ 2·err/2 = -0.86 - 0.25 = -1.11.
  CHECK(contains(output, "loss = tensor(0.4011"));  // PyTorch adds ", grad_fn=<MeanBackward0>)"
  CHECK(contains(output, "dloss/db2 = tensor([-1.1100])"));
  CHECK(contains(output, "loss.grad_fn() is MeanBackward0"));
  std::stringstream dot;
  dot << std::ifstream(dir / "eager_tape.dot").rdbuf();
  // 8 Nodes, 4 leaves (W1 b1 W2 b2), 7 saved values (matmul 2+2, relu 1, mul 2), the output: 20.
  // Edges: 12 from inputs that need grad (y does not), 1 to the output, 7 to saved values.
  CHECK(count_nodes(dot.str()) == 20);
  CHECK(count_edges(dot.str()) == 20);
  CHECK(fs::exists(dir / "eager_tape.svg") == have_graphviz());
  fs::remove_all(dir);
}
