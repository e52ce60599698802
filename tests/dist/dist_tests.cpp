// tests/dist/dist_tests.cpp — data-parallel training checked under mpirun (cmake/TandemDistTests.cmake).
//
// Every rank runs every test case, in the same order, so their collectives meet. The checks are
// CHECKs, not REQUIREs, where a collective follows: a rank that left a test case early would leave
// the others waiting. At the end the ranks agree on failure (the worst exit code of any rank).
//
// What is checked, with N = 2 and N = 4 ranks:
//   - the ring all-reduce equals MPI_Allreduce: odd sizes, sizes below N, float32 and float64;
//   - DistributedSampler deals out one shared order, padded, each index to one rank;
//   - broadcast makes every rank's model rank 0's;
//   - after k steps, N ranks with batches of B hold the weights of ONE process that trained on
//     the concatenated batches of B·N — eager (all_reduce_gradients, any bucket size, both
//     algorithms) and graph mode (DistributedOptimizer) — to summation-order tolerance;
//   - hidden "[.dist-throws]": a rank that throws ends the job (tests/dist/expect_abort.sh).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "dist/all_reduce.h"
#include "dist/data_parallel.h"
#include "dist/dist.h"
#include "dist/distributed_optimizer.h"
#include "dist/sampler.h"
#include "tandem.h"

using namespace tandem;
namespace F = nn::functional;
namespace g = tandem::graph;

namespace {

// Values that differ by rank; `integral` ones are sums any order adds exactly.
template <class T> std::vector<T> rank_values(int64_t n, bool integral) {
  std::vector<T> v(static_cast<size_t>(n));
  Generator gen(1000 + static_cast<uint64_t>(dist::rank()));
  for (int64_t i = 0; i < n; ++i)
    v[static_cast<size_t>(i)] = integral ? static_cast<T>((i % 17) * (dist::rank() + 1) - 8)
                                         : static_cast<T>(gen.normal());
  return v;
}

// Rank 0's copy of `t`, on every rank.
Tensor roots(const Tensor& t) {
  Tensor copy = t.detach().clone();
  dist::broadcast(std::vector<Tensor>{copy}, 0);
  return copy;
}

double max_abs_diff(const Tensor& a, const Tensor& b) { return (a.detach() - b.detach()).abs().max().item(); }

}  // namespace

TEMPLATE_TEST_CASE("the ring all-reduce equals MPI_Allreduce", "[dist][ring]", float, double) {
  const int64_t world = dist::world_size();
  for (int64_t n : {int64_t{0}, int64_t{1}, world - 1, world + 1, int64_t{7}, int64_t{1001}, int64_t{65537}}) {
    for (bool integral : {true, false}) {
      std::vector<TestType> by_ring = rank_values<TestType>(n, integral), by_mpi = by_ring;
      dist::ring_all_reduce(by_ring.data(), n);
      dist::mpi_all_reduce(by_mpi.data(), n);
      INFO("n = " << n << ", world = " << world << (integral ? ", integer values" : ", normal values"));
      // Integers: every order of summation gives the same, exactly. Otherwise, rounding: each sum
      // of N terms of size ~1 may differ by a few units of the last place.
      const double tolerance = integral ? 0 : 8 * world * std::numeric_limits<TestType>::epsilon();
      double worst = 0;
      for (int64_t i = 0; i < n; ++i)
        worst = std::max(worst, std::abs(double(by_ring[size_t(i)]) - double(by_mpi[size_t(i)])));
      CHECK(worst <= tolerance);
      // And the ring leaves every rank the very same bits (the all-gather copies): equal weights stay equal.
      if (n > 0) {
        const Tensor mine = from_vector(std::vector<double>(by_ring.begin(), by_ring.end()), {n});
        CHECK(max_abs_diff(mine, roots(mine)) == 0);
      }
    }
  }
}

