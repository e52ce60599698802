// tests/test_graph_file.cpp — freezing a graph, saving it, loading it back (io/graph_file.h).
//
// Round trips compare a loaded graph with the session it was frozen from: the same kernels on the
// same numbers, so the outputs must be identical, bit for bit. Small cases are checked against
// hand arithmetic written next to them. The file checks use zlib directly (the reference CRC-32)
// and the layout of docs/graph_file_format.md, and damage files on purpose: every cut and every
// flipped byte must give a tandem::Error, never a crash (the suite also runs under ASan/UBSan).
#include <catch2/catch.hpp>
#include <zlib.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "io/graph_file.h"
#include "tandem.h"
#include "tests/run_program.h"

using namespace tandem;
namespace g = tandem::graph;
namespace fs = std::filesystem;

namespace {

std::vector<double> vals(const Tensor& t) { return t.to_vector<double>(); }

fs::path scratch_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() /
                       ("tandem_graph_file_" + name + "_" + std::to_string(static_cast<long>(getpid())));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

uint32_t read_u32(const std::string& b, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(b[at + i])) << (8 * i);
  return v;
}
uint64_t read_u64(const std::string& b, size_t at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(b[at + i])) << (8 * i);
  return v;
}
void write_u32(std::string& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint32_t zlib_crc(const std::string& b, size_t n) {
  return static_cast<uint32_t>(crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(b.data()),
                                     static_cast<uInt>(n)));
}
// After editing the body on purpose, recompute the checksum the way the format says, so the file
// gets past the CRC and the loader's own consistency checks are what is tested.
void reseal(std::string& b) { write_u32(b, b.size() - 4, zlib_crc(b, b.size() - 4)); }

// A 3-4-2 classifier trained for a few SGD steps in graph mode.
struct Trained {
  g::Graph graph;
  g::Output x, labels, logits, probs, loss, train, init;
  std::vector<g::Output> params;
  std::unique_ptr<g::Session> session;
  Tensor batch = tensor({{0.5, -1.0, 2.0}, {1.5, 0.25, -0.5}, {-2.0, 1.0, 0.0}, {0.0, 0.0, 1.0}});

  Trained() {
    g::DefaultGraph use(graph);
    x = g::placeholder(kFloat32, {-1, 3}, "x");
    labels = g::placeholder(kInt64, {-1}, "labels");
    g::Output W1 = g::Variable(tensor({{0.2, -0.4, 0.1, 0.5}, {0.3, 0.2, -0.6, 0.1}, {-0.5, 0.4, 0.3, 0.2}}), true, "W1");
    g::Output b1 = g::Variable(tensor({0.1, 0.0, -0.1, 0.05}), true, "b1");
    g::Output W2 = g::Variable(tensor({{0.3, -0.2}, {-0.1, 0.4}, {0.5, 0.1}, {0.2, -0.3}}), true, "W2");
    g::Output b2 = g::Variable(tensor({0.0, 0.1}), true, "b2");
    params = {W1, b1, W2, b2};
    {
      g::NameScope s("model");
      g::Output h = g::relu(g::matmul(x, W1) + b1);
      logits = g::identity(g::matmul(h, W2) + b2, "logits");
      probs = g::identity(g::softmax(logits, 1), "probs");
    }
    loss = -g::mean(g::sum(g::to(g::one_hot(labels, 2), kFloat32) * g::log_softmax(logits, 1), {1}));
    std::vector<g::Output> grads = g::gradients({loss}, params);
    std::vector<g::Output> updates;
    for (size_t i = 0; i < params.size(); ++i) updates.push_back(g::assign_sub(params[i], grads[i] * 0.5));
    train = g::group(updates, "train");
    init = g::global_variables_initializer();
    session = std::make_unique<g::Session>(graph);
    session->run(init);
    for (int step = 0; step < 5; ++step)
      session->run(train, {{x, batch}, {labels, tensor({0, 1, 1, 0})}});
  }
};

}  // namespace

