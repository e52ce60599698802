// examples/13_debugging.cpp — the same bugs in both modes: where each one surfaces, and what it says.
//
// The paradigms differ most when something is wrong. Eager mode (PyTorch) runs each line as it is
// reached, so a bug stops the program AT ITS LINE. A graph (TensorFlow 1) is declared first and run
// later, so a bug surfaces at one of two moments: at declaration, when the static shapes already
// clash (the shape rule runs as the node is added), or inside Session::run, far from the line that
// built the node — which is why every Tandem node remembers that line and names it in the error.
//
// One small model, written once as a template over the tensor type, carries three bugs:
//
//   1. a weight of the wrong shape    (the second layer was written for 5 hidden units, not 4);
//   2. data of the wrong width        (5 features fed to a model of 3);
//   3. a NaN in the gradient          (an activity penalty ||h|| whose derivative h / ||h|| is 0/0
//                                      on a batch where every ReLU is off).
//
// For each, the demo triggers it in both modes, catches the error, prints it, and records where it
// surfaced. The NaN is hunted the PyTorch way (anomaly mode: which op's backward made it, and the line
// that created the forward op) and the TensorFlow 1 way (check_numerics on the gradients, then on a
// value in the model). Section 4 prints a value in the middle of the model (std::cout eagerly; the
// `print` op in a graph, since a graph has no values while its lines run). The last section is the
// summary: per bug, "eager: surfaced at ..., graph: surfaced at ...".
//
// Build and run (from the repository root):
//     cmake -S . -B build -G Ninja && ninja -C build 13_debugging
//     ./build/13_debugging
//
// Read next: docs/demos/13_debugging.md (and what PyTorch and TF1 print for the same bugs),
// core/call_site.h (how an error finds your line), autograd/grad_mode.h (anomaly mode),
// core/ops/debug.cpp (check_numerics and print).
#include <cctype>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

// ---- the model: a 3-4-2 MLP, written once for both modes ------------------------------------------
// T is Tensor (eager: computes now) or g::Output (graph: adds nodes now, computes in a run).
template <class T> struct Params {
  T w1, b1, w2, b2;
};

template <class T> T hidden(const T& x, const Params<T>& p) {
  return relu(matmul(x, p.w1) + p.b1);  // [bug 2 surfaces here]
}

template <class T> T mlp(const T& x, const Params<T>& p) {
  return matmul(hidden(x, p), p.w2) + p.b2;  // [bug 1 surfaces here]
}

// The training loss: mean squared error plus a norm penalty 0.01·||b2|| on the output bias (the
// usual penalty is the SQUARED norm, ||b||²/2). d||b||/db = b / ||b|| is 0/0 at b = 0, and b2
// starts at zero: the forward is fine (||0|| = 0), the gradient is NaN. `check` puts a
// check_numerics on b2 where the penalty reads it (graph mode's way to find the NaN, below).
template <class T> T loss_of(const T& x, const T& target, const Params<T>& p, const std::string& check = "") {
  const T y = mlp(x, p);
  const T b2 = check.empty() ? p.b2 : check_numerics(p.b2, check);
  const T penalty = b2.pow(2.0).sum().sqrt();  // [bug 3 surfaces here]
  return (y - target).pow(2.0).mean() + penalty * 0.01;
}

// ---- the record of where each bug surfaced ---------------------------------------------------------
struct Finding {
  std::string bug;
  std::vector<std::string> eager, graph;
};

// "examples/13_debugging.cpp:57": the place in this file an error message names (core/call_site.h
// writes it), or "" when it names none.
std::string line_in_message(const std::string& message) {
  const std::string file = "13_debugging.cpp:";
  const size_t at = message.find(file);
  if (at == std::string::npos) return "";
  size_t begin = at, end = at + file.size();
  while (begin > 0 && message[begin - 1] != ' ' && message[begin - 1] != '(') --begin;
  while (end < message.size() && std::isdigit(static_cast<unsigned char>(message[end]))) ++end;
  return message.substr(begin, end - begin);
}

void section(const char* title) { std::cout << "\n==== " << title << " ====\n\n"; }

// Runs `f`, which must throw; prints the error under `who` and returns it.
template <class F> std::string caught(const char* who, F&& f) {
  try {
    f();
  } catch (const Error& e) {
    std::cout << who << ":\n  " << e.what() << "\n\n";
    return e.what();
  }
  std::cout << who << ": no error (the bug went unnoticed)\n\n";
  return "";
}

