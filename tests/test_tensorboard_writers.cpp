// tests/test_tensorboard_writers.cpp — logging for TensorBoard in both modes, as a user would.
//
// PyTorch's SummaryWriter on eager tensors, TF1's summary ops + FileWriter on a graph, a graph (and
// a traced eager model) for the Graphs tab — each read back with Tandem's own reader
// (io/event_file.h). Then the test the two executors owe each other: one tiny model trained both
// ways, logged to runs/<name>/eager and runs/<name>/graph, and the two loss curves the same.
//
// The same runs are what TensorBoard's own reader checks, where the Python package is installed:
// the hidden test at the bottom writes them with a list of what they hold, and
// tests/tensorboard_check.py (a ctest test of its own) reads them with
// tensorboard.backend.event_processing.event_accumulator and finds every value at its step.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include "data/image.h"
#include "io/event_file.h"
#include "io/graph_def.h"
#include "io/summary_ops.h"
#include "io/summary_writer.h"
#include "tandem.h"
#include "tests/run_program.h"

using namespace tandem;
namespace g = tandem::graph;
namespace fs = std::filesystem;
using io::Event;
using io::Summary;
using io::SummaryValue;

namespace {

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::path(TANDEM_BINARY_DIR) / "test_tensorboard" / (name + "_" + std::to_string(getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

// Everything in a run folder's one event file, read with Tandem's reader.
struct Run {
  std::vector<Event> events;
  // tag -> (step, value), in file order
  std::map<std::string, std::vector<std::pair<int64_t, SummaryValue>>> values;
  std::vector<io::NodeDef> graph;
};

Run read_run(const fs::path& dir) {
  const auto files = io::event_files_in(dir.string());
  REQUIRE(files.size() == 1);
  const io::EventFileContents f = io::read_event_file(files[0]);
  CHECK(f.stopped_because.empty());
  Run run;
  run.events = f.events;
  REQUIRE(!f.events.empty());
  CHECK(std::get<io::FileVersion>(f.events[0].what).version == "brain.Event:2");
  for (const Event& e : f.events) {
    if (const auto* s = std::get_if<Summary>(&e.what))
      for (const SummaryValue& v : s->values) run.values[v.tag].emplace_back(e.step, v);
    if (const auto* gd = std::get_if<io::GraphDefBytes>(&e.what)) run.graph = io::decode_graph_def(gd->bytes, "run");
  }
  return run;
}

float scalar_of(const SummaryValue& v) { return std::get<float>(v.value); }

const io::NodeDef* find_node(const std::vector<io::NodeDef>& nodes, const std::string& name) {
  for (const io::NodeDef& n : nodes)
    if (n.name == name) return &n;
  return nullptr;
}

// ---- the tiny model both modes train --------------------------------------------------------------

template <class T> T tiny_mlp(const T& x, const std::vector<T>& p) {
  return matmul(relu(matmul(x, p[0]) + p[1]), p[2]) + p[3];
}

constexpr double kLr = 0.2;
constexpr int kSteps = 12;
const std::vector<std::string> kParamNames = {"fc1/weight", "fc1/bias", "fc2/weight", "fc2/bias"};

struct TinyData {
  std::vector<Tensor> xs, ys, init;
};

TinyData tiny_data() {
  manual_seed(7);
  TinyData d;
  for (int b = 0; b < 4; ++b) {
    d.xs.push_back(randn({16, 8}));
    d.ys.push_back(randint(0, 3, {16}));
  }
  for (auto [in, out] : {std::pair<int64_t, int64_t>{8, 16}, {16, 3}}) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));  // nn.Linear's initialisation
    d.init.push_back((rand({in, out}) * 2 - 1) * bound);
    d.init.push_back((rand({out}) * 2 - 1) * bound);
  }
  return d;
}

// What a run holds, one line per value, for tests/tensorboard_check.py:
//   scalar <run> <tag> <step> <value>          histogram <run> <tag> <step> <num> <min|-> <max|->
//   image <run> <tag> <step> <height> <width> <colorspace>     text <run> <tag> <step> <hex of text>
//   graph <run> <node name>...
struct Manifest {
  std::vector<std::string> lines;
  void add(const std::string& line) { lines.push_back(line); }
};

std::string hex(const std::string& s) {
  std::string out;
  char buf[3];
  for (const char c : s) {
    std::snprintf(buf, sizeof buf, "%02x", static_cast<uint8_t>(c));
    out += buf;
  }
  return out;
}