// ---- freezing ---------------------------------------------------------------------------------------

TEST_CASE("freeze keeps what the outputs need and turns variables into constants", "[graph][io]") {
  Trained t;
  io::FrozenGraph f = io::freeze(*t.session, {t.probs, t.logits});
  for (const auto& n : f.graph->nodes()) {
    INFO(n->name);
    CHECK(n->kind != g::Kind::variable);
    CHECK(n->kind != g::Kind::assign);
    CHECK(n->kind != g::Kind::no_op);
    CHECK(!n->is_gradient);
    CHECK(n->control_inputs.empty());
  }
  // Only x feeds the predictions: labels, the loss, the gradients and the updates are gone.
  REQUIRE(f.inputs.size() == 1);
  CHECK(f.inputs[0].node()->name == "x");
  REQUIRE(f.outputs.size() == 2);
  CHECK(f.outputs[0].node()->name == "model/probs");
  CHECK(f.output("model/logits:0").is_same(f.outputs[1]));
  // Each variable is now a constant of the same name holding the trained value.
  for (const g::Output& p : t.params) {
    g::Node* c = f.graph->find(p.node()->name);
    REQUIRE(c != nullptr);
    CHECK(c->kind == g::Kind::constant);
    CHECK(vals(c->value) == vals(t.session->variable_value(p)));
  }
  // Forward nodes: x, W1, b1, W2, b2, MatMul, Add, Relu, MatMul_1, Add_1, logits, Softmax, probs.
  CHECK(f.graph->size() == 13);
}

TEST_CASE("a frozen graph computes what the session computed, and is a snapshot", "[graph][io]") {
  Trained t;
  io::FrozenGraph f = io::freeze(*t.session, {t.probs});
  const Tensor before = t.session->run(t.probs, {{t.x, t.batch}});
  g::Session s(*f.graph);
  CHECK(vals(s.run(f.output("model/probs"), {{f.input("x"), t.batch}})) == vals(before));
  // Training on changes the session's variables, not the frozen constants.
  t.session->run(t.train, {{t.x, t.batch}, {t.labels, tensor({0, 1, 1, 0})}});
  CHECK(vals(t.session->run(t.probs, {{t.x, t.batch}})) != vals(before));
  CHECK(vals(s.run(f.output("model/probs"), {{f.input("x"), t.batch}})) == vals(before));
}

TEST_CASE("freeze: state, no value, uninitialized variables and unknown names are errors", "[graph][io]") {
  Trained t;
  REQUIRE_THROWS_WITH(io::freeze(*t.session, {t.train}), Catch::Contains("computes no value"));
  g::Output bump;
  {
    g::DefaultGraph use(t.graph);
    bump = g::assign_add(t.params[1], g::constant(tensor({1.f, 1.f, 1.f, 1.f})));
  }
  REQUIRE_THROWS_WITH(io::freeze(*t.session, {bump}), Catch::Contains("changes a variable"));
  g::Session fresh(t.graph);
  REQUIRE_THROWS_WITH(io::freeze(fresh, {t.probs}), Catch::Contains("uninitialized value W1"));
  io::FrozenGraph f = io::freeze(*t.session, {t.probs});
  REQUIRE_THROWS_WITH(f.input("labels"), Catch::Contains("no input named 'labels'") && Catch::Contains("'x'"));
  // A graph that still holds a variable cannot be saved: it has state.
  io::FrozenGraph unfrozen;
  unfrozen.graph = std::make_unique<g::Graph>();
  {
    g::DefaultGraph use(*unfrozen.graph);
    unfrozen.outputs = {g::Variable(ones({2}), true, "v")};
  }
  REQUIRE_THROWS_WITH(io::serialize_graph(unfrozen), Catch::Contains("'v'") && Catch::Contains("freeze"));
}

// ---- round trips -------------------------------------------------------------------------------------

