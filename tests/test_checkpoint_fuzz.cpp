// tests/test_checkpoint_fuzz.cpp — the checkpoint fuzz target's corpus, replayed on every test run.
//
// tests/fuzz/fuzz_checkpoint.cpp is a libFuzzer target, built with clang only. So that the normal
// build still runs it, it is compiled here too, its entry point renamed, and every file of its
// seed corpus (tests/fuzz/corpus/checkpoint/) goes through it: a file that makes it throw
// anything but a tandem::Error — or crash, under the sanitizer build — fails the test. The hidden
// test below wrote the corpus (`tandem_tests "[corpus]"`); when fuzzing finds a crash, its input
// joins the corpus with the fix.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "io/checkpoint.h"
#include "tandem.h"

#define LLVMFuzzerTestOneInput fuzz_checkpoint_entry
#include "fuzz/fuzz_checkpoint.cpp"
#undef LLVMFuzzerTestOneInput

using namespace tandem;
namespace fs = std::filesystem;

namespace {

const fs::path kCorpus = fs::path(TANDEM_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / "checkpoint";

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("the checkpoint fuzz corpus replays through its target without a finding", "[checkpoint][fuzz]") {
  int files = 0;
  for (const auto& e : fs::directory_iterator(kCorpus)) {
    const std::string bytes = read_bytes(e.path());
    INFO("corpus file " << e.path().string());
    CHECK_NOTHROW(io::parse_checkpoint(bytes, e.path().string()));  // every seed is a valid checkpoint
    CHECK_NOTHROW(fuzz_checkpoint_entry(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    // And so is every cut of it (each an Error, never a crash), forged or not.
    for (size_t n = 0; n < bytes.size(); n += 7)
      CHECK_NOTHROW(fuzz_checkpoint_entry(reinterpret_cast<const uint8_t*>(bytes.data()), n));
    ++files;
  }
  CHECK(files >= 4);
}

// Hidden (tag [.]): run it by hand to rewrite the committed seeds, `tandem_tests "[corpus]"`.
// Small valid checkpoints of every kind the loader knows: the fuzzer mutates them into the rest.
TEST_CASE("write the seed corpus of the checkpoint fuzz target", "[.][corpus]") {
  fs::create_directories(kCorpus);
  auto write = [](const std::string& name, const io::Checkpoint& c) {
    std::ofstream(kCorpus / name, std::ios::binary | std::ios::trunc) << io::serialize_checkpoint(c);
  };
  write("empty.tckpt", io::Checkpoint{});
  {
    io::Checkpoint c;  // every dtype, a scalar, an empty tensor
    c.tensors = {{"f32", tensor({{1.f, -2.f}, {0.5f, 3.f}})},
                 {"f64", tensor({1.0 / 3.0}, kFloat64)},
                 {"i64", tensor({int64_t{-1}, int64_t{1} << 40})},
                 {"mask", tensor({true, false, true})},
                 {"scalar", tensor(7.f)},
                 {"empty", zeros({0, 3})}};
    write("tensors.tckpt", c);
  }
  {
    io::Checkpoint c;  // every kind of metadata
    manual_seed(5);
    (void)randn({3});
    c.record_random_state();
    c.loader = io::LoaderState{.seed = 7, .next_epoch = 3};
    c.epoch = 2;
    c.step = 120;
    c.notes = {{"lr", "0.01"}, {"model", "mlp"}};
    c.tensors = {{"fc.weight", tensor({{0.25f}})}};
    write("metadata.tckpt", c);
  }
  {
    // An optimizer's state_dict under dotted names, beside a model's, as a training run saves it.
    manual_seed(6);
    std::vector<Tensor> p = {randn({2, 2}).requires_grad_(), randn({2}).requires_grad_()};
    optim::Adam opt(p, {.lr = 0.01});
    (sum(matmul(ones({1, 2}), p[0]) + p[1])).backward();
    opt.step();
    io::Checkpoint c;
    c.tensors = StateDict({"fc.weight", "fc.bias"}, p).with_prefix("model.");
    c.tensors.update(opt.state_dict().with_prefix("optimizer."));
    c.epoch = 0;
    write("training.tckpt", c);
  }
  for (const auto& e : fs::directory_iterator(kCorpus)) CHECK_NOTHROW(io::parse_checkpoint(read_bytes(e.path())));
}
