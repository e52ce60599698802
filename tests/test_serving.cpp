// tests/test_serving.cpp — the model server (serve/model_server.h) without a network: each request
// goes straight to ModelServer::handle, and each answer is checked against hand math or against
// Session::run on the same frozen graph. tests/serving_check.py does the same over real HTTP.
#include <catch2/catch.hpp>

#ifndef TANDEM_HAVE_SERVING
TEST_CASE("serving: ModelServer answers TF Serving's REST API", "[serving]") {
  WARN("serving is not built here (apt-get install nlohmann-json3-dev libcpp-httplib-dev): skipping");
}
#else

#include <filesystem>
#include <thread>
#include <unistd.h>

#include "io/graph_file.h"
#include "serve/json_tensor.h"
#include "serve/model_server.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;
namespace fs = std::filesystem;
using serve::json;

namespace {

struct Folder {
  fs::path path = fs::temp_directory_path() / ("tandem_serving_" + std::to_string(getpid()));
  Folder() { fs::create_directories(path); }
  ~Folder() { fs::remove_all(path); }
};

// softmax(x · I + 0) = softmax(x): a model whose answers are hand math. softmax([0, ln 3]) = [1/4, 3/4].
std::string save_softmax_model(const fs::path& dir) {
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat32, {-1, 2}, "x");
  const g::Output probs = g::identity(g::softmax(g::matmul(x, g::constant(eye(2))) + 0.0, 1), "probs");
  g::Session session(graph);
  const std::string path = (dir / "softmax.tgraph").string();
  io::save_graph(io::freeze(session, {probs}), path);
  return path;
}

// Two inputs and two outputs: the row format names them in every instance.
std::string save_two_ended_model(const fs::path& dir) {
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat32, {-1, 3}, "x");
  const g::Output scale = g::placeholder(kFloat32, {-1, 1}, "scale");
  const g::Output scaled = g::identity(x * scale, "scaled");
  const g::Output best = g::identity(g::argmax(scaled, 1), "best");
  g::Session session(graph);
  const std::string path = (dir / "two.tgraph").string();
  io::save_graph(io::freeze(session, {scaled, best}), path);
  return path;
}

json body_of(const serve::HttpResponse& r) { return json::parse(r.body); }

}  // namespace

TEST_CASE("json_tensor: nested lists to tensors and back, with the shape found in the nesting", "[serving]") {
  const Tensor t = serve::tensor_from_json(json::parse("[[1, 2.5], [3, 4]]"), kFloat32, "instances");
  CHECK(t.shape() == Shape{2, 2});
  CHECK(t.to_vector<double>() == std::vector<double>{1, 2.5, 3, 4});
  CHECK(serve::tensor_from_json(json::parse("7"), kInt64, "v").shape() == Shape{});
  CHECK(serve::tensor_from_json(json::parse("[[true], [false]]"), kBool, "v").to_vector<double>() ==
        std::vector<double>{1, 0});
  // float32 written with the digits that read back as the same float32, not its double widening
  CHECK(serve::json_from_tensor(tensor({0.1f, 0.25f})).dump() == "[0.1,0.25]");
  CHECK(serve::json_from_tensor(tensor({{int64_t{1}, int64_t{2}}})).dump() == "[[1,2]]");

  auto refused = [](const char* text, DType dtype, const std::string& what) {
    INFO(text);
    CHECK_THROWS_WITH(serve::tensor_from_json(json::parse(text), dtype, "instances"), Catch::Contains(what));
  };
  refused("[[1, 2], [3]]", kFloat32, "instances[1] has 1 values but the lists beside it have 2");
  refused("[[1, 2], 3]", kFloat32, "instances[1] is a number where a list of 2 values was expected");
  refused("[[1, \"a\"]]", kFloat32, "instances[0][1] is a string; this input is float32: send numbers");
  refused("[[1, 2.5]]", kInt64, "instances[0][1] is 2.5; this input is int64: send whole numbers");
  refused("[1, 0]", kBool, "instances[0] is a number; this input is bool: send true or false");
  refused("[null]", kFloat32, "instances[0] is null");
  std::string deep(40, '[');
  refused((deep + "1" + std::string(40, ']')).c_str(), kFloat32, "nested more than 32 lists deep");
}