TEST_CASE("save then load: the same outputs as the original session, bit for bit", "[graph][io]") {
  Trained t;
  const fs::path dir = scratch_dir("roundtrip");
  const std::string path = (dir / "model.tgraph").string();
  io::save_graph(io::freeze(*t.session, {t.probs, t.logits}), path);
  // Nothing is left beside it: the temporary file was renamed into place.
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
  io::FrozenGraph loaded = io::load_graph(path);
  g::Session s(*loaded.graph);
  // Other inputs than the training batch, and another batch size (the placeholder is (?, 3)).
  const Tensor inputs = tensor({{1.0, 2.0, 3.0}, {-1.0, 0.0, 1.0}, {0.3, 0.3, -0.3}});
  const std::vector<Tensor> got = s.run({loaded.output("model/probs"), loaded.output("model/logits")},
                                        {{loaded.input("x"), inputs}});
  const std::vector<Tensor> want = t.session->run({t.probs, t.logits}, {{t.x, inputs}});
  CHECK(vals(got[0]) == vals(want[0]));
  CHECK(vals(got[1]) == vals(want[1]));
  CHECK(got[0].shape() == Shape{3, 2});
  // Names, types and static shapes survive.
  CHECK(loaded.input("x").shape() == Shape{-1, 3});
  CHECK(loaded.graph->find("model/MatMul")->type == "MatMul");
  CHECK(loaded.graph->find("model/MatMul")->op == &ops::matmul);
  fs::remove_all(dir);
}

TEST_CASE("a frozen linear layer, checked by hand", "[graph][io]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {-1, 2}, "x");
  g::Output W = g::Variable(tensor({{1.f, 2.f}, {3.f, 4.f}}), true, "W");
  g::Output b = g::Variable(tensor({0.5f, -1.f}), true, "b");
  g::Output y = g::identity(g::matmul(x, W) + b, "y");
  g::Output doubled = g::assign(W, W * 2.0);
  g::Session s(graph);
  s.run(g::global_variables_initializer());
  s.run(doubled);  // W = [[2, 4], [6, 8]] in this session
  io::FrozenGraph f = io::parse_graph(io::serialize_graph(io::freeze(s, {y})));
  g::Session deployed(*f.graph);
  // [1, 1]·W + b = [2 + 6, 4 + 8] + [0.5, -1] = [8.5, 11];  [1, 0]·W + b = [2.5, 3]
  CHECK(vals(deployed.run(f.output("y"), {{f.input("x"), tensor({{1.f, 1.f}, {1.f, 0.f}})}})) ==
        std::vector<double>{8.5, 11, 2.5, 3});
}

TEST_CASE("every dtype, every attr and the graph-only kinds survive the file", "[graph][io]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat64, {-1, 3}, "x");
  g::Output mask = g::constant(tensor({true, false, true}), "mask");
  g::Output index = g::constant(tensor({2, 0}), "index");  // int64
  g::Output picked = g::index_select(g::where(mask, x, g::constant(tensor({-1.0, -1.0, -1.0}, kFloat64))), 1, index);
  g::Output sliced = g::slice(x, 1, 0, 3, 2);                          // columns 0 and 2
  g::Output total = g::sum(picked + sliced, {1}, /*keepdim=*/true);    // (?, 1)
  g::Output as_float = g::identity(g::to(total, kFloat32), "out");
  // Gradients of a placeholder-shaped value use the run-time shape helpers (ones_like,
  // expand_like, sum_to_like): dsum(x * w)/dx = w on every row.
  g::Output w = g::constant(tensor({1.0, 2.0, 3.0}, kFloat64), "w");
  g::Output dx = g::identity(g::gradients({g::sum(x * w)}, {x})[0], "dx");
  g::Session s(graph);
  io::FrozenGraph f = io::parse_graph(io::serialize_graph(io::freeze(s, {as_float, dx})));
  bool helpers = false;
  for (const auto& n : f.graph->nodes()) helpers = helpers || n->op == &ops::ones_like;
  CHECK(helpers);
  CHECK(f.output("dx").node()->is_gradient == false);  // identity made outside gradients()
  g::Session deployed(*f.graph);
  const Tensor in = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, kFloat64);
  const std::vector<Tensor> out = deployed.run({f.output("out"), f.output("dx")}, {{f.input("x"), in}});
  // Row 1: where -> [1, -1, 3]; pick columns 2, 0 -> [3, 1]; slice -> [1, 3]; sum(4, 4) = 8.
  // Row 2: where -> [4, -1, 6] -> [6, 4]; slice [4, 6]; sum(10, 10) = 20.
  CHECK(out[0].dtype() == kFloat32);
  CHECK(out[0].shape() == Shape{2, 1});
  CHECK(vals(out[0]) == std::vector<double>{8, 20});
  CHECK(vals(out[1]) == std::vector<double>{1, 2, 3, 1, 2, 3});
}