// The weights, the same numbers in both modes: as tensors, and as graph Variables holding them.
Params<Tensor> eager_params(int64_t w2_rows) {
  manual_seed(0);
  return {randn({3, 4}) * 0.5, full({4}, -0.1), randn({w2_rows, 2}) * 0.5, zeros({2})};
}

Params<g::Output> graph_params(const Params<Tensor>& p) {
  return {g::Variable(p.w1, true, "w1"), g::Variable(p.b1, true, "b1"), g::Variable(p.w2, true, "w2"),
          g::Variable(p.b2, true, "b2")};
}

// ---- bug 1: a weight of the wrong shape -------------------------------------------------------------
Finding wrong_weight() {
  section("Bug 1: a weight of the wrong shape (w2 is [5, 2], the hidden layer has 4 units)");
  Finding f{"bug 1, a weight of the wrong shape", {}, {}};
  const Params<Tensor> p = eager_params(5);
  const Tensor x = randn({8, 3});
  const std::string eager = caught("eager: mlp(x) stops at the line that multiplies", [&] { mlp(x, p); });
  f.eager.push_back("surfaced at " + line_in_message(eager) + ", when that line ran");

  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output xp = g::placeholder(kFloat32, {-1, 3}, "x");
  const Params<g::Output> gp = graph_params(p);
  const std::string decl = caught("graph: mlp(x) stops while DECLARING, before any run (4 and 5 are both known)",
                                  [&] { mlp(xp, gp); });
  f.graph.push_back("surfaced at " + line_in_message(decl) + ", at declaration, before any run");
  return f;
}

// ---- bug 2: data of the wrong width -----------------------------------------------------------------
Finding wrong_data() {
  section("Bug 2: data of the wrong width (5 features, the model takes 3)");
  Finding f{"bug 2, data of the wrong width", {}, {}};
  const Params<Tensor> p = eager_params(4);
  const Tensor x5 = randn({8, 5});
  const std::string eager = caught("eager: mlp(x5) stops at the first layer's line", [&] { mlp(x5, p); });
  f.eager.push_back("surfaced at " + line_in_message(eager) + ", when that line ran");

  // (a) The placeholder declares the width: the run refuses the feed before any node runs.
  {
    g::Graph graph;
    g::DefaultGraph use(graph);
    const g::Output x = g::placeholder(kFloat32, {-1, 3}, "x");
    const g::Output y = mlp(x, graph_params(p));
    g::Session session(graph);
    session.run(g::global_variables_initializer());
    std::cout << "graph, x declared " << x << ": declared fine, y is " << y << "\n";
    const std::string feed =
        caught("graph: Session::run refuses the feed, before any node runs", [&] { session.run(y, {{x, x5}}); });
    const std::string at = line_in_message(feed);
    f.graph.push_back("surfaced at Session::run's feed check (x declared (?, 3))" +
                      (at.empty() ? std::string() : ", naming x's line " + at));
  }
  // (b) The placeholder leaves the width unknown: only the run can find the clash, and it names
  // the node that failed and the line that created it.
  {
    g::Graph graph;
    g::DefaultGraph use(graph);
    const g::Output x = g::placeholder(kFloat32, {-1, -1}, "x");
    const g::Output y = mlp(x, graph_params(p));
    g::Session session(graph);
    session.run(g::global_variables_initializer());
    std::cout << "graph, x declared " << x << ": declared fine, y is " << y << "\n";
    const std::string run = caught("graph: the run fails in the node, naming the line that created it",
                                   [&] { session.run(y, {{x, x5}}); });
    f.graph.push_back("surfaced at " + line_in_message(run) + ", in the run (x declared (?, ?))");
  }
  return f;
}

