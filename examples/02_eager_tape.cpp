// examples/02_eager_tape.cpp — eager mode, and the tape it leaves behind.
//
// In eager mode (PyTorch's way) every line computes at once. What makes gradients possible is a
// side effect: when an input requires grad, each op also records a Node — "I was a matmul, these
// were my inputs, this is what my derivative will need" — and hangs it on its result. Chained
// together, those Nodes are the tape; loss.backward() walks it from the loss back to the weights.
//
// This program builds a two-layer network on two samples, prints what each line computed, draws
// the tape to eager_tape.dot (and eager_tape.svg when Graphviz is installed), then walks it.
//
// Run it from any folder; the drawing lands in the current one. Read next: autograd/dot.h for the
// drawing's conventions, autograd/engine.cpp for the walk itself.
#include <iostream>

#include "autograd/dot.h"
#include "autograd/node.h"
#include "tandem.h"
using namespace tandem;

int main() {
  // ---- 1. The data and the weights ----------------------------------------------------------
  // Two samples with three features, and their targets. Data does not require grad: nobody will
  // ask how the loss changes with the data, so the tape needs no record of it.
  Tensor x = tensor({{1.0, 2.0, 3.0}, {-1.0, 0.5, 2.0}});
  Tensor y = tensor({{1.0}, {0.0}});

  // The weights are *leaves*: tensors the user made and asked gradients for. (Fixed values, not
  // random ones, so you can check every number with a pencil, or with PyTorch.)
  Tensor W1 = tensor({{0.5, -0.2}, {0.3, 0.4}, {-0.1, 0.6}}).requires_grad_();
  Tensor b1 = tensor({0.1, -0.1}).requires_grad_();
  Tensor W2 = tensor({{0.7}, {-0.3}}).requires_grad_();
  Tensor b2 = tensor({0.2}).requires_grad_();

  // ---- 2. The forward pass: each line runs now, and records one Node ------------------------
  Tensor h = relu(x.matmul(W1) + b1);     // MatmulBackward0, AddBackward0, ReluBackward0
  Tensor pred = h.matmul(W2) + b2;        // MatmulBackward0, AddBackward0
  Tensor err = pred - y;                  // SubBackward0
  Tensor loss = mean(err * err);          // MulBackward0, MeanBackward0: the squared error

  // The values exist already — this is eager mode: no session, no feed, just numbers. (The relu
  // zeroed the first hidden unit of the second sample; backward will pass nothing through it.)
  std::cout << "h    = " << h << "\n";
  std::cout << "pred = " << pred << "\n";
  std::cout << "loss = " << loss << "\n";
  // And each result knows the Node that made it: the end of the tape.
  std::cout << "loss.grad_fn() is " << loss.grad_fn()->name() << "\n\n";

  // ---- 3. Draw the tape ---------------------------------------------------------------------
  // Grey boxes are the Nodes, blue boxes the leaves, orange ones the values each Node saved for
  // its derivative (matmul keeps both inputs: dA = G·Bᵀ needs B; add keeps nothing: its
  // derivative is g). Those orange boxes are the memory a training step holds until backward.
  DotRender drawing = draw_tape(loss, "eager_tape",
                                {.names = {{"x", x}, {"y", y}, {"W1", W1}, {"b1", b1}, {"W2", W2},
                                           {"b2", b2}, {"h", h}, {"pred", pred}, {"err", err},
                                           {"loss", loss}},
                                 .title = "loss = mean((relu(x W1 + b1) W2 + b2 - y)^2)"});
  std::cout << drawing.message << "\n\n";

  // ---- 4. Walk the tape backward ------------------------------------------------------------
  // backward() visits every Node once, after all the Nodes that used its output, and adds the
  // gradients that reach a leaf into its .grad. Then it frees the saved values (draw the tape
  // again now and the orange boxes say "freed"); a second backward would need retain_graph=true.
  loss.backward();

  std::cout << "dloss/dW1 = " << W1.grad() << "\n";
  std::cout << "dloss/db1 = " << b1.grad() << "\n";
  std::cout << "dloss/dW2 = " << W2.grad() << "\n";
  std::cout << "dloss/db2 = " << b2.grad() << "\n";
}