TEST_CASE("serving: predict, status and metadata in TF Serving's JSON", "[serving]") {
  Folder dir;
  serve::ModelServer server;
  server.add_model("soft", save_softmax_model(dir.path));

  // Row format: one entry per example. Hand math: softmax([0, ln 3]) = [0.25, 0.75].
  const double ln3 = std::log(3.0);
  auto r = server.handle("POST", "/v1/models/soft:predict",
                         json{{"instances", {{0.0, ln3}, {0.0, 0.0}}}}.dump());
  REQUIRE(r.status == 200);
  json p = body_of(r)["predictions"];
  REQUIRE(p.size() == 2);
  CHECK(p[0][0].get<double>() == Approx(0.25).epsilon(1e-6));
  CHECK(p[0][1].get<double>() == Approx(0.75).epsilon(1e-6));
  CHECK(p[1] == json::parse("[0.5, 0.5]"));

  // Columnar format, the same batch: {"inputs": ...} → {"outputs": ...}; versions in the URL.
  r = server.handle("POST", "/v1/models/soft/versions/1:predict", json{{"inputs", {{0.0, ln3}}}}.dump());
  REQUIRE(r.status == 200);
  CHECK(body_of(r)["outputs"][0][1].get<double>() == Approx(0.75).epsilon(1e-6));
  r = server.handle("POST", "/v1/models/soft:predict",
                    json{{"signature_name", "serving_default"}, {"instances", {{1.0, 1.0}}}}.dump());
  CHECK(r.status == 200);

  r = server.handle("GET", "/v1/models/soft", "");
  REQUIRE(r.status == 200);
  CHECK(body_of(r) == json::parse(R"({"model_version_status": [{"version": "1", "state": "AVAILABLE",
                                      "status": {"error_code": "OK", "error_message": ""}}]})"));
  r = server.handle("GET", "/v1/models/soft/metadata", "");
  REQUIRE(r.status == 200);
  const json sig = body_of(r)["metadata"]["signature_def"]["signature_def"]["serving_default"];
  CHECK(sig["inputs"]["x"]["dtype"] == "DT_FLOAT");
  CHECK(sig["inputs"]["x"]["tensor_shape"]["dim"][0]["size"] == "-1");
  CHECK(sig["inputs"]["x"]["tensor_shape"]["dim"][1]["size"] == "2");
  CHECK(sig["outputs"]["probs"]["name"] == "probs:0");
}

TEST_CASE("serving: several inputs and outputs, named in each instance", "[serving]") {
  Folder dir;
  serve::ModelServer server;
  server.add_model("two", save_two_ended_model(dir.path));
  auto r = server.handle("POST", "/v1/models/two:predict", R"({"instances": [
      {"x": [1, 5, 2], "scale": [2]},
      {"x": [3, 1, 0], "scale": [-1]}]})");
  REQUIRE(r.status == 200);
  CHECK(body_of(r)["predictions"] == json::parse(R"([{"scaled": [2, 10, 4], "best": 1},
                                                     {"scaled": [-3, -1, -0.0], "best": 2}])"));
  r = server.handle("POST", "/v1/models/two:predict", R"({"inputs": {"x": [[1, 5, 2]], "scale": [[3]]}})");
  REQUIRE(r.status == 200);
  CHECK(body_of(r)["outputs"] == json::parse(R"({"scaled": [[3, 15, 6]], "best": [1]})"));
  r = server.handle("POST", "/v1/models/two:predict", R"({"instances": [{"x": [1, 5, 2]}]})");
  CHECK(r.status == 400);
  CHECK_THAT(body_of(r)["error"].get<std::string>(), Catch::Contains("instances[0] has no value for the model's input 'scale'"));
}

