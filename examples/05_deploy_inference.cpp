// examples/05_deploy_inference.cpp — load a saved graph and run it, knowing nothing of the model.
//
// The second half of a deployment (the first is examples/04_freeze_and_deploy.cpp). This program
// contains no model code: no layer, no weight, no loss. Everything it runs comes from the file —
// the nodes, their ops (looked up by name in the op catalogue), the trained weights as constants,
// the names of the inputs and outputs. That is what freezing buys: the model is data, and any
// program that links the engine can serve it.
//
// Build and run it without make (from the repository root):
//     cmake -S . -B build -G Ninja && ninja -C build 04_freeze_and_deploy 05_deploy_inference
//     ./build/04_freeze_and_deploy                  # writes model.tgraph in the current folder
//     ./build/05_deploy_inference                   # reads model.tgraph, predicts four points
//     ./build/05_deploy_inference model.tgraph 0.9 0.8 -0.3 0.7    # your own points (x0 x1 pairs)
//
// Read next: docs/graph_file_format.md (what is in the file), io/graph_file.cpp (how it is read).
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "core/factories.h"
#include "graph/session.h"
#include "io/graph_file.h"

using namespace tandem;

// The same four probe points 04_freeze_and_deploy prints, one per quadrant.
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
    // ---- 1. load: a Graph, rebuilt node by node from the file -----------------------------------------
    io::FrozenGraph model = io::load_graph(path);
    std::set<std::string> ops;
    for (const auto& node : model.graph->nodes())
      if (node->op) ops.insert(node->op->name);
    std::printf("loaded %s: %lld nodes, using the ops:", path.c_str(),
                static_cast<long long>(model.graph->size()));
    for (const std::string& op : ops) std::printf(" %s", op.c_str());
    std::printf("\n");
    for (const auto& in : model.inputs) std::cout << "  input:  " << in << "\n";
    for (const auto& out : model.outputs) std::cout << "  output: " << out << "\n";
    std::printf("\n");
    if (model.inputs.size() != 1 || model.outputs.empty() || model.inputs[0].dim() != 2) {
      std::fprintf(stderr, "this program serves models with one input of shape (?, n); %s is another kind\n",
                   path.c_str());
      return 1;
    }

    // ---- 2. the points to classify: from the command line, or the four probes ---------------------------
    Tensor points = probe_points();
    const int64_t n_features = model.inputs[0].shape()[1];
    if (argc > 2) {
      std::vector<float> values;
      for (int i = 2; i < argc; ++i) {
        char* end = nullptr;
        values.push_back(std::strtof(argv[i], &end));
        if (end == argv[i] || *end != '\0') {
          std::fprintf(stderr, "'%s' is not a number: give the points as numbers, e.g. 0.5 0.25\n", argv[i]);
          return 1;
        }
      }
      if (values.size() % n_features != 0) {
        std::fprintf(stderr, "give the points as groups of %lld numbers\n", static_cast<long long>(n_features));
        return 1;
      }
      points = from_vector(values, {static_cast<int64_t>(values.size()) / n_features, n_features});
    }

    // ---- 3. run: a Session on the loaded graph, fed by the input's name --------------------------------
    graph::Session session(*model.graph);
    const Tensor probs = session.run(model.outputs[0], {{model.inputs[0], points}});
    print_predictions(points, probs);
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    if (path == "model.tgraph") std::cerr << "(run 04_freeze_and_deploy first: it writes model.tgraph)\n";
    return 1;
  }
}
