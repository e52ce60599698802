// tests/test_checkpoint.cpp — StateDict, the checkpoint file, load_state_dict, optimizers' state.
//
// What a reader learns here, case by case:
//   - a StateDict is an ordered map of names to tensor *handles*, and its file round-trips every
//     dtype and shape bit for bit, with the metadata (epoch, step, random state, notes);
//   - the file is laid out as docs/checkpoint_format.md says (checked byte by byte);
//   - a file cut short, damaged, foreign, newer or forged is a tandem::Error naming the file, and
//     a forged count never allocates more than the file holds;
//   - load_state_dict reports missing, unexpected and size-mismatched keys in PyTorch's words,
//     and a refused load changes nothing;
//   - an optimizer's state_dict resumes it exactly, and a wrong one is refused before it changes it.
//
// Read next: tests/test_checkpoint_saver.cpp (graph mode), tests/test_checkpoint_resume.cpp.
#include <catch2/catch.hpp>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "io/bytes.h"
#include "io/checkpoint.h"
#include "scratch_dir.h"
#include "tandem.h"

using namespace tandem;
namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

uint64_t read_le(const std::string& b, size_t at, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(b[at + i])) << (8 * i);
  return v;
}
void write_le(std::string& b, size_t at, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint32_t zlib_crc(const std::string& b, size_t n) {
  return static_cast<uint32_t>(
      crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(b.data()), static_cast<uInt>(n)));
}
// After editing a file on purpose, make its frame right again (body size and CRC, as the format
// says), so that what is tested is the loader's reading of the body, not its checksum.
void reseal(std::string& b) {
  write_le(b, 12, b.size() - 24, 8);
  write_le(b, b.size() - 4, zlib_crc(b, b.size() - 4), 4);
}

// A file whose tensors are [w, b] and whose metadata is empty: the body's offsets are fixed.
//   body+0 epoch, +8 step, +16 generator flag, +17 loader flag, +18 note count, +22 tensor count,
//   +26 the first tensor's name.
constexpr size_t kBody = 20;
std::string small_file() {
  io::Checkpoint c;
  c.tensors = {{"w", tensor({{1.f, 2.f}, {3.f, 4.f}})}, {"b", tensor({0.5f})}};
  return io::serialize_checkpoint(c);
}

}  // namespace

// ---- StateDict ------------------------------------------------------------------------------------

TEST_CASE("a StateDict keeps its order, refuses a repeated name and holds handles, not copies", "[checkpoint]") {
  Tensor w = tensor({1.f, 2.f}), b = tensor({3.f});
  StateDict sd = {{"fc.weight", w}, {"fc.bias", b}};
  sd.insert("out.weight", tensor({{1.f}}));
  CHECK(sd.names() == std::vector<std::string>{"fc.weight", "fc.bias", "out.weight"});
  CHECK(sd.at("fc.bias").is_same(b));  // the very tensor: writing through it writes the model
  REQUIRE_THROWS_WITH(sd.insert("fc.bias", b), Catch::Contains("'fc.bias' is already taken"));
  REQUIRE_THROWS_WITH(sd.at("fc.weights"), Catch::Contains("no tensor named \"fc.weights\"") &&
                                               Catch::Contains("\"fc.weight\", \"fc.bias\""));
  REQUIRE_THROWS_WITH(sd.insert("", b), Catch::Contains("needs a name"));
  REQUIRE_THROWS_WITH(sd.insert("x", Tensor()), Catch::Contains("undefined"));
  sd.set("fc.weight", tensor({9.f, 9.f}));  // replaced in place: the order stays
  CHECK(sd.names().front() == "fc.weight");
  CHECK(sd.erase("fc.bias"));
  CHECK_FALSE(sd.erase("fc.bias"));
  CHECK(sd.names() == std::vector<std::string>{"fc.weight", "out.weight"});
  CHECK(sd.at("out.weight").item() == 1.0);  // the index follows the erase

  // Nesting by prefix: one file for a model and its optimizer, as PyTorch's dict of dicts.
  StateDict both = sd.with_prefix("model.");
  both.insert("optimizer.param_groups.0.lr", tensor(0.1, kFloat64));
  CHECK(both.names() ==
        std::vector<std::string>{"model.fc.weight", "model.out.weight", "optimizer.param_groups.0.lr"});
  CHECK(both.under("model.").names() == sd.names());
  CHECK(both.under("optim").empty() == false);  // a plain prefix: "optim" + "izer.param_groups.0.lr"

  // clone(): a snapshot that the model's later changes do not reach.
  StateDict snap = StateDict({"w"}, {w}).clone();
  w.add_(tensor({1.f, 1.f}));
  CHECK(snap.at("w").to_vector() == std::vector<double>{1, 2});
  REQUIRE_THROWS_WITH(StateDict({"a", "b"}, {w}), Catch::Contains("2 names for 1 tensors"));
}

