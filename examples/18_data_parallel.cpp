// examples/18_data_parallel.cpp — data-parallel training over MPI, PyTorch's way and TensorFlow's.
//
// The seed article's "Distributed Model Training": PyTorch trains across processes with its
// MPI/Gloo/NCCL backends (DistributedDataParallel), TensorFlow over gRPC — or over MPI with
// Horovod. Each rank holds the whole model, trains on its share of every batch, and the ranks
// average their gradients before each step. Here both shapes, on Open MPI:
//   - eager, PyTorch DDP's:  loss.backward(); dist::all_reduce_gradients(model); optimizer.step();
//   - graph, Horovod's:      dist::DistributedOptimizer(opt).minimize(loss) — an all-reduce node
//                            between the gradients and the updates, run by the session.
// It shows, in order:
//   1. the equality that makes it correct: N ranks with batches of B end k steps with the weights
//      of ONE process trained on batches of B·N (both modes; to summation-order rounding);
//   2. an epoch in each mode: the loss, the time, and the share of it spent communicating;
//   3. rank 0 alone evaluates, writes the checkpoint (--save) and the TensorBoard log (--logdir).
//
//   mpirun -np 2 ./build/18_data_parallel [--data DIR] [--images N (6000)] [--epochs E (1)]
//          [--batch B (32 per rank)] [--model mlp|convnet] [--allreduce mpi|ring]
//          [--save FILE] [--logdir DIR]
// (as root, Open MPI also wants OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; on a
// machine with fewer cores than ranks add --oversubscribe). Started without mpirun it runs as a
// world of one, and says how to start it.
//
// Read next: dist/dist.h, dist/all_reduce.h (the ring), docs/data_parallel.md.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "dist/all_reduce.h"
#include "dist/data_parallel.h"
#include "dist/dist.h"
#include "dist/distributed_optimizer.h"
#include "dist/sampler.h"
#include "tandem.h"
#include "tests/seed_models.h"  // seeds::Net, the seed article's ConvNet

using namespace tandem;
namespace F = nn::functional;
namespace g = tandem::graph;

namespace {

struct Options {
  std::string data = data::kFashionMnistDir, model = "mlp", save, logdir;
  int64_t images = 6000, epochs = 1, batch = 32;
};

constexpr const char* kUsage =
    "usage: mpirun -np 2 ./build/18_data_parallel [--data DIR] [--images N (6000)] [--epochs E (1)] "
    "[--batch B (32 per rank)] [--model mlp|convnet] [--allreduce mpi|ring] [--save FILE] [--logdir DIR]";

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) throw Error(msg("18_data_parallel: ", flag, " needs a value\n", kUsage));
    const std::string value = argv[++i];
    if (flag == "--data") o.data = value;
    else if (flag == "--model") o.model = value;
    else if (flag == "--save") o.save = value;
    else if (flag == "--logdir") o.logdir = value;
    else if (flag == "--allreduce") dist::set_algorithm(dist::parse_algorithm(value));
    else if (flag == "--images") o.images = std::atoll(value.c_str());
    else if (flag == "--epochs") o.epochs = std::atoll(value.c_str());
    else if (flag == "--batch") o.batch = std::atoll(value.c_str());
    else throw Error(msg("18_data_parallel: unknown flag ", flag, "; the flags are --data --images --epochs --batch "
                         "--model --allreduce --save --logdir"));
  }
  if (o.model != "mlp" && o.model != "convnet") throw Error(msg("--model ", o.model, ": use mlp or convnet"));
  if (o.images < 1 || o.epochs < 1 || o.batch < 1) throw Error("--images, --epochs and --batch must be positive");
  return o;
}

std::shared_ptr<nn::Module> make_model(const std::string& kind) {
  manual_seed(0);  // the same initial weights on every rank (broadcast makes sure of it anyway)
  if (kind == "convnet") return seeds::Net().ptr();
  return nn::Sequential(nn::Linear(784, 128), nn::ReLU(), nn::Linear(128, 10)).ptr();
}