// ---- the file's layout -------------------------------------------------------------------------------

TEST_CASE("the file is laid out as docs/graph_file_format.md says", "[graph][io]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {-1, 2}, "x");
  g::Output y = g::add(x, g::constant(tensor({1.f, 2.f})));
  g::Session s(graph);
  const std::string b = io::serialize_graph(io::freeze(s, {y}));
  CHECK(b.substr(0, 8) == std::string("TGRAPH1\0", 8));
  CHECK(read_u32(b, 8) == 1);                      // version
  CHECK(read_u64(b, 12) + 24 == b.size());         // header 20 + body + checksum 4
  CHECK(read_u32(b, b.size() - 4) == zlib_crc(b, b.size() - 4));
  CHECK(read_u32(b, 20) == 3);                     // nodes: x, Const, Add
  CHECK(read_u32(b, 24) == 1);                     // name "x": length 1...
  CHECK(b[28] == 'x');                             // ...then its byte
  CHECK(b[29] == 1);                               // kind 1: placeholder
  CHECK(read_u32(b, 30) == 11);                    // type "Placeholder"
  CHECK(b.substr(34, 11) == "Placeholder");
  CHECK(read_u32(b, 45) == 0);                     // no op name
  // The constant's elements are stored as little-endian float32: 1.0f is 00 00 80 3f.
  CHECK(b.find(std::string("\x00\x00\x80\x3f\x00\x00\x00\x40", 8)) != std::string::npos);
}

// ---- damaged and foreign files --------------------------------------------------------------------------

TEST_CASE("load errors: missing file, foreign file, newer version", "[graph][io][errors]") {
  REQUIRE_THROWS_WITH(io::load_graph("/nonexistent/folder/model.tgraph"),
                      Catch::Contains("cannot open '/nonexistent/folder/model.tgraph'") &&
                          Catch::Contains("No such file"));
  REQUIRE_THROWS_WITH(io::parse_graph("hello, I am a text file"),
                      Catch::Contains("not a Tandem graph file") && Catch::Contains("68 65 6c 6c"));
  REQUIRE_THROWS_WITH(io::parse_graph(""), Catch::Contains("empty"));
  Trained t;
  std::string b = io::serialize_graph(io::freeze(*t.session, {t.probs}));
  write_u32(b, 8, 2);
  REQUIRE_THROWS_WITH(io::parse_graph(b), Catch::Contains("version 2 graph file") &&
                                              Catch::Contains("reads version 1 only"));
}

TEST_CASE("a file cut at any length is an error, not a crash", "[graph][io][errors]") {
  Trained t;
  const std::string b = io::serialize_graph(io::freeze(*t.session, {t.probs}));
  REQUIRE(b.size() > 500);
  for (size_t n = 0; n < b.size(); ++n) {
    INFO("cut to " << n << " of " << b.size() << " bytes");
    REQUIRE_THROWS_AS(io::parse_graph(b.substr(0, n)), Error);
    REQUIRE_THROWS_WITH(io::parse_graph(b.substr(0, n)),
                        n == 0 ? Catch::Contains("empty") : Catch::Contains("truncated"));
  }
  CHECK_NOTHROW(io::parse_graph(b));
  REQUIRE_THROWS_WITH(io::parse_graph(b + "extra"), Catch::Contains("5 unexpected bytes after its checksum"));
}