TEST_CASE("save then load: every dtype and shape, bit for bit, and the metadata", "[checkpoint]") {
  const ScratchDir dir("checkpoint_roundtrip");
  manual_seed(3);
  io::Checkpoint c;
  c.tensors.insert("f32", randn({3, 4}));
  c.tensors.insert("f64", tensor({1.0 / 3.0, -0.0, 1e-300}, kFloat64));
  c.tensors.insert("i64", tensor({int64_t{1} << 62, int64_t{-7}}));
  c.tensors.insert("bool", tensor({true, false, true}));
  c.tensors.insert("scalar", tensor(2.5f));
  c.tensors.insert("empty", zeros({0, 5}));
  c.tensors.insert("transposed", randn({2, 3}).t());  // a strided view: saved in row-major order
  c.tensors.insert("nan and inf", tensor({std::nanf(""), INFINITY, -INFINITY}));
  c.epoch = 4;
  c.step = 1234;
  c.notes = {{"lr", "0.001"}, {"model", "mlp 784-256-10"}, {"empty", ""}};
  (void)randn({3});  // an odd count of normals: the generator holds a spare value
  c.record_random_state();
  c.loader = io::LoaderState{.seed = 42, .next_epoch = 5};

  const std::string path = dir / "all.tckpt";
  io::save_checkpoint(c, path);
  const io::Checkpoint back = io::load_checkpoint(path);
  REQUIRE(back.tensors.names() == c.tensors.names());
  for (const auto& [name, t] : c.tensors) {
    INFO(name);
    const Tensor& r = back.tensors.at(name);
    CHECK(r.dtype() == t.dtype());
    CHECK(r.shape() == t.shape());
    CHECK(r.is_contiguous());
    // Bit for bit: the bytes themselves (NaN == NaN, and -0.0 keeps its sign).
    const Tensor expected = t.contiguous();
    CHECK(std::memcmp(r.raw_data(), expected.raw_data(), r.nbytes()) == 0);
  }
  CHECK(back.epoch == 4);
  CHECK(back.step == 1234);
  CHECK(back.notes == c.notes);
  REQUIRE(back.generator.has_value());
  CHECK(back.generator->words == c.generator->words);
  CHECK(back.generator->position == c.generator->position);
  CHECK(back.generator->has_spare);
  CHECK(back.generator->spare == c.generator->spare);
  REQUIRE(back.loader.has_value());
  CHECK(back.loader->seed == 42);
  CHECK(back.loader->next_epoch == 5);
  // Saving what was loaded gives the same bytes: nothing is lost or reinterpreted.
  CHECK(io::serialize_checkpoint(back) == read_all(path));
  // A StateDict saves the tensors alone, and loads them back.
  StateDict({"x"}, {tensor({1.f, 2.f})}).save(dir / "sd.tckpt");
  const StateDict sd = StateDict::load(dir / "sd.tckpt");
  CHECK(sd.at("x").to_vector() == std::vector<double>{1, 2});
}

