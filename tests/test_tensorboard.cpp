// tests/test_tensorboard.cpp — the event-file format, byte by byte: CRC-32C, protobuf, records.
//
// What is checked against what:
//   - CRC-32C against the known answers of RFC 3720 and TensorFlow's crc32c_test.cc (and the
//     masked values tensorboardX and TensorBoard compute);
//   - the protobuf encoder against hand-worked examples, and against the bytes Google's protobuf
//     library, TensorBoard's RecordWriter and PyTorch's summary functions wrote for the same
//     messages (tests/fixtures/tensorboard.txt, by scripts/fixtures/gen_tensorboard.py);
//   - the reader against damaged input: every cut of a file, flipped bytes, lying lengths.
// The writers (SummaryWriter, FileWriter and graph summaries) are tested in
// tests/test_tensorboard_writers.cpp.
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>

#include <cfloat>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/error.h"
#include "core/factories.h"
#include "io/crc32c.h"
#include "io/event.h"
#include "io/event_file.h"
#include "io/graph_def.h"
#include "io/protobuf_reader.h"
#include "io/protobuf_writer.h"
#include "io/summary.h"

using namespace tandem;
using namespace tandem::io;
namespace fs = std::filesystem;

namespace {

std::string bytes_of(std::initializer_list<int> b) {
  std::string s;
  for (const int x : b) s.push_back(static_cast<char>(x));
  return s;
}

std::string hex(std::string_view s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (const char c : s) {
    out.push_back(digits[static_cast<uint8_t>(c) >> 4]);
    out.push_back(digits[static_cast<uint8_t>(c) & 15]);
  }
  return out;
}

// tests/fixtures/tensorboard.txt: case <name> / what ... / hex <bytes> / end.
std::map<std::string, std::string> golden() {
  std::ifstream in(std::string(TANDEM_SOURCE_DIR) + "/tests/fixtures/tensorboard.txt");
  REQUIRE(in);
  std::map<std::string, std::string> out;
  std::string line, name;
  while (std::getline(in, line)) {
    if (line.rfind("case ", 0) == 0) name = line.substr(5);
    if (line.rfind("hex ", 0) == 0) out[name] = line.substr(4);
  }
  return out;
}

// A folder of its own for one test (ctest runs tests in parallel processes).
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::path(TANDEM_BINARY_DIR) / "test_tensorboard" / (name + "_" + std::to_string(getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

constexpr double kWall = 1700000000.0;

}  // namespace

// ---- CRC-32C ---------------------------------------------------------------------------------------

TEST_CASE("crc32c: the known answers of RFC 3720 and TensorFlow's tests", "[tensorboard][crc]") {
  CHECK(crc32c("") == 0x00000000u);
  CHECK(crc32c("123456789") == 0xe3069283u);  // the standard check value
  CHECK(crc32c(std::string(32, '\0')) == 0x8a9136aau);
  CHECK(crc32c(std::string(32, '\xff')) == 0x62a8ab43u);
  std::string up, down;
  for (int i = 0; i < 32; ++i) up.push_back(static_cast<char>(i)), down.push_back(static_cast<char>(31 - i));
  CHECK(crc32c(up) == 0x46dd794eu);
  CHECK(crc32c(down) == 0x113fdb5cu);
  // RFC 3720 B.4: an iSCSI read command PDU (TensorFlow's crc32c_test.cc, StandardResults).
  const std::string pdu = bytes_of({0x01, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x14, 0, 0, 0, 0, 0, 0x04, 0,
                                    0, 0, 0, 0x14, 0, 0, 0, 0x18, 0x28, 0, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0});
  REQUIRE(pdu.size() == 48);
  CHECK(crc32c(pdu) == 0xd9963a56u);
  CHECK(crc32c("a") == 0xc1d04330u);
  CHECK(crc32c("foo") == 0xcfc4ae1du);
  CHECK(crc32c("hello world") == 0xc99465aau);
  // Extending a CRC is the CRC of the two pieces together.
  CHECK(crc32c_extend(crc32c("hello "), "world") == crc32c("hello world"));
  CHECK(crc32c_extend(crc32c(""), "123456789") == crc32c("123456789"));
}

TEST_CASE("crc32c: TFRecord's mask, and its inverse", "[tensorboard][crc]") {
  CHECK(masked_crc32c("") == 0xa282ead8u);
  CHECK(masked_crc32c("123456789") == 0xc78ab0e5u);
  CHECK(masked_crc32c(std::string(32, '\0')) == 0x0fd7fffau);
  CHECK(masked_crc32c(std::string(32, '\xff')) == 0xf909b029u);
  CHECK(masked_crc32c("a") == 0x28e46e78u);
  CHECK(masked_crc32c("foo") == 0xfebe8a61u);
  CHECK(masked_crc32c("hello world") == 0x6dd87e00u);
  CHECK(masked_crc32c(bytes_of({24, 0, 0, 0, 0, 0, 0, 0})) == 0x224b7fa3u);  // a record's length 24
  CHECK(masked_crc32c(bytes_of({26, 0, 0, 0, 0, 0, 0, 0})) == 0x2dd89b12u);
  for (const uint32_t c : {0u, 1u, 0xe3069283u, 0xffffffffu, 0x80000000u}) {
    CHECK(unmask_crc(mask_crc(c)) == c);
    CHECK(mask_crc(c) != c);
  }
}

// ---- protobuf ----------------------------------------------------------------------------------------

TEST_CASE("protobuf: keys, varints and fixed-width values, worked by hand", "[tensorboard][protobuf]") {
  auto one = [](auto&& write) {
    ProtoWriter w;
    write(w);
    return hex(w.bytes());
  };
  // key = (field << 3) | wire type; the value follows.
  CHECK(one([](ProtoWriter& w) { w.varint_field(2, 2); }) == "1002");            // step = 2
  CHECK(one([](ProtoWriter& w) { w.varint_field(1, 150); }) == "089601");        // 150 = 0b1_0010110: 96 01
  CHECK(one([](ProtoWriter& w) { w.varint_field(1, 300); }) == "08ac02");
  CHECK(one([](ProtoWriter& w) { w.int64_field(2, -1); }) == "10ffffffffffffffffff01");  // 10 bytes
  CHECK(one([](ProtoWriter& w) { w.bool_field(5, true); }) == "2801");
  CHECK(one([](ProtoWriter& w) { w.float_field(2, 0.5f); }) == "150000003f");    // 0.5f = 0x3f000000, LE
  CHECK(one([](ProtoWriter& w) { w.double_field(1, 1.0); }) == "09000000000000f03f");
  CHECK(one([](ProtoWriter& w) { w.bytes_field(1, "loss"); }) == "0a046c6f7373");
  CHECK(one([](ProtoWriter& w) { w.bytes_field(19, ""); }) == "9a0100");  // field 19: the key is 2 bytes
  const std::vector<double> two = {1.0, -2.0};
  CHECK(one([&](ProtoWriter& w) { w.packed_doubles_field(6, two); }) == "3210000000000000f03f00000000000000c0");
  ProtoWriter inner;
  inner.varint_field(1, 1);
  CHECK(one([&](ProtoWriter& w) { w.message_field(3, inner); }) == "1a020801");
}

TEST_CASE("protobuf: the reader reads what the writer wrote, and skips unknown fields", "[tensorboard][protobuf]") {
  ProtoWriter w;
  w.int64_field(2, -7);
  w.double_field(1, 2.5);
  w.bytes_field(99, "skip me");  // a field the reader does not know
  w.float_field(4, -1.25f);
  const std::vector<double> d = {0.5, 3.0};
  w.packed_doubles_field(6, d);
  ProtoReader r(w.bytes(), "test");
  std::vector<uint32_t> numbers;
  std::vector<double> doubles;
  while (auto f = r.next()) {
    numbers.push_back(f->number);
    if (f->number == 2) CHECK(f->as_int64() == -7);
    if (f->number == 1) CHECK(f->as_double() == 2.5);
    if (f->number == 99) CHECK(f->as_bytes() == "skip me");
    if (f->number == 4) CHECK(f->as_float() == -1.25f);
    if (f->number == 6) f->append_doubles(doubles);
  }
  CHECK(numbers == std::vector<uint32_t>{2, 1, 99, 4, 6});
  CHECK(doubles == d);
  // A repeated double may also arrive unpacked, one I64 field per element.
  ProtoWriter unpacked;
  unpacked.double_field(6, 0.5);
  unpacked.double_field(6, 3.0);
  doubles.clear();
  ProtoReader r2(unpacked.bytes(), "test");
  while (auto f = r2.next()) f->append_doubles(doubles);
  CHECK(doubles == d);
}

TEST_CASE("protobuf: malformed bytes are errors naming what is wrong, never a crash", "[tensorboard][protobuf]") {
  auto read_all = [](const std::string& bytes) {
    ProtoReader r(bytes, "bad.pb");
    while (auto f = r.next()) (void)f->bits;
  };
  CHECK_THROWS_WITH(read_all(bytes_of({0x08})), Catch::Contains("bad.pb") && Catch::Contains("runs past the end"));
  CHECK_THROWS_WITH(read_all(bytes_of({0x08, 0x80, 0x80})), Catch::Contains("runs past the end"));
  CHECK_THROWS_WITH(read_all(std::string(1, '\x08') + std::string(11, '\x80') + "\x01"),
                    Catch::Contains("longer than 10 bytes"));
  CHECK_THROWS_WITH(read_all(bytes_of({0x0a, 0x05, 'a', 'b'})),
                    Catch::Contains("says it holds 5 bytes, but only 2 remain"));
  CHECK_THROWS_WITH(read_all(bytes_of({0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})),
                    Catch::Contains("remain"));  // a length near 2^63: refused before anything is taken
  CHECK_THROWS_WITH(read_all(bytes_of({0x09, 1, 2, 3})), Catch::Contains("needs 8 bytes, 3 remain"));
  CHECK_THROWS_WITH(read_all(bytes_of({0x0b})), Catch::Contains("a group"));
  CHECK_THROWS_WITH(read_all(bytes_of({0x0e})), Catch::Contains("wire type 6"));
  CHECK_THROWS_WITH(read_all(bytes_of({0x00, 0x00})), Catch::Contains("field number 0"));
  // A field of the wrong type for what it is read as.
  const std::string step_as_string = bytes_of({0x12, 0x01, 'x'});
  CHECK_THROWS_WITH(decode_event(step_as_string, "run.tfevents"),
                    Catch::Contains("run.tfevents") && Catch::Contains("field 2 should be a integer"));
  const std::string odd_packed = bytes_of({0x32, 0x03, 1, 2, 3});
  std::vector<double> out;
  ProtoReader r(odd_packed, "histo");
  CHECK_THROWS_WITH(r.next()->append_doubles(out), Catch::Contains("not a multiple of 8"));
}

// ---- events: golden bytes ------------------------------------------------------------------------

TEST_CASE("events: the golden bytes of the format's reference, worked by hand", "[tensorboard][event]") {
  // Event{wall_time 1.7e9, file_version "brain.Event:2"}: a double (key 09) and a string (key 1a).
  const std::string version = encode_event({.wall_time = kWall, .what = FileVersion{kFileVersion}});
  CHECK(hex(version) == "09" "00000040fc54d941"  // wall_time: 1.7e9 = 0x41d954fc40000000, little-endian
                        "1a" "0d" "627261696e2e4576656e743a32");  // file_version: 13 bytes of text
  CHECK(hex(frame_record(version)) == "1800000000000000" "a37f4b22" + hex(version) + "eced8f9d");
  // {wall_time 1.7e9, step 1, summary{value{tag "loss", simple_value 0.5}}}: 26 bytes.
  const std::string scalar = encode_event({.wall_time = kWall, .step = 1, .what = Summary{{scalar_value("loss", 0.5)}}});
  CHECK(hex(scalar) == "09" "00000040fc54d941"  // wall_time
                       "1001"                   // step 1
                       "2a0d"                   // summary: 13 bytes
                       "0a0b"                   //   value: 11 bytes
                       "0a046c6f7373"           //     tag "loss"
                       "150000003f");           //     simple_value 0.5f
  CHECK(hex(frame_record(scalar)) == "1a00000000000000" "129bd82d" + hex(scalar) + "8db02e39");
}

TEST_CASE("events: the same bytes as protobuf, TensorBoard's RecordWriter and PyTorch's summaries",
          "[tensorboard][event]") {
  const auto want = golden();
  REQUIRE(want.size() == 11);
  const Event version{.wall_time = kWall, .what = FileVersion{kFileVersion}};
  CHECK(hex(encode_event(version)) == want.at("file_version"));
  CHECK(hex(frame_record(encode_event(version))) == want.at("file_version_record"));
  const Event loss{.wall_time = kWall, .step = 1, .what = Summary{{scalar_value("loss", 0.5)}}};
  CHECK(hex(encode_event(loss)) == want.at("scalar"));
  CHECK(hex(frame_record(encode_event(loss))) == want.at("scalar_record"));
  // A oneof member is written even when it is 0; a step of 0 and a wall_time of 0 are not.
  CHECK(hex(encode_event({.what = Summary{{scalar_value("acc", 0.0)}}})) == want.at("scalar_zero"));
  CHECK(hex(encode_event({.wall_time = 1.5, .step = -1, .what = Summary{{scalar_value("x", -2.25)}}})) ==
        want.at("negative_step"));
  CHECK(hex(encode_event({.wall_time = kWall, .step = 3, .what = Summary{{text_value("notes", "hello *world*")}}})) ==
        want.at("text"));
  // The histogram's buckets were computed in Python from TensorFlow's definition.
  const Tensor values = tensor({-1.5, 0.0, 0.0, 0.25, 3.0, 3.0, 1e-13}, kFloat64);
  CHECK(hex(encode_event({.wall_time = kWall, .step = 7, .what = Summary{{histogram_value("w", values)}}})) ==
        want.at("histogram"));
  ImageProto image{.height = 2, .width = 3, .colorspace = 3};
  for (int i = 0; i < 20; ++i) image.encoded_image.push_back(static_cast<char>(i));
  CHECK(hex(encode_event({.wall_time = kWall, .step = 2, .what = Summary{{{"in/image", image}}}})) ==
        want.at("image"));
  // A GraphDef: names, ops, inputs (a control input last), attributes in key order, an unknown dim
  // (-1: ten bytes), a dim of 0 (left out: an empty Dim), versions{producer 22}.
  auto node = [](std::string name, std::string op, std::vector<std::string> in, int dtype, Shape shape, int line) {
    return NodeDef{std::move(name), std::move(op), std::move(in), dtype, {std::move(shape)},
                   {{"created_at", msg("model.cpp:", line, " (in main)")}}};
  };
  const std::vector<NodeDef> nodes = {
      node("x", "Placeholder", {}, kDtFloat, {-1, 3}, 10),
      node("fc/w", "VariableV2", {}, kDtFloat, {3, 2}, 11),
      node("fc/MatMul", "MatMul", {"x", "fc/w"}, kDtFloat, {-1, 2}, 12),
      node("Sum", "Sum", {"fc/MatMul", "^fc/w"}, kDtFloat, {}, 13),
      node("n", "Count", {}, kDtInt64, {0}, 14),
  };
  const std::string graph_def = encode_graph_def(nodes);
  CHECK(hex(graph_def) == want.at("graph_def"));
  CHECK(hex(encode_event({.wall_time = kWall, .what = GraphDefBytes{graph_def}})) == want.at("graph_event"));
  CHECK(decode_graph_def(graph_def, "graph") == nodes);
}

TEST_CASE("events: decoding gives back every kind of event that was encoded", "[tensorboard][event]") {
  ImageProto image{.height = 1, .width = 2, .colorspace = 1, .encoded_image = "PNG bytes"};
  const std::vector<Event> events = {
      {.wall_time = kWall, .what = FileVersion{kFileVersion}},
      {.wall_time = kWall + 1, .step = 5,
       .what = Summary{{scalar_value("loss", 0.25), scalar_value("acc", 0.0), {"img", image},
                        text_value("notes", "**bold**"), histogram_value("h", tensor({1.0, 2.0, 2.0}))}}},
      {.wall_time = kWall + 2, .step = -3, .what = GraphDefBytes{"\x0a\x03\x0a\x01x"}},
      {.step = 1, .what = Summary{}},
  };
  for (const Event& e : events) CHECK(decode_event(encode_event(e), "round trip") == e);
}

// ---- histograms ----------------------------------------------------------------------------------

TEST_CASE("histograms: TensorFlow's default bucket edges", "[tensorboard][histogram]") {
  const std::vector<double>& edges = default_bucket_limits();
  REQUIRE(edges.size() == 1551);  // 774 positive edges and DBL_MAX, their negatives, and 0
  CHECK(edges.front() == -DBL_MAX);
  CHECK(edges.back() == DBL_MAX);
  CHECK(edges[775] == 0.0);
  CHECK(edges[776] == 1e-12);
  CHECK(edges[777] == Approx(1.1e-12));
  CHECK(edges[1549] >= 1e20 / 1.1);
  CHECK(edges[1549] < 1e20);
  for (size_t i = 0; i < edges.size(); ++i) {
    CHECK(edges[i] == -edges[edges.size() - 1 - i]);  // symmetric
    if (i > 0) CHECK(edges[i] > edges[i - 1]);
  }
}

TEST_CASE("histograms: each value in its bucket, empty runs collapsed, the statistics", "[tensorboard][histogram]") {
  const std::vector<double> v = {-2.0, -0.001, 0.0, 0.5, 0.5, 0.52, 1e6};
  const HistogramProto h = make_histogram(from_vector(v, {static_cast<int64_t>(v.size())}), "test");
  CHECK(h.num == 7);
  CHECK(h.min == -2.0);
  CHECK(h.max == 1e6);
  CHECK(h.sum == Approx(-2.0 - 0.001 + 0.5 + 0.5 + 0.52 + 1e6));
  CHECK(h.sum_squares == Approx(4.0 + 1e-6 + 0.25 + 0.25 + 0.52 * 0.52 + 1e12));
  REQUIRE(h.bucket.size() == h.bucket_limit.size());
  double total = 0;
  for (double c : h.bucket) total += c;
  CHECK(total == 7);
  // Bucket i holds [bucket_limit[i-1], bucket_limit[i]): find each value's bucket and count.
  for (const double x : v) {
    size_t i = 0;
    while (!(x < h.bucket_limit[i])) ++i;
    INFO(x);
    CHECK(h.bucket[i] >= 1);
    if (i > 0) CHECK(h.bucket_limit[i - 1] <= x);
  }
  // 0.5 and 0.52 are 4% apart: they share a bucket unless an edge (1e-12 * 1.1^k) lies between them.
  const std::vector<double>& edges = default_bucket_limits();
  size_t k = 776;
  while (edges[k] <= 0.5) ++k;  // the first edge above 0.5
  const bool together = 0.52 < edges[k];
  size_t at = 0;
  while (!(0.5 < h.bucket_limit[at])) ++at;
  CHECK(h.bucket[at] == (together ? 3 : 2));
  // No two empty buckets in a row: runs are collapsed.
  for (size_t i = 1; i < h.bucket.size(); ++i) CHECK(!(h.bucket[i] == 0 && h.bucket[i - 1] == 0));
  // The last bucket ends at DBL_MAX (an empty run up to the end).
  CHECK(h.bucket_limit.back() == DBL_MAX);
  CHECK(h.bucket.back() == 0);
}

TEST_CASE("histograms: any dtype, and errors for what TensorBoard cannot draw", "[tensorboard][histogram]") {
  const HistogramProto ints = make_histogram(tensor({{1, 2}, {3, 4}}, kInt64), "ints");
  CHECK(ints.num == 4);
  CHECK(ints.sum == 10);
  CHECK(make_histogram(tensor({true, false, true}), "mask").sum == 2);
  CHECK(make_histogram(full({}, 3.5), "one").max == 3.5);
  CHECK_THROWS_WITH(make_histogram(zeros({0, 3}), "add_histogram 'w'"),
                    Catch::Contains("add_histogram 'w'") && Catch::Contains("empty tensor"));
  CHECK_THROWS_WITH(make_histogram(tensor({1.0, std::nan("")}), "histogram 'grad'"),
                    Catch::Contains("histogram 'grad'") && Catch::Contains("nan") && Catch::Contains("diverged"));
  CHECK_THROWS_WITH(make_histogram(tensor({INFINITY}), "h"), Catch::Contains("inf"));
}

// ---- the event file --------------------------------------------------------------------------------

TEST_CASE("event files: named as TensorFlow names them, opened with the file_version record",
          "[tensorboard][event_file]") {
  TempDir dir("naming");
  EventFileWriter w((dir.path / "run" / "eager").string(), {.filename_suffix = ".v2"});
  const std::string name = fs::path(w.path()).filename().string();
  INFO(name);
  // events.out.tfevents.<10-digit seconds>.<host>.<pid>.<n>.v2
  CHECK(name.rfind("events.out.tfevents.", 0) == 0);
  CHECK(name.substr(20, 10).find_first_not_of("0123456789") == std::string::npos);
  CHECK(name.find(msg(".", getpid(), ".")) != std::string::npos);
  CHECK(name.size() > 3);
  CHECK(name.substr(name.size() - 3) == ".v2");
  // Written and synced at once: a run that logs nothing is still a valid event file.
  const EventFileContents f = read_event_file(w.path());
  REQUIRE(f.events.size() == 1);
  CHECK(std::get<FileVersion>(f.events[0].what).version == "brain.Event:2");
  CHECK(f.events[0].wall_time > kWall);  // now, in seconds since 1970
  CHECK(f.stopped_because.empty());
  CHECK(event_files_in((dir.path / "run" / "eager").string()) == std::vector<std::string>{w.path()});
  CHECK_THROWS_WITH(EventFileWriter(""), Catch::Contains("log directory is empty"));
}

TEST_CASE("event files: queued, written every max_queue events, synced by flush", "[tensorboard][event_file]") {
  TempDir dir("queue");
  EventFileWriter w(dir.path.string(), {.max_queue = 3});
  const auto on_disk = [&] { return read_event_file(w.path()).events.size(); };
  CHECK(on_disk() == 1);
  w.add_event({.step = 1, .what = Summary{{scalar_value("a", 1)}}});
  w.add_event({.step = 2, .what = Summary{{scalar_value("a", 2)}}});
  CHECK(on_disk() == 1);  // two events queued in memory
  w.add_event({.step = 3, .what = Summary{{scalar_value("a", 3)}}});
  CHECK(on_disk() == 4);  // the third fills the queue: written
  w.add_event({.step = 4, .what = Summary{{scalar_value("a", 4)}}});
  CHECK(on_disk() == 4);
  w.flush();
  CHECK(on_disk() == 5);
  // flush_secs = 0: every event is flushed as it comes.
  EventFileWriter eager((dir.path / "eager").string(), {.max_queue = 100, .flush_secs = 0});
  eager.add_event({.step = 1, .what = Summary{{scalar_value("a", 1)}}});
  CHECK(read_event_file(eager.path()).events.size() == 2);
  // Steps and times arrive as given; a wall_time of 0 means now.
  const EventFileContents f = read_event_file(w.path());
  for (int i = 1; i <= 4; ++i) CHECK(f.events[i].step == i);
  CHECK(f.events[4].wall_time >= f.events[0].wall_time);
}

TEST_CASE("event files: close() flushes, and adding afterwards opens a new file", "[tensorboard][event_file]") {
  TempDir dir("close");
  EventFileWriter w(dir.path.string());
  w.add_event({.step = 1, .what = Summary{{scalar_value("a", 1)}}});
  const std::string first = w.path();
  w.close();
  CHECK(w.path().empty());
  CHECK(read_event_file(first).events.size() == 2);
  w.add_event({.step = 2, .what = Summary{{scalar_value("a", 2)}}});
  CHECK(w.path() != first);
  w.close();
  CHECK(event_files_in(dir.path.string()).size() == 2);
  CHECK(read_event_file(event_files_in(dir.path.string())[1]).events.size() == 2);
}

TEST_CASE("event files: a write that fails is cut back, so the file stays whole", "[tensorboard][event_file]") {
  // A full disk, imitated with a limit on the file size (RLIMIT_FSIZE): the kernel writes what fits,
  // then refuses with EFBIG. The writer must not leave half a record behind.
  TempDir dir("full");
  EventFileWriter w(dir.path.string(), {.max_queue = 1});
  w.add_event({.step = 1, .what = Summary{{scalar_value("loss", 1)}}});
  const auto size = fs::file_size(w.path());
  rlimit old{};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
  rlimit small = old;
  small.rlim_cur = size + 20;  // room for the start of the next record only
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
  std::string error;
  try {
    w.add_event({.step = 2, .what = Summary{{text_value("notes", std::string(200, 'x'))}}});
  } catch (const Error& e) {
    error = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  CHECK_THAT(error, Catch::Contains("writing 1 event(s)") && Catch::Contains(w.path()));
  CHECK(fs::file_size(w.path()) == size);  // cut back to the last whole record
  w.add_event({.step = 3, .what = Summary{{scalar_value("loss", 3)}}});  // and the file goes on
  w.flush();
  const EventFileContents f = read_event_file(w.path());
  CHECK(f.stopped_because.empty());
  REQUIRE(f.events.size() == 3);
  CHECK(f.events[2].step == 3);
}

TEST_CASE("event files: a torn tail is reported, and everything before it is read", "[tensorboard][event_file]") {
  TempDir dir("torn");
  std::string path;
  {
    EventFileWriter w(dir.path.string());
    for (int step = 1; step <= 3; ++step) w.add_event({.step = step, .what = Summary{{scalar_value("loss", step)}}});
    path = w.path();
  }  // destroyed: closed and flushed
  const std::string whole = file_bytes(path);
  const EventFileContents good = parse_event_file(whole, path);
  REQUIRE(good.events.size() == 4);
  CHECK(good.valid_bytes == whole.size());
  CHECK(good.stopped_because.empty());
  // Every cut inside the last record: the first three events survive, the tail is reported.
  const size_t last = parse_event_file(whole.substr(0, whole.size() - 1), path).valid_bytes;
  for (size_t cut = last + 1; cut < whole.size(); ++cut) {
    const EventFileContents f = parse_event_file(whole.substr(0, cut), path);
    INFO("cut at " << cut);
    CHECK(f.events.size() == 3);
    CHECK(f.valid_bytes == last);
    CHECK_THAT(f.stopped_because, Catch::Contains("cut short"));
  }
  // A flipped bit in a record's data: the CRC catches it; the records before it are read.
  std::string flipped = whole;
  flipped[last + 14] ^= 0x04;
  const EventFileContents damaged = parse_event_file(flipped, path);
  CHECK(damaged.events.size() == 3);
  CHECK_THAT(damaged.stopped_because, Catch::Contains("damaged") && Catch::Contains("data"));
  // A flipped bit in its length: caught by the length's own CRC, before the length is used.
  flipped = whole;
  flipped[last + 5] ^= 0x40;  // a length of ~2^46 bytes, were it believed
  const EventFileContents lying = parse_event_file(flipped, path);
  CHECK(lying.events.size() == 3);
  CHECK_THAT(lying.stopped_because, Catch::Contains("CRC of its length"));
}

TEST_CASE("event files: a record with good CRCs but no Event inside is an error", "[tensorboard][event_file]") {
  const std::string bad = frame_record(bytes_of({0x0a, 0x09, 'x'}));  // a string field that runs out
  const std::string first = frame_record(encode_event({.what = FileVersion{kFileVersion}}));
  CHECK_THROWS_WITH(parse_event_file(first + bad, "odd.tfevents"),
                    Catch::Contains(msg("odd.tfevents, record at byte ", first.size())) &&
                        Catch::Contains("only 1 remain"));
  CHECK_THROWS_WITH(read_event_file("no/such/events.out.tfevents.1"), Catch::Contains("cannot open"));
}

TEST_CASE("the event-file fuzz corpus replays without a crash", "[tensorboard][event_file][fuzz]") {
  // tests/fuzz/fuzz_event_file.cpp feeds arbitrary bytes to parse_event_file; each seed must read
  // or throw a tandem::Error. The seeds were written by TensorBoard's own RecordWriter.
  const fs::path corpus = fs::path(TANDEM_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / "event_file";
  int files = 0, whole = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(corpus)) {
    ++files;
    INFO(e.path().string());
    const std::string bytes = file_bytes(e.path().string());
    try {
      const EventFileContents f = parse_event_file(bytes, e.path().string());
      CHECK(f.valid_bytes <= bytes.size());
      if (f.stopped_because.empty()) ++whole;
      if (!f.events.empty()) CHECK(std::holds_alternative<FileVersion>(f.events[0].what));
    } catch (const Error& err) {
      CHECK_THAT(std::string(err.what()), Catch::Contains(e.path().filename().string()));
    }
  }
  CHECK(files >= 5);
  CHECK(whole >= 2);  // "run" and "one_scalar"
  // The run TensorBoard wrote reads as Tandem writes it: the same five events.
  const EventFileContents run = read_event_file((corpus / "run").string());
  REQUIRE(run.events.size() == 5);
  CHECK(std::get<Summary>(run.events[1].what).values[0] == scalar_value("loss", 0.5));
  CHECK(std::get<TextValue>(std::get<Summary>(run.events[4].what).values[0].value).text == "hello *world*");
  CHECK(decode_graph_def(std::get<GraphDefBytes>(run.events[3].what).bytes, "run").size() == 5);
}