std::string float_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(static_cast<float>(v)));
  return buf;
}

const std::string kConfig = "lr = 0.2, batch 16, **SGD**";

// The first example of a batch as a 2 x 4 grey picture of values in (0, 1).
template <class T> T picture(const T& x) { return reshape(sigmoid(x), {-1, 1, 2, 4}); }

// PyTorch style: the tape loop, and a SummaryWriter.
std::vector<double> train_eager(const TinyData& d, const fs::path& dir, Manifest& m, const std::string& run) {
  tensorboard::SummaryWriter writer(dir.string());
  std::vector<Tensor> p;
  for (const Tensor& w : d.init) p.push_back(w.clone().requires_grad_());
  std::vector<std::pair<std::string, Tensor>> named;
  for (size_t i = 0; i < p.size(); ++i) named.emplace_back(kParamNames[i], p[i]);
  writer.add_graph([](const auto& xs, const auto& ps) { tiny_mlp(xs[0], ps); }, {d.xs[0]}, named);
  m.add("graph " + run + " input fc1/weight fc2/bias");
  optim::SGD opt(p, {.lr = kLr});
  std::vector<double> losses;
  for (int step = 0; step < kSteps; ++step) {
    const Tensor& x = d.xs[step % 4];
    opt.zero_grad();
    Tensor loss = cross_entropy(tiny_mlp(x, p), d.ys[step % 4]);
    loss.backward();
    opt.step();
    losses.push_back(loss.item());
    writer.add_scalar("loss", loss, step);
    m.add(msg("scalar ", run, " loss ", step, " ", float_text(loss.item())));
    writer.add_scalars("losses", {{"train", loss.item()}, {"half", loss.item() / 2}}, step);
    m.add(msg("scalar ", run, "/losses_train losses ", step, " ", float_text(loss.item())));
    m.add(msg("scalar ", run, "/losses_half losses ", step, " ", float_text(loss.item() / 2)));
    if (step % 4 == 0) {
      writer.add_histogram("fc1/weight", p[0], step);
      const Tensor w = p[0].detach();
      m.add(msg("histogram ", run, " fc1/weight ", step, " ", w.numel(), " ", float_text(w.min().item()), " ",
                float_text(w.max().item())));
      writer.add_image("input/image", picture(x).select(0, 0), step);
      m.add(msg("image ", run, " input/image ", step, " 2 4 1"));
      writer.add_text("config", kConfig, step);
      m.add(msg("text ", run, " config ", step, " ", hex(kConfig)));
    }
  }
  writer.close();
  return losses;
}

// TensorFlow 1 style: summaries declared in the graph, fetched with the training step.
std::vector<double> train_graph(const TinyData& d, const fs::path& dir, Manifest& m, const std::string& run) {
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat32, {-1, 8}, "x");
  const g::Output y = g::placeholder(kInt64, {-1}, "y");
  std::vector<g::Output> p;
  for (size_t i = 0; i < d.init.size(); i += 2) {
    g::NameScope layer(i == 0 ? "fc1" : "fc2");
    p.push_back(g::Variable(d.init[i], true, "weight"));
    p.push_back(g::Variable(d.init[i + 1], true, "bias"));
  }
  const g::Output loss = cross_entropy(tiny_mlp(x, p), y);
  const g::Output train_op = g::train::GradientDescentOptimizer(kLr).minimize(loss);
  const g::Output loss_summary = g::summary::scalar("loss", loss);
  g::summary::histogram("fc1/weight", p[0]);
  g::summary::image("input", picture(x), /*max_outputs=*/1);  // tagged "input/image", as TF1 does
  g::summary::text("config", kConfig);
  const g::Output merged = g::summary::merge_all();

  g::summary::FileWriter writer(dir.string(), &graph);
  m.add("graph " + run + " x y fc1/weight fc2/bias loss/ScalarSummary Merge/MergeSummary");
  g::Session sess(graph);
  sess.run(g::global_variables_initializer());
  std::vector<double> losses;
  for (int step = 0; step < kSteps; ++step) {
    const g::FeedDict feeds = {{x, d.xs[step % 4]}, {y, d.ys[step % 4]}};
    const bool all = step % 4 == 0;  // everything every 4 steps, the loss at every step
    const std::vector<Tensor> out = sess.run({loss, train_op, all ? merged : loss_summary}, feeds);
    writer.add_summary(out[2], step);
    losses.push_back(out[0].item());
    m.add(msg("scalar ", run, " loss ", step, " ", float_text(out[0].item())));
    if (all) {
      m.add(msg("histogram ", run, " fc1/weight ", step, " 128 - -"));  // before or after the update: TF1 leaves it open
      m.add(msg("image ", run, " input/image ", step, " 2 4 1"));
      m.add(msg("text ", run, " config ", step, " ", hex(kConfig)));
    }
  }
  writer.close();
  return losses;
}

}  // namespace