TEST_CASE("the generator's state puts the random numbers back where they were", "[checkpoint]") {
  manual_seed(11);
  (void)randn({5});  // odd: a spare normal waits inside the generator
  const Generator::State saved = get_rng_state();
  const Tensor first = randn({7});
  const Tensor uniform = rand({3});
  manual_seed(99);  // anything else in between
  (void)randn({4});
  set_rng_state(saved);
  CHECK(equal(randn({7}), first));
  CHECK(equal(rand({3}), uniform));
  // A dropout mask is drawn from it too: the same state, the same mask.
  set_rng_state(saved);
  (void)randn({7}), (void)rand({3});
  const Tensor mask = dropout(ones({100}), 0.5);
  set_rng_state(saved);
  (void)randn({7}), (void)rand({3});
  CHECK(equal(dropout(ones({100}), 0.5), mask));
}

TEST_CASE("the file is laid out as docs/checkpoint_format.md says", "[checkpoint]") {
  io::Checkpoint c;
  c.tensors.insert("w", tensor({{1.f, 2.f}, {3.f, 4.f}}));
  c.epoch = 2;
  c.notes = {{"k", "v"}};
  const std::string b = io::serialize_checkpoint(c);
  CHECK(b.substr(0, 8) == std::string("TCHKPT1\0", 8));
  CHECK(read_le(b, 8, 4) == 1);                   // version
  CHECK(read_le(b, 12, 8) == b.size() - 24);      // body size
  CHECK(read_le(b, b.size() - 4, 4) == zlib_crc(b, b.size() - 4));  // zlib's CRC-32 of all before
  size_t at = kBody;
  CHECK(static_cast<int64_t>(read_le(b, at, 8)) == 2);   // epoch
  CHECK(static_cast<int64_t>(read_le(b, at + 8, 8)) == -1);  // step: not recorded
  CHECK(b[at + 16] == 0);                                // no generator state
  CHECK(b[at + 17] == 0);                                // no loader state
  CHECK(read_le(b, at + 18, 4) == 1);                    // one note: "k" = "v"
  CHECK(b.substr(at + 22, 10) == std::string("\x01\0\0\0k\x01\0\0\0v", 10));
  at += 32;
  CHECK(read_le(b, at, 4) == 1);                         // one tensor
  CHECK(b.substr(at + 4, 5) == std::string("\x01\0\0\0w", 5));  // its name
  CHECK(b[at + 9] == 0);                                 // dtype code 0: float32
  CHECK(read_le(b, at + 10, 4) == 2);                    // rank 2
  CHECK(read_le(b, at + 14, 8) == 2);
  CHECK(read_le(b, at + 22, 8) == 2);
  CHECK(read_le(b, at + 30, 8) == 16);                   // 4 floats, 16 bytes
  float v[4];
  std::memcpy(v, b.data() + at + 38, 16);  // little-endian IEEE 754 (this machine is little-endian)
  CHECK(v[0] == 1.f);
  CHECK(v[3] == 4.f);
  CHECK(at + 38 + 16 + 4 == b.size());                   // then the CRC, and nothing else
  // The whole file is the example printed in docs/checkpoint_format.md, which the Python writer
  // (scripts/tandem_checkpoint.py, written from that page) gives too, byte for byte.
  CHECK(io::hex_bytes(b, b.size()) ==
        "54 43 48 4b 50 54 31 00 01 00 00 00 56 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00 ff ff ff ff "
        "ff ff ff ff 00 00 01 00 00 00 01 00 00 00 6b 01 00 00 00 76 01 00 00 00 01 00 00 00 77 00 02 00 "
        "00 00 02 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00 10 00 00 00 00 00 00 00 00 00 80 3f 00 00 "
        "00 40 00 00 40 40 00 00 80 40 a7 a5 ff b1");
}

// ---- bad files ------------------------------------------------------------------------------------

