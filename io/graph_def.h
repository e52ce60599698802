// io/graph_def.h — a Tandem graph as TensorFlow's GraphDef, the message TensorBoard's Graphs tab draws.
//
// A GraphDef is a list of NodeDefs; each names itself, its op type and its inputs, and carries
// attributes:
//
//   GraphDef   node = 1 (repeated NodeDef), versions = 4 (VersionDef{producer = 1})
//   NodeDef    name = 1, op = 2, input = 3 (repeated string), attr = 5 (map<string, AttrValue>)
//
// Tandem's graph (graph/graph.h) has all of that already: node names ("dense/MatMul"), types
// ("MatMul", "Placeholder", "VariableV2"), inputs, static shapes. So the translation is one
// NodeDef per Node:
//   - name: the node's name. TensorBoard folds a name scope ("dense/...") into one box you can
//     open, so scopes given with graph::NameScope show up as boxes;
//   - op: the node's type;
//   - input: the names of its input nodes (each Tandem node has one output, so never "name:1"),
//     then its control inputs as "^name" (drawn dotted);
//   - attr "dtype" (a DataType): TensorBoard colours by it and shows it in the info panel;
//   - attr "_output_shapes" (a list with one shape, -1 for an unknown `?` dim): TensorBoard writes
//     the shape on each edge, "?×784";
//   - attr "created_at": the line of the user's program that created the node, the same text
//     Tandem's errors show — so a box in TensorBoard leads back to the source.
//
// Node names must match TensorBoard's pattern [A-Za-z0-9.][A-Za-z0-9_./-]*; any other character
// (a space, a colon) becomes '_' here.
//
// Read next: io/summary_writer.h (add_graph).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/shape.h"

namespace tandem::graph {
class Graph;
}

namespace tandem::io {

struct NodeDef {
  std::string name;
  std::string op;
  std::vector<std::string> inputs;  // "node", then control inputs "^node"
  int dtype = 0;                    // attr "dtype": TfDataType (io/event.h); 0 = not set
  std::vector<Shape> output_shapes;  // attr "_output_shapes"
  std::vector<std::pair<std::string, std::string>> string_attrs;  // other attrs, as strings
  bool operator==(const NodeDef&) const = default;
};

// The NodeDefs of every node of `g`, in creation order.
std::vector<NodeDef> graph_def_nodes(const graph::Graph& g);

// A GraphDef's bytes (with versions{producer: 22}, the value PyTorch's writer uses), and back.
// Attributes are written in key order, as protobuf's deterministic serialization does.
std::string encode_graph_def(const std::vector<NodeDef>& nodes);
std::vector<NodeDef> decode_graph_def(std::string_view bytes, std::string_view source);

// `name` with every character TensorBoard does not allow in a node name replaced by '_'.
std::string tensorboard_node_name(std::string_view name);

}  // namespace tandem::io
