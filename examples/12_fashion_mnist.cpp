// examples/12_fashion_mnist.cpp — the main demo (`make demo`): Fashion-MNIST, one model, both modes.
//
// One classifier of clothes (seed-000's "simple neural net" on the fashion data: an input layer,
// deep layers, an output layer) is defined ONCE, from one seed, and trained side by side:
//   - the PyTorch way: an eager loop (zero_grad, forward, loss, backward, step) with tqdm's bar,
//     a SummaryWriter for TensorBoard, torch.save(model.state_dict()) for checkpoints;
//   - the TensorFlow 1 way: a graph (placeholders, the same model adding nodes, minimize), run by
//     a Session with Keras's bar, summary ops and a FileWriter, tf.train.Saver for checkpoints.
// Both start from the same weights, see the same batches in the same order and draw the same
// dropout masks, so they compute the same losses; the demo checks that and prints it. Then a table
// of what each way cost — accuracy, time, memory, nodes and kernels per step, lines of code — and
// the run directory: TensorBoard logs of both, drawings of the graph and of the tape, checkpoints.
//
//   usage: 12_fashion_mnist [--full] [--data DIR] [--logdir DIR] [--epochs N] [--train-size N]
//                           [--threads N]
//     default   the first 20000 training images, 5 epochs, one thread (under a minute on 2 shared cores)
//     --full    all 60000 training images, 10 epochs
//   then:  tensorboard --logdir runs
//
// The code a user writes for each way sits between marker comments ("user code: ..."); the demo
// counts those lines in its own source for the table. Everything outside the markers — timing,
// progress bars, counting, drawing — is the demo's instrumentation.
//
// Read next: docs/demos/12_fashion_mnist.md; train/fit.h (the same training with Keras's fit);
// examples/13_*.cpp.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "autograd/dot.h"
#include "autograd/node.h"
#include "core/kernel_count.h"
#include "core/threads.h"
#include "graph/dot.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;
namespace F = tandem::nn::functional;
namespace fs = std::filesystem;

// ==== user code: model ==========================================================================
// The model, defined once (PyTorch's nn.Sequential; Keras would say Sequential([Flatten(),
// Dense(256, 'relu'), Dropout(0.2), Dense(128, 'relu'), Dense(10)])).
nn::Sequential make_model() {
  manual_seed(0);  // one seed: the initial weights
  return nn::Sequential({{"flatten", nn::Flatten()},
                         {"fc1", nn::Linear(784, 256)}, {"relu1", nn::ReLU()}, {"drop", nn::Dropout(0.2)},
                         {"fc2", nn::Linear(256, 128)}, {"relu2", nn::ReLU()},
                         {"fc3", nn::Linear(128, 10)}});
}
// ==== end of user code: model ===================================================================

constexpr double kLearningRate = 1e-3;  // Adam, both ways
constexpr int64_t kBatch = 64;

// ==== user code: eager ==========================================================================
// The PyTorch way: the model computes at once; its optimizer holds its parameters.
struct EagerTrainer {
  nn::Sequential model;
  optim::Adam optimizer;            // optimizer = optim.Adam(model.parameters(), lr=1e-3)
  tensorboard::SummaryWriter writer;  // writer = SummaryWriter(log_dir)

  EagerTrainer(nn::Sequential m, const std::string& log_dir)
      : model(m), optimizer(m->parameters(), {.lr = kLearningRate}), writer(log_dir) {}

  Tensor train_step(const Tensor& x, const Tensor& y, int64_t step) {
    optimizer.zero_grad();                        // optimizer.zero_grad()
    Tensor loss = F::cross_entropy(model(x), y);  // loss = F.cross_entropy(model(x), y)
    loss.backward();                              // loss.backward()
    optimizer.step();                             // optimizer.step()
    writer.add_scalar("loss", loss, step);        // writer.add_scalar("loss", loss, step)
    return loss;
  }
  double test(const Tensor& x, const Tensor& y, int64_t epoch) {
    model->eval();                                // model.eval(): dropout off
    no_grad guard;                                // with torch.no_grad():
    const double accuracy = mean(to(eq(argmax(model(x), 1), y), kFloat32)).item();
    writer.add_scalar("accuracy/test", accuracy, epoch);
    model->train();                               // model.train(): dropout on again
    return accuracy;
  }
  void save(const std::string& path) { model->state_dict().save(path); }  // torch.save(model.state_dict(), path)
};
// ==== end of user code: eager ===================================================================