TEST_CASE("load errors: missing, a folder, empty, foreign, newer", "[checkpoint][errors]") {
  const ScratchDir dir("checkpoint_errors");
  REQUIRE_THROWS_WITH(io::load_checkpoint(dir / "missing.tckpt"),
                      Catch::Contains("load_checkpoint: cannot open") && Catch::Contains("missing.tckpt") &&
                          Catch::Contains("No such file"));
  REQUIRE_THROWS_WITH(io::load_checkpoint(dir.string()), Catch::Contains("is a folder, not a checkpoint file"));
  std::ofstream(dir / "empty.tckpt").close();
  REQUIRE_THROWS_WITH(StateDict::load(dir / "empty.tckpt"),
                      Catch::Contains("empty.tckpt' is empty (0 bytes)"));
  REQUIRE_THROWS_WITH(io::parse_checkpoint("PK\x03\x04 a zip file (torch.save)", "model.pt"),
                      Catch::Contains("'model.pt' is not a Tandem checkpoint file") &&
                          Catch::Contains("[50 4b 03 04 20 61 20 7a]"));
  std::string b = small_file();
  write_le(b, 8, 2, 4);
  REQUIRE_THROWS_WITH(io::parse_checkpoint(b, "new.tckpt"),
                      Catch::Contains("is a version 2 checkpoint file, but this Tandem reads version 1 only"));
  // A graph file is not a checkpoint either (same frame, another magic word).
  REQUIRE_THROWS_WITH(io::parse_checkpoint(std::string("TGRAPH1\0", 8) + std::string(16, '\0')),
                      Catch::Contains("not a Tandem checkpoint file"));
}

TEST_CASE("a checkpoint cut at any length, or with any byte flipped, is an error", "[checkpoint][errors]") {
  io::Checkpoint c;
  c.tensors = {{"w", tensor({{1.f, 2.f}, {3.f, 4.f}})}, {"mask", tensor({true, false})}};
  c.record_random_state();
  c.notes = {{"lr", "0.1"}};
  const std::string b = io::serialize_checkpoint(c);
  for (size_t n = 0; n < b.size(); ++n) {
    INFO("cut to " << n << " bytes");
    REQUIRE_THROWS_WITH(io::parse_checkpoint(b.substr(0, n)),
                        n == 0 ? Catch::Contains("empty") : Catch::Contains("truncated"));
  }
  REQUIRE_THROWS_WITH(io::parse_checkpoint(b + "xyz"), Catch::Contains("3 unexpected bytes after its checksum"));
  for (size_t at = 0; at < b.size(); ++at) {
    std::string damaged = b;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x10);
    INFO("byte " << at << " flipped");
    if (at < 8) REQUIRE_THROWS_WITH(io::parse_checkpoint(damaged), Catch::Contains("not a Tandem checkpoint"));
    else if (at < 12) REQUIRE_THROWS_WITH(io::parse_checkpoint(damaged), Catch::Contains("version"));
    else if (at < 20) REQUIRE_THROWS_AS(io::parse_checkpoint(damaged), Error);  // the body size
    else REQUIRE_THROWS_WITH(io::parse_checkpoint(damaged), Catch::Contains("CRC-32 checksum"));
  }
}

