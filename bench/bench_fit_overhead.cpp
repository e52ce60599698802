// bench/bench_fit_overhead.cpp — what keras::fit costs over the loop a user writes by hand.
//
// One epoch of an MLP 784-256-128-10 (Adam 1e-3, batch 64, shuffled by a DataLoader) on the first
// N Fashion-MNIST training images, four ways, in turns:
//   eager hand loop   for (batch : loader) { zero_grad; loss = cross_entropy(model(x), y); backward; step }
//   eager fit         keras::fit(model compiled with run_eagerly = true, ..., {.epochs = 1})
//   graph hand loop   the same model's graph built once; session.run({train_op, loss}) per batch
//   graph fit         keras::fit(model compiled for graph mode, ..., {.epochs = 1})
// Both hand loops add up the epoch's loss as fit does (loss.item() per batch). fit also computes
// nothing else: compiled with no metrics, verbose 0. The graph hand loop reads its learning rate
// from a Variable too, as fit's graph does, so that both run the same graph. Each round runs the
// four once; the figure is fit's time over the hand loop's per round, and its median over rounds.
// Times are CPU time of the process (steadier than wall time on a busy machine) — run with
// OMP_NUM_THREADS=1 so that CPU time is the work done.
//
//   usage: bench_fit_overhead [IMAGES (10000)] [ROUNDS (7)]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

namespace {

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const int64_t n = argc > 1 ? std::atoll(argv[1]) : 10000;
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 7;
    const data::FashionMnist fm = data::load_fashion_mnist(true);
    const Tensor x = fm.images.narrow(0, 0, n).reshape({-1, 784}).contiguous(), y = fm.labels.narrow(0, 0, n).contiguous();
    manual_seed(0);
    nn::Sequential model(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 128), nn::ReLU(), nn::Linear(128, 10));
    const auto dataset = data::share(data::TensorDataset({x, y}));

    // ---- the hand loops ------------------------------------------------------------------------------
    data::DataLoader eager_loader(dataset, {.batch_size = 64, .shuffle = true});
    optim::Adam optimizer(model->parameters(), {.lr = 1e-3});
    auto eager_hand = [&] {
      double total = 0;
      for (const data::Example& b : eager_loader) {
        optimizer.zero_grad();
        Tensor loss = nn::functional::cross_entropy(model(b[0]), b[1]);  // the loss fit uses for "cross_entropy"
        loss.backward();
        optimizer.step();
        total += loss.item() * static_cast<double>(b[0].size(0));
      }
      return total;
    };
    g::Graph graph;
    g::DefaultGraph use(graph);
    const g::Output xp = g::placeholder(kFloat32, {-1, 784}, "x"), yp = g::placeholder(kInt64, {-1}, "y");
    const g::Output lr = g::Variable(full({}, 1e-3, kFloat64), false, "learning_rate");
    const g::Output loss = nn::functional::cross_entropy(model(xp), yp);
    const g::Output train_op = g::train::AdamOptimizer(lr).minimize(loss);
    g::Session session(graph);
    session.run(g::global_variables_initializer(graph));
    data::DataLoader graph_loader(dataset, {.batch_size = 64, .shuffle = true});
    auto graph_hand = [&] {
      double total = 0;
      for (const data::Example& b : graph_loader)
        total += session.run({train_op, loss}, {{xp, b[0]}, {yp, b[1]}})[1].item() * static_cast<double>(b[0].size(0));
      return total;
    };

    // ---- fit, both modes ---------------------------------------------------------------------------------
    keras::Model eager_fit = keras::compile(model, {.optimizer = optim::AdamOptions{.lr = 1e-3}, .loss = "cross_entropy",
                                                    .run_eagerly = true});
    keras::Model graph_fit = keras::compile(model, {.optimizer = optim::AdamOptions{.lr = 1e-3}, .loss = "cross_entropy"});
    int64_t epoch = 0;
    auto fit_one = [&](keras::Model& m) {
      keras::fit(m, x, y, {.epochs = epoch + 1, .batch_size = 64, .verbose = 0, .initial_epoch = epoch});
    };
    fit_one(graph_fit);  // builds the graph: not part of an epoch's cost

    std::vector<double> eager_ratio, graph_ratio, eager_hand_s, graph_hand_s;
    std::printf("round   eager hand   eager fit   ratio   graph hand   graph fit   ratio   (CPU seconds per epoch of %lld images)\n",
                static_cast<long long>(n));
    for (int r = 0; r < rounds; ++r, ++epoch) {
      double t0 = cpu_seconds();
      eager_hand();
      const double eh = cpu_seconds() - t0;
      t0 = cpu_seconds();
      fit_one(eager_fit);
      const double ef = cpu_seconds() - t0;
      t0 = cpu_seconds();
      graph_hand();
      const double gh = cpu_seconds() - t0;
      t0 = cpu_seconds();
      fit_one(graph_fit);
      const double gf = cpu_seconds() - t0;
      eager_ratio.push_back(ef / eh);
      graph_ratio.push_back(gf / gh);
      eager_hand_s.push_back(eh);
      graph_hand_s.push_back(gh);
      std::printf("%5d   %10.3f   %9.3f   %5.3f   %10.3f   %9.3f   %5.3f\n", r, eh, ef, ef / eh, gh, gf, gf / gh);
    }
    std::printf("median fit / hand loop: eager %.3f (hand epoch %.2f s), graph %.3f (hand epoch %.2f s)\n",
                median(eager_ratio), median(eager_hand_s), median(graph_ratio), median(graph_hand_s));
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_fit_overhead: %s\n", e.what());
    return 1;
  }
  return 0;
}
