// tests/test_data_loader.cpp — PyTorch's way of loading data: Dataset, DataLoader, random_split.
//
// What a reader learns here: how a Dataset is written (size + get), what a DataLoader does with
// it (order, batches, drop_last, shuffle), and the three promises of data/random.h — the same
// seed gives the same batches on every run, set_epoch resumes, and worker threads change the
// speed but never the batches. Expected values are worked out in the comments.
//
// Read next: tests/test_data_pipeline.cpp (the tf.data way).
#include <catch2/catch.hpp>

#include <atomic>
#include <numeric>
#include <set>
#include <thread>

#include "core/factories.h"
#include "core/ops.h"
#include "data/dataloader.h"
#include "data/random.h"
#include "data/transforms.h"

using namespace tandem;
using namespace tandem::data;

namespace {

// The seed article's CustomDataset: example i is the pair (i, 2i) as one tensor.
//   class CustomDataset(Dataset):
//       def __init__(self): self.data = [(i, i * 2) for i in range(100)]
//       def __len__(self): return len(self.data)
//       def __getitem__(self, idx): return torch.tensor(self.data[idx])
class CustomDataset : public Dataset {
 public:
  int64_t size() const override { return 100; }
  Example get(int64_t i) const override {
    check_index(i, "CustomDataset");
    return {tensor({i, i * 2})};
  }
};

// Example i is {i, a random number}: the number comes from example_generator(), as a random
// transform's would.
class NoisyDataset : public Dataset {
 public:
  explicit NoisyDataset(int64_t n) : n_(n) {}
  int64_t size() const override { return n_; }
  Example get(int64_t i) const override { return {tensor(i), tensor(example_generator().uniform(), kFloat64)}; }

 private:
  int64_t n_;
};

// Every batch of one epoch, as vectors of doubles (field 0 only unless `field` says).
std::vector<std::vector<double>> epoch_values(DataLoader& loader, size_t field = 0) {
  std::vector<std::vector<double>> out;
  for (const Example& batch : loader) out.push_back(batch[field].to_vector<double>());
  return out;
}

std::vector<double> iota(int64_t from, int64_t to) {
  std::vector<double> v;
  for (int64_t i = from; i < to; ++i) v.push_back(static_cast<double>(i));
  return v;
}

}  // namespace

TEST_CASE("the seed's CustomDataset and DataLoader(batch_size=32, shuffle=True)", "[data]") {
  // torch_dataloader = DataLoader(torch_dataset, batch_size=32, shuffle=True)
  DataLoader loader(CustomDataset(), {.batch_size = 32, .shuffle = true});
  REQUIRE(loader.size() == 4);  // ceil(100 / 32): 32, 32, 32 and a last batch of 4
  std::vector<int64_t> sizes;
  std::set<int64_t> seen;
  for (const Example& batch : loader) {  // for torch_batch in torch_dataloader:
    REQUIRE(batch.size() == 1);
    REQUIRE(batch[0].dim() == 2);
    REQUIRE(batch[0].size(1) == 2);
    sizes.push_back(batch[0].size(0));
    for (int64_t r = 0; r < batch[0].size(0); ++r) {
      const int64_t i = batch[0].at<int64_t>({r, 0});
      CHECK(batch[0].at<int64_t>({r, 1}) == 2 * i);  // rows are still (i, 2i)
      seen.insert(i);
    }
  }
  CHECK(sizes == std::vector<int64_t>{32, 32, 32, 4});
  CHECK(seen.size() == 100);  // every example exactly once
}