// ==== user code: graph ==========================================================================
// The TensorFlow 1 way: declare everything first — placeholders, the model's nodes (its weights
// become Variables), the gradients and Adam's updates, the summaries — then only run.
struct GraphTrainer {
  g::Graph graph;
  g::Output x, y, loss, train_op, accuracy, loss_summary, accuracy_summary;
  std::unique_ptr<g::Session> session;
  std::unique_ptr<g::train::Saver> saver;
  std::unique_ptr<g::summary::FileWriter> writer;

  GraphTrainer(nn::Sequential& model, const std::string& log_dir) {
    g::DefaultGraph use(graph);                                   // with graph.as_default():
    x = g::placeholder(kFloat32, {-1, 1, 28, 28}, "x");           //   x = tf.placeholder(tf.float32, [None, 1, 28, 28])
    y = g::placeholder(kInt64, {-1}, "y");                        //   y = tf.placeholder(tf.int64, [None])
    model->train();
    loss = F::cross_entropy(model(x), y);                         //   the training path: dropout on
    train_op = g::train::AdamOptimizer(kLearningRate).minimize(loss);
    model->eval();                                                //   the evaluation path: dropout off
    accuracy = mean(to(eq(argmax(model(x), 1), y), kFloat32));
    model->train();
    loss_summary = g::summary::scalar("loss", loss);              //   tf.summary.scalar("loss", loss)
    accuracy_summary = g::summary::scalar("accuracy/test", accuracy);
    saver = std::make_unique<g::train::Saver>(model->named_variables(graph));  // tf.train.Saver({...})
    session = std::make_unique<g::Session>(graph);                //   sess = tf.Session()
    session->run(g::global_variables_initializer(graph));         //   sess.run(tf.global_variables_initializer())
    writer = std::make_unique<g::summary::FileWriter>(log_dir, &graph);  // tf.summary.FileWriter(log_dir, graph)
  }
  Tensor train_step(const Tensor& xb, const Tensor& yb, int64_t step) {
    auto out = session->run({train_op, loss, loss_summary}, {{x, xb}, {y, yb}});  // sess.run([...], feed_dict)
    writer->add_summary(out[2], step);                                             // writer.add_summary(s, step)
    return out[1];
  }
  double test(const Tensor& xb, const Tensor& yb, int64_t epoch) {
    auto out = session->run({accuracy, accuracy_summary}, {{x, xb}, {y, yb}});  // the evaluation path
    writer->add_summary(out[1], epoch);
    return out[0].item();
  }
  std::string save(const std::string& path, int64_t step) { return saver->save(*session, path, step); }
};
// ==== end of user code: graph ===================================================================

// ---- the demo's instrumentation: options, data, measuring, the table -----------------------------

struct Options {
  std::string data_dir;      // empty: Debian's folder, else the committed sample
  bool data_given = false;
  std::string logdir;        // empty: runs/<timestamp>
  int64_t epochs = 5;
  int64_t train_size = 20000;
  int64_t threads = 0;       // 0: OMP_NUM_THREADS, else 1
  bool full = false;
};

const char* const kUsage =
    "usage: 12_fashion_mnist [--full] [--data DIR] [--logdir DIR] [--epochs N] [--train-size N] [--threads N]\n"
    "  --full          all 60000 training images and 10 epochs (default: 20000 images, 5 epochs)\n"
    "  --data DIR      the folder of Fashion-MNIST's four .gz files (default: /usr/share/datasets/fashion-mnist)\n"
    "  --logdir DIR    the run directory (default: runs/<date>_<time>)\n"
    "  --epochs N      epochs to train (the first is the timing's warm-up)\n"
    "  --train-size N  training images to use, from the start of the training file\n"
    "  --threads N     threads for the kernels, fixed for the run (default: OMP_NUM_THREADS, else 1)\n";

// A whole positive number, or a clear error naming the flag.
int64_t parse_count(const std::string& flag, const std::string& text) {
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || v <= 0) throw Error(msg(flag, " wants a whole number above 0, not '", text, "'"));
  return v;
}

