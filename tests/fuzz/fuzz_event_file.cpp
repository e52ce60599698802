// tests/fuzz/fuzz_event_file.cpp — libFuzzer target: any bytes into the event-file reader.
//
// parse_event_file (io/event_file.h) must turn every input into the events it holds — stopping at
// a torn or damaged record, which it reports — or throw tandem::Error: never crash, read out of
// bounds, or allocate what the bytes do not justify. The seed corpus in tests/fuzz/corpus/event_file/
// (written by TensorBoard's own RecordWriter, through scripts/fixtures/gen_tensorboard.py) holds a
// run with every kind of event, cut-off copies and a flipped byte.
//
// Almost every mutation breaks a record's CRC, and the reader then stops before the protobuf
// decoder ever sees the bytes. So each input is also given straight to the decoders, as one Event
// and as one GraphDef, which must survive any bytes on their own (io/protobuf_reader.h); and every
// event read from a file must encode to bytes that decode and encode to the same bytes again
// (bytes, not values: a NaN is not equal to itself, but its bits are).
//
// Build (clang): clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address -I. tests/fuzz/fuzz_event_file.cpp
//                  <the library> -o fuzz_event_file;  run: ./fuzz_event_file tests/fuzz/corpus/event_file
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/error.h"
#include "io/event_file.h"
#include "io/graph_def.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const tandem::io::EventFileContents file = tandem::io::parse_event_file(bytes, "fuzz input");
    if (file.valid_bytes > size) std::abort();  // it claims bytes it was not given
    for (const tandem::io::Event& e : file.events) {
      try {
        const std::string once = tandem::io::encode_event(e);
        if (tandem::io::encode_event(tandem::io::decode_event(once, "round trip")) != once) std::abort();
      } catch (const tandem::Error&) {
        // An event holding a value with nothing in it (an unknown kind) cannot be re-encoded; fine.
      }
    }
  } catch (const tandem::Error&) {
    // A refusal with a message is the right answer to bad bytes.
  }
  try {
    (void)tandem::io::decode_event(bytes, "fuzz input as an Event");
  } catch (const tandem::Error&) {
  }
  try {
    (void)tandem::io::decode_graph_def(bytes, "fuzz input as a GraphDef");
  } catch (const tandem::Error&) {
  }
  return 0;
}