TEST_CASE("DataLoader without shuffle: batches in index order, the last one short or dropped", "[data]") {
  auto ds = std::make_shared<TensorDataset>(Example{arange(10), arange(10) * 10});
  DataLoader keep(ds, {.batch_size = 4});
  auto batches = epoch_values(keep);
  REQUIRE(batches.size() == 3);
  CHECK(batches[0] == iota(0, 4));
  CHECK(batches[2] == iota(8, 10));  // 10 = 4 + 4 + 2
  DataLoader drop(ds, {.batch_size = 4, .drop_last = true});
  CHECK(drop.size() == 2);
  CHECK(epoch_values(drop).size() == 2);
  // The second field is batched beside the first.
  for (const Example& b : keep) CHECK(allclose(b[1], b[0] * 10));
  // A batch is gathered with one memcpy per example from a contiguous tensor, with index_select
  // from any other: the same values either way.
  const Tensor grid = arange(30).reshape({3, 10}).t();  // [10, 3], not contiguous
  REQUIRE(!grid.is_contiguous());
  const std::vector<int64_t> picks{7, 2, 2, 9};
  CHECK(equal(gather_rows(grid, picks), gather_rows(grid.contiguous(), picks)));
  CHECK(gather_rows(grid, picks).to_vector<int64_t>() == std::vector<int64_t>{7, 17, 27, 2, 12, 22, 2, 12, 22, 9, 19, 29});
}

TEST_CASE("shuffle: a permutation per epoch, the same on every run, resumable by set_epoch", "[data]") {
  auto ds = std::make_shared<TensorDataset>(Example{arange(50)});
  DataLoader a(ds, {.batch_size = 50, .shuffle = true, .seed = 7});
  const auto e0 = epoch_values(a)[0], e1 = epoch_values(a)[0], e2 = epoch_values(a)[0];
  std::vector<double> sorted = e0;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == iota(0, 50));  // a permutation of 0..49
  CHECK(e0 != iota(0, 50));      // (the identity has probability 1/50!)
  CHECK(e0 != e1);               // a new order every epoch
  CHECK(e1 != e2);

  // Another loader, same seed: the same sequence of orders (a second run of the program).
  DataLoader b(ds, {.batch_size = 50, .shuffle = true, .seed = 7});
  CHECK(epoch_values(b)[0] == e0);
  // Resuming at epoch 2 (a checkpoint saved after epochs 0 and 1): epoch 2's order, no replay.
  DataLoader resumed(ds, {.batch_size = 50, .shuffle = true, .seed = 7});
  resumed.set_epoch(2);
  CHECK(resumed.epoch() == 2);
  CHECK(epoch_values(resumed)[0] == e2);
  CHECK(resumed.epoch() == 3);
  // order(e) tells the indices without loading anything.
  std::vector<double> order2;
  for (int64_t i : resumed.order(2)) order2.push_back(static_cast<double>(i));
  CHECK(order2 == e2);
  // Another seed, another order.
  DataLoader c(ds, {.batch_size = 50, .shuffle = true, .seed = 8});
  CHECK(epoch_values(c)[0] != e0);
  CHECK_THROWS_WITH(c.set_epoch(-1), Catch::Contains("epochs count from 0"));
}

TEST_CASE("randperm and random_split are seeded and disjoint", "[data]") {
  Generator g(3);
  const Tensor p = randperm(6, g);
  CHECK(p.dtype() == kInt64);
  std::vector<int64_t> v = p.to_vector<int64_t>();
  std::sort(v.begin(), v.end());
  CHECK(v == std::vector<int64_t>{0, 1, 2, 3, 4, 5});
  CHECK(equal(randperm(6, uint64_t{3}), p));  // same seed, same permutation
  CHECK(randperm(0, g).numel() == 0);
  CHECK_THROWS_WITH(randperm(-1, g), Catch::Contains("randperm"));

  auto ds = std::make_shared<TensorDataset>(Example{arange(10)});
  auto parts = random_split(ds, {7, 3}, 42);
  REQUIRE(parts.size() == 2);
  CHECK(parts[0]->size() == 7);
  CHECK(parts[1]->size() == 3);
  std::set<int64_t> all;
  for (const auto& part : parts)
    for (int64_t i = 0; i < part->size(); ++i) all.insert(part->get(i)[0].item<int64_t>());
  CHECK(all.size() == 10);  // disjoint, and together the whole set
  auto again = random_split(ds, {7, 3}, 42);
  CHECK(again[1]->indices() == parts[1]->indices());
  CHECK_THROWS_WITH(random_split(ds, {7, 4}, 0), Catch::Contains("add up to 11") && Catch::Contains("10 examples"));
}

