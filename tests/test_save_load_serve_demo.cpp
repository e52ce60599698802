// tests/test_save_load_serve_demo.cpp — examples/14_save_load_serve: three formats, one prediction.
//
// Runs the built program into a scratch folder and checks what it prints (the three formats, and the
// eager file restored into a graph, agree exactly with the trained model; the damaged file's error;
// the serving lines), then loads the files it left with the library, as another program would: the
// checkpoints a run writes must load, and give the predictions it printed.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <string>

#include "io/graph_file.h"
#include "io/saver.h"
#include "scratch_dir.h"
#include "tandem.h"
#include "tests/run_program.h"

using namespace tandem;
namespace g = tandem::graph;

namespace {

// The demo's table row for the first probe point: "(0.60, 0.40)" then five numbers.
std::vector<std::string> first_row(const std::string& out) {
  const size_t at = out.find("\n(0.60, 0.40)");
  REQUIRE(at != std::string::npos);
  char cols[5][32];
  REQUIRE(std::sscanf(out.c_str() + at + 1, "(0.60, 0.40) %31s %31s %31s %31s %31s", cols[0], cols[1], cols[2],
                      cols[3], cols[4]) == 5);
  return {cols[0], cols[1], cols[2], cols[3], cols[4]};
}

Tensor probe_points() { return tensor({{0.6, 0.4}, {-0.3, 0.5}, {-0.2, -0.1}, {0.7, -0.05}}); }

}  // namespace

TEST_CASE("examples/14_save_load_serve: state_dict, Saver and frozen graph predict the same", "[examples][save_load_serve]") {
  ScratchDir dir("demo14");
  const std::string out = run_ok(std::string(TANDEM_BINARY_DIR) + "/14_save_load_serve " + dir.string() + " --serve");
  INFO(out);

  // The three formats, and the eager file in a graph, print the trained model's numbers.
  const std::vector<std::string> row = first_row(out);
  for (size_t k = 1; k < row.size(); ++k) CHECK(row[k] == row[0]);
  CHECK_THAT(out, Catch::Contains("over all formats: 0\nthe predictions agree exactly"));
  CHECK_THAT(out, Catch::Contains("load_state_dict: <All keys matched successfully>"));
  // What each file holds: PyTorch's names in one, TF's in the other.
  CHECK_THAT(out, Catch::Contains("0.weight [16, 2]"));
  CHECK_THAT(out, Catch::Contains("0/weight [16, 2]"));
  CHECK_THAT(out, Catch::Contains("(step 600)"));
  // The damaged copy: refused, naming the file and saying what is wrong.
  CHECK_THAT(out, Catch::Contains("truncated.tckpt"));
  CHECK_THAT(out, Catch::Contains("error: ") && Catch::Contains("truncated"));
  // How to serve it.
  CHECK_THAT(out, Catch::Contains("./build/tandem_serve --rest_api_port=8501 --model_name=xor --model_base_path="));
  CHECK_THAT(out, Catch::Contains("curl -d '{\"instances\": [[0.6, 0.4], [-0.3, 0.5], [-0.2, -0.1], [0.7, -0.05]]}' "
                                  "localhost:8501/v1/models/xor:predict"));
#ifdef TANDEM_HAVE_SERVING
  CHECK_THAT(out, Catch::Contains("ModelServer::handle(\"POST\", \"/v1/models/xor:predict\", ...) answers:\n  {\"predictions\":[["));
  CHECK_THAT(out, Catch::Contains("the server's predictions equal the frozen graph's run: yes"));
  // --serve: over HTTP where the build has cpp-httplib, else a line saying it has none.
  const bool http = out.find("over HTTP: POST http://127.0.0.1:") != std::string::npos;
  CHECK((http || out.find("--serve: this build has no HTTP listener") != std::string::npos));
  if (http) CHECK_THAT(out, Catch::Contains("/v1/models/xor:predict -> 200"));
#endif

  // The files the run left load in this process, and give the numbers it printed.
  const io::FrozenGraph frozen = io::load_graph(dir / "xor.tgraph");
  g::Session session(*frozen.graph);
  const Tensor from_graph = session.run(frozen.output("probs"), {{frozen.input("x"), probe_points()}});
  char printed[32];
  std::snprintf(printed, sizeof printed, "%.6f", from_graph.at({0, 1}));
  CHECK(row[0] == printed);

  manual_seed(5);
  nn::Sequential model(nn::Linear(2, 16), nn::ReLU(), nn::Linear(16, 2));
  CHECK(model->load_state_dict(StateDict::load(dir / "xor.tckpt")).all_keys_matched());
  const Tensor from_state_dict = softmax(model(probe_points()), 1);
  CHECK(equal(from_state_dict, from_graph));

  const std::optional<std::string> latest = g::train::latest_checkpoint(dir / "saver");
  REQUIRE(latest.has_value());
  CHECK(std::filesystem::path(*latest).filename() == "model.ckpt-600");
  const io::Checkpoint ckpt = io::load_checkpoint(*latest);
  CHECK(equal(ckpt.tensors.at("0/weight"), model->state_dict().at("0.weight")));
}

TEST_CASE("examples/14_save_load_serve: a wrong option is refused with its usage", "[examples][save_load_serve]") {
  const ProgramOutput ran = run_program(std::string(TANDEM_BINARY_DIR) + "/14_save_load_serve --sevre");
  CHECK(ran.status != 0);
  CHECK_THAT(ran.text, Catch::Contains("unknown option '--sevre'") && Catch::Contains("usage: 14_save_load_serve"));
}