// ---- SummaryWriter ------------------------------------------------------------------------------------

TEST_CASE("SummaryWriter: each add_* is one event at its step, read back", "[tensorboard][writer]") {
  TempDir dir("writer");
  tensorboard::SummaryWriter w((dir.path / "run").string());
  CHECK(w.log_dir() == (dir.path / "run").string());
  w.add_scalar("loss", 0.5, 1, /*walltime=*/1700000000.0);
  w.add_scalar("acc", tensor(0.75), 2);
  w.add_histogram("w", arange(10).to(kFloat32), 3);
  manual_seed(0);
  const Tensor chw = rand({3, 4, 5});
  w.add_image("rgb", chw, 4);
  w.add_image("hwc", chw.permute({1, 2, 0}), 4, 0, "HWC");
  w.add_image("grey", tensor({{0, 128}, {255, 7}}, kInt64), 4, 0, "HW");
  w.add_text("notes", "# Notes\nlr = *0.1*", 5);
  w.add_scalars("parts", {{"a", 1.0}, {"b/c", 2.0}}, 6);
  w.close();

  const Run run = read_run(dir.path / "run");
  REQUIRE(run.events.size() == 1 + 7);
  CHECK(run.events[1].wall_time == 1700000000.0);
  CHECK(run.events[1].step == 1);
  CHECK(scalar_of(run.values.at("loss")[0].second) == 0.5f);
  CHECK(run.values.at("acc")[0].first == 2);
  CHECK(scalar_of(run.values.at("acc")[0].second) == 0.75f);
  const auto& h = std::get<io::HistogramProto>(run.values.at("w")[0].second.value);
  CHECK(h.num == 10);
  CHECK(h.sum == 45);
  CHECK(h.max == 9);
  // Images come back as PNG: decoded, they are the pixels round(255 x).
  const auto& rgb = std::get<io::ImageProto>(run.values.at("rgb")[0].second.value);
  CHECK(rgb.height == 4);
  CHECK(rgb.width == 5);
  CHECK(rgb.colorspace == 3);
  const Tensor pixels = data::decode_image(
      std::span(reinterpret_cast<const uint8_t*>(rgb.encoded_image.data()), rgb.encoded_image.size()), "rgb");
  std::vector<int64_t> expected;
  for (const double v : chw.to_vector<double>()) expected.push_back(static_cast<int64_t>(std::floor(v * 255 + 0.5)));
  CHECK(equal(pixels, from_vector(expected, {3, 4, 5})));
  CHECK(std::get<io::ImageProto>(run.values.at("hwc")[0].second.value) == rgb);  // the same picture
  const auto& grey = std::get<io::ImageProto>(run.values.at("grey")[0].second.value);
  CHECK(grey.colorspace == 1);
  const Tensor grey_pixels = data::decode_image(
      std::span(reinterpret_cast<const uint8_t*>(grey.encoded_image.data()), grey.encoded_image.size()), "grey");
  CHECK(equal(grey_pixels, tensor({{{0, 128}, {255, 7}}}, kInt64)));
  CHECK(std::get<io::TextValue>(run.values.at("notes")[0].second.value).text == "# Notes\nlr = *0.1*");
  // add_scalars: one run per curve, <log_dir>/<main_tag>_<name>, each under the tag main_tag.
  CHECK(scalar_of(read_run(dir.path / "run" / "parts_a").values.at("parts")[0].second) == 1.0f);
  CHECK(read_run(dir.path / "run" / "parts_b/c").values.at("parts")[0].first == 6);
}