TEST_CASE("Subset and ConcatDataset index into the datasets they wrap", "[data]") {
  auto a = std::make_shared<TensorDataset>(Example{arange(3)});        // 0 1 2
  auto b = std::make_shared<TensorDataset>(Example{arange(10, 14)});   // 10 11 12 13
  ConcatDataset both({a, b});
  CHECK(both.size() == 7);
  CHECK(both.get(2)[0].item<int64_t>() == 2);
  CHECK(both.get(3)[0].item<int64_t>() == 10);  // the first of b
  CHECK(both.get(6)[0].item<int64_t>() == 13);
  CHECK_THROWS_AS(both.get(7), IndexError);
  Subset odd(b, {1, 3});
  CHECK(odd.get(1)[0].item<int64_t>() == 13);
  // A Subset of a TensorDataset batches with the TensorDataset's gather.
  DataLoader loader(share(odd), {.batch_size = 2});
  CHECK(epoch_values(loader)[0] == std::vector<double>{11, 13});
  CHECK_THROWS_AS(Subset(b, {4}), IndexError);
}

TEST_CASE("collate stacks each field, and names the field when examples disagree", "[data]") {
  const Example batch = collate({{tensor({1., 2.}), tensor(int64_t{0})}, {tensor({3., 4.}), tensor(int64_t{1})}});
  REQUIRE(batch.size() == 2);
  CHECK(batch[0].shape() == Shape{2, 2});
  CHECK(batch[1].shape() == Shape{2});  // 0-dim labels become a [batch] vector
  CHECK(batch[1].dtype() == kInt64);
  CHECK_THROWS_WITH(collate({{tensor({1., 2.})}, {tensor({1., 2., 3.})}}),
                    Catch::Contains("field 0 is [2]") && Catch::Contains("[3] float32 in example 1"));
  CHECK_THROWS_WITH(collate({{tensor(1.)}, {tensor(1.), tensor(2.)}}), Catch::Contains("has 2 fields"));
  // A collate of one's own: pad to the longest (what a text batch of unequal lengths needs).
  class Ragged : public Dataset {
   public:
    int64_t size() const override { return 3; }
    Example get(int64_t i) const override { return {ones({i + 1})}; }
  };
  auto pad_collate = [](const std::vector<Example>& examples) {
    int64_t longest = 0;
    for (const Example& e : examples) longest = std::max(longest, e[0].size(0));
    std::vector<Tensor> rows;
    for (const Example& e : examples) rows.push_back(cat({e[0], zeros({longest - e[0].size(0)})}));
    return Example{stack(rows)};
  };
  DataLoader loader(Ragged(), {.batch_size = 3, .collate = pad_collate});
  const Example padded = *loader.begin();
  CHECK(padded[0].sum().item() == 6);  // 1 + 2 + 3 ones
  CHECK(padded[0].shape() == Shape{3, 3});
}

TEST_CASE("TensorDataset and DataLoader check what they are given", "[data]") {
  CHECK_THROWS_WITH(TensorDataset({zeros({3, 2}), zeros({4})}), Catch::Contains("size mismatch") && Catch::Contains("[4]"));
  auto ds = std::make_shared<TensorDataset>(Example{arange(4)});
  CHECK_THROWS_WITH(DataLoader(ds, {.batch_size = 0}), Catch::Contains("batch_size must be >= 1"));
  CHECK_THROWS_WITH(DataLoader(ds, {.num_workers = -1}), Catch::Contains("num_workers"));
  CHECK_THROWS_WITH(DataLoader(ds, {.device = Device::cuda()}), Catch::Contains("no GPU is available"));
  CHECK_THROWS_AS(ds->get(4), IndexError);
}

TEST_CASE("pin_memory without a GPU changes nothing", "[data]") {
  auto ds = std::make_shared<TensorDataset>(Example{arange(4)});
  DataLoader loader(ds, {.batch_size = 2, .num_workers = 1, .pin_memory = true});
  for (const Example& b : loader) CHECK(b[0].device().is_cpu());
}

