// data/pipeline.h — the tf.data way: a dataset is a chain of transformations.
//
//     auto ds = data::Pipeline::from_tensor_slices({images, labels})   // tf.data.Dataset.from_tensor_slices
//                   .shuffle(10000, /*seed=*/0)                         //   .shuffle(10000, seed=0)
//                   .map(normalize)                                     //   .map(normalize)
//                   .batch(32)                                          //   .batch(32)
//                   .prefetch(2);                                       //   .prefetch(2)
//     for (const data::Example& batch : ds) ...                         // for batch in ds: ...
//
// Where PyTorch separates the Dataset (what) from the DataLoader (how), tf.data has one object and
// every method returns a new, longer pipeline. Nothing runs when the chain is built: iterating
// makes a *stream* (data/dataset.h's ExampleStream, a function that returns the next element or
// nothing) for each stage, each pulling from the one before — lazily, one element at a time:
//
//     from_tensor_slices ──► shuffle ──► map ──► batch ──► prefetch ──► your loop
//        (slice i)        (a buffer of    (f(e))  (stack   (a thread that
//                          10000, draw            32)       keeps 2 ready)
//                          one at random)
//
// shuffle(buffer_size, seed) is TF's: it fills a buffer with the first buffer_size elements, then
// repeatedly hands out a random one of the buffer and puts the next element in its place. With a
// buffer as large as the dataset that is a uniform shuffle; with a smaller one, elements move
// at most about buffer_size places — cheap for streams that do not fit in memory. Each pass over
// the pipeline (each `for`, each repetition of repeat()) reshuffles, seeded mix(seed, pass), as
// TF's reshuffle_each_iteration: reproducible on every run, and set_epoch(e) resumes at pass e.
//
// Batches feed eager tensors directly, and graph placeholders through Session::run's feeds:
//     sess.run({loss, train_op}, {{x, batch[0]}, {y, batch[1]}});
//
// Read next: data/transforms.h (what map usually applies to images).
#pragma once

#include <atomic>
#include <functional>
#include <iterator>
#include <memory>
#include <vector>

#include "data/dataset.h"

namespace tandem::data {

// tf.TensorSpec: what each field of an element must be. Dimensions of -1 are free ("None").
struct TensorSpec {
  DType dtype = kFloat32;
  Shape shape{};
};

class Pipeline {
 public:
  // ---- sources ---------------------------------------------------------------------------------
  // Element i is {t[i] for t in tensors}; all must share their first dimension.
  static Pipeline from_tensor_slices(Example tensors);
  // `generator` is called at the start of every pass and returns a fresh stream (Python calls the
  // generator function anew). With a signature, every element is checked against it.
  static Pipeline from_generator(std::function<ExampleStream()> generator,
                                 std::vector<TensorSpec> output_signature = {});
  // A map-style Dataset's examples in index order; random transforms in get() are seeded per
  // (pass, index), as in a DataLoader.
  static Pipeline from_dataset(DatasetPtr dataset);

  // ---- transformations (each returns a new pipeline; this one is unchanged) ----------------------
  Pipeline map(std::function<Example(const Example&)> f) const;
  Pipeline filter(std::function<bool(const Example&)> predicate) const;
  Pipeline shuffle(int64_t buffer_size, uint64_t seed) const;
  // Stacks batch_size consecutive elements (field by field, data::collate). The last batch may be
  // short, unless drop_remainder.
  Pipeline batch(int64_t batch_size, bool drop_remainder = false) const;
  Pipeline repeat(int64_t count = -1) const;  // -1: forever
  Pipeline take(int64_t count) const;         // the first `count` elements
  // A background thread runs the stages before it, keeping up to buffer_size elements ready.
  Pipeline prefetch(int64_t buffer_size) const;

  // ---- iteration ---------------------------------------------------------------------------------
  // A stream for pass `pass` (the seed of every shuffle in it).
  ExampleStream stream(int64_t pass) const;
  // Every `for` is a new pass; set_epoch(e) makes the next one pass e (resuming). Copies of a
  // pipeline share the counter.
  void set_epoch(int64_t pass) { passes_->store(pass); }
  int64_t epoch() const { return passes_->load(); }

  class Iterator {
   public:
    using value_type = Example;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    explicit Iterator(ExampleStream stream) : stream_(std::move(stream)) { ++*this; }
    const Example& operator*() const { return current_; }
    const Example* operator->() const { return &current_; }
    Iterator& operator++();
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const { return done_; }

   private:
    ExampleStream stream_;
    Example current_;
    bool done_ = false;
  };
  Iterator begin() const { return Iterator(stream(passes_->fetch_add(1))); }
  std::default_sentinel_t end() const { return {}; }

  // All elements of one pass, in order (small pipelines and tests).
  std::vector<Example> collect(int64_t pass = 0) const;

 private:
  using MakeStream = std::function<ExampleStream(int64_t pass)>;
  explicit Pipeline(MakeStream make) : make_(std::move(make)) {}
  Pipeline then(MakeStream make) const;  // a new stage, sharing the pass counter

  MakeStream make_;
  std::shared_ptr<std::atomic<int64_t>> passes_ = std::make_shared<std::atomic<int64_t>>(0);
};

}  // namespace tandem::data