Options parse_options(int argc, char** argv) {
  Options o;
  bool epochs_given = false, size_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw Error(msg(a, " needs a value\n", kUsage));
      return argv[++i];
    };
    if (a == "--full") {
      o.full = true;
    } else if (a == "--data") {
      o.data_dir = value();
      o.data_given = true;
    } else if (a == "--logdir") {
      o.logdir = value();
    } else if (a == "--epochs") {
      o.epochs = parse_count(a, value());
      epochs_given = true;
    } else if (a == "--train-size") {
      o.train_size = parse_count(a, value());
      size_given = true;
    } else if (a == "--threads") {
      o.threads = parse_count(a, value());
    } else if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else {
      throw Error(msg("unknown option '", a, "'\n", kUsage));
    }
  }
  if (o.full) {
    if (!epochs_given) o.epochs = 10;
    if (!size_given) o.train_size = 60000;
  }
  return o;
}

// The committed sample, found from this file's place in the source tree.
std::string sample_dir() {
  return (fs::path(__FILE__).parent_path().parent_path() / "tests/data/fashion-mnist-sample").string();
}

bool has_fashion_mnist(const std::string& dir) {
  for (const char* f : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                        "t10k-labels-idx1-ubyte.gz"})
    if (!fs::exists(fs::path(dir) / f)) return false;
  return true;
}

// Which folder to read: the one asked for (it must be there), else Debian's, else the sample.
std::string choose_data_dir(const Options& o) {
  if (o.data_given) {
    if (!has_fashion_mnist(o.data_dir))
      throw Error(msg("--data ", o.data_dir, ": Fashion-MNIST's four files (train-images-idx3-ubyte.gz, ...) are not "
                      "there. Give the folder that holds them, or leave --data out to use ", data::kFashionMnistDir));
    return o.data_dir;
  }
  if (has_fashion_mnist(data::kFashionMnistDir)) return data::kFashionMnistDir;
  std::cout << "Fashion-MNIST is not installed (its four .gz files are not in " << data::kFashionMnistDir
            << "). Install it with\n"
            << "    sudo apt-get install dataset-fashion-mnist      (or: scripts/setup --extras; make demo does it)\n"
            << "Meanwhile this run uses the small sample committed with the tests, " << sample_dir() << ":\n"
            << "its accuracy and timings say little.\n\n";
  if (!has_fashion_mnist(sample_dir()))
    throw Error(msg("the sample is missing too (", sample_dir(),
                    "): run from Tandem's source tree, or pass --data DIR"));
  return sample_dir();
}

// One team of threads for the whole run. Tandem shrinks its teams while other processes keep the
// cores busy (core/threads.h), and a GEMM split between two threads rounds differently from one on
// a single thread: a team that changed size between an eager epoch and a graph epoch would make
// the two ways drift apart over thousands of steps for a reason that is not theirs. One thread is
// the default: on a shared 2-core machine it was also the fastest (0.60 s per default epoch, against
// 2.7 s for a fixed team of two; bench/RESULTS.md reads one thread as the fair comparison).
int fix_threads(const Options& o) {
  const char* env = std::getenv("OMP_NUM_THREADS");
  const int n = o.threads > 0 ? static_cast<int>(o.threads) : env && std::atoi(env) > 0 ? std::atoi(env) : 1;
  set_load_aware_threads(false);
  set_num_threads(n);
  return n;
}

