// tests/test_fuzz_replay.cpp — every fuzz target's seed corpus, replayed on every test run.
//
// The fuzz targets (tests/fuzz/fuzz_<name>.cpp) are built for libFuzzer only with clang and
// -DTANDEM_FUZZ=ON. So that the normal build still checks them, CMake also compiles each one into
// this test program under its own name (LLVMFuzzerTestOneInput becomes tandem_fuzz_<name>) and
// lists them in fuzz_targets.inc; this test feeds each target every file of its corpus,
// tests/fuzz/corpus/<name>/. A file that makes a target throw anything but tandem::Error — or
// crash, under the sanitizer build — fails here. When fuzzing finds a crash, its input goes into
// the corpus, and this test keeps the fix.
#include <catch2/catch.hpp>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "data/idx.h"
#include "io/graph_file.h"
#include "tandem.h"

#define TANDEM_FUZZ_TARGET(name) extern "C" int tandem_fuzz_##name(const uint8_t*, size_t);
#include "fuzz_targets.inc"
#undef TANDEM_FUZZ_TARGET

namespace {

struct FuzzTarget {
  const char* name;
  int (*run)(const uint8_t*, size_t);
};
const FuzzTarget kTargets[] = {
#define TANDEM_FUZZ_TARGET(name) {#name, tandem_fuzz_##name},
#include "fuzz_targets.inc"
#undef TANDEM_FUZZ_TARGET
    {nullptr, nullptr}};

namespace fs = std::filesystem;
const fs::path kCorpora = fs::path(TANDEM_SOURCE_DIR) / "tests" / "fuzz" / "corpus";

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("every fuzz target has a seed corpus, and every corpus a target", "[fuzz]") {
  std::set<std::string> targets, corpora;
  for (const FuzzTarget* t = kTargets; t->name; ++t) targets.insert(t->name);
  for (const auto& e : fs::directory_iterator(kCorpora))
    if (e.is_directory()) corpora.insert(e.path().filename().string());
  CHECK(targets == corpora);
  CHECK(targets.count("graph_file") == 1);
  CHECK(targets.count("idx") == 1);
  for (const std::string& name : corpora) CHECK(!fs::is_empty(kCorpora / name));
}

TEST_CASE("the fuzz corpora replay through their targets without a finding", "[fuzz]") {
  for (const FuzzTarget* t = kTargets; t->name; ++t) {
    DYNAMIC_SECTION("fuzz_" << t->name) {
      int files = 0;
      for (const auto& e : fs::directory_iterator(kCorpora / t->name)) {
        if (!e.is_regular_file()) continue;
        const std::string bytes = read_all(e.path());
        INFO("corpus file " << e.path().string());
        CHECK_NOTHROW(t->run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
        ++files;
      }
      CHECK(files > 0);
    }
  }
}

// ---- the seed corpora, and how they were made ----------------------------------------------------
// Hidden (tag [.]): run it by hand to rewrite the committed seeds, `tandem_tests "[corpus]"`.
// Small valid inputs of every kind the loaders know: the fuzzer mutates them into the invalid ones.

namespace {

void write_file(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}

std::string gzip(const std::string& bytes) {
  const fs::path tmp = fs::temp_directory_path() / "tandem_corpus.gz";
  gzFile f = gzopen(tmp.c_str(), "wb9");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
  std::string out = read_all(tmp);
  fs::remove(tmp);
  return out;
}

std::string idx(unsigned char type, std::initializer_list<uint32_t> dims, const std::string& payload) {
  std::string h = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) h += static_cast<char>((d >> shift) & 0xff);
  return h + payload;
}

std::string frozen_bytes(tandem::graph::Graph& graph, const std::vector<tandem::graph::Output>& outs) {
  tandem::graph::Session s(graph);
  return tandem::io::serialize_graph(tandem::io::freeze(s, outs));
}

}  // namespace

TEST_CASE("write the seed corpora of the fuzz targets", "[.][corpus]") {
  using namespace tandem;
  namespace g = tandem::graph;
  // IDX: each element type, plain and gzip-compressed, 1 to 3 dimensions.
  const fs::path idx_dir = kCorpora / "idx";
  write_file(idx_dir / "labels_u8.idx", idx(0x08, {5}, std::string("\x00\x03\x09\x01\x07", 5)));
  write_file(idx_dir / "labels_u8.idx.gz", gzip(idx(0x08, {5}, std::string("\x00\x03\x09\x01\x07", 5))));
  std::string pixels;
  for (int i = 0; i < 18; ++i) pixels += static_cast<char>(i * 14);
  write_file(idx_dir / "images_u8.idx.gz", gzip(idx(0x08, {2, 3, 3}, pixels)));
  write_file(idx_dir / "i8.idx", idx(0x09, {4}, std::string("\x80\xff\x00\x7f", 4)));
  write_file(idx_dir / "i16.idx", idx(0x0B, {2, 2}, std::string("\x80\x00\xff\xff\x00\x01\x7f\xff", 8)));
  write_file(idx_dir / "i32.idx", idx(0x0C, {2}, std::string("\x80\x00\x00\x00\x00\x00\x00\x2a", 8)));
  write_file(idx_dir / "f32.idx", idx(0x0D, {2}, std::string("\x3f\x80\x00\x00\xc0\x49\x0f\xdb", 8)));
  write_file(idx_dir / "f64.idx.gz",
             gzip(idx(0x0E, {1, 2}, std::string("\x3f\xf0\x00\x00\x00\x00\x00\x00\x40\x09\x21\xfb\x54\x44\x2d\x18", 16))));
  write_file(idx_dir / "empty_u8.idx", idx(0x08, {0, 28}, ""));

  // Graph files: a tiny function, an MLP, every dtype and attr, gradients' helper kinds, a ConvNet.
  const fs::path graph_dir = kCorpora / "graph_file";
  {
    g::Graph graph;
    g::DefaultGraph use(graph);
    g::Output x = g::placeholder(kFloat32, {2}, "x");
    write_file(graph_dir / "relu.tgraph", frozen_bytes(graph, {g::relu(x * g::constant(tensor({2.f, -1.f})))}));
  }
  {
    g::Graph graph;
    g::DefaultGraph use(graph);
    manual_seed(0);
    g::Output x = g::placeholder(kFloat32, {-1, 4}, "x");
    g::Output h = g::relu(g::matmul(x, g::constant(randn({4, 3}))) + g::constant(randn({3})));
    write_file(graph_dir / "mlp.tgraph", frozen_bytes(graph, {g::softmax(h, 1)}));
  }
  {
    g::Graph graph;
    g::DefaultGraph use(graph);
    g::Output x = g::placeholder(kFloat64, {-1, 3}, "x");
    g::Output mask = g::constant(tensor({true, false, true}), "mask");
    g::Output index = g::constant(tensor({2, 0}), "index");
    g::Output picked = g::index_select(g::where(mask, x, g::constant(tensor({-1.0, -1.0, -1.0}, kFloat64))), 1, index);
    g::Output total = g::sum(picked + g::slice(x, 1, 0, 3, 2), {1}, true);
    g::Output w = g::constant(tensor({1.0, 2.0, 3.0}, kFloat64), "w");
    g::Output dx = g::gradients({g::sum(x * w)}, {x})[0];
    write_file(graph_dir / "dtypes_and_gradients.tgraph",
               frozen_bytes(graph, {g::to(total, kFloat32), dx, g::permute(g::reshape(x, {-1, 1, 3}), {2, 0, 1})}));
  }
  {
    g::Graph graph;
    g::DefaultGraph use(graph);
    manual_seed(1);
    g::Output x = g::placeholder(kFloat32, {-1, 1, 6, 6}, "images");
    g::Output c = g::relu(g::conv2d(x, g::constant(randn({2, 1, 3, 3})), {1, 1}, {1, 1}));
    g::Output p = g::max_pool2d(c, {2, 2});
    write_file(graph_dir / "convnet.tgraph", frozen_bytes(graph, {g::flatten(p, 1), g::argmax(g::flatten(p, 1), 1)}));
  }
  // Every seed is valid: each loads.
  for (const auto& e : fs::directory_iterator(graph_dir)) CHECK_NOTHROW(io::parse_graph(read_all(e.path())));
  for (const auto& e : fs::directory_iterator(idx_dir)) CHECK_NOTHROW(data::parse_idx(read_all(e.path())));
}