TEST_CASE("workers give the same batches as no workers, shuffled, with random transforms", "[data][threads]") {
  auto ds = std::make_shared<NoisyDataset>(103);
  auto run = [&](int workers, int64_t epoch) {
    DataLoader loader(ds, {.batch_size = 8, .shuffle = true, .num_workers = workers, .seed = 5});
    loader.set_epoch(epoch);
    auto indices = epoch_values(loader, 0);
    loader.set_epoch(epoch);
    auto noise = epoch_values(loader, 1);
    return std::pair{indices, noise};
  };
  const auto serial = run(0, 1);
  REQUIRE(serial.first.size() == 13);  // 12 batches of 8 and one of 7
  for (int workers : {1, 2, 4}) {
    INFO("num_workers = " << workers);
    const auto parallel = run(workers, 1);
    CHECK(parallel.first == serial.first);    // same order
    CHECK(parallel.second == serial.second);  // same random draws, example by example
  }
  // The random numbers belong to (epoch, example): another epoch draws others for example 0.
  CHECK(run(0, 2).second != serial.second);
}

TEST_CASE("a worker's exception reaches the loop at its batch, and early exits join the workers",
          "[data][threads]") {
  class Faulty : public Dataset {
   public:
    int64_t size() const override { return 40; }
    Example get(int64_t i) const override {
      if (i == 21) throw Error("example 21 is broken");
      return {tensor(i)};
    }
  };
  for (int workers : {0, 3}) {
    INFO("num_workers = " << workers);
    DataLoader loader(Faulty(), {.batch_size = 4, .num_workers = workers});
    int64_t reached = 0;
    auto consume = [&] {
      for (const Example& b : loader) reached += b[0].size(0);
    };
    CHECK_THROWS_WITH(consume(), "example 21 is broken");
    CHECK(reached == 20);  // batches 0-4 arrived; batch 5 (examples 20-23) carried the error
  }
  // Leaving after one batch: the run's destructor stops and joins its workers.
  DataLoader loader(CustomDataset(), {.batch_size = 2, .num_workers = 2, .prefetch_factor = 1});
  for (int i = 0; i < 20; ++i)
    for (const Example& b : loader) {
      CHECK(b[0].size(0) == 2);
      break;
    }
}

TEST_CASE("an IterableDataset streams in order, with or without a worker", "[data][threads]") {
  // Counts 0..n-1, like a generator function; a fresh stream each epoch.
  class Counter : public IterableDataset {
   public:
    ExampleStream stream() const override {
      return [i = int64_t{0}]() mutable -> std::optional<Example> {
        if (i >= 10) return std::nullopt;
        return Example{tensor(i++)};
      };
    }
  };
  auto counter = std::make_shared<Counter>();
  for (int workers : {0, 1, 3}) {
    DataLoader loader(IterableDatasetPtr(counter), {.batch_size = 4, .num_workers = workers});
    auto batches = epoch_values(loader);
    REQUIRE(batches.size() == 3);
    CHECK(batches[2] == iota(8, 10));
    CHECK(epoch_values(loader).size() == 3);  // the next epoch starts a fresh stream
  }
  DataLoader dropped(IterableDatasetPtr(counter), {.batch_size = 4, .drop_last = true});
  CHECK(epoch_values(dropped).size() == 2);
  CHECK_THROWS_WITH(DataLoader(IterableDatasetPtr(counter), {.shuffle = true}), Catch::Contains("shuffle needs indices"));
  CHECK_THROWS_WITH(dropped.size(), Catch::Contains("does not know its length"));
}

TEST_CASE("random transforms draw per example, not per thread", "[data][threads]") {
  // RandomHorizontalFlip on example i flips or not according to (seed, epoch, i) only.
  class Strips : public Dataset {
   public:
    int64_t size() const override { return 64; }
    Example get(int64_t) const override { return {transforms::RandomHorizontalFlip()(arange(4).reshape({1, 1, 4}))}; }
  };
  auto flips = [](int workers) {
    DataLoader loader(Strips(), {.batch_size = 64, .num_workers = workers, .seed = 1});
    const Tensor first = (*loader.begin())[0].select(3, 0).flatten();  // 0: kept, 3: flipped
    return first.to_vector<int64_t>();
  };
  const auto serial = flips(0);
  const auto n_flipped = std::count(serial.begin(), serial.end(), 3);
  CHECK(n_flipped > 16);  // about half of 64 (binomial: 16..48 holds with probability > 0.9999)
  CHECK(n_flipped < 48);
  CHECK(flips(2) == serial);
}