// runs/2026-12-05_14-03-22 (a suffix when that exists already).
std::string default_run_dir() {
  const std::time_t now = std::time(nullptr);
  char stamp[64];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d_%H-%M-%S", std::localtime(&now));
  std::string dir = std::string("runs/") + stamp;
  for (int k = 2; fs::exists(dir); ++k) dir = std::string("runs/") + stamp + "-" + std::to_string(k);
  return dir;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The nodes of the tape behind `root` (its grad_fn and every Node reachable from it).
int64_t tape_nodes(const Tensor& root) {
  std::set<const autograd::Node*> seen;
  std::vector<std::shared_ptr<autograd::Node>> todo{root.grad_fn()};
  while (!todo.empty()) {
    std::shared_ptr<autograd::Node> n = todo.back();
    todo.pop_back();
    if (!n || !seen.insert(n.get()).second) continue;
    for (const autograd::Edge& e : n->next) todo.push_back(e.node);
  }
  return static_cast<int64_t>(seen.size());
}

// The lines of code between "==== user code: <part>" and "==== end of user code: <part>" in this
// very file: lines with something on them other than a comment. -1 when the source is not found.
int64_t user_code_lines(const std::string& part) {
  std::ifstream src(__FILE__);
  if (!src) return -1;
  const std::string begin = "// ==== user code: " + part + " ", end = "// ==== end of user code: " + part + " ";
  int64_t count = 0;
  bool inside = false;
  for (std::string line; std::getline(src, line);) {
    if (line.rfind(begin, 0) == 0) {
      inside = true;
    } else if (line.rfind(end, 0) == 0) {
      return count;
    } else if (inside) {
      const size_t first = line.find_first_not_of(" \t");
      if (first != std::string::npos && line.compare(first, 2, "//") != 0) ++count;
    }
  }
  return -1;
}

// What one mode measured.
struct Measured {
  std::vector<double> losses;        // every step's loss, in order
  std::vector<double> epoch_seconds;
  std::vector<double> accuracy;      // test accuracy after each epoch
  int64_t peak_bytes = 0;            // the largest of any step but the first, above what was in use before it
  int64_t nodes = 0, kernels = 0;    // per training step
};

// One number through printf's format: number("%.2f%%", 84.1) is "84.10%".
std::string number(const char* format, double v) {
  char text[64];
  std::snprintf(text, sizeof text, format, v);
  return text;
}

// ---- training, epoch by epoch, the two ways taking turns ----------------------------------------

struct Data {
  Tensor train_x, train_y, test_x, test_y;
};

Data load(const std::string& dir, int64_t train_size) {
  const data::FashionMnist train = data::load_fashion_mnist(true, dir), test = data::load_fashion_mnist(false, dir);
  const int64_t n = std::min(train_size, train.images.size(0));
  // Normalised as torchvision's Normalize((0.2860,), (0.3530,)): Fashion-MNIST's mean and deviation.
  auto normalise = [](const Tensor& images) {
    return ((images - 0.2860) / 0.3530).reshape({-1, 1, 28, 28}).contiguous();
  };
  return {normalise(train.images.narrow(0, 0, n)), train.labels.narrow(0, 0, n).contiguous(), normalise(test.images),
          test.labels};
}

void eager_epoch(EagerTrainer& t, data::DataLoader& loader, int64_t epoch, int64_t epochs, Measured& m) {
  TqdmOptions options;
  options.desc = msg("eager ", epoch + 1, "/", epochs);
  options.every_percent = 25;  // when the output is not a terminal: a line per quarter
  Tqdm bar(loader.size(), options);
  const auto t0 = std::chrono::steady_clock::now();
  for (const data::Example& b : loader) {
    t.optimizer.zero_grad();  // the last step's gradients freed first, so the step's own count below
    const int64_t kernels_before = eager_kernels_run();
    reset_peak_memory_stats();
    const int64_t in_use = memory_stats().bytes_in_use;
    const Tensor loss = t.train_step(b[0], b[1], static_cast<int64_t>(m.losses.size()));
    // The first step also makes Adam's state (two tensors per parameter, kept from then on): not
    // a step's working memory, so it is left out, as the graph's slot variables are.
    if (!m.losses.empty()) m.peak_bytes = std::max(m.peak_bytes, memory_stats().peak_bytes - in_use);
    m.kernels = eager_kernels_run() - kernels_before;
    m.losses.push_back(loss.item());
    bar.update(1, {{"loss", m.losses.back()}});
  }
  m.epoch_seconds.push_back(seconds_since(t0));
  bar.close();
}

void graph_epoch(GraphTrainer& t, data::DataLoader& loader, int64_t epoch, int64_t epochs, Measured& m) {
  ProgressBarOptions options;
  options.epoch = static_cast<int>(epoch + 1);  // prints "Epoch 2/5"
  options.epochs = static_cast<int>(epochs);
  ProgressBar bar(loader.size(), options);
  const auto t0 = std::chrono::steady_clock::now();
  double sum = 0;
  int64_t in_epoch = 0;
  for (const data::Example& b : loader) {
    const int64_t step = static_cast<int64_t>(m.losses.size());
    m.losses.push_back(t.train_step(b[0], b[1], step).item());
    const g::RunStats& st = t.session->last_run_stats();
    if (step > 0) m.peak_bytes = std::max(m.peak_bytes, st.peak_bytes);
    m.nodes = st.nodes_executed;
    m.kernels = st.kernels_launched;
    sum += m.losses.back();
    ++in_epoch;
    bar.update(in_epoch, {{"loss", sum / static_cast<double>(in_epoch)}});  // Keras shows the running mean
  }
  m.epoch_seconds.push_back(seconds_since(t0));
  bar.finish({{"loss", sum / static_cast<double>(in_epoch)}});
}

// ---- the report -------------------------------------------------------------------------------------

void print_losses(const Measured& eager, const Measured& graph, bool& agree) {
  double largest = 0, largest_relative = 0;
  size_t identical = 0;
  for (size_t i = 0; i < eager.losses.size(); ++i) {
    const double d = std::abs(eager.losses[i] - graph.losses[i]);
    largest = std::max(largest, d);
    largest_relative = std::max(largest_relative, d / std::max(1.0, std::abs(eager.losses[i])));
    identical += eager.losses[i] == graph.losses[i];
  }
  // float32 keeps about 7 digits; a training run of a few thousand steps may move the last few.
  agree = largest_relative <= 1e-4;
  std::printf("\nThe losses of the two ways, step by step (%zu steps each):\n", eager.losses.size());
  std::printf("  step   eager loss   graph loss\n");
  const size_t n = eager.losses.size(), every = std::max<size_t>(1, n / 8);
  for (size_t i = 0; i < n; ++i)
    if (i % every == 0 || i == n - 1) std::printf("  %4zu   %10.6f   %10.6f\n", i, eager.losses[i], graph.losses[i]);
  std::printf("losses agree: %s — largest difference %.2e, %zu of %zu steps bit for bit equal\n\n",
              agree ? "yes" : "NO", largest, identical, n);
}

void print_table(const Measured& e, const Measured& g, int64_t tape_nodes_per_step, int64_t graph_nodes) {
  const size_t timed = e.epoch_seconds.size() > 1 ? e.epoch_seconds.size() - 1 : 1;
  auto timing = [&](const Measured& m) {
    std::vector<double> t(m.epoch_seconds.end() - static_cast<std::ptrdiff_t>(timed), m.epoch_seconds.end());
    return number("%.3f s", median(t));
  };
  const int64_t model_lines = user_code_lines("model"), eager_lines = user_code_lines("eager"),
                graph_lines = user_code_lines("graph");
  auto lines = [&](int64_t own) {
    return own < 0 ? std::string("? (source not found)") : msg(own, " + ", model_lines, " model");
  };
  auto row = [](const std::string& name, const std::string& eager, const std::string& graph) {
    std::printf("  %-30s %-24s %-24s\n", name.c_str(), eager.c_str(), graph.c_str());
  };
  std::printf("What each way cost:\n");
  row("", "eager (PyTorch)", "graph (TensorFlow 1)");
  row("test accuracy", number("%.2f%%", 100 * e.accuracy.back()), number("%.2f%%", 100 * g.accuracy.back()));
  row(msg("time per epoch (median of ", timed, ")"), timing(e), timing(g));
  row("peak memory per step", number("%.2f MB", e.peak_bytes / 1e6), number("%.2f MB", g.peak_bytes / 1e6));
  row("nodes per step", msg(tape_nodes_per_step, " on the tape"), msg(g.nodes, " run (", graph_nodes, " declared)"));
  row("kernels per step", msg(e.kernels), msg(g.kernels));
  row("lines of user code", lines(eager_lines), lines(graph_lines));
  std::printf("  (time: the training loop of an epoch, logging and progress bars included, %s;\n"
              "   memory: tensor bytes above what was in use before the step (weights, Adam's state and the\n"
              "   batch not counted; the first step, which makes Adam's state, left out); nodes: the Nodes eager\n"
              "   mode records in one step (one per forward op, each running its derivative in backward), and\n"
              "   the planned steps of one graph run (forward, gradients and Adam's updates, after the passes);\n"
              "   lines: between this file's \"user code\" markers, comments and blank lines not counted)\n\n",
              e.epoch_seconds.size() > 1 ? "after a warm-up epoch" : "with no warm-up (one epoch only)");
}

void print_differences(const Measured& e, const Measured& g, int64_t tape_nodes_per_step, bool agree) {
  std::printf("What differed:\n");
  const double te = e.epoch_seconds.back(), tg = g.epoch_seconds.back();
  if (agree)
    std::printf("  - Not the numbers: same weights, batches and dropout masks gave the same losses and accuracy.\n");
  else
    std::printf("  - The numbers, and they should not have: same weights, batches and dropout masks, yet the\n"
                "    losses parted by more than float rounding (the table above). Please report it, with this output.\n");
  std::printf("  - Memory: an eager step holds what its tape saved and the new gradients until it ends; a\n"
              "    graph run holds the buffers its memory plan gave it (graph/passes/memory_plan.cpp), every\n"
              "    gradient among them until Adam's updates run. Eager's peak is %.2fx the graph's.\n",
              static_cast<double>(e.peak_bytes) / static_cast<double>(std::max<int64_t>(1, g.peak_bytes)));
  std::printf("  - Kernels: %lld eager, %lld graph per step: the graph's passes fused elementwise chains and\n"
              "    dropped what the fetches do not need; eager runs each op as it is called.\n",
              static_cast<long long>(e.kernels), static_cast<long long>(g.kernels));
  std::printf("  - Nodes: eager records %lld Nodes on a new tape every step and frees it after backward; the\n"
              "    graph was declared once and each run executes the same %lld planned steps.\n",
              static_cast<long long>(tape_nodes_per_step), static_cast<long long>(g.nodes));
  std::printf("  - Time: the last epoch took %.3f s eagerly and %.3f s as a graph (eager/graph %.2f). Both run\n"
              "    the same matrix products; eager pays per op (a tape record, an allocation), the graph per\n"
              "    run (feeds, fetches, its summary op). Which wins depends on the batch and the machine's load.\n",
              te, tg, te / tg);
  std::printf("  - Code: the graph is declared before it runs (placeholders, two paths for train and eval,\n"
              "    summary ops, a Session), eager code just runs; the model itself is the same code.\n\n");
}

// Every file under `dir`, with its size.
void list_run_dir(const std::string& dir) {
  std::printf("The run directory, %s:\n", dir.c_str());
  std::vector<std::pair<std::string, uintmax_t>> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file()) files.emplace_back(fs::relative(entry.path(), dir).string(), entry.file_size());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) std::printf("  %-60s %10ju bytes\n", f.first.c_str(), f.second);
  std::printf("See the logs with: tensorboard --logdir %s   (both ways' loss curves on one chart)\n", dir.c_str());
}

