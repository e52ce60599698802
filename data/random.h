// data/random.h — the randomness of data loading: shuffles, splits and random transforms that
// repeat exactly.
//
// Three promises a data pipeline must keep, and how this file keeps them:
//   1. Same seed, same order, on every run and every machine. Every draw comes from Tandem's own
//      Generator (a Mersenne Twister with its own transforms, core/factories.h), never from the
//      standard library's distributions, whose output differs between compilers.
//   2. Resumable. The order of epoch e is a *function* of (seed, e): a run restarted from a
//      checkpoint taken after epoch 4 calls set_epoch(5) and sees the very order the first run
//      would have seen — no need to replay four epochs of draws.
//   3. The same with 0 or N worker threads. A random transform (RandomCrop, a flip) does not draw
//      from a generator shared by the workers — which draw came first would then depend on the
//      thread schedule — but from `example_generator()`, which the loader seeds afresh for every
//      example from (seed, epoch, index) before it calls dataset.get(index).
//
// Seeds are combined with SplitMix64, a tiny mixing function: nearby seeds (epoch 4 and epoch 5)
// give unrelated streams.
//
// Read next: data/dataset.h (what is shuffled), data/dataloader.h (who seeds what).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/factories.h"

namespace tandem {

// torch.randperm(n, generator=g): 0..n-1 in a random order, as an int64 tensor.
Tensor randperm(int64_t n, Generator& generator);
Tensor randperm(int64_t n, uint64_t seed);

}  // namespace tandem

namespace tandem::data {

// SplitMix64's finaliser applied to a combination of the values: mix(seed, epoch) and
// mix(seed, epoch, index) are seeds for independent-looking streams.
uint64_t mix(uint64_t a, uint64_t b);
uint64_t mix(uint64_t a, uint64_t b, uint64_t c);

// A uniform integer in [0, n) with no modulo bias: draws below the largest multiple of n that
// fits in 64 bits are kept, the rest are drawn again (rarely: at most n/2^64 of the time).
uint64_t uniform_below(Generator& g, uint64_t n);

// Fisher-Yates: for i = n-1 down to 1, swap element i with a uniform one of 0..i. Every one of
// the n! orders is equally likely.
void shuffle(std::vector<int64_t>& items, Generator& g);

// 0..n-1, shuffled with a generator seeded `seed` (the same seed, the same permutation).
std::vector<int64_t> permutation(int64_t n, uint64_t seed);

// ---- the per-example generator of random transforms -------------------------------------------
// The generator random transforms draw from on this thread. A DataLoader (and a Pipeline built
// from a Dataset) seeds it before each example; outside a loader it is seeded 0 until an
// ExampleSeed says otherwise. One per thread, so worker threads never share draws.
Generator& example_generator();

// While alive, example_generator() on this thread starts from mix(pass_seed, index).
// Speed trick: the generator is only re-seeded when a transform first asks for it (seeding a
// Mersenne Twister fills 312 words, a microsecond), so examples that draw nothing cost nothing.
class ExampleSeed {
 public:
  ExampleSeed(uint64_t pass_seed, int64_t index);
  ~ExampleSeed();
  ExampleSeed(const ExampleSeed&) = delete;
  ExampleSeed& operator=(const ExampleSeed&) = delete;

 private:
  std::optional<uint64_t> saved_;  // the seed pending before this one, put back at the end
};

}  // namespace tandem::data
