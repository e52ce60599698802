// tests/fuzz/fuzz_image.cpp — libFuzzer target: arbitrary bytes into the image decoder.
//
// decode_image (data/image.h) must turn any input into an image or a tandem::Error: never a
// crash, a hang, an out-of-bounds read or an allocation the bytes do not justify. libFuzzer calls
// LLVMFuzzerTestOneInput with inputs it mutates from the seed corpus in tests/fuzz/corpus/image/
// (valid PNG, BMP and JPEG files and broken copies, written by scripts/fixtures/gen_images.py),
// steering towards new code paths; AddressSanitizer turns a bad memory access into a report.
// The normal test run replays the corpus through decode_image (tests/test_data_image.cpp).
//
// Build (clang): clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address -I. tests/fuzz/fuzz_image.cpp
//                  data/image.cpp <the rest of the library> -lstb -o fuzz_image
#include <cstddef>
#include <cstdint>
#include <span>

#include "data/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    (void)tandem::data::decode_image(std::span<const uint8_t>(data, size), "fuzz input");
  } catch (const tandem::Error&) {
    // A refusal with a message is the right answer to bad bytes.
  }
  return 0;
}