TEST_CASE("a sealed file that lies inside is refused, and allocates no more than it holds", "[checkpoint][errors]") {
  // Each case edits the body of a valid file, then reseals it: the checksum matches, so only the
  // loader's own checks stand between the lie and the memory.
  const size_t tensors_at = kBody + 22, name_at = tensors_at + 4;
  struct Lie {
    const char* what;
    std::function<void(std::string&)> edit;
    const char* error;
  };
  const std::vector<Lie> lies = {
      {"4 billion tensors", [&](std::string& b) { write_le(b, tensors_at, 0xffffffffu, 4); },
       "the tensor count is 4294967295, more than the"},
      {"4 billion notes", [&](std::string& b) { write_le(b, kBody + 18, 0xffffffffu, 4); },
       "the note count is 4294967295"},
      {"a name longer than the file", [&](std::string& b) { write_le(b, name_at, 1u << 30, 4); },
       "a tensor's name needs 1073741824 bytes"},
      {"a huge shape", [&](std::string& b) {  // w's [2, 2] becomes [2^40, 2^40]
         write_le(b, name_at + 10, uint64_t{1} << 40, 8);
         write_le(b, name_at + 18, uint64_t{1} << 40, 8);
       }, "sizes whose product does not fit in 62 bits"},
      {"a byte count that disagrees with the shape", [&](std::string& b) { write_le(b, name_at + 26, 1u << 20, 8); },
       "holds 1048576 bytes for a float32 tensor of shape [2, 2], which takes 16"},
      {"a shape larger than the bytes", [&](std::string& b) {  // [2, 2] -> [2, 2^20] with a matching count
         write_le(b, name_at + 18, uint64_t{1} << 20, 8);
         write_le(b, name_at + 26, uint64_t{8} << 20, 8);
       }, "needs 8388608 bytes"},
      {"a negative size", [&](std::string& b) { write_le(b, name_at + 10, static_cast<uint64_t>(-2), 8); },
       "has the negative size -2"},
      {"rank 65", [&](std::string& b) { write_le(b, name_at + 6, 65, 4); }, "rank"},
      {"an unknown dtype", [&](std::string& b) { b[name_at + 5] = 9; }, "unknown dtype code 9"},
      {"a repeated name", [&](std::string& b) { b[name_at + 54] = 'w';  /* b's name: after w's 50 bytes and its length */ },
       "empty or repeated name"},
      {"a generator flag of 2", [&](std::string& b) { b[kBody + 16] = 2; }, "generator flag is 2"},
      {"an epoch of -5", [&](std::string& b) { write_le(b, kBody, static_cast<uint64_t>(-5), 8); },
       "must be -1 (not recorded) or more"},
      {"bytes after the last tensor", [&](std::string& b) { b.insert(b.size() - 4, "junk"); },
       "4 bytes are left over"},
  };
  for (const Lie& lie : lies) {
    INFO(lie.what);
    std::string b = small_file();
    lie.edit(b);
    reseal(b);
    const int64_t before = memory_stats().bytes_in_use;
    reset_peak_memory_stats();
    REQUIRE_THROWS_WITH(io::parse_checkpoint(b, "forged.tckpt"),
                        Catch::Contains("load_checkpoint: 'forged.tckpt' is corrupt") &&
                            Catch::Contains(lie.error) && Catch::Contains("checksum matches"));
    CHECK(memory_stats().peak_bytes - before <= static_cast<int64_t>(b.size()));
  }
  // The generator's position: 312 words, then the index of the next one, which must be 0 to 312.
  io::Checkpoint with_rng;
  with_rng.record_random_state();
  std::string b = io::serialize_checkpoint(with_rng);
  write_le(b, kBody + 17 + 312 * 8, 313, 8);
  reseal(b);
  REQUIRE_THROWS_WITH(io::parse_checkpoint(b), Catch::Contains("the generator's position is 313 (0 to 312)"));
}

// ---- load_state_dict --------------------------------------------------------------------------------

namespace {
struct Net {  // two linear layers, PyTorch's [out, in] weights
  Tensor w1 = randn({4, 3}).requires_grad_(), b1 = zeros({4}).requires_grad_();
  Tensor w2 = randn({2, 4}).requires_grad_(), b2 = zeros({2}).requires_grad_();
  StateDict state_dict() const { return {{"fc1.weight", w1}, {"fc1.bias", b1}, {"fc2.weight", w2}, {"fc2.bias", b2}}; }
};
std::vector<Tensor> values(const StateDict& sd) {
  std::vector<Tensor> out;
  for (const auto& [name, t] : sd) out.push_back(t.detach().clone());
  return out;
}
bool unchanged(const StateDict& sd, const std::vector<Tensor>& before) {
  size_t k = 0;
  for (const auto& [name, t] : sd)
    if (!equal(t.detach(), before[k++])) return false;
  return true;
}
}  // namespace

