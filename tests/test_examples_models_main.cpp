// tests/test_examples_models_main.cpp — examples/11_models and examples/12_fashion_mnist (make demo),
// run as programs on the committed sample, and what they print and write checked.
//
// 11: the seed's Dense network counted as Keras and PyTorch count it (the counts computed here by
// hand, from the layer sizes), the model run in both modes to the same numbers, the skeleton network
// running and training as given. 12: the table's rows, both modes' losses equal, and the run
// directory — event files TensorBoard reads (the same loss curve in both), drawings, and
// checkpoints that load into the model; then its errors for bad flags and a missing folder.
//
// Read next: examples/11_models.cpp, examples/12_fashion_mnist.cpp.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "scratch_dir.h"
#include "tandem.h"
#include "tests/run_program.h"

using namespace tandem;
namespace fs = std::filesystem;

namespace {

// A demo's output and exit status: name and arguments, run from the build folder's programs.
ProgramOutput run_example(const std::string& name, const std::string& args) {
  return run_program(std::string(TANDEM_BINARY_DIR) + "/" + name + " " + args);
}

// Every number that follows `prefix` in `text`.
std::vector<double> numbers_after(const std::string& text, const std::string& prefix) {
  std::vector<double> found;
  for (size_t at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at + 1))
    found.push_back(std::strtod(text.c_str() + at + prefix.size(), nullptr));
  return found;
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Linear(in, out) holds in·out weights and out biases.
int64_t linear_params(int64_t in, int64_t out) { return in * out + out; }

// The loss curve of one run folder: (step, value) of the tag, in file order.
std::vector<std::pair<int64_t, float>> scalars(const fs::path& dir, const std::string& tag, bool& has_graph) {
  const std::vector<std::string> files = io::event_files_in(dir.string());
  REQUIRE(files.size() == 1);
  const io::EventFileContents f = io::read_event_file(files[0]);
  CHECK(f.stopped_because.empty());
  std::vector<std::pair<int64_t, float>> curve;
  has_graph = false;
  for (const io::Event& e : f.events) {
    if (const auto* s = std::get_if<io::Summary>(&e.what))
      for (const io::SummaryValue& v : s->values)
        if (v.tag == tag) curve.emplace_back(e.step, std::get<float>(v.value));
    if (std::holds_alternative<io::GraphDefBytes>(e.what)) has_graph = true;
  }
  return curve;
}

// The demo's model, rebuilt here to load its checkpoints into.
nn::Sequential demo_model() {
  return nn::Sequential({{"flatten", nn::Flatten()}, {"fc1", nn::Linear(784, 256)}, {"relu1", nn::ReLU()},
                         {"drop", nn::Dropout(0.2)}, {"fc2", nn::Linear(256, 128)}, {"relu2", nn::ReLU()},
                         {"fc3", nn::Linear(128, 10)}});
}

std::string read_text(const fs::path& p) {
  std::ifstream f(p);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

}  // namespace

TEST_CASE("examples/11_models: Keras's and PyTorch's parameter counts, both modes, the skeleton network",
          "[examples][models]") {
  const ProgramOutput r = run_example("11_models", "");
  INFO(r.text);
  REQUIRE(r.status == 0);
  // The seed's network: Dense(64) on 10 inputs, Dense(32), Dense(1).
  const int64_t dense = linear_params(10, 64) + linear_params(64, 32) + linear_params(32, 1);
  CHECK(dense == 2817);
  // Keras's table: the keras::Sequential, the nn::Sequential and the Module subclass, each "2,817".
  CHECK(occurrences(r.text, "Total params: 2,817\n") == 3);
  CHECK(occurrences(r.text, "Trainable params: 2,817\n") == 3);
  CHECK(r.text.find(" dense_1 (Dense)             (None, 32)                2080") != std::string::npos);
  CHECK(r.text.find(" layer1 (Linear)             (None, 64)                704") != std::string::npos);
  // PyTorch's count, and its print(model).
  CHECK(numbers_after(r.text, "sum(p.numel() for p in torch_model.parameters()) = ") == std::vector<double>{2817});
  CHECK(r.text.find("PyTorchModel(\n  (layer1): Linear(in_features=10, out_features=64, bias=True)") !=
        std::string::npos);
  // The skeleton: Linear(784, 128) and Linear(128, 10).
  const int64_t skeleton = linear_params(784, 128) + linear_params(128, 10);
  CHECK(numbers_after(r.text, "parameters: ") == std::vector<double>{static_cast<double>(skeleton)});
  CHECK(r.text.find("Total params: 101,770") != std::string::npos);
  // Both modes computed the same numbers, for both models.
  const std::vector<double> gaps = numbers_after(r.text, "largest difference between the two: ");
  REQUIRE(gaps.size() == 2);
  for (double gap : gaps) CHECK(gap <= 1e-6);
  // The skeleton trains as given: one SGD step lowers the loss on its batch.
  const std::vector<double> before = numbers_after(r.text, "(labels random): loss before it ");
  const std::vector<double> after = numbers_after(r.text, ", after it ");
  REQUIRE(before.size() == 1);
  REQUIRE(after.size() == 1);
  CHECK(after[0] < before[0]);
  CHECK(r.text.find("=== What differed ===") != std::string::npos);
}

TEST_CASE("examples/12_fashion_mnist: the table, equal losses, and a run directory that loads",
          "[examples][demo12]") {
  ScratchDir dir("demo12");
  const std::string sample = std::string(TANDEM_SOURCE_DIR) + "/tests/data/fashion-mnist-sample";
  const ProgramOutput r = run_example("12_fashion_mnist", "--data " + sample + " --epochs 3 --threads 1 --logdir " + dir / "run");
  INFO(r.text);
  REQUIRE(r.status == 0);
  // The sample holds 300 training images: 5 batches of 64 (the last one of 44) per epoch.
  const int64_t steps = 3 * 5;
  CHECK(r.text.find("300 training images") != std::string::npos);
  CHECK(r.text.find("kernels on 1 thread(s) (fixed for the run") != std::string::npos);

  // The losses, step by step: the two columns are the same numbers.
  CHECK(r.text.find("losses agree: yes") != std::string::npos);
  const std::regex loss_row(R"(\n +(\d+) +(\d+\.\d+) +(\d+\.\d+)(?=\n))");
  int rows = 0;
  for (auto it = std::sregex_iterator(r.text.begin(), r.text.end(), loss_row); it != std::sregex_iterator(); ++it) {
    CHECK(std::stod((*it)[2]) == Approx(std::stod((*it)[3])).epsilon(1e-5));
    ++rows;
  }
  CHECK(rows >= 5);

  // The table's rows, each with both modes' figures.
  for (const char* row : {"test accuracy", "time per epoch (median of 2)", "peak memory per step", "nodes per step",
                          "kernels per step", "lines of user code"})
    CHECK(r.text.find(std::string("\n  ") + row) != std::string::npos);
  const std::vector<double> accuracy = numbers_after(r.text, "  test accuracy                  ");
  REQUIRE(accuracy.size() == 1);
  CHECK(accuracy[0] > 10);  // 100 test images of 10 classes: above chance after 3 epochs
  const std::vector<double> kernels = numbers_after(r.text, "  kernels per step               ");
  REQUIRE(kernels.size() == 1);
  CHECK(kernels[0] > 20);  // three Linear layers forward and backward, and Adam's six updates, at least
  // Memory: both ways hold every weight gradient at once (the optimizer steps after backward), so
  // a step's peak is at least the parameters' bytes: 4 · (784·256 + 256 + 256·128 + 128 + 128·10 + 10).
  const double gradient_mb = 4.0 * static_cast<double>(linear_params(784, 256) + linear_params(256, 128) +
                                                       linear_params(128, 10)) / 1e6;
  const size_t memory_row = r.text.find("  peak memory per step           ");
  REQUIRE(memory_row != std::string::npos);
  double eager_mb = 0, graph_mb = 0;
  REQUIRE(std::sscanf(r.text.c_str() + memory_row, "  peak memory per step %lf MB %lf MB", &eager_mb, &graph_mb) == 2);
  CHECK(eager_mb >= gradient_mb - 0.005);  // printed to 0.01 MB
  CHECK(graph_mb >= gradient_mb - 0.005);
  const std::vector<double> lines = numbers_after(r.text, "  lines of user code             ");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] > 5);

  // TensorBoard: one run per mode, the same loss curve, a graph in each.
  bool eager_graph = false, graph_graph = false;
  const auto eager = scalars(dir.path() / "run" / "eager", "loss", eager_graph);
  const auto graph = scalars(dir.path() / "run" / "graph", "loss", graph_graph);
  REQUIRE(eager.size() == static_cast<size_t>(steps));
  REQUIRE(graph.size() == eager.size());
  for (size_t k = 0; k < eager.size(); ++k) {
    CHECK(eager[k].first == static_cast<int64_t>(k));
    CHECK(graph[k].first == eager[k].first);
    CHECK(graph[k].second == Approx(eager[k].second).epsilon(1e-5));
  }
  CHECK(eager_graph);
  CHECK(graph_graph);
  CHECK(scalars(dir.path() / "run" / "eager", "accuracy/test", eager_graph).size() == 3);
  CHECK(scalars(dir.path() / "run" / "graph", "accuracy/test", graph_graph).size() == 3);

  // The drawings: DOT text (and SVG where Graphviz renders it).
  for (const char* drawing : {"graph", "tape"}) {
    const fs::path dot = dir.path() / "run" / "drawings" / (std::string(drawing) + ".dot");
    REQUIRE(fs::exists(dot));
    CHECK(read_text(dot).rfind("digraph", 0) == 0);
    if (std::system("command -v dot > /dev/null 2>&1") == 0) CHECK(fs::exists(fs::path(dot).replace_extension(".svg")));
  }
  // The tape: three Linear layers, each a MatmulBackward0 (and the loss's LogSoftmaxBackward0).
  const std::string tape = read_text(dir.path() / "run" / "drawings" / "tape.dot");
  CHECK(occurrences(tape, "label=\"MatmulBackward0") == 3);
  CHECK(occurrences(tape, "label=\"LogSoftmaxBackward0") == 1);

  // The checkpoints: the eager StateDict of each epoch and the graph Saver's, the same names, and
  // both load into the model.
  nn::Sequential model = demo_model();
  const StateDict from_eager = StateDict::load(dir / "run/checkpoints/eager/model_epoch3.tckpt");
  CHECK(model->load_state_dict(from_eager).all_keys_matched());
  const std::optional<std::string> latest = graph::train::latest_checkpoint(dir / "run/checkpoints/graph");
  REQUIRE(latest.has_value());
  CHECK(fs::path(*latest).filename() == "model.ckpt-" + std::to_string(steps));
  const StateDict from_graph = StateDict::load(*latest);
  CHECK(model->load_state_dict(from_graph).all_keys_matched());
  REQUIRE(from_graph.at("fc1.weight").shape() == Shape{256, 784});
  // Trained alike: the two checkpoints hold the same weights, to float rounding.
  for (const auto& [name, t] : from_eager) CHECK(allclose(t, from_graph.at(name), 1e-4, 1e-5));
  // The demo lists what it wrote.
  CHECK(r.text.find("The run directory, ") != std::string::npos);
  CHECK(r.text.find("checkpoints/eager/model_epoch3.tckpt") != std::string::npos);
}

