// core/rng_state.cpp — a Generator's state as numbers: what checkpoints save for exact resume.
//
// A Mersenne Twister makes its numbers a block at a time: 312 words of state are stirred into 312
// new ones, which it then hands out (tempered) one by one. Its whole state is therefore the block
// and the position of the next word — the form Python's random.getstate() returns (624 words and
// a position, for the 32-bit twister) and the form GCC's standard library prints an engine in:
// `os << engine` writes the 312 words and then the position, and `is >> engine` reads them back
// into an engine that continues exactly where the first one was. The state goes through that
// text once, on its way out or in; a library that printed another form would be refused at once
// (set_state checks that the text reads back whole), not give different numbers.
//
// Read next: io/checkpoint.h (where the state is saved).
#include <sstream>

#include "core/factories.h"

namespace tandem {

Generator::State Generator::state() const {
  State s;
  std::stringstream text;
  text << engine_;
  for (uint64_t& w : s.words) text >> w;
  text >> s.position;
  if (!text || s.position > s.words.size())
    throw Error("Generator::state: this standard library prints its Mersenne Twister in a form Tandem does not "
                "know (expected 312 words and a position, as GCC's libstdc++ does)");
  s.has_spare = has_spare_;
  s.spare = spare_;
  return s;
}

void Generator::set_state(const State& s) {
  if (s.position > s.words.size())
    throw Error(msg("Generator::set_state: the position is ", s.position, "; it must be 0 to 312"));
  std::stringstream text;
  for (uint64_t w : s.words) text << w << ' ';
  text << s.position;
  std::mt19937_64 engine;
  text >> engine;
  if (text.fail())
    throw Error("Generator::set_state: the state could not be read back into the engine (a standard library "
                "that prints its Mersenne Twister in another form than GCC's libstdc++?)");
  engine_ = engine;
  has_spare_ = s.has_spare;
  spare_ = s.spare;
}

// The default generator is shared by every thread: read and write its state holding its mutex, as
// whoever draws from it does (core/factories.h).
Generator::State get_rng_state() {
  Generator& g = default_generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  return g.state();
}
void set_rng_state(const Generator::State& state) {
  Generator& g = default_generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  g.set_state(state);
}

}  // namespace tandem
