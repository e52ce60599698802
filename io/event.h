// io/event.h — the messages of a TensorBoard event file, as C++ structs, and their bytes.
//
// An event file is a list of Event messages (TensorFlow's event.proto). Each has a time and a step,
// and then ONE of: the file's format version, a graph, or a Summary — a list of tagged values, each
// ONE of: a scalar, a histogram, an image, or a tensor (which is how text is sent). A protobuf
// `oneof` is a std::variant here, so "one of" is said by the types:
//
//   Event          wall_time = 1 (double), step = 2 (int64), one of:
//                    file_version = 3 (string)   "brain.Event:2", the first event of every file
//                    graph_def    = 4 (bytes)    a serialized GraphDef (io/graph_def.h)
//                    summary      = 5 (Summary)
//   Summary        value = 1 (repeated Value)
//   Summary.Value  tag = 1 (string), metadata = 9, one of:
//                    simple_value = 2 (float)             a scalar
//                    image        = 4 (Image)             height 1, width 2, colorspace 3, PNG 4
//                    histo        = 5 (HistogramProto)    min 1, max 2, num 3, sum 4, sum_squares 5,
//                                                         bucket_limit 6, bucket 7 (packed doubles)
//                    tensor       = 8 (TensorProto)       text: dtype 1 = DT_STRING, shape 2, string_val 8,
//                                                         with metadata.plugin_data.plugin_name = "text"
//
// encode_event writes exactly the bytes Google's protobuf library writes for the same message
// (fields in number order, proto3 defaults left out, oneof members always written);
// tests/test_tensorboard.cpp checks that against bytes the library itself produced
// (scripts/fixtures/gen_tensorboard.py). decode_event reads them back, through the checked reader
// of io/protobuf_reader.h, for the tests and for anyone inspecting a run.
//
// Read next: io/summary.h (values made from tensors), io/event_file.h (how events are framed in a file).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tandem::io {

// TensorFlow's DataType codes (types.proto), the ones Tandem's dtypes map to.
enum TfDataType : int { kDtFloat = 1, kDtDouble = 2, kDtString = 7, kDtInt64 = 9, kDtBool = 10 };

// A histogram as TensorBoard stores it: summary statistics, then buckets. bucket[i] counts the
// values in (bucket_limit[i-1], bucket_limit[i]] — the first bucket reaching down to -DBL_MAX.
struct HistogramProto {
  double min = 0, max = 0, num = 0, sum = 0, sum_squares = 0;
  std::vector<double> bucket_limit, bucket;
  bool operator==(const HistogramProto&) const = default;
};

// An encoded picture (PNG here). colorspace: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA.
struct ImageProto {
  int32_t height = 0, width = 0, colorspace = 0;
  std::string encoded_image{};
  bool operator==(const ImageProto&) const = default;
};

// Text for TensorBoard's Text tab (rendered as Markdown).
struct TextValue {
  std::string text;
  bool operator==(const TextValue&) const = default;
};

// One tagged value of a Summary. monostate: a kind of value this reader does not decode (audio,
// other plugins' tensors) — read past, not refused.
struct SummaryValue {
  std::string tag;
  std::variant<std::monostate, float, HistogramProto, ImageProto, TextValue> value;
  bool operator==(const SummaryValue&) const = default;
};

struct Summary {
  std::vector<SummaryValue> values;
  bool operator==(const Summary&) const = default;
};

struct FileVersion {
  std::string version;  // "brain.Event:2"
  bool operator==(const FileVersion&) const = default;
};
struct GraphDefBytes {
  std::string bytes;  // a serialized GraphDef: io/graph_def.h
  bool operator==(const GraphDefBytes&) const = default;
};

struct Event {
  double wall_time = 0;  // seconds since 1970, as time.time() gives
  int64_t step = 0;
  std::variant<std::monostate, FileVersion, GraphDefBytes, Summary> what;
  bool operator==(const Event&) const = default;
};

inline constexpr const char* kFileVersion = "brain.Event:2";

// Protobuf bytes of the messages above.
std::string encode_summary(const Summary& summary);
std::string encode_event(const Event& event);

// And back. `source` names the bytes in error messages. Throws tandem::Error on bytes that are
// not such a message; fields it does not know are skipped, as protobuf's rules say.
Summary decode_summary(std::string_view bytes, std::string_view source);
Event decode_event(std::string_view bytes, std::string_view source);

}  // namespace tandem::io
