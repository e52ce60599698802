// examples/14_save_load_serve.cpp — one trained model, saved three ways, loaded three ways, served.
//
// A trained model outlives the program that trained it in one of three files:
//
//   state_dict  (PyTorch: torch.save(model.state_dict(), path))   the weights by dotted name, and
//               nothing else: the program that loads it must build the model itself first.
//   Saver       (TF1: tf.train.Saver().save(sess, path, step))    the graph's variables by node name,
//               in numbered files with a "checkpoint" index: the program that restores them must
//               build the same graph first. (Tandem writes both with one file format, so either
//               mode reads the other's; io/saver.h.)
//   frozen graph (TF1: convert_variables_to_constants, then the .pb file)   the computation AND the
//               weights, as constants, with the training nodes gone: the program that loads it
//               needs no model code at all. That is what a deployment ships.
//
// This demo trains one small classifier (the 2-16-2 MLP on XOR of examples/04), saves it the three
// ways, loads each into something fresh (a new model with other weights, a new graph, a program
// that knows only the file), and shows that the three predict the same numbers; then what each file
// holds, what a damaged file says, and how to serve the frozen one: the tandem_serve command and the
// curl line, and — when built with serving — the ModelServer answering a request in this process
// (with --serve, over real HTTP on a free port of 127.0.0.1).
//
// Freezing and a deploying program on their own: examples/04_freeze_and_deploy.cpp and
// examples/05_deploy_inference.cpp. This demo is the comparison.
//
// Build and run (from the repository root):
//     cmake -S . -B build -G Ninja && ninja -C build 14_save_load_serve
//     ./build/14_save_load_serve [FOLDER] [--serve]      # the files go to FOLDER (default: saved_xor)
//
// Read next: docs/demos/14_save_load_serve.md, io/state_dict.h, io/saver.h, io/graph_file.h,
// serve/model_server.h.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "io/graph_file.h"
#include "io/saver.h"
#include "tandem.h"

#ifdef TANDEM_HAVE_SERVING
#include "serve/json_tensor.h"
#include "serve/model_server.h"
#endif
#ifdef TANDEM_HAVE_HTTP
#include <httplib.h>

#include <thread>
#endif

using namespace tandem;
namespace g = tandem::graph;
namespace fs = std::filesystem;

// The model: the same architecture every time; `seed` picks its initial weights.
nn::Sequential make_model(uint64_t seed) {
  manual_seed(seed);
  return nn::Sequential(nn::Linear(2, 16), nn::ReLU(), nn::Linear(16, 2));
}

// The four points every way of loading predicts, one per quadrant (as in examples/04).
Tensor probe_points() { return tensor({{0.6, 0.4}, {-0.3, 0.5}, {-0.2, -0.1}, {0.7, -0.05}}); }

void section(const char* title) { std::cout << "\n==== " << title << " ====\n\n"; }

// ---- 1. train, eagerly ---------------------------------------------------------------------------------
// XOR in two dimensions: class 1 when x0·x1 > 0. Full batch, plain SGD.
nn::Sequential train() {
  section("1. Train a 2-16-2 MLP on XOR (eagerly, as PyTorch)");
  manual_seed(0);
  const Tensor points = rand({256, 2}) * 2 - 1;
  const Tensor labels = (points.select(1, 0) * points.select(1, 1) > 0.0).to(kInt64);
  nn::Sequential model = make_model(1);
  optim::SGD optimizer(model->parameters(), {.lr = 0.5});
  for (int step = 0; step <= 600; ++step) {
    optimizer.zero_grad();
    const Tensor logits = model(points);
    const Tensor loss = cross_entropy(logits, labels);
    loss.backward();
    optimizer.step();
    if (step % 200 == 0) {
      const double accuracy = mean((argmax(logits, 1) == labels).to(kFloat32)).item();
      std::printf("  step %3d   loss %.4f   training accuracy %.1f%%\n", step, loss.item(), 100 * accuracy);
    }
  }
  return model;
}

// What a model predicts for the probe points: p(class 1) for each.
Tensor predict_eager(nn::Sequential& model) {
  no_grad guard;
  return softmax(model(probe_points()), 1);
}

// The graph of a model: x → probs, its weights as Variables (named "0/weight", ... by the layers).
struct ModelGraph {
  std::unique_ptr<g::Graph> graph = std::make_unique<g::Graph>();
  g::Output x, probs;
};
ModelGraph build_graph(nn::Sequential& model) {
  ModelGraph m;
  g::DefaultGraph use(*m.graph);
  m.x = g::placeholder(kFloat32, {-1, 2}, "x");
  m.probs = g::identity(g::softmax(model(m.x), 1), "probs");
  return m;
}