int run(const Options& o) {
  const int threads = fix_threads(o);
  const std::string data_dir = choose_data_dir(o);
  const Data d = load(data_dir, o.train_size);
  const std::string run_dir = o.logdir.empty() ? default_run_dir() : o.logdir;
  fs::create_directories(run_dir + "/drawings");
  fs::create_directories(run_dir + "/checkpoints/eager");
  fs::create_directories(run_dir + "/checkpoints/graph");  // the Saver writes into a folder that exists, as TF's does
  std::printf("Fashion-MNIST from %s: %lld training images (%s), %lld test images; %lld epoch(s) of batches of %lld,\n"
              "Adam lr %g, both ways, kernels on %d thread(s) (fixed for the run; --threads N).\n"
              "Run directory: %s\n\n",
              data_dir.c_str(), static_cast<long long>(d.train_x.size(0)),
              o.full ? "the whole training set" : "a subset; --full for all 60000",
              static_cast<long long>(d.test_x.size(0)), static_cast<long long>(o.epochs),
              static_cast<long long>(kBatch), kLearningRate, threads, run_dir.c_str());

  // One model object; the graph is declared first, so its Variables start from the very weights the
  // eager optimizer starts from (a Variable copies its module tensor's value when it is bound).
  nn::Sequential model = make_model();
  std::cout << "print(model):\n" << model << "\n\n" << nn::summary(model, {1, 28, 28}) << "\n";
  GraphTrainer graph(model, run_dir + "/graph");
  EagerTrainer eager(model, run_dir + "/eager");
  eager.writer.add_graph([&](const std::vector<g::Output>& xs, const std::vector<g::Output>&) { model(xs[0]); },
                         {d.train_x.narrow(0, 0, 1)});

  // Two loaders with one seed: the same shuffled order, epoch after epoch, for both ways.
  const auto dataset = data::share(data::TensorDataset({d.train_x, d.train_y}));
  data::DataLoader eager_loader(dataset, {.batch_size = kBatch, .shuffle = true, .seed = 7});
  data::DataLoader graph_loader(dataset, {.batch_size = kBatch, .shuffle = true, .seed = 7});
  Measured em, gm;
  std::printf("Training, the two ways taking turns each epoch "
              "(tqdm's bar for the eager loop, Keras's for the graph):\n");
  for (int64_t epoch = 0; epoch < o.epochs; ++epoch) {
    manual_seed(100 + epoch);  // the dropout masks of this epoch...
    eager_epoch(eager, eager_loader, epoch, o.epochs, em);
    manual_seed(100 + epoch);  // ...and the very same ones for the graph
    graph_epoch(graph, graph_loader, epoch, o.epochs, gm);
    em.accuracy.push_back(eager.test(d.test_x, d.test_y, epoch));
    gm.accuracy.push_back(graph.test(d.test_x, d.test_y, epoch));
    std::printf("  test accuracy after epoch %lld: eager %.2f%%, graph %.2f%%\n", static_cast<long long>(epoch + 1),
                100 * em.accuracy.back(), 100 * gm.accuracy.back());
    eager.save(msg(run_dir, "/checkpoints/eager/model_epoch", epoch + 1, ".tckpt"));
    graph.save(run_dir + "/checkpoints/graph/model.ckpt", static_cast<int64_t>(gm.losses.size()));
  }
  eager.writer.close();
  graph.writer->close();

  // One more forward on the eager side, not trained on, for the tape: its drawing and its size.
  const Tensor tape_loss = F::cross_entropy(model(d.train_x.narrow(0, 0, kBatch)), d.train_y.narrow(0, 0, kBatch));
  const int64_t tape_nodes_per_step = tape_nodes(tape_loss);
  const DotRender tape_drawing = draw_tape(tape_loss, run_dir + "/drawings/tape");
  const DotRender graph_drawing =
      g::draw_graph(graph.graph, run_dir + "/drawings/graph", {.outputs = {graph.loss}, .title = "the training graph"});

  bool agree = false;
  print_losses(em, gm, agree);
  print_table(em, gm, tape_nodes_per_step, static_cast<int64_t>(graph.graph.size()));
  print_differences(em, gm, tape_nodes_per_step, agree);

  // The graph's checkpoint carries the model's own names ("fc1.weight"): it loads into the eager model.
  const auto latest = g::train::latest_checkpoint(run_dir + "/checkpoints/graph");
  if (!latest) throw Error(msg("no checkpoint in ", run_dir, "/checkpoints/graph: the Saver wrote none"));
  model->load_state_dict(StateDict::load(*latest));
  model->eval();
  no_grad guard;
  const double reloaded = mean(to(eq(argmax(model(d.test_x), 1), d.test_y), kFloat32)).item();
  std::printf("The graph's last checkpoint (%s), loaded into the eager model: test accuracy %.2f%%\n",
              fs::path(*latest).filename().string().c_str(), 100 * reloaded);
  std::printf("Drawings: %s\n          %s\n\n", graph_drawing.message.c_str(), tape_drawing.message.c_str());
  list_run_dir(run_dir);
  if (!agree) {
    std::fprintf(stderr, "12_fashion_mnist: the two ways' losses differ by more than float rounding\n");
    return 3;
  }
  return 0;
}

int main(int argc, char** argv) {
  Options o;
  try {
    o = parse_options(argc, argv);
  } catch (const Error& e) {
    std::fprintf(stderr, "12_fashion_mnist: %s\n", e.what());
    return 2;
  }
  try {
    return run(o);
  } catch (const Error& e) {
    std::fprintf(stderr, "12_fashion_mnist: %s\n", e.what());
    return 1;
  } catch (const fs::filesystem_error& e) {
    std::fprintf(stderr, "12_fashion_mnist: %s\n", e.what());
    return 1;
  }
}