TEST_CASE("SummaryWriter: errors name the tag and say what to pass", "[tensorboard][writer]") {
  TempDir dir("writer_errors");
  tensorboard::SummaryWriter w(dir.path.string());
  CHECK_THROWS_WITH(w.add_scalar("loss", ones({2, 2})),
                    Catch::Contains("'loss' must be one number") && Catch::Contains("[2, 2]"));
  CHECK_THROWS_WITH(w.add_image("img", ones({4, 5}), 0, 0, "CHW"),
                    Catch::Contains("needs a 3-dimensional tensor") && Catch::Contains("\"HWC\""));
  CHECK_THROWS_WITH(w.add_image("img", ones({7, 4, 5})), Catch::Contains("img") && Catch::Contains("1-4 channels"));
  CHECK_THROWS_WITH(w.add_histogram("w", tensor({NAN})), Catch::Contains("histogram 'w'"));
  w.close();
  CHECK(read_run(dir.path).events.size() == 1);  // nothing half-written
}

TEST_CASE("SummaryWriter: PyTorch's default log_dir, runs/<Mon><dd>_<HH-MM-SS>_<host>", "[tensorboard][writer]") {
  const std::string d = tensorboard::default_log_dir("_lr0.1");
  INFO(d);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  CHECK(std::regex_match(d, std::regex("runs/[A-Z][a-z][a-z][0-9][0-9]_[0-9][0-9]-[0-9][0-9]-[0-9][0-9]_" +
                                       std::string(host) + "_lr0\\.1")));
}

TEST_CASE("SummaryWriter: shared by threads, every event arrives whole", "[tensorboard][writer][threads]") {
  TempDir dir("threads");
  tensorboard::SummaryWriter w(dir.path.string(), {.max_queue = 7});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&w, t] {
      for (int i = 0; i < 250; ++i) {
        w.add_scalar(msg("thread", t), i, i);
        if (i % 50 == 0) w.add_scalars("all", {{msg("t", t), static_cast<double>(i)}}, i);
      }
    });
  for (std::thread& th : threads) th.join();
  w.close();
  const Run run = read_run(dir.path);
  CHECK(run.events.size() == 1 + 4 * 250);
  for (int t = 0; t < 4; ++t) {
    const auto& points = run.values.at(msg("thread", t));
    REQUIRE(points.size() == 250);
    for (int i = 0; i < 250; ++i) CHECK(points[i].first == i);  // each thread's own order is kept
    CHECK(read_run(dir.path / msg("all_t", t)).values.at("all").size() == 5);
  }
}

// ---- graphs for the Graphs tab ---------------------------------------------------------------------------

TEST_CASE("add_graph: a graph-mode graph as a GraphDef, names, ops, inputs and shapes", "[tensorboard][graph]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat32, {-1, 4}, "x");
  g::Output w, h;
  {
    g::NameScope dense("dense");
    w = g::Variable(ones({4, 2}), true, "w");
    h = relu(matmul(x, w));
  }
  const g::Output loss = mean(h);
  const g::Output grad = g::gradients({loss}, {w})[0];
  g::Output after;
  {
    g::ControlDependencies deps({loss});
    after = g::identity(x, "after loss:0");  // a name TensorBoard would not accept
  }
  const std::vector<io::NodeDef> nodes = io::graph_def_nodes(graph);
  REQUIRE(nodes.size() == static_cast<size_t>(graph.size()));
  const io::NodeDef* px = find_node(nodes, "x");
  REQUIRE(px);
  CHECK(px->op == "Placeholder");
  CHECK(px->dtype == io::kDtFloat);
  CHECK(px->output_shapes == std::vector<Shape>{{-1, 4}});  // ? x 4
  const io::NodeDef* var = find_node(nodes, "dense/w");
  REQUIRE(var);
  CHECK(var->op == "VariableV2");
  const io::NodeDef* mm = find_node(nodes, h.node()->inputs[0].node()->name);  // relu's input
  REQUIRE(mm);
  CHECK(mm->op == "MatMul");
  CHECK(mm->inputs == std::vector<std::string>{"x", "dense/w"});
  CHECK(mm->output_shapes == std::vector<Shape>{{-1, 2}});
  const io::NodeDef* a = find_node(nodes, "after_loss_0");
  REQUIRE(a);
  CHECK(a->inputs == std::vector<std::string>{"x", "^" + loss.node()->name});  // the control input, last
  CHECK(find_node(nodes, grad.node()->name) != nullptr);  // gradients are nodes like any other
  // Each node says where the program created it.
  REQUIRE(px->string_attrs.size() == 1);
  CHECK(px->string_attrs[0].first == "created_at");
  CHECK_THAT(px->string_attrs[0].second, Catch::Contains("test_tensorboard_writers.cpp"));
  CHECK(io::tensorboard_node_name("a b:c") == "a_b_c");
  CHECK(io::tensorboard_node_name("_x") == "n_x");

  // Written by a SummaryWriter (as by FileWriter(logdir, &graph)), read back as it was.
  TempDir dir("graph");
  tensorboard::SummaryWriter writer(dir.path.string());
  writer.add_graph(graph);
  writer.close();
  CHECK(read_run(dir.path).graph == nodes);
}

