// tests/test_data_pipeline.cpp — the tf.data way: a chain of transformations over a stream.
//
// The seed article's generator example translated line by line, then each transformation on its
// own: what it yields, in which order, and how shuffle's seed and passes make the order repeat.
//
// Read next: tests/test_data_train.cpp (batches feeding both executors).
#include <catch2/catch.hpp>

#include <set>

#include "core/factories.h"
#include "core/ops.h"
#include "data/pipeline.h"
#include "data/random.h"
#include "data/transforms.h"

using namespace tandem;
using namespace tandem::data;

namespace {

// def tf_data_generator():
//     for i in range(100):
//         yield (i, i * 2)
ExampleStream tf_data_generator() {
  return [i = int64_t{0}]() mutable -> std::optional<Example> {
    if (i >= 100) return std::nullopt;
    Example pair{tensor(i), tensor(i * 2)};
    ++i;
    return pair;
  };
}

std::vector<int64_t> firsts(const std::vector<Example>& elements) {
  std::vector<int64_t> v;
  for (const Example& e : elements) {
    const std::vector<int64_t> f = e[0].to_vector<int64_t>();
    v.insert(v.end(), f.begin(), f.end());
  }
  return v;
}

std::vector<int64_t> range(int64_t from, int64_t to) {
  std::vector<int64_t> v;
  for (int64_t i = from; i < to; ++i) v.push_back(i);
  return v;
}

}  // namespace

TEST_CASE("the seed's tf.data.Dataset.from_generator(...).batch(32), line by line", "[data]") {
  // tf_dataset = tf.data.Dataset.from_generator(
  //     tf_data_generator,
  //     output_signature=(tf.TensorSpec(shape=(), dtype=tf.int32),
  //                       tf.TensorSpec(shape=(), dtype=tf.int32)))
  Pipeline tf_dataset = Pipeline::from_generator(tf_data_generator, {TensorSpec{kInt64, {}}, TensorSpec{kInt64, {}}});
  // tf_dataset = tf_dataset.batch(32)
  tf_dataset = tf_dataset.batch(32);
  // for tf_batch in tf_dataset.take(1): print("TensorFlow batch:", tf_batch)
  int batches = 0;
  for (const Example& tf_batch : tf_dataset.take(1)) {
    ++batches;
    REQUIRE(tf_batch.size() == 2);
    CHECK(tf_batch[0].to_vector<int64_t>() == range(0, 32));  // ([0, 1, ..., 31],
    CHECK(equal(tf_batch[1], tf_batch[0] * int64_t{2}));      //  [0, 2, ..., 62])
  }
  CHECK(batches == 1);
  // The whole dataset: 100 = 3 x 32 + 4.
  const auto all = tf_dataset.collect();
  REQUIRE(all.size() == 4);
  CHECK(all[3][0].size(0) == 4);
  // A generator that breaks its signature is caught at the element that does.
  auto wrong = Pipeline::from_generator(tf_data_generator, {TensorSpec{kFloat32, {}}, TensorSpec{kInt64, {}}});
  CHECK_THROWS_WITH(wrong.collect(), Catch::Contains("output_signature says [] float32"));
}

TEST_CASE("from_tensor_slices, map, filter, take, repeat and batch compose in order", "[data]") {
  const auto ds = Pipeline::from_tensor_slices({arange(10), arange(10) * 10});
  CHECK(firsts(ds.collect()) == range(0, 10));
  // map: (x, y) -> (x + 1, y); filter: keep even x; take(3) of those.
  const auto mapped = ds.map([](const Example& e) { return Example{e[0] + int64_t{1}, e[1]}; })
                          .filter([](const Example& e) { return e[0].item<int64_t>() % 2 == 0; })
                          .take(3);
  const auto out = mapped.collect();
  CHECK(firsts(out) == std::vector<int64_t>{2, 4, 6});
  CHECK(out[0][1].item<int64_t>() == 10);  // the second field travelled with the first
  // repeat(2).batch(4, drop_remainder): 20 elements -> 5 batches of 4.
  const auto batched = ds.repeat(2).batch(4, /*drop_remainder=*/true).collect();
  CHECK(batched.size() == 5);
  CHECK(batched[2][0].to_vector<int64_t>() == std::vector<int64_t>{8, 9, 0, 1});  // across the seam
  CHECK(ds.batch(4, true).collect().size() == 2);  // 10 -> two full batches, 2 dropped
  CHECK(ds.take(0).collect().empty());
  // repeat() forever, cut by take.
  CHECK(ds.repeat().take(25).collect().size() == 25);
  // An empty pipeline repeated forever is still empty (it does not spin).
  CHECK(ds.filter([](const Example&) { return false; }).repeat().collect().empty());
  CHECK_THROWS_WITH(Pipeline::from_tensor_slices({zeros({3}), zeros({4})}), Catch::Contains("same first dimension"));
  CHECK_THROWS_WITH(ds.batch(0), Catch::Contains("batch_size must be >= 1"));
}

