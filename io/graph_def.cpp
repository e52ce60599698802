// io/graph_def.cpp — Graph → NodeDefs → GraphDef bytes, and bytes → NodeDefs for the tests.
//
// The attribute values used here, in the wire format (attr_value.proto, tensor_shape.proto):
//   AttrValue         s = 2 (bytes), type = 6 (DataType enum), list = 1 (ListValue)
//   AttrValue.ListValue   shape = 7 (repeated TensorShapeProto)
//   TensorShapeProto  dim = 2 (repeated Dim{size = 1, an int64: -1 when unknown})
// A map<string, AttrValue> is, on the wire, a repeated field of entries {key = 1, value = 2}.
//
// Read next: io/summary_writer.cpp.
#include "io/graph_def.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/error.h"
#include "graph/graph.h"
#include "io/event.h"
#include "io/protobuf_reader.h"
#include "io/protobuf_writer.h"

namespace tandem::io {
namespace {

int tf_dtype(DType dt) {
  if (dt == kFloat32) return kDtFloat;
  if (dt == kFloat64) return kDtDouble;
  if (dt == kInt64) return kDtInt64;
  if (dt == kBool) return kDtBool;
  return 0;
}

bool name_char(char c, bool first) {
  const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  return alnum || c == '.' || (!first && (c == '_' || c == '-' || c == '/'));
}

// ---- encoding ------------------------------------------------------------------------------------

std::string encode_shape(const Shape& shape) {
  ProtoWriter w;
  for (const int64_t d : shape) {
    ProtoWriter dim;
    if (d != 0) dim.int64_field(1, d);  // proto3: a size of 0 is the default, left out
    w.message_field(2, dim);
  }
  return w.take();
}

std::string encode_node(const NodeDef& n) {
  // The attributes, sorted by key (std::map), each an AttrValue.
  std::map<std::string, std::string> attrs;
  if (n.dtype != 0) {
    ProtoWriter type;
    type.int64_field(6, n.dtype);
    attrs["dtype"] = type.take();
  }
  if (!n.output_shapes.empty()) {
    ProtoWriter list, value;
    for (const Shape& s : n.output_shapes) list.bytes_field(7, encode_shape(s));
    value.message_field(1, list);
    attrs["_output_shapes"] = value.take();
  }
  for (const auto& [key, text] : n.string_attrs) {
    ProtoWriter s;
    s.bytes_field(2, text);
    attrs[key] = s.take();
  }
  ProtoWriter w;
  w.bytes_field(1, n.name);
  if (!n.op.empty()) w.bytes_field(2, n.op);
  for (const std::string& in : n.inputs) w.bytes_field(3, in);
  for (const auto& [key, value] : attrs) {
    ProtoWriter entry;
    entry.bytes_field(1, key);
    entry.bytes_field(2, value);
    w.message_field(5, entry);
  }
  return w.take();
}

// ---- decoding ------------------------------------------------------------------------------------

Shape decode_shape(std::string_view bytes, std::string_view source) {
  Shape shape;
  ProtoReader r(bytes, source);
  while (auto f = r.next()) {
    if (f->number != 2) continue;
    int64_t size = 0;
    ProtoReader dim(f->as_bytes(), source);
    while (auto d = dim.next())
      if (d->number == 1) size = d->as_int64();
    shape.push_back(size);
  }
  return shape;
}

void decode_attr(NodeDef& n, std::string_view key, std::string_view value, std::string_view source) {
  ProtoReader r(value, source);
  while (auto f = r.next()) {
    if (f->number == 6 && key == "dtype") n.dtype = static_cast<int>(f->as_int64());
    if (f->number == 2) n.string_attrs.emplace_back(key, f->as_bytes());
    if (f->number == 1 && key == "_output_shapes") {
      ProtoReader list(f->as_bytes(), source);
      while (auto s = list.next())
        if (s->number == 7) n.output_shapes.push_back(decode_shape(s->as_bytes(), source));
    }
  }
}

NodeDef decode_node(std::string_view bytes, std::string_view source) {
  NodeDef n;
  ProtoReader r(bytes, source);
  while (auto f = r.next()) {
    switch (f->number) {
      case 1: n.name = f->as_bytes(); break;
      case 2: n.op = f->as_bytes(); break;
      case 3: n.inputs.emplace_back(f->as_bytes()); break;
      case 5: {
        std::string_view key, value;
        ProtoReader entry(f->as_bytes(), source);
        while (auto e = entry.next()) {
          if (e->number == 1) key = e->as_bytes();
          if (e->number == 2) value = e->as_bytes();
        }
        decode_attr(n, key, value, source);
        break;
      }
      default: break;
    }
  }
  return n;
}

}  // namespace

std::string tensorboard_node_name(std::string_view name) {
  std::string out(name);
  if (out.empty()) return "node";
  for (size_t i = 0; i < out.size(); ++i)
    if (!name_char(out[i], i == 0)) out[i] = '_';
  if (out[0] == '_') out.insert(0, "n");  // '_' may not come first
  return out;
}

std::vector<NodeDef> graph_def_nodes(const graph::Graph& g) {
  // Names first: sanitized, and kept unique should two names sanitize alike ("a b", "a_b").
  std::map<const graph::Node*, std::string> names;
  std::set<std::string> taken;
  for (const auto& node : g.nodes()) {
    std::string name = tensorboard_node_name(node->name);
    for (int k = 1; taken.count(name); ++k) name = tensorboard_node_name(node->name) + "_" + std::to_string(k);
    taken.insert(name);
    names[node.get()] = name;
  }
  std::vector<NodeDef> out;
  for (const auto& node : g.nodes()) {
    NodeDef n;
    n.name = names[node.get()];
    n.op = node->type;
    for (const graph::Output& in : node->inputs) n.inputs.push_back(names[in.node()]);
    for (const graph::Node* c : node->control_inputs) n.inputs.push_back("^" + names[c]);
    if (node->produces_value()) {
      n.dtype = tf_dtype(node->meta.dtype);
      n.output_shapes.push_back(node->meta.shape);
    }
    n.string_attrs.emplace_back("created_at", describe(node->created_at));
    out.push_back(std::move(n));
  }
  return out;
}

std::string encode_graph_def(const std::vector<NodeDef>& nodes) {
  ProtoWriter w, versions;
  for (const NodeDef& n : nodes) w.bytes_field(1, encode_node(n));
  versions.int64_field(1, 22);  // VersionDef.producer
  w.message_field(4, versions);
  return w.take();
}

std::vector<NodeDef> decode_graph_def(std::string_view bytes, std::string_view source) {
  std::vector<NodeDef> nodes;
  ProtoReader r(bytes, source);
  while (auto f = r.next())
    if (f->number == 1) nodes.push_back(decode_node(f->as_bytes(), source));
  return nodes;
}

}  // namespace tandem::io