TEST_CASE("add_graph: an eager model traced once on placeholders", "[tensorboard][graph]") {
  const TinyData d = tiny_data();
  std::vector<std::pair<std::string, Tensor>> named;
  for (size_t i = 0; i < d.init.size(); ++i) named.emplace_back(kParamNames[i], d.init[i]);
  TempDir dir("trace");
  tensorboard::SummaryWriter writer(dir.path.string());
  writer.add_graph([](const auto& xs, const auto& ps) { tiny_mlp(xs[0], ps); }, {d.xs[0]}, named);
  writer.close();
  const std::vector<io::NodeDef> nodes = read_run(dir.path).graph;
  const io::NodeDef* input = find_node(nodes, "input");
  REQUIRE(input);
  CHECK(input->op == "Placeholder");
  CHECK(input->output_shapes == std::vector<Shape>{{16, 8}});  // the shape it was traced with
  for (const std::string& name : kParamNames) {
    const io::NodeDef* p = find_node(nodes, name);
    REQUIRE(p);
    CHECK(p->op == "VariableV2");
  }
  int matmuls = 0;
  for (const io::NodeDef& n : nodes) matmuls += n.op == "MatMul";
  CHECK(matmuls == 2);
}

// ---- graph mode: tf.summary and FileWriter -----------------------------------------------------------

TEST_CASE("graph summaries: declared, merged, fetched and written by a FileWriter", "[tensorboard][summary_ops]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat32, {-1, 3}, "x");  // the batch is unknown: `?`
  const g::Output s_mean = g::summary::scalar("mean_x", mean(x));
  {
    g::NameScope stats("stats");
    g::summary::histogram("x", x);  // tag "stats/x", as TF1 prefixes the name scope
  }
  g::summary::image("pictures", reshape(x, {-1, 1, 1, 3}), /*max_outputs=*/2);
  g::summary::image("counts", g::constant(tensor({{{{0, 100}, {200, 255}}}}, kInt64)), 1);
  g::summary::text("note", "hello");
  const g::Output merged = g::summary::merge_all();
  CHECK(s_mean.node()->type == "ScalarSummary");
  CHECK(s_mean.node()->name == "mean_x/ScalarSummary");
  CHECK(merged.node()->type == "MergeSummary");
  CHECK(merged.node()->name == "Merge/MergeSummary");

  g::Session sess(graph);
  const Tensor batch = tensor({{0.1f, 0.2f, 0.3f}, {0.4f, 0.5f, 0.6f}, {0.7f, 0.8f, 0.9f}});
  const Tensor record = sess.run(merged, {{x, batch}});
  CHECK(record.dtype() == kFloat64);
  const Summary s = g::summary::decode_summary_record(record);
  std::vector<std::string> tags;
  for (const SummaryValue& v : s.values) tags.push_back(v.tag);
  CHECK(tags == std::vector<std::string>{"mean_x", "stats/x", "pictures/image/0", "pictures/image/1",
                                         "counts/image", "note"});
  CHECK(scalar_of(s.values[0]) == Approx(0.5f));
  CHECK(std::get<io::HistogramProto>(s.values[1].value) == io::make_histogram(batch, "x"));
  // The second picture is row 1 of the batch, as a 1 x 3 grey image: round(255 x).
  const auto& pic = std::get<io::ImageProto>(s.values[3].value);
  CHECK(pic.width == 3);
  CHECK(pic.height == 1);
  const Tensor px = data::decode_image(
      std::span(reinterpret_cast<const uint8_t*>(pic.encoded_image.data()), pic.encoded_image.size()), "pic");
  CHECK(equal(px, tensor({{{102, 128, 153}}}, kInt64)));  // floor(255 * {0.4, 0.5, 0.6} + 0.5)
  const auto& counts = std::get<io::ImageProto>(s.values[4].value);  // int64 pictures stay 0-255
  const Tensor cp = data::decode_image(
      std::span(reinterpret_cast<const uint8_t*>(counts.encoded_image.data()), counts.encoded_image.size()), "c");
  CHECK(equal(cp, tensor({{{0, 100}, {200, 255}}}, kInt64)));
  CHECK(std::get<io::TextValue>(s.values[5].value).text == "hello");

  // The FileWriter: the graph first (FileWriter(logdir, graph)), then the fetched summary at its step.
  TempDir dir("file_writer");
  g::summary::FileWriter writer(dir.path.string(), &graph);
  CHECK(writer.get_logdir() == dir.path.string());
  writer.add_summary(record, 10);
  writer.add_summary(sess.run(s_mean, {{x, batch * 2}}), 11);
  writer.close();
  const Run run = read_run(dir.path);
  CHECK(find_node(run.graph, "Merge/MergeSummary")->op == "MergeSummary");
  CHECK(run.values.at("note")[0].first == 10);
  REQUIRE(run.values.at("mean_x").size() == 2);
  CHECK(run.values.at("mean_x")[1].first == 11);
  CHECK(scalar_of(run.values.at("mean_x")[1].second) == Approx(1.0f));
}