// ---- bug 3: a NaN in the gradient ---------------------------------------------------------------------
Finding nan_gradient() {
  section("Bug 3: a NaN in the gradient (the penalty ||b2|| at b2 = 0)");
  Finding f{"bug 3, a NaN in the gradient", {}, {}};
  Params<Tensor> p = eager_params(4);
  for (Tensor* t : {&p.w1, &p.b1, &p.w2, &p.b2}) t->requires_grad_();
  const Tensor x = randn({8, 3}), target = ones({8, 2});

  // Eager, as PyTorch: the loss is a number, backward() runs, and a gradient is quietly NaN.
  Tensor loss = loss_of(x, target, p);
  loss.backward();
  std::cout << "eager: loss = " << loss.item() << " (fine), but b2.grad = " << p.b2.grad()
            << " (one SGD step later, b2 is NaN, and so is every loss after)\n\n";
  // Anomaly mode (torch.autograd.set_detect_anomaly(True)): every op records where it was created,
  // and backward() stops at the first derivative that returns a NaN.
  autograd::set_detect_anomaly(true);
  const std::string anomaly = caught("eager, with anomaly mode on: backward() stops at the derivative that made it",
                                     [&] { loss_of(x, target, p).backward(); });
  autograd::set_detect_anomaly(false);
  f.eager.push_back("surfaced at " + line_in_message(anomaly) + ", in backward() with anomaly mode on");

  // The graph, as TF1: the gradients are nodes; the run computes NaN without a word.
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output xp = g::placeholder(kFloat32, {-1, 3}, "x"), tp = g::placeholder(kFloat32, {-1, 2}, "target");
  const Params<g::Output> gp = graph_params(p);
  const g::Output gloss = loss_of(xp, tp, gp);
  const std::vector<g::Output> grads = g::gradients({gloss}, {gp.w1, gp.b1, gp.w2, gp.b2});
  g::Session session(graph);
  session.run(g::global_variables_initializer());
  const g::FeedDict feeds = {{xp, x}, {tp, target}};
  const std::vector<Tensor> plain = session.run({gloss, grads[3]}, feeds);
  std::cout << "graph: loss = " << plain[0].item() << " (fine), but the gradient of b2 = " << plain[1] << "\n\n";

  // TF1's habit: check every gradient (tf.check_numerics(grad, "grad of b2")). That says THAT a
  // gradient is NaN, and which one; the node it names is the check itself.
  const g::Output checked = check_numerics(grads[3], "grad of b2");
  caught("graph: check_numerics on the gradient of b2", [&] { session.run(checked, feeds); });

  // To find WHERE, move a check into the model: check_numerics(b2) where the penalty reads b2
  // checks b2 on the way forward and its gradient on the way back — and fires on the gradient.
  const g::Output hunted = loss_of(xp, tp, gp, "b2 in the penalty");
  const g::Output db2 = g::gradients({hunted}, {gp.b2})[0];
  const std::string check = caught("graph: check_numerics(b2) inside the penalty fires on b2's gradient",
                                   [&] { session.run(db2, feeds); });
  f.graph.push_back("surfaced at " + line_in_message(check) +
                    ", in the run: check_numerics on b2 in the penalty fired on its gradient");
  return f;
}

// ---- printing in the middle of the model ------------------------------------------------------------
void printing() {
  section("4. Printing in the middle of the model");
  const Params<Tensor> p = eager_params(4);
  const Tensor x = randn({2, 3});
  // Eager: h is a value; std::cout prints it, as Python's print does in PyTorch.
  std::cout << "eager: std::cout << h prints the value:\n" << hidden(x, p) << "\n\n";
  // Graph: h is a node; std::cout prints what the graph knows now (name, static shape, dtype)...
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output xp = g::placeholder(kFloat32, {-1, 3}, "x");
  const Params<g::Output> gp = graph_params(p);
  const g::Output h = hidden(xp, gp);
  std::cout << "graph: std::cout << h prints no value, there is none yet: " << h << "\n";
  // ...and the print op (tf.Print) prints the value every time a run computes it, on stderr.
  const g::Output y = matmul(print(h, "graph: print(h) during the run: "), gp.w2) + gp.b2;
  g::Session session(graph);
  session.run(g::global_variables_initializer());
  std::cout.flush();
  const Tensor out = session.run(y, {{xp, x}});
  std::cerr.flush();
  std::cout << "graph: and y = mlp(x) is computed as before:\n" << out << "\n";
}

int main() {
  set_printoptions({.precision = 3});
  std::vector<Finding> findings;
  findings.push_back(wrong_weight());
  findings.push_back(wrong_data());
  findings.push_back(nan_gradient());
  printing();

  section("5. Where each bug surfaced");
  for (const Finding& f : findings) {
    std::cout << f.bug << "\n";
    for (const std::string& e : f.eager) std::cout << "  eager: " << e << "\n";
    for (const std::string& gr : f.graph) std::cout << "  graph: " << gr << "\n";
  }
  std::cout << "\nWhat differed: eager stops at the line that did it, every time, because that line is what\n"
               "runs. The graph stops at declaration when the static shapes already clash; otherwise in\n"
               "Session::run, where the error names the node and the line that created it. A NaN is an\n"
               "error in neither mode until you ask: anomaly mode names the op whose derivative made it;\n"
               "check_numerics names the value you checked, so in a graph you move the checks to find it.\n";
  return 0;
}