TEST_CASE("all_reduce on a tensor: the sum, or the mean, by either algorithm", "[dist][ring]") {
  const double n = dist::world_size(), r = dist::rank();
  for (dist::Algorithm algorithm : {dist::Algorithm::mpi, dist::Algorithm::ring}) {
    Tensor t = full({3, 5}, r + 1);  // ranks hold 1, 2, ..., N
    dist::all_reduce(t, /*average=*/false, algorithm);
    CHECK(t.min().item() == n * (n + 1) / 2);
    Tensor view = full({4, 6}, r + 1, kFloat64).t();  // a strided view: reduced through a copy
    dist::all_reduce(view, /*average=*/true, algorithm);
    CHECK(view.max().item() == (n + 1) / 2);
    CHECK(view.min().item() == (n + 1) / 2);
  }
  CHECK_THROWS_WITH(dist::parse_algorithm("tree"), Catch::Contains("use \"ring\""));
  Tensor labels = zeros({3}, kInt64);
  CHECK_THROWS_WITH(dist::all_reduce(labels), Catch::Contains("float32 or float64"));
}

TEST_CASE("DistributedSampler: one shared order, padded to a multiple of N, dealt out", "[dist][sampler]") {
  for (int replicas : {1, 2, 3, 4}) {
    for (int64_t n : {int64_t{10}, int64_t{7}, int64_t{3}}) {
      std::multiset<int64_t> seen;
      size_t per_rank = 0;
      for (int r = 0; r < replicas; ++r) {
        dist::DistributedSampler sampler(n, {.num_replicas = replicas, .rank = r, .shuffle = true, .seed = 5});
        const std::vector<int64_t> mine = sampler.indices(/*epoch=*/2);
        if (r == 0) per_rank = mine.size();
        CHECK(mine.size() == per_rank);  // every rank takes as many steps
        CHECK(int64_t(mine.size()) == (n + replicas - 1) / replicas);
        seen.insert(mine.begin(), mine.end());
      }
      INFO("n = " << n << ", replicas = " << replicas);
      for (int64_t i = 0; i < n; ++i) CHECK(seen.count(i) >= 1);  // every example is seen...
      CHECK(int64_t(seen.size()) - n < replicas);                  // ...and fewer than N twice (padding)
    }
  }
  // The shared order is DataLoader's shuffled order for that epoch: rank r takes every N-th, and
  // 10 examples for 3 ranks are padded to 12 with the order's first two (positions 10, 11 -> 0, 1).
  data::DataLoader loader(data::share(data::TensorDataset({arange(10)})), {.batch_size = 1, .shuffle = true, .seed = 5});
  const std::vector<int64_t> order = loader.order(3);
  dist::DistributedSampler second(10, {.num_replicas = 3, .rank = 1, .shuffle = true, .seed = 5});
  CHECK(second.indices(3) == std::vector<int64_t>{order[1], order[4], order[7], order[0]});
  CHECK(second.indices(3) != second.indices(4));  // a new order each epoch
  dist::DistributedSampler dropping(10, {.num_replicas = 3, .rank = 0, .shuffle = false, .drop_last = true});
  CHECK(dropping.indices(0) == std::vector<int64_t>{0, 3, 6});
  CHECK_THROWS_WITH(dist::DistributedSampler(10, {.num_replicas = 2, .rank = 2}), Catch::Contains("[0, num_replicas)"));
}

TEST_CASE("broadcast gives every rank rank 0's weights", "[dist][broadcast]") {
  manual_seed(100 + static_cast<uint64_t>(dist::rank()));  // each rank draws different weights
  nn::Sequential model(nn::Linear(6, 4), nn::ReLU(), nn::Linear(4, 3));
  manual_seed(100);
  nn::Sequential rank0(nn::Linear(6, 4), nn::ReLU(), nn::Linear(4, 3));  // what rank 0 drew
  dist::broadcast(*model, 0);
  const StateDict got = model->state_dict(), want = rank0->state_dict();
  for (const auto& [name, tensor] : want) CHECK(max_abs_diff(got.at(name), tensor) == 0);
  // Ranks that built different models are told so (on every rank), instead of corrupting memory.
  nn::Linear odd(dist::rank() == 0 ? 5 : 6, 2);
  if (dist::world_size() > 1) CHECK_THROWS_WITH(dist::broadcast(*odd, 0), Catch::Contains("every rank must build the same model"));
}