// The model's input: [n, 784] for the MLP, [n, 1, 28, 28] for the ConvNet.
Tensor inputs(const Tensor& images, const std::string& kind) {
  return kind == "convnet" ? images.reshape({-1, 1, 28, 28}).contiguous() : images.reshape({-1, 784}).contiguous();
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Rank 0 prints; the others compute quietly.
template <class... Args> void say(const char* format, Args... args) {
  if (dist::is_root()) std::printf(format, args...);
}

// What an epoch measured, over all ranks: mean loss per example, wall time, communication time.
struct Epoch {
  double loss = 0, seconds = 0, comm_seconds = 0;
};

// ---- eager mode, DDP's loop ---------------------------------------------------------------------
Epoch eager_epoch(nn::Module& model, optim::Optimizer& optimizer, const data::DatasetPtr& shard, int64_t batch,
                  int64_t max_steps = -1) {
  const double comm0 = dist::comm_stats().seconds;
  const auto t0 = std::chrono::steady_clock::now();
  double total = 0, count = 0;
  int64_t step = 0;
  for (const data::Example& b : data::DataLoader(shard, {.batch_size = batch, .drop_last = true})) {
    if (step++ == max_steps) break;
    optimizer.zero_grad();                                   // optimizer.zero_grad()
    Tensor loss = F::cross_entropy(model.call(b[0]), b[1]);  // loss = criterion(ddp_model(x), y)
    loss.backward();                                         // loss.backward()  (DDP: buckets reduce here)
    dist::all_reduce_gradients(model);                       //   — the gradients, averaged over ranks
    optimizer.step();                                        // optimizer.step()
    total += loss.item() * static_cast<double>(b[0].size(0));
    count += static_cast<double>(b[0].size(0));
  }
  return {dist::all_reduce_sum(total) / dist::all_reduce_sum(count), dist::all_reduce_max(seconds_since(t0)),
          dist::all_reduce_max(dist::comm_stats().seconds - comm0)};
}

// ---- graph mode, Horovod's: the all-reduce is a node of the graph -------------------------------
struct GraphTrainer {
  g::Graph graph;
  g::Output x, y, loss, train_op;
  std::unique_ptr<g::train::MomentumOptimizer> momentum;
  std::unique_ptr<g::Session> session;

  GraphTrainer(nn::Module& model, const Shape& input_shape, double lr) {
    g::DefaultGraph use(graph);
    x = g::placeholder(kFloat32, input_shape, "x");
    y = g::placeholder(kInt64, {-1}, "y");
    loss = F::cross_entropy(model.call(x), y);
    momentum = std::make_unique<g::train::MomentumOptimizer>(lr, 0.9);  // opt = tf.train.MomentumOptimizer(lr, 0.9)
    train_op = dist::DistributedOptimizer(*momentum).minimize(loss);     // hvd.DistributedOptimizer(opt).minimize(loss)
    session = std::make_unique<g::Session>(graph);
    session->run(g::global_variables_initializer());
    dist::broadcast(*session, model.variables(graph), 0);               // hvd.broadcast_global_variables(0)
  }

  Epoch epoch(const data::DatasetPtr& shard, int64_t batch, int64_t max_steps = -1) {
    const double comm0 = dist::comm_stats().seconds;
    const auto t0 = std::chrono::steady_clock::now();
    double total = 0, count = 0;
    int64_t step = 0;
    for (const data::Example& b : data::DataLoader(shard, {.batch_size = batch, .drop_last = true})) {
      if (step++ == max_steps) break;
      const std::vector<Tensor> out = session->run({train_op, loss}, {{x, b[0]}, {y, b[1]}});
      total += out[1].item() * static_cast<double>(b[0].size(0));
      count += static_cast<double>(b[0].size(0));
    }
    return {dist::all_reduce_sum(total) / dist::all_reduce_sum(count), dist::all_reduce_max(seconds_since(t0)),
            dist::all_reduce_max(dist::comm_stats().seconds - comm0)};
  }
};

double largest_difference(const nn::Module& a, const nn::Module& b) {
  double worst = 0;
  const StateDict sb = b.state_dict();
  for (const auto& [name, t] : a.state_dict()) worst = std::max(worst, (t - sb.at(name)).abs().max().item());
  return worst;
}

// Loss and accuracy on the test set (rank 0 calls it).
std::pair<double, double> evaluate(nn::Module& model, const Tensor& x, const Tensor& y) {
  no_grad guard;
  model.eval();
  const Tensor logits = model.call(x);
  model.train();
  const double loss = F::cross_entropy(logits, y).item();
  const double accuracy = (logits.argmax(1) == y).to(kFloat64).mean().item();
  return {loss, accuracy};
}

int demo(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const int world = dist::world_size();
  if (world == 1 && !dist::launched_by_mpirun())
    std::printf("(One process: start it with `mpirun -np 2 %s` to train on two ranks; as root add\n"
                " OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 to the environment. Running as a world of one.)\n\n",
                argv[0]);

  const data::FashionMnist train = data::load_fashion_mnist(true, o.data), test = data::load_fashion_mnist(false, o.data);
  const int64_t n = std::min(o.images, train.images.size(0));
  const Tensor x = inputs(train.images.narrow(0, 0, n), o.model), y = train.labels.narrow(0, 0, n);
  const data::DatasetPtr dataset = data::share(data::TensorDataset({x, y}));
  const dist::DistributedSampler sampler(n, {.shuffle = true, .seed = 1});  // DistributedSampler(ds, shuffle=True)
  const double lr = 0.05;
  const Shape input_shape = o.model == "convnet" ? Shape{-1, 1, 28, 28} : Shape{-1, 784};

  say("Data-parallel training on %d rank%s (%s all-reduce), %s on %lld Fashion-MNIST images,\n"
      "batches of %lld per rank (%lld per step in all), SGD with momentum 0.9, lr %.2f.\n\n",
      world, world == 1 ? "" : "s", dist::to_string(dist::algorithm()), o.model == "mlp" ? "an MLP 784-128-10" : "the seed ConvNet",
      static_cast<long long>(n), static_cast<long long>(o.batch), static_cast<long long>(o.batch * world), lr);

  // ---- 1. the equality ---------------------------------------------------------------------------
  // Each rank also trains, alone and without talking to anyone, ONE process's run on batches of
  // B·N over the same shared order (a sampler of one replica): what the ranks must reproduce.
  // (The ConvNet's dropout draws different masks on each rank — as DDP's ranks do — so only the
  // MLP can be compared this way.)
  if (o.model == "mlp") {
    const int64_t k = std::min<int64_t>(10, sampler.num_samples() / o.batch);
    auto eager_model = make_model(o.model), graph_model = make_model(o.model), alone = make_model(o.model);
    dist::broadcast(*eager_model, 0);                                          // DDP(model) broadcasts rank 0's
    optim::SGD eager_opt(eager_model->parameters(), {.lr = lr, .momentum = 0.9});
    eager_epoch(*eager_model, eager_opt, sampler.shard(dataset, 0), o.batch, k);
    GraphTrainer graph_run(*graph_model, input_shape, lr);
    graph_run.epoch(sampler.shard(dataset, 0), o.batch, k);
    graph_model->copy_from(*graph_run.session);
    const dist::DistributedSampler one(n, {.num_replicas = 1, .rank = 0, .shuffle = true, .seed = 1});
    optim::SGD alone_opt(alone->parameters(), {.lr = lr, .momentum = 0.9});
    int64_t step = 0;
    for (const data::Example& b : data::DataLoader(one.shard(dataset, 0), {.batch_size = o.batch * world})) {
      if (step++ == k) break;
      alone_opt.zero_grad();
      F::cross_entropy(alone->call(b[0]), b[1]).backward();
      alone_opt.step();
    }
    say("1. After %lld steps, the largest weight difference from ONE process with batches of %lld:\n"
        "     eager (all_reduce_gradients)   %.2e\n     graph (DistributedOptimizer)   %.2e\n"
        "   (float32 rounding: the ranks add the batch's gradients in a different order, then average)\n\n",
        static_cast<long long>(k), static_cast<long long>(o.batch * world), largest_difference(*eager_model, *alone),
        largest_difference(*graph_model, *alone));
  }

  // ---- 2. epochs in both modes -------------------------------------------------------------------
  auto eager_model = make_model(o.model), graph_model = make_model(o.model);
  manual_seed(42 + static_cast<uint64_t>(dist::rank()));  // dropout: each rank its own masks
  dist::broadcast(*eager_model, 0);
  optim::SGD optimizer(eager_model->parameters(), {.lr = lr, .momentum = 0.9});
  GraphTrainer graph_run(*graph_model, input_shape, lr);
  std::unique_ptr<tensorboard::SummaryWriter> writer;  // rank 0 only: one log, not N copies
  if (dist::is_root() && !o.logdir.empty()) writer = std::make_unique<tensorboard::SummaryWriter>(o.logdir);

  say("2. Epochs (loss: the mean over every rank's examples; time: the slowest rank's)\n"
      "   epoch   eager loss   graph loss   eager s (comm %%)   graph s (comm %%)\n");
  for (int64_t e = 0; e < o.epochs; ++e) {
    const data::DatasetPtr shard = sampler.shard(dataset, e);  // sampler.set_epoch(e)
    const Epoch eager = eager_epoch(*eager_model, optimizer, shard, o.batch);
    const Epoch graph = graph_run.epoch(shard, o.batch);
    say("   %5lld   %10.6f   %10.6f   %7.3f (%5.1f%%)    %7.3f (%5.1f%%)\n", static_cast<long long>(e + 1), eager.loss,
        graph.loss, eager.seconds, 100 * eager.comm_seconds / eager.seconds, graph.seconds,
        100 * graph.comm_seconds / graph.seconds);
    if (writer) {
      writer->add_scalar("loss/eager", eager.loss, e + 1);
      writer->add_scalar("loss/graph", graph.loss, e + 1);
    }
  }
  graph_model->copy_from(*graph_run.session);
  const dist::CommStats stats = dist::comm_stats();
  say("   all-reduces so far: %lld calls, %.2f MB sent per rank (2·S·(N−1)/N each), %.3f s inside them\n\n",
      static_cast<long long>(stats.calls), stats.bytes_sent / 1e6, stats.seconds);

  // ---- 3. rank 0 alone evaluates, saves and logs ---------------------------------------------------
  if (dist::is_root()) {
    const Tensor x_test = inputs(test.images, o.model), y_test = test.labels;
    const auto [eager_loss, eager_acc] = evaluate(*eager_model, x_test, y_test);
    const auto [graph_loss, graph_acc] = evaluate(*graph_model, x_test, y_test);
    std::printf("3. Test set (rank 0):  eager loss %.4f, accuracy %.2f%%   graph loss %.4f, accuracy %.2f%%\n",
                eager_loss, 100 * eager_acc, graph_loss, 100 * graph_acc);
    if (!o.save.empty()) {
      const std::filesystem::path parent = std::filesystem::path(o.save).parent_path();
      if (!parent.empty()) std::filesystem::create_directories(parent);
      eager_model->state_dict().save(o.save);  // if dist.get_rank() == 0: torch.save(model.state_dict(), f)
      std::ofstream(o.save + ".loss") << std::to_string(eager_loss) << "\n";  // for the one-process check
      std::printf("   rank 0 saved the eager model to %s (it loads in one process: StateDict::load)\n", o.save.c_str());
    }
    if (writer) std::printf("   rank 0 logged the epoch losses to %s\n", o.logdir.c_str());
  }
  dist::barrier();
  say("\nWhat differed: nothing in the numbers — eager and graph mode average the same gradients. Eager\n"
      "mode reduces after backward(), in buckets it packs itself (dist::all_reduce_gradients); graph mode\n"
      "reduces inside Session::run, in one fused allreduce_mean node before the update nodes. PyTorch's DDP\n"
      "would overlap its buckets with backward; Horovod would fuse ready tensors every few milliseconds.\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)  // --help: the usage, once, before any rank starts (not an error)
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
      std::printf("%s\n", kUsage);
      return 0;
    }
  return dist::run(argc, argv, [&] { return demo(argc, argv); });  // a throw on any rank ends the job
}
