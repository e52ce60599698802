// io/event.cpp — the Event messages encoded field by field, and decoded the same way back.
//
// Each encode_* function writes its message's fields in field-number order, which is what
// protobuf's own serializers do, so the bytes match theirs exactly. Left out, as proto3 leaves
// them out: numbers equal to 0 and empty strings and lists — but never a member of a oneof,
// whose presence is the information ("this value is a scalar", even a scalar of 0).
//
// Read next: io/event_file.cpp.
#include "io/event.h"

#include <bit>
#include <optional>

#include "core/error.h"
#include "io/protobuf_reader.h"
#include "io/protobuf_writer.h"

namespace tandem::io {
namespace {

// proto3's "is this the default?" for a double: its bits are all zero (so -0.0 is written).
bool is_zero(double v) { return std::bit_cast<uint64_t>(v) == 0; }

// ---- encoding ------------------------------------------------------------------------------------

std::string encode_histogram(const HistogramProto& h) {
  ProtoWriter w;
  if (!is_zero(h.min)) w.double_field(1, h.min);
  if (!is_zero(h.max)) w.double_field(2, h.max);
  if (!is_zero(h.num)) w.double_field(3, h.num);
  if (!is_zero(h.sum)) w.double_field(4, h.sum);
  if (!is_zero(h.sum_squares)) w.double_field(5, h.sum_squares);
  if (!h.bucket_limit.empty()) w.packed_doubles_field(6, h.bucket_limit);
  if (!h.bucket.empty()) w.packed_doubles_field(7, h.bucket);
  return w.take();
}

std::string encode_image(const ImageProto& image) {
  ProtoWriter w;
  if (image.height != 0) w.int64_field(1, image.height);
  if (image.width != 0) w.int64_field(2, image.width);
  if (image.colorspace != 0) w.int64_field(3, image.colorspace);
  if (!image.encoded_image.empty()) w.bytes_field(4, image.encoded_image);
  return w.take();
}

// Text travels as a one-element string tensor, TensorProto{dtype: DT_STRING, tensor_shape: [1],
// string_val: [text]}, marked for the text plugin — what PyTorch's add_text writes.
std::string encode_text_tensor(const TextValue& text) {
  ProtoWriter dim, shape, tensor;
  dim.int64_field(1, 1);          // TensorShapeProto.Dim.size = 1
  shape.message_field(2, dim);    // TensorShapeProto.dim
  tensor.int64_field(1, kDtString);
  tensor.message_field(2, shape);
  tensor.bytes_field(8, text.text);  // string_val: a repeated field's element is always written
  return tensor.take();
}

std::string plugin_metadata(const char* plugin_name) {
  ProtoWriter plugin_data, metadata;
  plugin_data.bytes_field(1, plugin_name);  // PluginData.plugin_name (content: empty, left out)
  metadata.message_field(1, plugin_data);   // SummaryMetadata.plugin_data
  return metadata.take();
}

std::string encode_value(const SummaryValue& v) {
  if (std::holds_alternative<std::monostate>(v.value))
    throw Error(msg("encode_summary: the value tagged '", v.tag, "' holds nothing to write; give it a scalar, "
                    "a histogram, an image or a text"));
  ProtoWriter w;
  if (!v.tag.empty()) w.bytes_field(1, v.tag);
  if (const auto* x = std::get_if<float>(&v.value)) w.float_field(2, *x);
  if (const auto* image = std::get_if<ImageProto>(&v.value)) w.bytes_field(4, encode_image(*image));
  if (const auto* histo = std::get_if<HistogramProto>(&v.value)) w.bytes_field(5, encode_histogram(*histo));
  if (const auto* text = std::get_if<TextValue>(&v.value)) {
    w.bytes_field(8, encode_text_tensor(*text));
    w.bytes_field(9, plugin_metadata("text"));
  }
  return w.take();
}

// ---- decoding ------------------------------------------------------------------------------------

HistogramProto decode_histogram(std::string_view bytes, std::string_view source) {
  HistogramProto h;
  ProtoReader r(bytes, source);
  while (auto f = r.next()) {
    switch (f->number) {
      case 1: h.min = f->as_double(); break;
      case 2: h.max = f->as_double(); break;
      case 3: h.num = f->as_double(); break;
      case 4: h.sum = f->as_double(); break;
      case 5: h.sum_squares = f->as_double(); break;
      case 6: f->append_doubles(h.bucket_limit); break;
      case 7: f->append_doubles(h.bucket); break;
      default: break;  // a field this reader does not know: skipped
    }
  }
  return h;
}

ImageProto decode_image(std::string_view bytes, std::string_view source) {
  ImageProto image;
  ProtoReader r(bytes, source);
  while (auto f = r.next()) {
    switch (f->number) {
      case 1: image.height = static_cast<int32_t>(f->as_int64()); break;
      case 2: image.width = static_cast<int32_t>(f->as_int64()); break;
      case 3: image.colorspace = static_cast<int32_t>(f->as_int64()); break;
      case 4: image.encoded_image = f->as_bytes(); break;
      default: break;
    }
  }
  return image;
}

// SummaryMetadata.plugin_data.plugin_name, or "".
std::string_view plugin_name(std::string_view metadata, std::string_view source) {
  std::string_view name;
  ProtoReader r(metadata, source);
  while (auto f = r.next()) {
    if (f->number != 1) continue;
    ProtoReader plugin(f->as_bytes(), source);
    while (auto p = plugin.next())
      if (p->number == 1) name = p->as_bytes();
  }
  return name;
}

// A string tensor's first element, if it is a string tensor with one.
std::variant<std::monostate, TextValue> decode_text_tensor(std::string_view tensor, std::string_view source) {
  int64_t dtype = 0;
  std::optional<std::string_view> first;
  ProtoReader r(tensor, source);
  while (auto f = r.next()) {
    if (f->number == 1) dtype = f->as_int64();
    if (f->number == 8 && !first) first = f->as_bytes();
  }
  if (dtype != kDtString || !first) return std::monostate{};
  return TextValue{std::string(*first)};
}

SummaryValue decode_value(std::string_view bytes, std::string_view source) {
  SummaryValue v;
  std::string_view tensor, metadata;
  bool tensor_last = false;  // a oneof takes the last member written
  ProtoReader r(bytes, source);
  while (auto f = r.next()) {
    switch (f->number) {
      case 1: v.tag = f->as_bytes(); break;
      case 2: v.value = f->as_float(); tensor_last = false; break;
      case 4: v.value = decode_image(f->as_bytes(), source); tensor_last = false; break;
      case 5: v.value = decode_histogram(f->as_bytes(), source); tensor_last = false; break;
      case 8: tensor = f->as_bytes(); tensor_last = true; break;
      case 9: metadata = f->as_bytes(); break;
      default: break;  // audio (6), the deprecated fields: read past
    }
  }
  if (tensor_last) {
    v.value = std::monostate{};
    if (plugin_name(metadata, source) == "text")
      std::visit([&](auto t) { v.value = t; }, decode_text_tensor(tensor, source));
  }
  return v;
}

}  // namespace

std::string encode_summary(const Summary& summary) {
  ProtoWriter w;
  for (const SummaryValue& v : summary.values) w.bytes_field(1, encode_value(v));
  return w.take();
}

std::string encode_event(const Event& event) {
  ProtoWriter w;
  if (!is_zero(event.wall_time)) w.double_field(1, event.wall_time);
  if (event.step != 0) w.int64_field(2, event.step);
  if (const auto* v = std::get_if<FileVersion>(&event.what)) w.bytes_field(3, v->version);
  if (const auto* g = std::get_if<GraphDefBytes>(&event.what)) w.bytes_field(4, g->bytes);
  if (const auto* s = std::get_if<Summary>(&event.what)) w.bytes_field(5, encode_summary(*s));
  return w.take();
}

Summary decode_summary(std::string_view bytes, std::string_view source) {
  Summary s;
  ProtoReader r(bytes, source);
  while (auto f = r.next())
    if (f->number == 1) s.values.push_back(decode_value(f->as_bytes(), source));
  return s;
}

Event decode_event(std::string_view bytes, std::string_view source) {
  Event e;
  ProtoReader r(bytes, source);
  while (auto f = r.next()) {
    switch (f->number) {
      case 1: e.wall_time = f->as_double(); break;
      case 2: e.step = f->as_int64(); break;
      case 3: e.what = FileVersion{std::string(f->as_bytes())}; break;
      case 4: e.what = GraphDefBytes{std::string(f->as_bytes())}; break;
      case 5: e.what = decode_summary(f->as_bytes(), source); break;
      case 6: case 7: case 8: case 9:  // the oneof's other members (log messages, session logs,
        e.what = std::monostate{};      // run metadata): known to exist, not decoded here
        break;
      default: break;  // a field this reader does not know: skipped
    }
  }
  return e;
}

}  // namespace tandem::io