TEST_CASE("load_state_dict copies into the parameters themselves", "[checkpoint]") {
  manual_seed(0);
  Net a, b;
  const Tensor w1_before = b.w1;
  const LoadReport r = load_state_dict(b.state_dict(), a.state_dict());
  CHECK(r.all_keys_matched());
  std::ostringstream os;
  os << r;
  CHECK(os.str() == "<All keys matched successfully>");
  CHECK(equal(b.w1.detach(), a.w1.detach()));
  CHECK(b.w1.is_same(w1_before));  // the same tensor, written in place
  CHECK(b.w1.is_leaf());
  CHECK(b.w1.requires_grad());
  CHECK(b.w1.storage() != a.w1.storage());  // copied, not shared
  // A float64 checkpoint loads into float32 parameters, converted (PyTorch's copy_ does the same).
  StateDict wide;
  for (const auto& [name, t] : a.state_dict()) wide.insert(name, t.detach().to(kFloat64) * 2);
  load_state_dict(b.state_dict(), wide);
  CHECK(b.w1.dtype() == kFloat32);
  CHECK(allclose(b.w1.detach(), a.w1.detach() * 2));
}

TEST_CASE("load_state_dict: missing, unexpected and mismatched keys, in PyTorch's words", "[checkpoint][errors]") {
  manual_seed(1);
  Net model, other;
  const std::vector<Tensor> before = values(model.state_dict());
  StateDict sd = other.state_dict();
  sd.erase("fc2.bias");
  sd.insert("fc3.weight", zeros({1}));
  sd.insert("extra", zeros({1}));
  sd.set("fc1.weight", zeros({4, 5}));

  SECTION("strict: every problem listed, and nothing loaded") {
    REQUIRE_THROWS_WITH(load_state_dict(model.state_dict(), sd, true, "Net"),
                        Catch::StartsWith("Error(s) in loading state_dict for Net:\n"
                                          "\tMissing key(s) in state_dict: \"fc2.bias\". \n"
                                          "\tUnexpected key(s) in state_dict: \"fc3.weight\", \"extra\". \n"
                                          "\tsize mismatch for fc1.weight: copying a param with shape [4, 5] from "
                                          "checkpoint, the shape in current model is [4, 3].") &&
                            Catch::Contains("Nothing was loaded: the Net is unchanged"));
    CHECK(unchanged(model.state_dict(), before));  // fc1.bias and fc2.weight matched, and were not copied
  }
  SECTION("not strict: a size mismatch is still an error, and still nothing is loaded") {
    REQUIRE_THROWS_WITH(load_state_dict(model.state_dict(), sd, false),
                        Catch::Contains("size mismatch for fc1.weight") && !Catch::Contains("Missing"));
    CHECK(unchanged(model.state_dict(), before));
  }
  SECTION("not strict, shapes right: the keys that match are loaded, the rest reported") {
    sd.set("fc1.weight", other.w1.detach());
    const LoadReport r = load_state_dict(model.state_dict(), sd, false);
    CHECK(r.missing_keys == std::vector<std::string>{"fc2.bias"});
    CHECK(r.unexpected_keys == std::vector<std::string>{"fc3.weight", "extra"});
    std::ostringstream os;
    os << r;
    CHECK(os.str() == "_IncompatibleKeys(missing_keys=['fc2.bias'], unexpected_keys=['fc3.weight', 'extra'])");
    CHECK(equal(model.w1.detach(), other.w1.detach()));
    CHECK(equal(model.b2.detach(), before[3]));  // missing: left as it was
  }
  SECTION("each problem alone") {
    StateDict missing = other.state_dict();
    missing.erase("fc1.bias");
    REQUIRE_THROWS_WITH(load_state_dict(model.state_dict(), missing),
                        Catch::Contains("Missing key(s) in state_dict: \"fc1.bias\".") && !Catch::Contains("Unexpected"));
    StateDict unexpected = other.state_dict();
    unexpected.insert("fc1.weight_v", zeros({1}));
    REQUIRE_THROWS_WITH(load_state_dict(model.state_dict(), unexpected),
                        Catch::Contains("Unexpected key(s) in state_dict: \"fc1.weight_v\".") && !Catch::Contains("Missing"));
    StateDict mismatched = other.state_dict();
    mismatched.set("fc2.bias", zeros({3}));
    REQUIRE_THROWS_WITH(load_state_dict(model.state_dict(), mismatched),
                        Catch::Contains("size mismatch for fc2.bias: copying a param with shape [3]"));
    CHECK(unchanged(model.state_dict(), before));
  }
}

