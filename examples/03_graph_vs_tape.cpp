// examples/03_graph_vs_tape.cpp — one small network, two pictures of its gradient.
//
// Both paradigms compute the same gradients from the same derivative sheet. What differs is the
// *object* that holds the computation, and a drawing makes that difference plain:
//
//   eager (PyTorch): the forward pass runs now and leaves a tape behind — one backward Node per
//     op, with the values it saved. The tape exists only after the numbers do, is rebuilt on every
//     step, and backward() *interprets* it.
//   graph (TensorFlow 1): the forward pass is declared as nodes; gradients() then adds *more nodes*
//     of the same kind, which compute dL/dW when a Session runs them. The gradient is a program,
//     built once, before any number exists — so it can be drawn, optimized and saved like any other.
//
// The network is a 4-3-2 MLP with a softmax cross-entropy loss on two samples, with fixed weights
// so the numbers can be checked by hand (or with PyTorch). The program draws three pictures:
//
//   eager_tape.svg   the tape loss.backward() walks            (autograd/dot.h)
//   graph_mlp.svg    the graph: forward in white, gradients grey in their own box (graph/dot.h)
//   graph_plan.svg   what the Session actually ran for the gradients, after its passes
//
// Build and run it without make (from the repository root):
//     cmake -S . -B build -G Ninja && ninja -C build 03_graph_vs_tape
//     ./build/03_graph_vs_tape
// The .dot files (and .svg files, when Graphviz's `dot` is installed) land in the current folder;
// the program prints their full paths. `dot -Tpng graph_mlp.dot -o graph_mlp.png` gives a PNG.
//
// Read next: graph/gradients.cpp (how the grey nodes are made), examples/04_freeze_and_deploy.cpp.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "autograd/dot.h"
#include "graph/dot.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

// The model, written once for both modes: T is Tensor (eager) or graph::Output (graph).
template <class T> T forward(const T& x, const T& W1, const T& b1, const T& W2, const T& b2) {
  T h = relu(matmul(x, W1) + b1);
  return matmul(h, W2) + b2;
}
// Cross-entropy against one-hot targets: -mean over the batch of Σ_j y_j · log softmax(z)_j.
template <class T> T soft_cross_entropy(const T& logits, const T& targets) {
  return -mean(sum(targets * log_softmax(logits, 1), {1}));
}

std::string where(const DotRender& r) {
  const auto abs = [](const std::string& p) { return std::filesystem::absolute(p).string(); };
  return r.rendered ? abs(r.svg_path) : abs(r.dot_path) + "  (" + r.message + ")";
}

double largest_difference(const Tensor& a, const Tensor& b) {
  double worst = 0;
  const std::vector<double> va = a.to_vector<double>(), vb = b.to_vector<double>();
  for (size_t i = 0; i < va.size(); ++i) worst = std::max(worst, std::abs(va[i] - vb[i]));
  return worst;
}

