// tests/fuzz/fuzz_graph_file.cpp — libFuzzer target: any bytes into the graph-file loader.
//
// Coverage-guided fuzzing: libFuzzer calls LLVMFuzzerTestOneInput with byte strings it mutates
// from the seed corpus (tests/fuzz/corpus/graph_file/), keeping each mutation that reaches new
// code. AddressSanitizer and UndefinedBehaviorSanitizer turn any out-of-bounds read, overflow or
// use of freed memory into a crash it reports. What the loader must do with every input:
//   - return a graph, or throw tandem::Error (a clear "corrupt", "truncated", "not a graph
//     file"...). Any other exception escapes and counts as a finding;
//   - and a graph it returns must survive the round trip: saved and loaded again, it gives the
//     same bytes (serialize_graph's output is always a file parse_graph accepts).
//
// A graph file ends with a CRC-32 of everything before it, so almost every mutation is refused at
// the checksum and the body parser behind it would hardly be reached. Each input is therefore
// parsed twice: as it is (the header and checksum checks), and with its header's body size and its
// checksum rewritten to match (a "forged" file, which the body parser must survive on its own).
//
// Built three ways: `-DTANDEM_FUZZ=ON` with clang (the fuzzer itself: build-fuzz/fuzz_graph_file),
// and inside tandem_tests, renamed, where tests/test_fuzz_replay.cpp replays the corpus through it
// on every `make test`. How to run it: docs/errors.md, "Fuzzing".
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "io/graph_file.h"
#include "tests/fuzz/forged_frame.h"

namespace {

// Loads `bytes`; a graph that loads must save, load and save again to the same bytes.
void load(const std::string& bytes) {
  tandem::io::FrozenGraph graph;
  try {
    graph = tandem::io::parse_graph(bytes, "fuzz input");
  } catch (const tandem::Error&) {
    return;  // refused, with a message: what a bad file should get
  }
  const std::string saved = tandem::io::serialize_graph(graph);
  const std::string again = tandem::io::serialize_graph(tandem::io::parse_graph(saved, "re-saved input"));
  if (again != saved) throw std::logic_error("fuzz_graph_file: a loaded graph did not save to the same bytes twice");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  load(bytes);
  load(tandem::fuzz::forged(bytes));
  return 0;
}