TEST_CASE("graph summaries: errors at declaration and at writing say what to do", "[tensorboard][summary_ops]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  CHECK_THROWS_WITH(g::summary::merge_all(), Catch::Contains("no summary ops"));
  const g::Output known = g::placeholder(kFloat32, {2, 3}, "known");
  CHECK_THROWS_AS(g::summary::scalar("v", known), ShapeError);
  CHECK_THROWS_WITH(g::summary::scalar("v", known), Catch::Contains("'v' must be one number") && Catch::Contains("(2, 3)"));
  CHECK_THROWS_WITH(g::summary::image("img", g::placeholder(kFloat32, {-1, 5, 2, 2})), Catch::Contains("C = 1, 2, 3 or 4"));
  CHECK_THROWS_WITH(g::summary::image("img", g::placeholder(kFloat32, {-1, 1, -1, 2})), Catch::Contains("H and W known"));
  CHECK_THROWS_WITH(g::summary::merge({known}), Catch::Contains("is not a summary op"));
  // A scalar of unknown shape is checked when it is written.
  const g::Output batch = g::placeholder(kFloat32, {-1}, "batch");
  const g::Output s = g::summary::scalar("v", batch);
  g::Session sess(graph);
  CHECK_THROWS_WITH(g::summary::decode_summary_record(sess.run(s, {{batch, ones({3})}})),
                    Catch::Contains("the scalar 'v' holds 3 values"));
  CHECK(scalar_of(g::summary::decode_summary_record(sess.run(s, {{batch, ones({1})}})).values[0]) == 1.0f);
  // add_summary of something that is not a record.
  TempDir dir("summary_errors");
  g::summary::FileWriter writer(dir.path.string());
  CHECK_THROWS_WITH(writer.add_summary(ones({3}), 1),
                    Catch::Contains("expected the value of a summary op") && Catch::Contains("float32"));
  CHECK_THROWS_WITH(writer.add_summary(tensor({1.0, 2.0}, kFloat64), 1), Catch::Contains("magic number"));
  const Tensor cut = sess.run(s, {{batch, ones({1})}}).narrow(0, 0, 6);
  CHECK_THROWS_WITH(writer.add_summary(cut, 1), Catch::Contains("not a summary record"));
}

// ---- both modes, one experiment ------------------------------------------------------------------------