TEST_CASE("examples/12_fashion_mnist: bad flags and a missing folder get a message, not a crash",
          "[examples][demo12]") {
  const ProgramOutput missing = run_example("12_fashion_mnist", "--data /nonexistent/fashion --epochs 1");
  CHECK(missing.status == 1);
  CHECK(missing.text.find("--data /nonexistent/fashion: Fashion-MNIST's four files") != std::string::npos);
  const ProgramOutput bad_number = run_example("12_fashion_mnist", "--epochs zero");
  CHECK(bad_number.status == 2);
  CHECK(bad_number.text.find("--epochs wants a whole number above 0, not 'zero'") != std::string::npos);
  const ProgramOutput no_threads = run_example("12_fashion_mnist", "--threads 0");
  CHECK(no_threads.status == 2);
  CHECK(no_threads.text.find("--threads wants a whole number above 0, not '0'") != std::string::npos);
  const ProgramOutput unknown = run_example("12_fashion_mnist", "--fast");
  CHECK(unknown.status == 2);
  CHECK(unknown.text.find("unknown option '--fast'") != std::string::npos);
  CHECK(unknown.text.find("usage: 12_fashion_mnist") != std::string::npos);
  const ProgramOutput no_value = run_example("12_fashion_mnist", "--logdir");
  CHECK(no_value.status == 2);
  CHECK(no_value.text.find("--logdir needs a value") != std::string::npos);
}

