// bench/bench_resnet_eval.cpp — the ResNet of bench_resnet_epoch in evaluation: a batch of 64
// images in, logits out, in eager mode and as a frozen graph (io::freeze, then a Session with every
// pass): the inference a deployed model runs (examples/04_freeze_and_deploy.cpp).
//   eager    model->eval(), no_grad, model(x)
//   graph    the frozen evaluation graph, read back from its file format, one Session::run per batch
// 3 warm-up runs, then --steps timed runs (default 60); the median time per batch. The two modes'
// logits are checked against each other first.
//
//   usage: bench_resnet_eval [--threads N (2)] [--steps N (60)]
//   Twin: bench/bench_resnet_eval.py (PyTorch: model.eval(), torch.no_grad()).
#include <cstdio>

#include "bench/epoch_data.h"
#include "io/graph_file.h"
#include "tests/seed_models.h"

using namespace tandem;
namespace g = tandem::graph;

namespace {

constexpr int64_t kBatch = 64;

}  // namespace

int main(int argc, char** argv) {
  bench::EpochArgs args;
  args.steps = 60;
  if (!bench::parse_epoch_args(argc, argv, args)) return 2;
  try {
    std::printf("# Tandem ResNet 16-32-64 in evaluation, batch %lld, %d threads, %lld runs timed\n",
                static_cast<long long>(kBatch), get_num_threads(), static_cast<long long>(args.steps));
    manual_seed(0);
    seeds::ResNet model;
    model->eval();
    const Tensor x = randn({kBatch, 1, 28, 28});

    g::Graph graph;
    io::FrozenGraph frozen;
    {
      g::DefaultGraph use(graph);
      const g::Output input = g::placeholder(kFloat32, {-1, 1, 28, 28}, "x");
      const g::Output logits = model(input);
      g::Session session(graph);
      session.run(g::global_variables_initializer(graph));
      frozen = io::freeze(session, {logits});
    }
    const io::FrozenGraph loaded = io::parse_graph(io::serialize_graph(frozen));
    g::Session session(*loaded.graph);
    auto run_graph = [&] { return session.run(loaded.outputs[0], {{loaded.input("x"), x}}); };

    no_grad eval_only;
    const Tensor eager = model(x), from_graph = run_graph();
    const double scale = eager.abs().max().item(), diff = (from_graph - eager).abs().max().item();
    std::printf("# logits: graph and eager within %.1e of the largest (%.2f)\n", diff / scale, scale);
    if (!(diff <= 1e-4 * scale)) {
      std::fprintf(stderr, "bench_resnet_eval: the graph's logits differ from eager mode's by %g\n", diff);
      return 1;
    }
    auto report = [&](const char* mode, auto f) {
      const bench::Timing t = bench::time_steps(3, args.steps, [&](int64_t) { (void)f(); });
      std::printf("RESULT resnet_eval_%s %.3f ms\n", mode, t.wall_ms);
    };
    report("eager", [&] { return model(x); });
    report("graph", run_graph);
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
