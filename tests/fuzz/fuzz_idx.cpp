// tests/fuzz/fuzz_idx.cpp — libFuzzer target: any bytes into the IDX reader (MNIST's format).
//
// See tests/fuzz/fuzz_graph_file.cpp for how a target works. What the reader must do with every
// input, plain or gzip-compressed (the corpus, tests/fuzz/corpus/idx/, has both):
//   - return a tensor or throw tandem::Error naming the input; any other exception is a finding;
//   - never return a tensor larger than the data behind it: each element comes from at least one
//     byte of the file (after decompression), so a header cannot conjure memory out of nothing.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "data/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  tandem::Tensor t;
  try {
    t = tandem::data::parse_idx(bytes, "fuzz input");
  } catch (const tandem::Error&) {
    return 0;
  }
  // A gzip stream inflates at most ~1032 : 1; a plain file holds a 4-byte header per dimension.
  const bool gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  const uint64_t backing = gzip ? uint64_t{size} * 1032 : size;
  if (static_cast<uint64_t>(t.numel()) > backing)
    throw std::logic_error("fuzz_idx: a tensor with more elements than bytes behind it");
  return 0;
}