struct Paths {
  std::string state_dict, saver_prefix, saver_dir, frozen;
};

// ---- 2. save it three ways ---------------------------------------------------------------------------
// Returns the file the Saver wrote ("model.ckpt-600").
std::string save_three_ways(nn::Sequential& model, const Paths& paths) {
  section("2. Save it three ways");
  // (a) PyTorch: torch.save(model.state_dict(), "xor.tckpt")
  model->state_dict().save(paths.state_dict);
  std::cout << "state_dict:   model->state_dict().save(\"" << paths.state_dict << "\")\n";

  // (b) TF1: the model as a graph, its variables in a Session, saved by a Saver. The Variables
  // start from the model's trained values (layers/module.h, "bind"), so the session holds them.
  ModelGraph m = build_graph(model);
  g::DefaultGraph use(*m.graph);
  g::Session session(*m.graph);
  session.run(g::global_variables_initializer());
  g::train::Saver saver;  // every global variable, under its node name
  fs::create_directories(paths.saver_dir);  // a Saver writes into a folder that exists (as TF's does)
  const std::string saver_file = saver.save(session, paths.saver_prefix, 600);
  std::cout << "Saver:        g::train::Saver().save(session, \"" << paths.saver_prefix << "\", 600) wrote "
            << saver_file << "\n";

  // (c) TF1's deployment: freeze (variables become constants, training nodes go) and save.
  io::save_graph(io::freeze(session, {m.probs}), paths.frozen);
  std::cout << "frozen graph: io::save_graph(io::freeze(session, {probs}), \"" << paths.frozen << "\")\n";
  return saver_file;
}

// ---- 3. what each file holds ----------------------------------------------------------------------------
void show_files(const Paths& paths, const std::string& saver_file) {
  section("3. What each file holds");
  std::printf("%-13s %8s   %s\n", "file", "bytes", "contents");
  auto list_tensors = [](const StateDict& sd) {
    std::string s;
    for (const auto& entry : sd) s += "  " + entry.first + " " + shape_str(entry.second.shape());
    return s;
  };
  std::printf("%-13s %8lld  %s\n", "state_dict", static_cast<long long>(fs::file_size(paths.state_dict)),
              list_tensors(StateDict::load(paths.state_dict)).c_str());
  const io::Checkpoint ckpt = io::load_checkpoint(saver_file);
  std::printf("%-13s %8lld  %s  (step %lld)\n", "Saver", static_cast<long long>(fs::file_size(saver_file)),
              list_tensors(ckpt.tensors).c_str(), static_cast<long long>(ckpt.step));
  std::printf("%-13s %8s   and the index %s: model_checkpoint_path: \"%s\"\n", "", "",
              (fs::path(paths.saver_dir) / "checkpoint").string().c_str(),
              fs::path(g::train::latest_checkpoint(paths.saver_dir).value_or("?")).filename().string().c_str());
  const io::FrozenGraph frozen = io::load_graph(paths.frozen);
  std::set<std::string> ops;
  int64_t constants = 0;
  for (const auto& node : frozen.graph->nodes()) {
    if (node->op) ops.insert(node->op->name);
    constants += node->kind == g::Kind::constant;
  }
  std::string op_list;
  for (const std::string& op : ops) op_list += " " + op;
  std::printf("%-13s %8lld   %lld nodes (%lld constants: the weights), ops:%s; input %s, output %s\n", "frozen graph",
              static_cast<long long>(fs::file_size(paths.frozen)), static_cast<long long>(frozen.graph->size()),
              static_cast<long long>(constants), op_list.c_str(), frozen.inputs[0].name().c_str(),
              frozen.outputs[0].name().c_str());
  std::cout << "\nThe two checkpoints hold the same four tensors in the same format; only the names differ:\n"
               "PyTorch's dotted \"0.weight\", TF's scoped \"0/weight\". Neither holds the computation: to use\n"
               "one, a program builds the model first. The frozen graph holds both, and no training state.\n";
}

// ---- 4. load each into something fresh ------------------------------------------------------------------
// (a) A new model with other weights; load_state_dict copies the file's values into it.
Tensor load_state_dict_way(const Paths& paths) {
  nn::Sequential fresh = make_model(99);
  const double before = predict_eager(fresh).at({0, 1});
  std::cout << "state_dict:   a fresh model (other weights) predicts p = " << before << " for the first point;";
  std::cout << " load_state_dict: " << fresh->load_state_dict(StateDict::load(paths.state_dict)) << "\n";
  return predict_eager(fresh);
}