// ---- the equality that makes data parallelism correct ---------------------------------------------
namespace {

constexpr int64_t kFeatures = 12, kClasses = 5, kBatch = 4, kSteps = 5;

struct Problem {
  Tensor x, y;  // n = kBatch · N · kSteps examples
};
Problem problem(DType dtype) {
  const int64_t n = kBatch * dist::world_size() * kSteps;
  manual_seed(7);  // the same data on every rank
  const Tensor x = randn({n, kFeatures}, dtype);
  return {x, randint(0, kClasses, {n})};
}

nn::Sequential make_model(DType dtype) {
  manual_seed(3);
  nn::Sequential model(nn::Linear(kFeatures, 16), nn::Tanh(), nn::Linear(16, kClasses));
  model->to(dtype);
  return model;
}

// Positions [from, from + count) of the shared order, as a batch.
std::pair<Tensor, Tensor> rows(const Problem& p, const std::vector<int64_t>& order, int64_t from, int64_t count) {
  const Tensor index = from_vector(std::vector<int64_t>(order.begin() + from, order.begin() + from + count), {count});
  return {index_select(p.x, 0, index), index_select(p.y, 0, index)};
}

// One process, batches of B·N: the reference.
StateDict train_alone(const Problem& p, DType dtype, bool adam) {
  nn::Sequential model = make_model(dtype);
  const std::vector<int64_t> order =
      dist::DistributedSampler(p.y.size(0), {.num_replicas = 1, .rank = 0, .seed = 9}).indices(0);
  optim::SGD sgd(model->parameters(), {.lr = 0.1, .momentum = 0.9});
  optim::Adam adam_opt(model->parameters(), {.lr = 0.01});
  optim::Optimizer& opt = adam ? static_cast<optim::Optimizer&>(adam_opt) : sgd;
  const int64_t global = kBatch * dist::world_size();
  for (int64_t s = 0; s < kSteps; ++s) {
    auto [x, y] = rows(p, order, s * global, global);
    opt.zero_grad();
    F::cross_entropy(model(x), y).backward();
    opt.step();
  }
  return model->state_dict();
}

// N ranks, batches of B each, gradients averaged after backward.
StateDict train_eager(const Problem& p, DType dtype, bool adam, dist::BucketOptions buckets) {
  nn::Sequential model = make_model(dtype);
  dist::broadcast(*model, 0);
  const std::vector<int64_t> mine = dist::DistributedSampler(p.y.size(0), {.seed = 9}).indices(0);
  optim::SGD sgd(model->parameters(), {.lr = 0.1, .momentum = 0.9});
  optim::Adam adam_opt(model->parameters(), {.lr = 0.01});
  optim::Optimizer& opt = adam ? static_cast<optim::Optimizer&>(adam_opt) : sgd;
  for (int64_t s = 0; s < kSteps; ++s) {
    auto [x, y] = rows(p, mine, s * kBatch, kBatch);
    opt.zero_grad();
    F::cross_entropy(model(x), y).backward();
    dist::all_reduce_gradients(*model, buckets);
    opt.step();
  }
  return model->state_dict();
}

// N ranks, graph mode: DistributedOptimizer puts allreduce_mean nodes before the updates.
StateDict train_graph(const Problem& p, DType dtype, bool adam) {
  nn::Sequential model = make_model(dtype);
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(dtype, {-1, kFeatures}, "x"), y = g::placeholder(kInt64, {-1}, "y");
  g::Output loss = F::cross_entropy(model(x), y);
  g::train::MomentumOptimizer momentum(0.1, 0.9);
  g::train::AdamOptimizer adam_opt(0.01);
  dist::DistributedOptimizer opt(adam ? static_cast<const g::train::Optimizer&>(adam_opt) : momentum);
  g::Output train_op = opt.minimize(loss);
  g::Session session(graph);
  session.run(g::global_variables_initializer());
  dist::broadcast(session, model->variables(graph), 0);
  const std::vector<int64_t> mine = dist::DistributedSampler(p.y.size(0), {.seed = 9}).indices(0);
  for (int64_t s = 0; s < kSteps; ++s) {
    auto [xb, yb] = rows(p, mine, s * kBatch, kBatch);
    session.run(train_op, {{x, xb}, {y, yb}});
  }
  model->copy_from(session);
  return model->state_dict();
}

void check_equal(const StateDict& got, const StateDict& want, double tolerance) {
  for (const auto& [name, tensor] : want) {
    INFO(name);
    CHECK(max_abs_diff(got.at(name), tensor) <= tolerance);
    CHECK(max_abs_diff(got.at(name), roots(got.at(name))) == 0);  // and every rank holds the same
  }
}

}  // namespace