// ---- optimizers ---------------------------------------------------------------------------------------

namespace {
// Three steps of `opt` on a fixed least-squares problem over `params`.
void train_steps(optim::Optimizer& opt, const std::vector<Tensor>& params, int steps, uint64_t seed) {
  manual_seed(seed);
  const Tensor x = randn({8, 3}), y = randn({8, 2});
  for (int s = 0; s < steps; ++s) {
    opt.zero_grad();
    Tensor loss = mean(pow(matmul(x, params[0]) + params[1] - y, 2.0));
    loss.backward();
    opt.step();
  }
}
std::vector<Tensor> fresh_params(uint64_t seed) {
  manual_seed(seed);
  return {randn({3, 2}).requires_grad_(), randn({2}).requires_grad_()};
}
std::vector<Tensor> copies(const std::vector<Tensor>& ps) {
  std::vector<Tensor> out;
  for (const Tensor& p : ps) out.push_back(p.detach().clone().requires_grad_());
  return out;
}
}  // namespace

TEST_CASE("an optimizer's state_dict has PyTorch's names, and resumes it exactly", "[checkpoint][optim]") {
  const ScratchDir dir("checkpoint_optim");
  SECTION("Adam") {
    std::vector<Tensor> p = fresh_params(0);
    optim::Adam opt(p, {.lr = 0.01, .beta1 = 0.8, .weight_decay = 0.1});
    train_steps(opt, p, 3, 1);
    const StateDict sd = opt.state_dict();
    CHECK(sd.names() == std::vector<std::string>{"state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq",
                                                 "state.1.step", "state.1.exp_avg", "state.1.exp_avg_sq",
                                                 "param_groups.0.lr", "param_groups.0.betas", "param_groups.0.eps",
                                                 "param_groups.0.weight_decay", "param_groups.0.params"});
    CHECK(sd.at("state.0.step").item() == 3);
    CHECK(sd.at("param_groups.0.betas").to_vector() == std::vector<double>{0.8, 0.999});
    CHECK(sd.at("param_groups.0.params").to_vector() == std::vector<double>{0, 1});
    sd.save(dir / "adam.tckpt");

    // A second optimizer over copies of the parameters, with other hyper-parameters, loads it...
    std::vector<Tensor> q = copies(p);
    optim::Adam resumed(q, {.lr = 0.5});
    resumed.load_state_dict(StateDict::load(dir / "adam.tckpt"));
    CHECK(resumed.options.lr == 0.01);
    CHECK(resumed.options.beta1 == 0.8);
    // ...and from there both take the same steps, bit for bit.
    train_steps(opt, p, 4, 2);
    train_steps(resumed, q, 4, 2);
    CHECK(equal(p[0].detach(), q[0].detach()));
    CHECK(equal(p[1].detach(), q[1].detach()));
    CHECK(resumed.state(0).step.item() == 7);
  }
  SECTION("SGD with momentum, and a parameter that has taken no step") {
    std::vector<Tensor> p = fresh_params(3);
    Tensor unused = zeros({5}).requires_grad_();  // never in the loss: no gradient, no state
    optim::SGD opt({p[0], p[1], unused}, {.lr = 0.1, .momentum = 0.9, .nesterov = true});
    train_steps(opt, p, 2, 4);
    const StateDict sd = opt.state_dict();
    CHECK(sd.names() == std::vector<std::string>{"state.0.momentum_buffer", "state.1.momentum_buffer",
                                                 "param_groups.0.lr", "param_groups.0.momentum",
                                                 "param_groups.0.dampening", "param_groups.0.weight_decay",
                                                 "param_groups.0.nesterov", "param_groups.0.params"});
    std::vector<Tensor> q = copies(p);
    optim::SGD resumed({q[0], q[1], unused.detach().clone().requires_grad_()}, {.lr = 1});
    resumed.load_state_dict(sd.clone());
    CHECK(resumed.options.nesterov);
    train_steps(opt, p, 3, 5);
    train_steps(resumed, q, 3, 5);
    CHECK(equal(p[0].detach(), q[0].detach()));
    CHECK(equal(p[1].detach(), q[1].detach()));
  }
}

