// tests/test_first_demos.cpp — the first demos a student runs, run on the committed sample.
//
// examples/01_side_by_side (the seed examples both ways, then one MLP trained by both executors),
// 03_graph_vs_tape (one small network's gradients as a tape and as graph nodes) and 06_convnet (the
// seed ConvNet, one model object trained both ways) are run as programs and what they print is
// checked: the two modes' columns agree, the numbers match a reference worked out elsewhere, and
// the files they draw are there.
//
// Read next: docs/demos/01_side_by_side.md, 03_graph_vs_tape.md, 06_convnet.md.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/run_program.h"
#include "tests/scratch_dir.h"

using namespace tandem;
namespace fs = std::filesystem;

namespace {
const std::string kSample = std::string(TANDEM_SOURCE_DIR) + "/tests/data/fashion-mnist-sample";

// The number printed right after `label` (the first time it appears).
double number_after(const std::string& out, const std::string& label) {
  const size_t at = out.find(label);
  REQUIRE(at != std::string::npos);
  return std::strtod(out.c_str() + at + label.size(), nullptr);
}
}  // namespace

TEST_CASE("examples/01_side_by_side: the seed examples both ways, then one MLP trained by both executors",
          "[examples][first_demos]") {
  const std::string out = run_ok(std::string(TANDEM_BINARY_DIR) + "/01_side_by_side " + kSample + " 60");
  INFO(out);
  // Part 1: tf.multiply([[3, 4, 8]], [[2], [3], [9]]) broadcasts to 3x3; a node prints as a node.
  CHECK(out.find("<- a node, no value yet") != std::string::npos);
  CHECK(out.find("[27., 36., 72.]") != std::string::npos);  // 9·3, 9·4, 9·8
  CHECK(out.find("3. * 4.          = tensor(12.)") != std::string::npos);
  CHECK(out.find("mean([[1,2],[3,4]]) = tensor(2.5000)") != std::string::npos);
  // Part 2: from the same weights on the same batches, the same losses — to float rounding, which
  // a small sample seen again and again lets grow over many steps: in 60 steps, the rows of steps
  // 0 and 50 must agree.
  for (const char* step : {"\n     0   ", "\n    50   "}) {
    const size_t at = out.find(step);
    REQUIRE(at != std::string::npos);
    long long index = 0;
    double eager = 0, graph = -1;
    REQUIRE(std::sscanf(out.c_str() + at, "%lld %lf %lf", &index, &eager, &graph) == 3);
    CHECK(std::abs(eager - graph) < 1e-5);
  }
  // The graph's weights, copied into the module, give the session's loss.
  const size_t at = out.find("model->copy_from(session)");
  REQUIRE(at != std::string::npos);
  const double eager = number_after(out.substr(at), "on a batch: ");
  const double graph = number_after(out.substr(at), " vs ");
  CHECK(std::abs(eager - graph) < 2e-6);  // printed with six decimals
}

TEST_CASE("examples/03_graph_vs_tape: the tape and the gradient graph give PyTorch's loss and gradients",
          "[examples][first_demos]") {
  ScratchDir dir("demo03");
  const std::string out = run_ok(std::string(TANDEM_BINARY_DIR) + "/03_graph_vs_tape", dir.string());
  INFO(out);
  // PyTorch 1.13 on the same network and weights (F.cross_entropy with soft targets, float32):
  // loss 1.1926155.
  CHECK(std::abs(number_after(out, "loss    eager ") - 1.1926155) < 1e-6);
  CHECK(std::abs(number_after(out, "   graph ") - 1.1926155) < 1e-6);
  for (const char* grad : {"dL/dW1", "dL/db1", "dL/dW2", "dL/db2"}) {
    const size_t at = out.find(std::string(grad) + "  largest difference");
    REQUIRE(at != std::string::npos);
    CHECK(number_after(out.substr(at), "between the modes: ") < 1e-6);
  }
  for (const char* drawing : {"eager_tape.dot", "graph_mlp.dot", "graph_plan.dot"})
    CHECK(fs::exists(dir.path() / drawing));
}

TEST_CASE("examples/06_convnet: one ConvNet object trained both ways to the same losses and predictions",
          "[examples][first_demos]") {
  const std::string out = run_ok(std::string(TANDEM_BINARY_DIR) + "/06_convnet " + kSample);
  INFO(out);
  CHECK(out.find("4 SGD steps of 64 images") != std::string::npos);  // the sample's 300 images
  CHECK(number_after(out, "largest difference between the two columns: ") < 1e-4);
  CHECK(out.find("test accuracy (100 images)") != std::string::npos);
  CHECK(out.find("same predictions: yes") != std::string::npos);
  CHECK(number_after(out, "differ from the eager ones by at most ") < 1e-4);
}

TEST_CASE("examples/10_fit: a flag or a count that is not a number gets its usage", "[examples][first_demos]") {
  const ProgramOutput flag = run_program(std::string(TANDEM_BINARY_DIR) + "/10_fit --bogus");
  CHECK(flag.status == 1);
  CHECK(flag.text.find("10_fit takes no flags, got '--bogus'") != std::string::npos);
  const ProgramOutput count = run_program(std::string(TANDEM_BINARY_DIR) + "/10_fit " + kSample + " many");
  CHECK(count.status == 1);
  CHECK(count.text.find("TRAINING_IMAGES must be a positive whole number, got 'many'") != std::string::npos);
}