// (b) A new graph from a fresh model, a new Session, and restore() instead of the initializer.
Tensor saver_way(const Paths& paths) {
  nn::Sequential fresh = make_model(98);
  ModelGraph m = build_graph(fresh);
  g::DefaultGraph use(*m.graph);
  g::Session session(*m.graph);
  g::train::Saver saver;
  const std::string latest = *g::train::latest_checkpoint(paths.saver_dir);
  saver.restore(session, latest);  // no initializer: every variable gets the file's value
  std::cout << "Saver:        a fresh graph, saver.restore(session, latest_checkpoint(\"" << paths.saver_dir
            << "\"))\n";
  return session.run(m.probs, {{m.x, probe_points()}});
}

// (c) The file alone: no model code, the input and output found by name.
Tensor frozen_way(const Paths& paths) {
  const io::FrozenGraph frozen = io::load_graph(paths.frozen);
  g::Session session(*frozen.graph);
  std::cout << "frozen graph: io::load_graph(\"" << paths.frozen << "\"), no model code\n";
  return session.run(frozen.output("probs"), {{frozen.input("x"), probe_points()}});
}

// Both modes read one format: the eager state_dict file restores the graph's variables too, once
// the Saver is told PyTorch's names for them (dotted_names: "0/weight" is "0.weight").
Tensor crossed_way(const Paths& paths) {
  nn::Sequential fresh = make_model(97);
  ModelGraph m = build_graph(fresh);
  g::DefaultGraph use(*m.graph);
  g::Session session(*m.graph);
  g::train::Saver(g::train::dotted_names(fresh->variables(*m.graph))).restore(session, paths.state_dict);
  return session.run(m.probs, {{m.x, probe_points()}});
}

double max_difference(const Tensor& a, const Tensor& b) { return (a - b).abs().max().item(); }

void compare(const Tensor& trained, const std::vector<std::pair<std::string, Tensor>>& loaded) {
  std::printf("\np(class 1) for the probe points:\n%-16s %-12s", "point", "trained");
  for (const auto& way : loaded) std::printf(" %-12s", way.first.c_str());
  std::printf("\n");
  const Tensor points = probe_points();
  for (int64_t i = 0; i < points.size(0); ++i) {
    char at[32];
    std::snprintf(at, sizeof at, "(%.2f, %.2f)", points.at({i, 0}), points.at({i, 1}));
    std::printf("%-16s %-12.6f", at, trained.at({i, 1}));
    for (const auto& way : loaded) std::printf(" %-12.6f", way.second.at({i, 1}));
    std::printf("\n");
  }
  double worst = 0;
  for (const auto& way : loaded) worst = std::max(worst, max_difference(trained, way.second));
  std::printf("\nlargest difference from the trained model's predictions, over all formats: %g\n", worst);
  std::printf(worst == 0 ? "the predictions agree exactly: the same weights, run by the same kernels\n"
                         : "the predictions differ!\n");
}