TEST_CASE("both modes log the same run layout, runs/<name>/eager and runs/<name>/graph, with the same curve",
          "[tensorboard][train]") {
  const TinyData d = tiny_data();
  TempDir runs("runs");
  Manifest m;
  const std::vector<double> eager = train_eager(d, runs.path / "tiny" / "eager", m, "tiny/eager");
  const std::vector<double> graph = train_graph(d, runs.path / "tiny" / "graph", m, "tiny/graph");
  REQUIRE(eager.size() == graph.size());
  // It learns: the third pass over the four batches has a lower mean loss than the first.
  CHECK(eager[8] + eager[9] + eager[10] + eager[11] < eager[0] + eager[1] + eager[2] + eager[3]);

  const Run e = read_run(runs.path / "tiny" / "eager"), g = read_run(runs.path / "tiny" / "graph");
  for (const Run* run : {&e, &g}) {
    REQUIRE(run->values.at("loss").size() == kSteps);
    REQUIRE(run->values.at("fc1/weight").size() == 3);
    REQUIRE(run->values.at("input/image").size() == 3);
    REQUIRE(run->values.at("config").size() == 3);
    CHECK(find_node(run->graph, "fc1/weight") != nullptr);
    for (int k = 0; k < 3; ++k) {
      CHECK(run->values.at("fc1/weight")[k].first == 4 * k);
      CHECK(std::get<io::HistogramProto>(run->values.at("fc1/weight")[k].second.value).num == 128);
    }
  }
  // The two curves, step by step: the same losses (to float rounding), and as each mode computed them.
  for (int step = 0; step < kSteps; ++step) {
    INFO("step " << step);
    CHECK(e.values.at("loss")[step].first == step);
    CHECK(g.values.at("loss")[step].first == step);
    CHECK(scalar_of(e.values.at("loss")[step].second) == static_cast<float>(eager[step]));
    CHECK(scalar_of(g.values.at("loss")[step].second) == static_cast<float>(graph[step]));
    CHECK(eager[step] == Approx(graph[step]).epsilon(1e-5));
  }
  // The same picture of the same batch in both runs.
  CHECK(e.values.at("input/image")[1].second == g.values.at("input/image")[1].second);
  CHECK(scalar_of(read_run(runs.path / "tiny" / "eager" / "losses_half").values.at("losses")[3].second) ==
        static_cast<float>(eager[3] / 2));
  CHECK(m.lines.size() > 50);
}

// Hidden: run by tests/tensorboard_check.py, which reads these runs with TensorBoard's own reader.
TEST_CASE("tensorboard: write runs for TensorBoard's own reader (tests/tensorboard_check.py)",
          "[.tensorboard-reader]") {
  const char* out = std::getenv("TANDEM_TENSORBOARD_RUNS");
  REQUIRE(out != nullptr);  // where to write, from tests/tensorboard_check.py
  const fs::path runs(out);
  fs::remove_all(runs);
  const TinyData d = tiny_data();
  Manifest m;
  train_eager(d, runs / "tiny" / "eager", m, "tiny/eager");
  train_graph(d, runs / "tiny" / "graph", m, "tiny/graph");
  std::ofstream f(runs / "expected.txt");
  for (const std::string& line : m.lines) f << line << "\n";
  REQUIRE(f.good());
}

// ---- the example ---------------------------------------------------------------------------------------

TEST_CASE("examples/08_tensorboard translates the seed's TensorBoard slide and logs an MLP both ways",
          "[tensorboard][examples]") {
  TempDir logs("example");
  const std::string out = run_ok(std::string(TANDEM_BINARY_DIR) + "/08_tensorboard " + TANDEM_SOURCE_DIR +
                                 "/tests/data/fashion-mnist-sample " + logs.path.string());
  INFO(out);
  CHECK(out.find("TensorBoard logs created for both TensorFlow and PyTorch") != std::string::npos);
  // The seed's 100 random losses, the TensorFlow way and the PyTorch way.
  for (const char* side : {"seed/tf", "seed/torch"}) {
    const Run run = read_run(logs.path / side);
    REQUIRE(run.values.at("loss").size() == 100);
    CHECK(run.values.at("loss")[99].first == 99);
  }
  // The MLP: the same curve in both runs, a graph in each.
  const Run e = read_run(logs.path / "mlp" / "eager"), g = read_run(logs.path / "mlp" / "graph");
  REQUIRE(e.values.at("loss").size() == g.values.at("loss").size());
  for (size_t k = 0; k < e.values.at("loss").size(); ++k)
    CHECK(scalar_of(e.values.at("loss")[k].second) == Approx(scalar_of(g.values.at("loss")[k].second)).epsilon(1e-5));
  CHECK(e.values.at("fc1/weight").size() == g.values.at("fc1/weight").size());
  CHECK(e.values.at("input/image")[0].second == g.values.at("input/image")[0].second);
  CHECK(find_node(e.graph, "fc2/bias") != nullptr);
  CHECK(find_node(g.graph, "fc2/bias") != nullptr);
}
