// examples/04_freeze_and_deploy.cpp — train in graph mode, freeze, save to one file.
//
// The first half of a deployment: this program trains a small classifier as a TensorFlow 1
// program would — placeholders, variables, gradients(), assign_sub, Session::run in a loop — then
// *freezes* it: keep only what the predictions need, and turn every variable into a constant
// holding its trained value. The result is a stateless graph from `x` to `probs`, saved to
// model.tgraph (format: docs/graph_file_format.md). The second half, a separate program that knows
// nothing about this model, is examples/05_deploy_inference.cpp.
//
// The task: points in the square [-1, 1]², class 1 when x0·x1 > 0 (the first and third quadrants)
// — XOR in two dimensions, which no linear model can learn; a 2-16-2 MLP with relu can.
//
// Build and run it without make (from the repository root):
//     cmake -S . -B build -G Ninja && ninja -C build 04_freeze_and_deploy 05_deploy_inference
//     ./build/04_freeze_and_deploy            # writes model.tgraph in the current folder
//     ./build/05_deploy_inference             # reads it back and predicts
// An optional argument names the file: ./build/04_freeze_and_deploy /tmp/xor.tgraph. The frozen
// graph is also drawn to frozen_model.dot (and .svg when Graphviz is installed).
//
// Read next: io/graph_file.h (freeze, save, load), examples/05_deploy_inference.cpp.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "graph/dot.h"
#include "io/graph_file.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

// The four points both programs predict, one per quadrant; the test suite compares their outputs.
Tensor probe_points() { return tensor({{0.6, 0.4}, {-0.3, 0.5}, {-0.2, -0.1}, {0.7, -0.05}}); }

void print_predictions(const Tensor& points, const Tensor& probs) {
  std::printf("predictions:\n");
  for (int64_t i = 0; i < points.size(0); ++i) {
    const double p1 = probs.at({i, 1});
    std::printf("  (%5.2f, %5.2f) -> class %d   p(class 1) = %.6f\n", points.at({i, 0}), points.at({i, 1}),
                p1 > 0.5 ? 1 : 0, p1);
  }
  std::printf("\n");
}

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "model.tgraph";
  try {
    // ---- data: 256 points, labelled by the sign of x0·x1 -------------------------------------------
    manual_seed(0);
    const Tensor points = rand({256, 2}) * 2 - 1;
    const Tensor labels = (points.select(1, 0) * points.select(1, 1) > 0.0).to(kInt64);

    // ---- the graph: model, loss, gradients, SGD updates ------------------------------------------
    g::Graph graph;
    g::DefaultGraph use(graph);
    const g::Output x = g::placeholder(kFloat32, {-1, 2}, "x");
    const g::Output y = g::placeholder(kInt64, {-1}, "labels");
    // The model, with layers: nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2)), with
    // PyTorch's default initialisation. Called on the placeholder it adds nodes, and its weights
    // become Variables of the graph ("model/0/weight"...), initialised from the layers' tensors.
    nn::Sequential model(nn::Linear(2, 16), nn::ReLU(), nn::Linear(16, 2));
    g::Output probs, loss;
    {
      g::NameScope scope("model");
      const g::Output logits = model(x);
      probs = g::identity(g::softmax(logits, 1), "probs");
      loss = -g::mean(g::sum(g::to(g::one_hot(y, 2), kFloat32) * g::log_softmax(logits, 1), {1}));
    }
    const std::vector<g::Output> params = model->variables(graph);  // W1, b1, W2, b2
    const std::vector<g::Output> grads = g::gradients({loss}, params);
    std::vector<g::Output> updates;
    for (size_t k = 0; k < params.size(); ++k) updates.push_back(g::assign_sub(params[k], grads[k] * 0.5));
    const g::Output train = g::group(updates, "train");
    const g::Output init = g::global_variables_initializer();

    // ---- training: full batch, plain SGD -------------------------------------------------------------
    g::Session session(graph);
    session.run(init);
    std::printf("training a 2-16-2 MLP on XOR in two dimensions (graph mode, %lld nodes)\n",
                static_cast<long long>(graph.size()));
    for (int step = 0; step <= 1500; ++step) {
      const auto out = session.run({train, loss, probs}, {{x, points}, {y, labels}});
      if (step % 300 == 0) {
        const double accuracy = mean((argmax(out[2], 1) == labels).to(kFloat32)).item();
        std::printf("  step %4d   loss %.4f   training accuracy %.1f%%\n", step, out[1].item(), 100 * accuracy);
      }
    }
    std::printf("\n");

    // ---- freeze and save ---------------------------------------------------------------------------
    io::FrozenGraph frozen = io::freeze(session, {probs});
    io::save_graph(frozen, path);
    std::printf("froze the graph: %lld nodes -> %lld (variables became constants; labels, loss,\n"
                "gradients, updates and initializers were dropped: the prediction needs none of them)\n",
                static_cast<long long>(graph.size()), static_cast<long long>(frozen.graph->size()));
    std::printf("saved %s (%lld bytes); inputs: %s, outputs: %s\n",
                std::filesystem::absolute(path).string().c_str(),
                static_cast<long long>(std::filesystem::file_size(path)),
                frozen.inputs[0].name().c_str(), frozen.outputs[0].name().c_str());
    const DotRender drawing = g::draw_graph(*frozen.graph, "frozen_model",
                                            {.outputs = frozen.outputs, .title = "the frozen model"});
    std::printf("%s\n\n", drawing.message.c_str());

    // What the trained session predicts; 05_deploy_inference must print the same from the file.
    const Tensor probe = probe_points();
    print_predictions(probe, session.run(probs, {{x, probe}}));
    std::printf("next: run 05_deploy_inference %s\n", path.c_str());
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