// ---- 5. a damaged file -------------------------------------------------------------------------------------
// A copy of the state_dict file cut in half (a copy interrupted, a disk full): loading refuses it,
// naming the file and what is wrong, and nothing is half-loaded.
void damaged_file(const Paths& paths) {
  section("5. A damaged file");
  std::ifstream in(paths.state_dict, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string cut = (fs::path(paths.state_dict).parent_path() / "truncated.tckpt").string();
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  std::cout << "a copy of " << paths.state_dict << " cut to " << bytes.size() / 2 << " of its " << bytes.size()
            << " bytes, loaded:\n";
  try {
    StateDict::load(cut);
    std::cout << "  loaded?! (this should not happen)\n";
  } catch (const Error& e) {
    std::cout << "  error: " << e.what() << "\n";
  }
}

// ---- 6. serving the frozen graph ---------------------------------------------------------------------------
#ifdef TANDEM_HAVE_HTTP
// The ModelServer behind a real HTTP listener on a free port of 127.0.0.1, called once by a client
// in this same process: what tandem_serve does, in a dozen lines (serve/tandem_serve.cpp).
std::string over_http(const serve::ModelServer& server, const std::string& request) {
  httplib::Server http;
  http.Post(".*", [&server](const httplib::Request& req, httplib::Response& res) {
    const serve::HttpResponse r = server.handle(req.method, req.path, req.body);
    res.status = r.status;
    res.set_content(r.body, "application/json");
  });
  const int port = http.bind_to_any_port("127.0.0.1");
  if (port < 0) throw Error("--serve: cannot listen on 127.0.0.1 (no free port?)");
  std::thread listener([&http] { http.listen_after_bind(); });
  // (bind_to_any_port already listens: a client that connects now waits in the queue until the
  // listener's loop accepts it.)
  httplib::Client client("127.0.0.1", port);
  const httplib::Result res = client.Post("/v1/models/xor:predict", request, "application/json");
  http.stop();
  listener.join();
  if (!res) throw Error(msg("--serve: the request to 127.0.0.1:", port, " failed: ", httplib::to_string(res.error())));
  std::cout << "over HTTP: POST http://127.0.0.1:" << port << "/v1/models/xor:predict -> " << res->status << "\n";
  return res->body;
}
#endif

void serving(const Paths& paths, const Tensor& frozen_probs, bool serve_http) {
  section("6. Serving the frozen graph");
  const Tensor p = probe_points();
  std::string instances = "{\"instances\": [";
  for (int64_t i = 0; i < p.size(0); ++i)
    instances += msg(i ? ", " : "", "[", p.at({i, 0}), ", ", p.at({i, 1}), "]");
  instances += "]}";
  std::cout << "A deployment ships the frozen graph. Serve it (docs/serving.md) and ask it:\n"
            << "  ./build/tandem_serve --rest_api_port=8501 --model_name=xor --model_base_path="
            << fs::absolute(paths.frozen).string() << "\n"
            << "  curl -d '" << instances << "' localhost:8501/v1/models/xor:predict\n\n";
#ifdef TANDEM_HAVE_SERVING
  // The server without the network: ModelServer::handle(method, path, body) is all of it.
  serve::ModelServer server;
  server.add_model("xor", paths.frozen);
  std::string body = server.handle("POST", "/v1/models/xor:predict", instances).body;
  std::cout << "in this process, ModelServer::handle(\"POST\", \"/v1/models/xor:predict\", ...) answers:\n  " << body
            << "\n";
#ifdef TANDEM_HAVE_HTTP
  if (serve_http) {
    body = over_http(server, instances);
    std::cout << "  " << body << "\n";
  } else {
    std::cout << "(run with --serve to make the same request over HTTP, on a free port of 127.0.0.1)\n";
  }
#else
  if (serve_http) std::cout << "--serve: this build has no HTTP listener (apt-get install libcpp-httplib-dev)\n";
#endif
  const Tensor served = serve::tensor_from_json(serve::json::parse(body).at("predictions"), kFloat32, "predictions");
  std::printf("the server's predictions equal the frozen graph's run: %s\n",
              max_difference(served, frozen_probs) == 0 ? "yes" : "NO");
#else
  (void)frozen_probs;
  std::cout << "(this build has no model server: apt-get install nlohmann-json3-dev libcpp-httplib-dev"
            << (serve_http ? "; --serve ignored" : "") << ")\n";
#endif
}

int main(int argc, char** argv) {
  std::string folder = "saved_xor";
  bool serve_http = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--serve") {
      serve_http = true;
    } else if (arg.starts_with("-")) {
      std::fprintf(stderr, "14_save_load_serve: unknown option '%s'\nusage: 14_save_load_serve [FOLDER] [--serve]\n",
                   arg.c_str());
      return 2;
    } else {
      folder = arg;
    }
  }
  try {
    fs::create_directories(folder);
    const Paths paths{(fs::path(folder) / "xor.tckpt").string(), (fs::path(folder) / "saver" / "model.ckpt").string(),
                      (fs::path(folder) / "saver").string(), (fs::path(folder) / "xor.tgraph").string()};
    nn::Sequential model = train();
    const Tensor trained = predict_eager(model);
    show_files(paths, save_three_ways(model, paths));

    section("4. Load each into something fresh, and predict");
    const Tensor a = load_state_dict_way(paths), b = saver_way(paths), c = frozen_way(paths);
    const Tensor d = crossed_way(paths);
    std::cout << "and across the modes: the eager state_dict file restored into a graph, by a Saver given\n"
                 "PyTorch's names (g::train::dotted_names: \"0/weight\" is \"0.weight\")\n";
    compare(trained, {{"state_dict", a}, {"Saver", b}, {"frozen", c}, {"eager->graph", d}});
    std::cout << "\nWhich one deploys: the frozen graph. The server loads one file and needs no model code,\n"
                 "no optimizer, no initializer; nothing in it can change. The checkpoints are for going on\n"
                 "training (or evaluating) in a program that builds the model: state_dict in eager code,\n"
                 "the Saver's in a graph program, and io::Checkpoint adds the optimizer and the random state\n"
                 "for an exact resume (io/checkpoint.h).\n";

    damaged_file(paths);
    serving(paths, c, serve_http);
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
