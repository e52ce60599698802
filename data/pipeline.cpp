// data/pipeline.cpp — each stage of a Pipeline is a function from the stream before it to a new
// stream. A stage's state (a shuffle buffer, a counter) lives in a small struct owned by its
// stream, so two passes over one pipeline never share state.
#include "data/pipeline.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

#include "data/random.h"

namespace tandem::data {

namespace {

// TF raises when a generator yields something that does not match output_signature; so do we.
void check_signature(const Example& e, const std::vector<TensorSpec>& signature) {
  if (e.size() != signature.size())
    throw Error(msg("Pipeline::from_generator: the generator yielded ", e.size(),
                    " tensors but output_signature has ", signature.size()));
  for (size_t k = 0; k < e.size(); ++k) {
    const TensorSpec& spec = signature[k];
    bool ok = e[k].defined() && e[k].dtype() == spec.dtype && e[k].dim() == static_cast<int64_t>(spec.shape.size());
    for (size_t d = 0; ok && d < spec.shape.size(); ++d)
      ok = spec.shape[d] == -1 || spec.shape[d] == e[k].size(static_cast<int64_t>(d));
    if (!ok)
      throw Error(msg("Pipeline::from_generator: field ", k, " of an element is ",
                      e[k].defined() ? shape_str(e[k].shape()) + " " + to_string(e[k].dtype()) : "undefined",
                      ", but output_signature says ", shape_str(spec.shape), " ", to_string(spec.dtype)));
  }
}

// The thread of a prefetch stage: it pulls from the stream before it into a queue of at most
// `capacity` elements, and the loop pops from the queue. Like a DataLoader's workers, it files an
// exception where the element would have been, and its destructor stops and joins it.
class Prefetcher {
 public:
  Prefetcher(ExampleStream upstream, size_t capacity)
      : upstream_(std::move(upstream)), capacity_(capacity), thread_([this] { run(); }) {}
  ~Prefetcher() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

  std::optional<Example> next() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return !queue_.empty() || ended_; });
    if (queue_.empty()) {  // ended: the stream's end, or an error
      if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
      return std::nullopt;
    }
    Example e = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    changed_.notify_all();
    return e;
  }

 private:
  void run() {
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [&] { return stop_ || queue_.size() < capacity_; });
        if (stop_) return;
      }
      std::optional<Example> e;
      std::exception_ptr error;
      try {
        e = upstream_();
      } catch (...) {
        error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (e) {
          queue_.push_back(std::move(*e));
        } else {
          ended_ = true;
          error_ = error;
        }
      }
      changed_.notify_all();
      if (!e) return;
    }
  }

  ExampleStream upstream_;  // only the thread calls it
  const size_t capacity_;
  std::mutex mutex_;
  std::condition_variable changed_;  // the queue or the flags changed
  std::deque<Example> queue_;
  bool ended_ = false, stop_ = false;
  std::exception_ptr error_;
  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace

// ---- sources ---------------------------------------------------------------------------------------

Pipeline Pipeline::from_tensor_slices(Example tensors) {
  if (tensors.empty()) throw Error("Pipeline::from_tensor_slices: give at least one tensor");
  for (size_t k = 0; k < tensors.size(); ++k)
    if (!tensors[k].defined() || tensors[k].dim() == 0 || tensors[k].size(0) != tensors[0].size(0))
      throw ShapeError(msg("Pipeline::from_tensor_slices: every tensor must have the same first dimension; "
                           "tensor 0 is ", shape_str(tensors[0].shape()), ", tensor ", k, " is ",
                           tensors[k].defined() ? shape_str(tensors[k].shape()) : "undefined"));
  const int64_t n = tensors[0].size(0);
  return Pipeline([tensors, n](int64_t) -> ExampleStream {
    return [tensors, n, i = int64_t{0}]() mutable -> std::optional<Example> {
      if (i >= n) return std::nullopt;
      Example e;
      for (const Tensor& t : tensors) e.push_back(t.select(0, i));
      ++i;
      return e;
    };
  });
}

Pipeline Pipeline::from_generator(std::function<ExampleStream()> generator, std::vector<TensorSpec> signature) {
  if (!generator) throw Error("Pipeline::from_generator: the generator is empty");
  return Pipeline([generator, signature](int64_t) -> ExampleStream {
    ExampleStream s = generator();
    if (!s) throw Error("Pipeline::from_generator: the generator returned an empty stream function");
    return [s, signature]() mutable -> std::optional<Example> {
      std::optional<Example> e = s();
      if (e && !signature.empty()) check_signature(*e, signature);
      return e;
    };
  });
}

Pipeline Pipeline::from_dataset(DatasetPtr dataset) {
  if (!dataset) throw Error("Pipeline::from_dataset: the dataset is null");
  return Pipeline([dataset](int64_t pass) -> ExampleStream {
    const uint64_t pass_seed = mix(static_cast<uint64_t>(pass), 0x706970656c696e65ull);
    return [dataset, pass_seed, i = int64_t{0}]() mutable -> std::optional<Example> {
      if (i >= dataset->size()) return std::nullopt;
      return dataset->get_seeded(i++, pass_seed);
    };
  });
}

// ---- transformations --------------------------------------------------------------------------------

Pipeline Pipeline::then(MakeStream make) const {
  Pipeline p(std::move(make));
  p.passes_ = passes_;
  return p;
}

Pipeline Pipeline::map(std::function<Example(const Example&)> f) const {
  if (!f) throw Error("Pipeline::map: the function is empty");
  return then([up = make_, f](int64_t pass) -> ExampleStream {
    return [s = up(pass), f]() mutable -> std::optional<Example> {
      std::optional<Example> e = s();
      if (!e) return std::nullopt;
      return f(*e);
    };
  });
}