TEST_CASE("a flipped byte anywhere is an error, not a crash", "[graph][io][errors]") {
  Trained t;
  const std::string b = io::serialize_graph(io::freeze(*t.session, {t.probs}));
  for (size_t at = 0; at < b.size(); ++at) {
    std::string damaged = b;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x10);
    INFO("byte " << at << " of " << b.size());
    if (at < 8) REQUIRE_THROWS_WITH(io::parse_graph(damaged), Catch::Contains("not a Tandem graph file"));
    else if (at < 12) REQUIRE_THROWS_WITH(io::parse_graph(damaged), Catch::Contains("version"));
    else if (at < 20) REQUIRE_THROWS_AS(io::parse_graph(damaged), Error);  // the body size: cut or extra
    else REQUIRE_THROWS_WITH(io::parse_graph(damaged), Catch::Contains("CRC-32 checksum"));
  }
}

TEST_CASE("a well-sealed file that is wrong inside is an error too", "[graph][io][errors]") {
  Trained t;
  const std::string good = io::serialize_graph(io::freeze(*t.session, {t.probs}));
  // An op this Tandem does not have: rename "relu" (stored as length 4, then the name).
  {
    std::string b = good;
    const size_t at = b.find(std::string("\x04\x00\x00\x00relu", 8));
    REQUIRE(at != std::string::npos);
    b[at + 7] = 'x';
    reseal(b);
    REQUIRE_THROWS_WITH(io::parse_graph(b), Catch::Contains("uses the op 'relx'") &&
                                                Catch::Contains("catalogue does not have"));
  }
  // A node count far larger than the file: refused before anything is allocated.
  {
    std::string b = good;
    write_u32(b, 20, 0xfffffff0u);
    reseal(b);
    REQUIRE_THROWS_WITH(io::parse_graph(b), Catch::Contains("node count") && Catch::Contains("corrupt"));
  }
  // Every byte of the body changed in turn, with the checksum recomputed: still never a crash.
  for (size_t at = 20; at + 4 < good.size(); ++at) {
    std::string b = good;
    b[at] = static_cast<char>(b[at] ^ 0x41);
    reseal(b);
    try {
      io::FrozenGraph f = io::parse_graph(b);  // some changes are harmless (a name, a value)
      CHECK(f.graph != nullptr);
    } catch (const Error&) {
    }
  }
}

// ---- the two example programs, end to end ----------------------------------------------------------

TEST_CASE("examples 04 and 05: train and save in one program, load and predict in another", "[graph][io][examples]") {
  const fs::path dir = scratch_dir("examples");
  auto run = [&](const std::string& program) {
    return run_ok("'" TANDEM_BINARY_DIR "/" + program + "'", dir.string());
  };
  const std::string trained = run("04_freeze_and_deploy");
  REQUIRE(fs::exists(dir / "model.tgraph"));
  const std::string deployed = run("05_deploy_inference");
  // Both programs print the predictions for the same four points; they must agree.
  auto predictions = [](const std::string& out) {
    const size_t at = out.find("predictions:");
    REQUIRE(at != std::string::npos);
    return out.substr(at, out.find("\n\n", at) - at);
  };
  CHECK(predictions(trained) == predictions(deployed));
  // A point that is not a number is refused, naming it (not read as 0).
  const ProgramOutput bad = run_program("'" TANDEM_BINARY_DIR "/05_deploy_inference' model.tgraph 0.5 abc", dir.string());
  CHECK(bad.status == 1);
  CHECK(bad.text.find("'abc' is not a number") != std::string::npos);
  fs::remove_all(dir);
}