TEST_CASE("examples/12_fashion_mnist: without Debian's Fashion-MNIST it says how to install it and uses the sample",
          "[examples][demo12]") {
  ScratchDir dir("demo12_fallback");
  const std::string debian_dir = data::kFashionMnistDir;
  const std::string demo = std::string(TANDEM_BINARY_DIR) + "/12_fashion_mnist --epochs 1 --logdir " + dir / "run";
  std::string command;
  if (!fs::exists(debian_dir)) {
    command = demo;  // missing already: the demo's own situation on a machine without the package
  } else {
    // Hide the installed folder behind an empty one, in a mount namespace of this command's own
    // (nothing outside it sees the change). Where that is not allowed (no privilege), skip.
    fs::create_directories(dir.path() / "empty");
    command = "unshare -m sh -c 'mount --bind " + dir / "empty" + " " + debian_dir + " && echo hidden && " + demo + "'";
  }
  const ProgramOutput ran = run_program(command);
  const std::string& out = ran.text;
  if (fs::exists(debian_dir) && out.rfind("hidden\n", 0) != 0) {
    WARN("skipped: cannot hide " << debian_dir << " here (unshare -m needs privilege): " << out);
    return;
  }
  INFO(out);
  CHECK(ran.status == 0);
  CHECK(out.find("Fashion-MNIST is not installed") != std::string::npos);
  CHECK(out.find("sudo apt-get install dataset-fashion-mnist") != std::string::npos);
  CHECK(out.find("this run uses the small sample committed with the tests") != std::string::npos);
  CHECK(out.find("300 training images") != std::string::npos);
  CHECK(out.find("losses agree: yes") != std::string::npos);
}