TEST_CASE("eager: N ranks x batch B train to the weights of one process x batch B*N", "[dist][eager]") {
  for (DType dtype : {kFloat64, kFloat32}) {
    // Summation order only: in float64 ~1e-15 per step; float32 ~1e-7 per step, grown by 5 steps.
    const double tolerance = dtype == kFloat64 ? 1e-12 : 2e-5;
    const Problem p = problem(dtype);
    for (bool adam : {false, true}) {
      const StateDict alone = train_alone(p, dtype, adam);
      for (dist::Algorithm algorithm : {dist::Algorithm::mpi, dist::Algorithm::ring}) {
        for (int64_t bucket_bytes : {int64_t{25} << 20, int64_t{64}}) {  // one bucket; one per tensor or so
          INFO(to_string(dtype) << (adam ? ", Adam" : ", SGD with momentum") << ", " << dist::to_string(algorithm)
                                << ", buckets of " << bucket_bytes << " bytes");
          check_equal(train_eager(p, dtype, adam, {.bucket_bytes = bucket_bytes, .algorithm = algorithm}), alone, tolerance);
        }
      }
    }
  }
}

TEST_CASE("graph: DistributedOptimizer trains to the weights of one process x batch B*N", "[dist][graph]") {
  for (DType dtype : {kFloat64, kFloat32}) {
    const double tolerance = dtype == kFloat64 ? 1e-12 : 2e-5;
    const Problem p = problem(dtype);
    for (bool adam : {false, true}) {
      INFO(to_string(dtype) << (adam ? ", Adam" : ", momentum"));
      for (dist::Algorithm algorithm : {dist::Algorithm::mpi, dist::Algorithm::ring}) {
        dist::set_algorithm(algorithm);
        check_equal(train_graph(p, dtype, adam), train_alone(p, dtype, adam), tolerance);
      }
      dist::set_algorithm(dist::Algorithm::mpi);
    }
  }
}

TEST_CASE("buckets: reverse order, one dtype each, at most bucket_bytes", "[dist][buckets]") {
  nn::Sequential model(nn::Linear(10, 10), nn::Linear(10, 2));  // 100 + 10 + 20 + 2 floats
  const std::vector<dist::Bucket> one = dist::make_buckets(model->parameters(), 25 << 20);
  REQUIRE(one.size() == 1);
  CHECK(one[0].params == std::vector<size_t>{3, 2, 1, 0});  // the last layer's first
  const std::vector<dist::Bucket> small = dist::make_buckets(model->parameters(), 100);  // 25 floats
  REQUIRE(small.size() == 3);
  CHECK(small[0].params == std::vector<size_t>{3, 2});  // 2 + 20 floats fit
  CHECK(small[1].params == std::vector<size_t>{1});
  CHECK(small[2].params == std::vector<size_t>{0});  // 100 floats: a bucket of its own
  // A parameter with no gradient on this step is reduced as zeros, so every rank's buckets agree.
  model->zero_grad();
  F::cross_entropy(model(randn({3, 10})), from_vector(std::vector<int64_t>{0, 1, 0}, {3})).backward();
  model[1]->parameters()[1].set_grad(Tensor());
  dist::all_reduce_gradients(*model);
  CHECK(model[1]->parameters()[1].grad().abs().max().item() == 0);
}

TEST_CASE("a rank that throws ends the whole job (run by tests/dist/expect_abort.sh)", "[.dist-throws]") {
  dist::abort_on_error([] {
    if (dist::rank() == 1) throw Error("rank 1 could not read its batch");
    dist::all_reduce_sum(1.0);  // rank 0 waits here for rank 1, which never comes
  });
}

int main(int argc, char** argv) {
  dist::init(argc, argv);
  int failed = 0;
  dist::abort_on_error([&] { failed = Catch::Session().run(argc, argv); });
  failed = static_cast<int>(dist::all_reduce_max(failed));  // one rank's failure fails the job
  dist::finalize();
  return failed;
}