Pipeline Pipeline::filter(std::function<bool(const Example&)> predicate) const {
  if (!predicate) throw Error("Pipeline::filter: the predicate is empty");
  return then([up = make_, predicate](int64_t pass) -> ExampleStream {
    return [s = up(pass), predicate]() mutable -> std::optional<Example> {
      for (std::optional<Example> e = s(); e; e = s())
        if (predicate(*e)) return e;
      return std::nullopt;
    };
  });
}

Pipeline Pipeline::shuffle(int64_t buffer_size, uint64_t seed) const {
  if (buffer_size < 1) throw Error(msg("Pipeline::shuffle: buffer_size must be >= 1, got ", buffer_size));
  struct State {
    ExampleStream upstream;
    Generator generator;
    std::vector<Example> buffer;
    bool filled = false;
  };
  return then([up = make_, buffer_size, seed](int64_t pass) -> ExampleStream {
    auto st = std::make_shared<State>(State{up(pass), Generator(mix(seed, static_cast<uint64_t>(pass))), {}, false});
    return [st, buffer_size]() -> std::optional<Example> {
      if (!st->filled) {  // first call: fill the buffer
        while (static_cast<int64_t>(st->buffer.size()) < buffer_size) {
          std::optional<Example> e = st->upstream();
          if (!e) break;
          st->buffer.push_back(std::move(*e));
        }
        st->filled = true;
      }
      if (st->buffer.empty()) return std::nullopt;
      // Hand out a uniformly chosen element; the next one from upstream takes its place (or, at
      // the end of the stream, the last element of the buffer does, and the buffer shrinks).
      const size_t j = uniform_below(st->generator, st->buffer.size());
      Example out = std::move(st->buffer[j]);
      if (std::optional<Example> e = st->upstream()) {
        st->buffer[j] = std::move(*e);
      } else {
        st->buffer[j] = std::move(st->buffer.back());
        st->buffer.pop_back();
      }
      return out;
    };
  });
}

Pipeline Pipeline::batch(int64_t batch_size, bool drop_remainder) const {
  if (batch_size < 1) throw Error(msg("Pipeline::batch: batch_size must be >= 1, got ", batch_size));
  return then([up = make_, batch_size, drop_remainder](int64_t pass) -> ExampleStream {
    return [s = up(pass), batch_size, drop_remainder]() mutable -> std::optional<Example> {
      std::vector<Example> examples;
      while (static_cast<int64_t>(examples.size()) < batch_size) {
        std::optional<Example> e = s();
        if (!e) break;
        examples.push_back(std::move(*e));
      }
      if (examples.empty() || (drop_remainder && static_cast<int64_t>(examples.size()) < batch_size))
        return std::nullopt;
      return collate(examples);
    };
  });
}

Pipeline Pipeline::repeat(int64_t count) const {
  if (count < -1) throw Error(msg("Pipeline::repeat: count must be >= 0, or -1 for forever; got ", count));
  struct State {
    int64_t round = 0;
    bool round_empty = true;  // nothing came out of the current round yet
    ExampleStream current;
  };
  return then([up = make_, count](int64_t pass) -> ExampleStream {
    auto st = std::make_shared<State>();
    // Round r of pass p is its own pass of the stages before: a shuffle reshuffles every round.
    auto round_pass = [pass](int64_t r) { return r == 0 ? pass : static_cast<int64_t>(mix(static_cast<uint64_t>(pass), r) >> 1); };
    return [st, up, count, round_pass]() -> std::optional<Example> {
      while (count == -1 || st->round < count) {
        if (!st->current) st->current = up(round_pass(st->round));
        if (std::optional<Example> e = st->current()) {
          st->round_empty = false;
          return e;
        }
        if (st->round_empty) return std::nullopt;  // an empty dataset repeated forever is still empty
        st->current = nullptr;
        st->round_empty = true;
        ++st->round;
      }
      return std::nullopt;
    };
  });
}

Pipeline Pipeline::take(int64_t count) const {
  if (count < 0) throw Error(msg("Pipeline::take: count must be >= 0, got ", count));
  return then([up = make_, count](int64_t pass) -> ExampleStream {
    return [s = up(pass), count, taken = int64_t{0}]() mutable -> std::optional<Example> {
      if (taken >= count) return std::nullopt;
      ++taken;
      return s();
    };
  });
}

Pipeline Pipeline::prefetch(int64_t buffer_size) const {
  if (buffer_size < 1) throw Error(msg("Pipeline::prefetch: buffer_size must be >= 1, got ", buffer_size));
  return then([up = make_, buffer_size](int64_t pass) -> ExampleStream {
    auto p = std::make_shared<Prefetcher>(up(pass), static_cast<size_t>(buffer_size));
    return [p]() { return p->next(); };
  });
}

// ---- iteration -------------------------------------------------------------------------------------

ExampleStream Pipeline::stream(int64_t pass) const { return make_(pass); }

Pipeline::Iterator& Pipeline::Iterator::operator++() {
  std::optional<Example> e = stream_();
  if (e) {
    current_ = std::move(*e);
  } else {
    done_ = true;
    current_.clear();
    stream_ = nullptr;  // a prefetch thread stops here, not when the iterator goes away
  }
  return *this;
}

std::vector<Example> Pipeline::collect(int64_t pass) const {
  std::vector<Example> out;
  ExampleStream s = stream(pass);
  for (std::optional<Example> e = s(); e; e = s()) out.push_back(std::move(*e));
  return out;
}

}  // namespace tandem::data