int main() {
  // Two samples of four features, their one-hot classes, and fixed weights.
  const Tensor x = tensor({{1.0, -0.5, 2.0, 0.0}, {0.5, 1.5, -1.0, 1.0}});
  const Tensor y = tensor({{1.0, 0.0}, {0.0, 1.0}});
  const Tensor W1_init = tensor({{0.2, -0.3, 0.5}, {0.4, 0.1, -0.2}, {-0.1, 0.3, 0.2}, {0.3, -0.2, 0.1}});
  const Tensor b1_init = tensor({0.1, -0.1, 0.0});
  const Tensor W2_init = tensor({{0.5, -0.4}, {-0.3, 0.2}, {0.1, 0.6}});
  const Tensor b2_init = tensor({0.0, 0.1});

  std::cout << "One 4-3-2 network, loss = cross-entropy(relu(x W1 + b1) W2 + b2, y), two ways.\n\n";

  // ---- 1. Eager: compute now, record a tape, walk it ----------------------------------------------
  const Tensor W1 = W1_init.clone().requires_grad_(), b1 = b1_init.clone().requires_grad_();
  const Tensor W2 = W2_init.clone().requires_grad_(), b2 = b2_init.clone().requires_grad_();
  const Tensor loss = soft_cross_entropy(forward(x, W1, b1, W2, b2), y);  // numbers exist already
  const DotRender tape = draw_tape(loss, "eager_tape",
                                   {.names = {{"x", x}, {"y", y}, {"W1", W1}, {"b1", b1}, {"W2", W2},
                                              {"b2", b2}, {"loss", loss}},
                                    .title = "eager: the tape loss.backward() walks"});
  loss.backward();

  std::cout << "EAGER (PyTorch's way)\n"
            << "  The forward pass ran line by line: loss = " << loss.item() << " already.\n"
            << "  Each op also recorded a backward Node; the tape is the chain of them, hanging off\n"
            << "  loss.grad_fn() = " << loss.grad_fn()->name() << ". backward() walked it once and\n"
            << "  freed what the Nodes saved. A new forward pass records a new tape.\n"
            << "  picture: " << where(tape) << "\n"
            << "    grey boxes = backward Nodes, blue = leaves (W1, b1, W2, b2), orange = values\n"
            << "    saved for backward (the memory a training step holds until backward runs).\n\n";

  // ---- 2. Graph: declare, differentiate symbolically, then run ------------------------------------
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output gx = g::placeholder(kFloat32, {-1, 4}, "x");
  const g::Output gy = g::placeholder(kFloat32, {-1, 2}, "y");
  const g::Output gW1 = g::Variable(W1_init, true, "W1"), gb1 = g::Variable(b1_init, true, "b1");
  const g::Output gW2 = g::Variable(W2_init, true, "W2"), gb2 = g::Variable(b2_init, true, "b2");
  g::Output gloss;
  {
    g::NameScope scope("loss");
    gloss = soft_cross_entropy(forward(gx, gW1, gb1, gW2, gb2), gy);  // nodes, not numbers
  }
  const int64_t forward_nodes = graph.size();
  const std::vector<g::Output> grads = g::gradients({gloss}, {gW1, gb1, gW2, gb2});
  const int64_t gradient_nodes = graph.size() - forward_nodes;

  std::vector<g::Output> shown = grads;
  shown.push_back(gloss);
  const DotRender drawn = g::draw_graph(
      graph, "graph_mlp",
      {.outputs = shown,
       .names = {{"dL/dW1", grads[0]}, {"dL/db1", grads[1]}, {"dL/dW2", grads[2]}, {"dL/db2", grads[3]},
                 {"loss", gloss}},
       .only_needed = true,
       .title = "graph: the forward (white) and its gradient (grey), one graph"});

  g::Session session(graph);
  session.run(g::global_variables_initializer());
  const std::vector<g::Output> fetches = {gloss, grads[0], grads[1], grads[2], grads[3]};
  const std::vector<Tensor> values = session.run(fetches, {{gx, x}, {gy, y}});
  const g::RunStats stats = session.last_run_stats();
  const DotRender plan = g::draw_plan(session.last_plan(), "graph_plan",
                                      {.title = "the plan the Session ran: pruned, folded, fused"});

  std::cout << "GRAPH (TensorFlow 1's way)\n"
            << "  Declaring the forward pass added " << forward_nodes << " nodes and computed nothing; "
            << "gradients() added\n  " << gradient_nodes << " more: ordinary ops (MatMul, Mul, Permute...) "
            << "made by the same derivative rules\n  backward() used, that compute dL/dW when run. "
            << "The gradient is itself a graph.\n"
            << "  picture: " << where(drawn) << "\n"
            << "    yellow houses = placeholders (fed), blue boxes = variables, ellipses = ops, small\n"
            << "    circles = constants; edges say the static shape, `?` = the batch size, unknown\n"
            << "    until run time. The grey box holds every node gradients() made, grouped by the op\n"
            << "    each one differentiates (MatMul_grad, Relu_grad...), as TensorBoard shows them.\n"
            << "    Every edge from the white part into the grey box is a forward value the gradient\n"
            << "    reads (x, the relu's output, W2...): the graph's version of the tape's orange boxes.\n"
            << "  The Session ran " << stats.nodes_executed << " steps (" << stats.kernels_launched
            << " kernel launches) for these 5 fetches: it lowered the graph to a\n  plan, dropped "
            << "what the fetches do not need, and fused chains of elementwise ops into one loop.\n"
            << "  picture: " << where(plan) << "\n\n";

  // ---- 3. Same numbers ----------------------------------------------------------------------------
  std::cout << "SAME NUMBERS (same derivative sheet, same kernels)\n";
  std::printf("  loss    eager %.6f   graph %.6f\n", loss.item(), values[0].item());
  const char* names[] = {"dL/dW1", "dL/db1", "dL/dW2", "dL/db2"};
  const Tensor eager_grads[] = {W1.grad(), b1.grad(), W2.grad(), b2.grad()};
  for (int k = 0; k < 4; ++k)
    std::printf("  %-7s largest difference between the modes: %.1e\n", names[k],
                largest_difference(eager_grads[k], values[k + 1]));
  std::cout << "\n  dL/dW2 = " << values[3] << "\n";
}