TEST_CASE("shuffle(buffer, seed): a seeded order per pass, uniform with a full buffer", "[data]") {
  const auto ds = Pipeline::from_tensor_slices({arange(30)});
  const auto shuffled = ds.shuffle(30, 9);
  const auto p0 = firsts(shuffled.collect(0)), p1 = firsts(shuffled.collect(1));
  std::vector<int64_t> sorted = p0;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == range(0, 30));
  CHECK(p0 != range(0, 30));
  CHECK(p0 != p1);                                  // each pass reshuffles
  CHECK(firsts(ds.shuffle(30, 9).collect(0)) == p0);  // the same seed and pass: the same order
  CHECK(firsts(ds.shuffle(30, 10).collect(0)) != p0);

  // Passes count with each `for`; set_epoch resumes at a pass.
  auto counted = ds.shuffle(30, 9);
  std::vector<int64_t> first_for, second_for;
  for (const Example& e : counted) first_for.push_back(e[0].item<int64_t>());
  for (const Example& e : counted) second_for.push_back(e[0].item<int64_t>());
  CHECK(first_for == p0);
  CHECK(second_for == p1);
  counted.set_epoch(1);
  std::vector<int64_t> resumed;
  for (const Example& e : counted) resumed.push_back(e[0].item<int64_t>());
  CHECK(resumed == p1);

  // A small buffer only moves elements locally: the first element out is one of the first 3.
  const auto local = firsts(ds.shuffle(3, 1).collect());
  CHECK(local[0] < 3);
  sorted = local;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == range(0, 30));
  // repeat after shuffle reshuffles every round.
  const auto twice = firsts(ds.shuffle(30, 9).repeat(2).collect());
  CHECK(std::vector<int64_t>(twice.begin(), twice.begin() + 30) == p0);
  CHECK(std::vector<int64_t>(twice.begin() + 30, twice.end()) != p0);
}

TEST_CASE("prefetch runs the stages before it on a thread, in the same order", "[data][threads]") {
  const auto ds = Pipeline::from_generator(tf_data_generator).shuffle(50, 3).map([](const Example& e) {
    return Example{e[0] * int64_t{3}, e[1]};
  });
  const auto plain = firsts(ds.batch(8).collect(0));
  CHECK(firsts(ds.batch(8).prefetch(2).collect(0)) == plain);
  CHECK(firsts(ds.prefetch(1).batch(8).prefetch(4).collect(0)) == plain);
  // Leaving early stops the thread (the stream's destructor joins it).
  for (int i = 0; i < 10; ++i)
    for (const Example& e : ds.prefetch(2)) {
      CHECK(e.size() == 2);
      break;
    }
  // An error upstream arrives where its element would have.
  const auto faulty = Pipeline::from_tensor_slices({arange(10)}).map([](const Example& e) {
    if (e[0].item<int64_t>() == 6) throw Error("element 6 is broken");
    return e;
  });
  std::vector<int64_t> got;
  auto consume = [&] {
    for (const Example& e : faulty.prefetch(3)) got.push_back(e[0].item<int64_t>());
  };
  CHECK_THROWS_WITH(consume(), "element 6 is broken");
  CHECK(got == range(0, 6));
}

TEST_CASE("from_dataset: a map-style Dataset as a pipeline source, random transforms seeded per pass",
          "[data]") {
  // Example i: a 1 x 1 x 2 strip [i, -i], flipped at random (RandomHorizontalFlip draws from
  // example_generator(), which the pipeline seeds per (pass, index)).
  class Strips : public Dataset {
   public:
    int64_t size() const override { return 40; }
    Example get(int64_t i) const override {
      return {transforms::RandomHorizontalFlip()(tensor({i, -i}).reshape({1, 1, 2})), tensor(i)};
    }
  };
  const auto ds = Pipeline::from_dataset(share(Strips())).batch(40);
  const Example pass0 = ds.collect(0)[0], again = ds.collect(0)[0], pass1 = ds.collect(1)[0];
  CHECK(equal(pass0[1], arange(40)));       // index order
  CHECK(equal(pass0[0], again[0]));         // the same pass draws the same flips
  CHECK(!equal(pass0[0], pass1[0]));        // another pass, other flips
  const Tensor firsts = pass0[0].select(3, 0).flatten();
  const int64_t flipped = (firsts < int64_t{0}).to(kInt64).sum().item<int64_t>();
  CHECK(flipped > 8);  // about half of the 39 non-zero strips
  CHECK(flipped < 31);
  CHECK_THROWS_WITH(Pipeline::from_dataset(nullptr), Catch::Contains("null"));
}