TEST_CASE("a wrong optimizer state_dict is refused, and the optimizer is unchanged", "[checkpoint][optim][errors]") {
  std::vector<Tensor> p = fresh_params(0);
  optim::Adam adam(p, {.lr = 0.01});
  train_steps(adam, p, 2, 1);
  const StateDict good = adam.state_dict().clone();
  const Tensor m_before = adam.state(0).exp_avg.clone();

  auto refused = [&](const StateDict& sd, const std::string& error) {
    INFO(error);
    REQUIRE_THROWS_WITH(adam.load_state_dict(sd), Catch::Contains("Adam.load_state_dict: " ) &&
                                                      Catch::Contains(error) &&
                                                      Catch::Contains("the optimizer is unchanged"));
    CHECK(adam.options.lr == 0.01);
    CHECK(equal(adam.state(0).exp_avg, m_before));
  };
  // Another optimizer's: PyTorch would take it; its keys are not Adam's.
  std::vector<Tensor> q = fresh_params(0);
  optim::SGD sgd(q, {.lr = 0.1, .momentum = 0.9});
  train_steps(sgd, q, 1, 1);
  refused(sgd.state_dict(), "no \"param_groups.0.betas\"");
  // One parameter more than this optimizer has.
  std::vector<Tensor> three = {p[0], p[1], zeros({1}).requires_grad_()};
  optim::Adam longer(three);
  refused(longer.state_dict(), "the optimizer has 2 parameters");
  // A state tensor of the wrong shape (PyTorch would take this one too).
  StateDict wrong_shape = good.clone();
  wrong_shape.set("state.1.exp_avg", zeros({3}));
  refused(wrong_shape, "\"state.1.exp_avg\" has shape [3] where [2] belongs");
  // Half a parameter's state.
  StateDict half = good.clone();
  half.erase("state.0.exp_avg_sq");
  refused(half, "no \"state.0.exp_avg_sq\"");
  // A key nobody writes.
  StateDict extra = good.clone();
  extra.insert("state.7.exp_avg", zeros({2}));
  refused(extra, "unexpected key(s) \"state.7.exp_avg\"");
  // A value the constructor would refuse.
  StateDict negative = good.clone();
  negative.set("param_groups.0.lr", tensor(-1.0, kFloat64));
  refused(negative, "Invalid learning rate: -1");
  // A hyper-parameter of the wrong dtype.
  StateDict as_float = good.clone();
  as_float.set("param_groups.0.eps", tensor(1e-8f));
  refused(as_float, "\"param_groups.0.eps\" is a float32 tensor where a float64 one belongs");
  // And the good one still loads.
  CHECK_NOTHROW(adam.load_state_dict(good));
}
