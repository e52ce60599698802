// tests/fuzz/fuzz_checkpoint.cpp — libFuzzer target: any bytes into the checkpoint loader.
//
// parse_checkpoint (io/checkpoint.h) must turn every input into a Checkpoint or a tandem::Error:
// never a crash, an out-of-bounds read, or an allocation larger than the bytes that back it.
// libFuzzer calls LLVMFuzzerTestOneInput with byte strings it mutates from the seed corpus in
// tests/fuzz/corpus/checkpoint/ (written by the hidden test `tandem_tests "[corpus]"`,
// tests/test_checkpoint_fuzz.cpp), keeping each mutation that reaches new code; AddressSanitizer
// and UndefinedBehaviorSanitizer turn a bad access or an overflow into a crash it reports.
//
// A checkpoint ends with a CRC-32 of everything before it, so nearly every mutation is refused at
// the checksum, and the body's parser behind it would hardly be reached. Each input is therefore
// parsed twice: as it is (the frame's checks), and with its body size and its CRC rewritten to
// fit (a "forged" file, which the body's parser must survive on its own). A checkpoint that loads
// must also survive a round trip: saved and loaded again, it saves to the same bytes.
//
// Built with clang's libFuzzer like the other targets in this folder; the normal test run replays
// the corpus through this very file (tests/test_checkpoint_fuzz.cpp).
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "io/checkpoint.h"
#include "tests/fuzz/forged_frame.h"

namespace {

// Loads `bytes`; a checkpoint that loads must save, load and save again to the same bytes.
void load(const std::string& bytes) {
  tandem::io::Checkpoint checkpoint;
  try {
    checkpoint = tandem::io::parse_checkpoint(bytes, "fuzz input");
  } catch (const tandem::Error&) {
    return;  // refused, with a message: what a bad file should get
  }
  const std::string saved = tandem::io::serialize_checkpoint(checkpoint);
  const std::string again = tandem::io::serialize_checkpoint(tandem::io::parse_checkpoint(saved, "re-saved input"));
  if (again != saved) throw std::logic_error("fuzz_checkpoint: a loaded checkpoint did not save to the same bytes twice");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  load(bytes);
  load(tandem::fuzz::forged(bytes));
  return 0;
}