TEST_CASE("serving: what TF Serving refuses, refused with its codes and a message that says what to send", "[serving][errors]") {
  Folder dir;
  serve::ModelServer server;
  server.add_model("soft", save_softmax_model(dir.path));
  auto refused = [&](const char* method, const std::string& path, const std::string& body, int status,
                     const std::string& what) {
    INFO(method << " " << path << " " << body);
    const serve::HttpResponse r = server.handle(method, path, body);
    CHECK(r.status == status);
    CHECK_THAT(body_of(r)["error"].get<std::string>(), Catch::Contains(what));
  };
  refused("POST", "/v1/models/nope:predict", "{}", 404, "Servable not found for request: Latest(nope)");
  refused("GET", "/v1/models/soft/versions/7", "", 404, "Servable not found for request: Specific(soft, 7)");
  refused("POST", "/v1/models/soft:predict", "{\"instances\": [[1, 2]", 400, "JSON Parse error");
  refused("POST", "/v1/models/soft:predict", "[1, 2]", 400, "must be a JSON object");
  refused("POST", "/v1/models/soft:predict", "{\"rows\": [[1, 2]]}", 400, "Missing 'inputs' or 'instances' key");
  refused("POST", "/v1/models/soft:predict", "{\"instances\": [[1, 2]], \"inputs\": [[1, 2]]}", 400, "not both");
  refused("POST", "/v1/models/soft:predict", "{\"instances\": []}", 400, "non-empty list");
  refused("POST", "/v1/models/soft:predict", "{\"instances\": [[1, 2, 3]]}", 400,
          "Cannot feed value of shape (1, 3) for Tensor 'x:0', which has shape '(?, 2)'");
  refused("POST", "/v1/models/soft:predict", "{\"instances\": [[1, 2], [3]]}", 400, "a ragged list has no tensor shape");
  refused("POST", "/v1/models/soft:predict", "{\"instances\": [[1, \"2\"]]}", 400, "instances[0][1] is a string");
  refused("POST", "/v1/models/soft:predict", "{\"signature_name\": \"train\", \"instances\": [[1, 2]]}", 400,
          "Serving signature name: \"train\" not found");
  refused("POST", "/v1/models/soft:classify", "{}", 400, "answers :predict only");
  refused("GET", "/v1/models/soft:predict", "", 400, "Malformed request: GET /v1/models/soft:predict");
  refused("DELETE", "/v1/models/soft", "", 400, "Malformed request");
  refused("GET", "/v2/anything", "", 400, "Malformed request");
  refused("GET", "/v1/models/soft/versions/x", "", 400, "Malformed request");

  CHECK_THROWS_WITH(server.add_model("soft", "x.tgraph"), Catch::Contains("served already"));
  CHECK_THROWS_WITH(server.add_model("a/b", "x.tgraph"), Catch::Contains("cannot be part of a URL"));
  CHECK_THROWS_WITH(server.add_model("missing", (dir.path / "none.tgraph").string()), Catch::Contains("none.tgraph"));
}

TEST_CASE("serving: requests from many threads at once get the answers of one at a time", "[serving]") {
  Folder dir;
  serve::ModelServer server;
  server.add_model("two", save_two_ended_model(dir.path));
  // Each thread sends its own batch (its own batch size too: the Session plans memory per shape)
  // and compares the answer with the one computed alone, before any thread started.
  auto request = [](int t) {
    json instances = json::array();
    for (int i = 0; i <= t; ++i) instances.push_back({{"x", {i, t, 1}}, {"scale", {t % 3 - 1}}});
    return json{{"instances", instances}}.dump();
  };
  std::vector<std::string> alone;
  for (int t = 0; t < 6; ++t) alone.push_back(server.handle("POST", "/v1/models/two:predict", request(t)).body);
  std::vector<int> mismatches(6, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t)
    threads.emplace_back([&, t] {
      for (int k = 0; k < 40; ++k)
        if (server.handle("POST", "/v1/models/two:predict", request(t)).body != alone[t]) ++mismatches[t];
    });
  for (std::thread& th : threads) th.join();
  CHECK(mismatches == std::vector<int>(6, 0));
}

#endif  // TANDEM_HAVE_SERVING
