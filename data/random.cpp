// data/random.cpp — seed mixing, unbiased integers, Fisher-Yates, the per-example generator.
#include "data/random.h"

#include <limits>
#include <numeric>

#include "core/error.h"

namespace tandem {

Tensor randperm(int64_t n, Generator& generator) {
  if (n < 0) throw Error(msg("randperm: n must be >= 0, got ", n));
  std::vector<int64_t> items(static_cast<size_t>(n));
  std::iota(items.begin(), items.end(), 0);
  data::shuffle(items, generator);
  return from_vector(items, {n});
}

Tensor randperm(int64_t n, uint64_t seed) {
  Generator g(seed);
  return randperm(n, g);
}

}  // namespace tandem

namespace tandem::data {

namespace {
// SplitMix64 (Steele, Lea and Flood, 2014): add a constant, then three xor-shift-multiply
// rounds that spread every input bit over every output bit.
uint64_t splitmix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
}  // namespace

uint64_t mix(uint64_t a, uint64_t b) { return splitmix(splitmix(a) ^ b); }
uint64_t mix(uint64_t a, uint64_t b, uint64_t c) { return mix(mix(a, b), c); }

uint64_t uniform_below(Generator& g, uint64_t n) {
  if (n == 0) throw Error("uniform_below: n must be positive");
  // The largest multiple of n that fits: [0, limit) splits into equal classes modulo n.
  const uint64_t limit = std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % n;
  uint64_t x = g.next();
  while (x >= limit) x = g.next();
  return x % n;
}

void shuffle(std::vector<int64_t>& items, Generator& g) {
  for (size_t i = items.size(); i > 1; --i) {
    const size_t j = uniform_below(g, i);  // 0..i-1
    std::swap(items[i - 1], items[j]);
  }
}

std::vector<int64_t> permutation(int64_t n, uint64_t seed) {
  if (n < 0) throw Error(msg("permutation: n must be >= 0, got ", n));
  std::vector<int64_t> items(static_cast<size_t>(n));
  std::iota(items.begin(), items.end(), 0);
  Generator g(seed);
  shuffle(items, g);
  return items;
}

namespace {
// This thread's generator, and the seed it must restart from before its next draw (if any).
struct ExampleState {
  Generator generator{0};
  std::optional<uint64_t> pending;
};
ExampleState& example_state() {
  thread_local ExampleState state;
  return state;
}
}  // namespace

Generator& example_generator() {
  ExampleState& s = example_state();
  if (s.pending) {
    s.generator = Generator(*s.pending);
    s.pending.reset();
  }
  return s.generator;
}

ExampleSeed::ExampleSeed(uint64_t pass_seed, int64_t index) : saved_(example_state().pending) {
  example_state().pending = mix(pass_seed, static_cast<uint64_t>(index));
}

ExampleSeed::~ExampleSeed() { example_state().pending = saved_; }

}  // namespace tandem::data
