// io/graph_file.cpp — freeze, serialize, parse: three conversions around one record per node.
//
// Every path goes through a NodeRecord, the flat description of one node (name, kind, op, attrs,
// static meta, inputs by index, a constant's value):
//
//   freeze:  the trained Graph's needed nodes ──► records ──► a new Graph
//   save:    a frozen Graph ──► records ──► bytes            (the layout: docs/graph_file_format.md)
//   load:    bytes ──► records ──► a new Graph
//
// so "build a graph from records" is written once, and a loaded graph is made exactly the way a
// frozen one is.
//
// READING UNTRUSTED BYTES. A file may be cut short, damaged, or not a graph file at all. The
// loader checks, in this order: the magic word (is this ours?), the version (can we read it?), the
// length the header announces against the bytes there are (cut short?), the CRC-32 (damaged?) —
// the frame every Tandem file shares (io/bytes.h). Only then does it parse the body, and even then
// every read asks the ByteReader whether enough bytes remain first, and every count is checked against what remains before anything is allocated — a
// file whose CRC was forged still cannot make the loader read past the end, allocate gigabytes, or
// build a node whose inputs do not exist.
//
// Read next: docs/graph_file_format.md, examples/05_deploy_inference.cpp.
#include "io/graph_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "graph/ops.h"
#include "io/atomic_file.h"
#include "io/bytes.h"

namespace tandem::io {

using graph::Graph;
using graph::Kind;
using graph::Node;
using graph::Output;

namespace {

// ---- the record ----------------------------------------------------------------------------------

struct NodeRecord {
  std::string name;
  Kind kind = Kind::op;
  std::string type;          // "MatMul": shown in drawings and errors
  const OpDef* op = nullptr;  // Kind::op
  bool is_gradient = false;
  Attrs attrs;
  Meta meta;
  std::vector<uint32_t> inputs;  // indices of earlier records
  Tensor value;                  // Kind::constant
};

// The file's codes for kinds and dtypes. They are written out here, not taken from the enums'
// order, so that reordering an enum in the engine can never change what an old file means.
struct KindCode {
  Kind kind;
  uint8_t code;
  int inputs;                // how many inputs a node of this kind has; -1: one or more
  const char* op = nullptr;  // codes 3-11: an op of the catalogue, named by the code alone
};
constexpr KindCode kKindCodes[] = {
    {Kind::op, 0, -1},
    {Kind::placeholder, 1, 0},
    {Kind::constant, 2, 0},
    // Files written before these became ops of the catalogue gave each its own code; they are
    // read as the op, and new files write them as code 0 with the op's name, like any op.
    {Kind::op, 3, 1, "identity"},
    {Kind::op, 4, 1, "stop_gradient"},
    {Kind::op, 5, -1, "add_n"},
    {Kind::op, 6, 2, "sum_to_like"},
    {Kind::op, 7, 2, "expand_like"},
    {Kind::op, 8, 2, "reshape_like"},
    {Kind::op, 9, 1, "zeros_like"},
    {Kind::op, 10, 1, "ones_like"},
    {Kind::op, 11, 2, "count_ratio"},
};
// (Kind::variable, assign, assign_add, update and no_op have no code: they are state and
// control, which freezing removes.)

const KindCode* code_of(Kind k) {
  for (const KindCode& c : kKindCodes)
    if (c.kind == k) return &c;
  return nullptr;
}

// The frame of a graph file (io/bytes.h), and the words its errors use.
constexpr FileFormat kGraphFile = {.loader = "load_graph", .content = "graph", .file_kind = "graph file",
                                   .writer = "save_graph()", .magic = kGraphFileMagic,
                                   .magic_text = "TGRAPH1\\0", .version = kGraphFileVersion};
constexpr uint32_t kMaxRank = 64;

// The ops whose Attrs use `message` (check_numerics, print) write it after their inputs: a length
// and the bytes. Only they do, so files without them read as they always did.
bool carries_message(const OpDef& op) { return &op == &ops::check_numerics || &op == &ops::print; }
// Likewise the batch norm ops that read Attrs::eps write it after their inputs, as a float64.
bool carries_eps(const OpDef& op) {
  return &op == &ops::batch_norm_train || &op == &ops::batch_norm_eval || &op == &ops::batch_norm_backward_reduce ||
         &op == &ops::batch_norm_backward_elemt;
}

bool fully_known(const Shape& s) {
  return std::none_of(s.begin(), s.end(), [](int64_t d) { return d == kUnknown; });
}

// ---- records -> Graph ------------------------------------------------------------------------------

// Builds a new graph from records (already checked: inputs point backward, names are unique).
// Names are kept as they are: the new graph has no scopes, so "dense/MatMul" stays "dense/MatMul".
FrozenGraph build(const std::vector<NodeRecord>& records,
                  const std::vector<std::pair<std::string, uint32_t>>& outputs) {
  FrozenGraph f;
  f.graph = std::make_unique<Graph>();
  std::vector<Node*> nodes;
  for (const NodeRecord& r : records) {
    std::vector<Output> inputs;
    for (uint32_t i : r.inputs) inputs.emplace_back(nodes[i]);
    Node* n = f.graph->add_node(r.kind, r.type, std::move(inputs), r.meta, r.name);
    if (n->name != r.name)
      throw Error(msg("graph file: two nodes are named '", r.name, "'; every node needs its own name"));
    n->op = r.op;
    n->attrs = r.attrs;
    n->value = r.value;
    n->is_gradient = r.is_gradient;
    nodes.push_back(n);
    if (r.kind == Kind::placeholder) f.inputs.emplace_back(n);
  }
  for (const auto& [name, index] : outputs) f.outputs.emplace_back(nodes[index]);
  return f;
}

std::string names_of(const std::vector<Output>& outs) {
  std::string s;
  for (const Output& o : outs) s += (s.empty() ? "'" : ", '") + o.node()->name + "'";
  return s.empty() ? "none" : s;
}

Output find_by_name(const std::vector<Output>& outs, const std::string& name, const char* what) {
  std::string n = name;
  if (n.size() > 2 && n.compare(n.size() - 2, 2, ":0") == 0) n.resize(n.size() - 2);
  for (const Output& o : outs)
    if (o.node()->name == n) return o;
  throw Error(msg("FrozenGraph: no ", what, " named '", name, "'; the ", what, "s are ", names_of(outs)));
}

}  // namespace

Output FrozenGraph::input(const std::string& name) const { return find_by_name(inputs, name, "input"); }
Output FrozenGraph::output(const std::string& name) const { return find_by_name(outputs, name, "output"); }

// ---- freeze --------------------------------------------------------------------------------------

FrozenGraph freeze(graph::Session& session, const std::vector<Output>& outputs) {
  const Graph& g = session.graph();
  if (outputs.empty()) throw Error("freeze: no outputs given; name the values the frozen graph must compute");
  const auto& nodes = g.nodes();

  // 1. What the outputs need, through data edges only. Creation order is topological, so a single
  //    pass from the last node to the first reaches every node an output depends on.
  std::vector<bool> needed(nodes.size(), false);
  for (const Output& o : outputs) {
    if (!o.defined()) throw Error("freeze: an output is undefined (a gradient that does not exist?)");
    if (o.node()->graph != &g)
      throw Error(msg("freeze: output '", o.name(), "' is not from the session's graph"));
    needed[o.node()->id] = true;
  }
  for (size_t i = nodes.size(); i-- > 0;) {
    if (!needed[i]) continue;
    const Node& n = *nodes[i];
    if (n.kind == Kind::control)
      throw Error(msg("freeze: the outputs depend on ", n.describe(), ", a ", n.type, " (cond / while_loop): "
                      "its branches or body are graphs of their own, which a graph file does not hold. "
                      "Deploy the graph with its Session instead of a file, or freeze the part before or "
                      "after the ", n.type));
    if (n.kind == Kind::assign || n.kind == Kind::assign_add || n.kind == Kind::update ||
        n.kind == Kind::no_op)
      throw Error(msg("freeze: the outputs depend on ", n.describe(), ", which ",
                      n.kind == Kind::no_op ? "computes no value" : "changes a variable",
                      "; a frozen graph holds no state. Freeze the values the model computes (its "
                      "predictions), not the training step"));
    for (const Output& in : n.inputs)
      if (in.defined()) needed[in.node()->id] = true;
  }

  // 2. One record per needed node; a variable becomes a constant holding its current value.
  std::vector<NodeRecord> records;
  std::vector<int64_t> index(nodes.size(), -1);
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!needed[i]) continue;
    const Node& n = *nodes[i];
    NodeRecord r{n.name, n.kind, n.type, n.op, n.is_gradient, n.attrs, n.meta, {}, n.value};
    if (n.kind == Kind::variable) {
      Tensor value;
      try {
        value = session.variable_value(Output(const_cast<Node*>(&n)));
      } catch (const Error& e) {
        throw Error(msg("freeze: ", e.what()));
      }
      r.kind = Kind::constant;
      r.type = "Const";
      r.value = value.cpu().contiguous().clone();  // a snapshot: later training does not change it
    }
    for (const Output& in : n.inputs) r.inputs.push_back(static_cast<uint32_t>(index[in.node()->id]));
    index[i] = static_cast<int64_t>(records.size());
    records.push_back(std::move(r));
  }
  std::vector<std::pair<std::string, uint32_t>> outs;
  for (const Output& o : outputs) outs.emplace_back(o.node()->name, static_cast<uint32_t>(index[o.node()->id]));
  return build(records, outs);
}

// ---- save ----------------------------------------------------------------------------------------

std::string serialize_graph(const FrozenGraph& frozen) {
  if (!frozen.graph) throw Error("save_graph: the FrozenGraph is empty (it holds no graph)");
  const auto& nodes = frozen.graph->nodes();
  ByteWriter w;  // the body; frame() adds the header and the checksum
  w.u32(static_cast<uint32_t>(nodes.size()));
  for (const auto& node : nodes) {
    const Node& n = *node;
    const KindCode* code = code_of(n.kind);
    if (!code)
      throw Error(msg("save_graph: ", n.describe(), " is a ", graph::kind_name(n.kind),
                      "; a graph file holds no state or control nodes. Freeze the graph first: "
                      "io::freeze(session, outputs) turns variables into constants and drops the rest"));
    w.str(n.name);
    w.u8(code->code);
    w.str(n.type);
    w.str(n.kind == Kind::op ? n.op->name : "");
    w.u8(n.is_gradient ? 1 : 0);
    // Attrs: every field, in declaration order (core/op.h).
    w.u32(static_cast<uint32_t>(n.attrs.dims.size()));
    for (int64_t d : n.attrs.dims) w.i64(d);
    for (int64_t v : {n.attrs.dim, n.attrs.start, n.attrs.end, n.attrs.step, n.attrs.correction,
                      n.attrs.num_classes})
      w.i64(v);
    w.u8(n.attrs.keepdim ? 1 : 0);
    w.dtype(n.attrs.dtype);
    // Static meta, then inputs by index.
    w.dtype(n.meta.dtype);
    w.shape(n.meta.shape);
    w.u32(static_cast<uint32_t>(n.inputs.size()));
    for (const Output& in : n.inputs) w.u32(static_cast<uint32_t>(in.node()->id));
    if (n.kind == Kind::op && carries_message(*n.op)) w.str(n.attrs.message);
    if (n.kind == Kind::op && carries_eps(*n.op)) w.f64(n.attrs.eps);
    if (n.kind == Kind::constant) {
      const Tensor v = n.value.cpu().contiguous();
      if (v.shape() != n.meta.shape || v.dtype() != n.meta.dtype)
        throw Error(msg("save_graph: ", n.describe(), " holds a ", to_string(v.dtype()), " value of shape ",
                        shape_str(v.shape()), " but is declared ", to_string(n.meta.dtype), " ",
                        shape_str(n.meta.shape)));
      w.elements(v);
    }
  }
  w.u32(static_cast<uint32_t>(frozen.outputs.size()));
  for (const Output& o : frozen.outputs) {
    if (!o.defined() || o.node()->graph != frozen.graph.get())
      throw Error("save_graph: an output of the FrozenGraph is not a node of its graph");
    w.str(o.node()->name);
    w.u32(static_cast<uint32_t>(o.node()->id));
  }

  return frame(kGraphFile, w.bytes());
}

void save_graph(const FrozenGraph& frozen, const std::string& path) {
  // A unique temporary file, fsync, rename, fsync the folder: a crash or a concurrent save never
  // leaves a half-written graph at `path` (io/atomic_file.h).
  io::write_file_atomic(path, serialize_graph(frozen), "save_graph");
}

// ---- load ----------------------------------------------------------------------------------------

FrozenGraph parse_graph(const std::string& bytes, const std::string& source) {
  // 1-2. Is this ours, can we read it, is it whole and undamaged? (io/bytes.h: the frame)
  const auto [body_begin, body_end] = unframe(kGraphFile, bytes, source);

  // 3. The body. From here on, a failure means a file that was written wrong, not damaged.
  ByteReader r(bytes, body_begin, body_end, "load_graph: '" + source + "' is corrupt: ",
               ". Its checksum matches, so it was written like this, not damaged later: it was not made "
               "by this version's save_graph(). Save the graph again with save_graph()");
  const std::string where = "load_graph: '" + source + "'";
  constexpr size_t kMinNodeBytes = 4 + 1 + 4 + 4 + 1 + 4 + 6 * 8 + 2 + 1 + 4 + 4;
  const uint32_t n_nodes = r.count("the node count", kMinNodeBytes);
  std::vector<NodeRecord> records;
  records.reserve(n_nodes);
  std::set<std::string> names;
  for (uint32_t i = 0; i < n_nodes; ++i) {
    NodeRecord rec;
    rec.name = r.str("a node name");
    const std::string node = msg("node ", i, " ('", rec.name, "')");
    if (rec.name.empty() || !names.insert(rec.name).second)
      r.fail(msg(node, " has an empty or repeated name"));
    const uint8_t code = r.u8("a node kind");
    const KindCode* kind = nullptr;
    for (const KindCode& c : kKindCodes)
      if (c.code == code) kind = &c;
    if (!kind) r.fail(msg(node, " has the unknown kind code ", int(code)));
    rec.kind = kind->kind;
    rec.type = r.str("a node type");
    std::string op_name = r.str("an op name");
    if (kind->op) {
      if (!op_name.empty()) r.fail(msg(node, " has kind code ", int(code), " but names the op '", op_name, "'"));
      op_name = kind->op;
    }
    rec.is_gradient = (r.u8("node flags") & 1) != 0;
    // Attrs.
    const uint32_t n_dims = r.count("attrs.dims", 8);
    for (uint32_t k = 0; k < n_dims; ++k) rec.attrs.dims.push_back(r.i64("attrs.dims"));
    rec.attrs.dim = r.i64("attrs.dim");
    rec.attrs.start = r.i64("attrs.start");
    rec.attrs.end = r.i64("attrs.end");
    rec.attrs.step = r.i64("attrs.step");
    rec.attrs.correction = r.i64("attrs.correction");
    rec.attrs.num_classes = r.i64("attrs.num_classes");
    rec.attrs.keepdim = r.u8("attrs.keepdim") != 0;
    rec.attrs.dtype = r.dtype("attrs.dtype");
    // Meta.
    rec.meta.dtype = r.dtype("the node's dtype");
    const uint32_t rank = r.count("the node's rank", 8);
    if (rank > kMaxRank) r.fail(msg(node, " has rank ", rank, " (at most ", kMaxRank, ")"));
    for (uint32_t k = 0; k < rank; ++k) {
      const int64_t d = r.i64("a dimension");
      if (d < kUnknown) r.fail(msg(node, " has the negative size ", d));
      rec.meta.shape.push_back(d);
    }
    if (!sizes_fit(rec.meta.shape) || !sizes_fit(rec.attrs.dims))
      r.fail(msg(node, " has sizes whose product does not fit in 62 bits"));
    // Inputs: earlier nodes only, so the graph is built in one pass, in order.
    const uint32_t n_inputs = r.count("the input count", 4);
    for (uint32_t k = 0; k < n_inputs; ++k) {
      const uint32_t in = r.u32("an input index");
      if (in >= i) r.fail(msg(node, " names input ", in, ", which is not an earlier node"));
      rec.inputs.push_back(in);
    }
    if (kind->inputs >= 0 ? n_inputs != static_cast<uint32_t>(kind->inputs) : n_inputs == 0)
      r.fail(msg(node, " is a ", graph::kind_name(rec.kind), " with ", n_inputs, " inputs"));

    if (rec.kind == Kind::op) {
      rec.op = find_op(op_name);
      if (!rec.op)
        throw Error(msg(where, ": ", node, " uses the op '", op_name, "', which this Tandem's op "
                        "catalogue does not have (core/op.h). The file was written by a "
                        "Tandem with more ops: load it with that version, or add the op"));
      if (rec.op->arity >= 0 && n_inputs != static_cast<uint32_t>(rec.op->arity))
        r.fail(msg(node, " gives ", n_inputs, " inputs to '", op_name, "', which takes ", rec.op->arity));
      // The op's shape rule must agree with the stored meta: the same check a new node gets.
      std::vector<Meta> metas;
      for (uint32_t in : rec.inputs) metas.push_back(records[in].meta);
      Meta inferred;
      try {
        inferred = rec.op->shape(metas, rec.attrs);
      } catch (const std::exception& e) {
        r.fail(msg(node, ": the shape rule of '", op_name, "' rejects its inputs: ", e.what()));
      }
      if (inferred.shape != rec.meta.shape || inferred.dtype != rec.meta.dtype)
        r.fail(msg(node, " is stored as ", to_string(rec.meta.dtype), " ", shape_str(rec.meta.shape),
                   " but '", op_name, "' computes ", to_string(inferred.dtype), " ", shape_str(inferred.shape)));
    } else if (!op_name.empty()) {
      r.fail(msg(node, " is a ", graph::kind_name(rec.kind), " but names the op '", op_name, "'"));
    }
    if (rec.op && carries_message(*rec.op)) rec.attrs.message = r.str("a message");
    if (rec.op && carries_eps(*rec.op)) rec.attrs.eps = r.f64("batch norm's eps");

    if (rec.kind == Kind::constant) {
      if (!fully_known(rec.meta.shape)) r.fail(msg(node, " is a constant of unknown shape"));
      rec.value = r.elements(rec.meta.shape, rec.meta.dtype, node);
    }
    records.push_back(std::move(rec));
  }

  const uint32_t n_outputs = r.count("the output count", 8);
  std::vector<std::pair<std::string, uint32_t>> outputs;
  for (uint32_t k = 0; k < n_outputs; ++k) {
    std::string name = r.str("an output name");
    const uint32_t index = r.u32("an output index");
    if (index >= records.size() || records[index].name != name)
      r.fail(msg("output '", name, "' does not name a node of the file"));
    outputs.emplace_back(std::move(name), index);
  }
  if (r.remaining() != 0) r.fail(msg(r.remaining(), " bytes are left over after the outputs"));
  return build(records, outputs);
}

FrozenGraph load_graph(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw Error(msg("load_graph: '", path, "' is a folder, not a graph file; give the path of a file "
                    "written by io::save_graph()"));
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(msg("load_graph: cannot open '", path, "' (", std::strerror(errno),
                    "); check the path. A graph file is written by io::save_graph()"));
  std::string bytes;
  try {  // libstdc++ reports a failed read (EIO, EISDIR...) by throwing std::ios_base::failure
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::exception& e) {
    throw Error(msg("load_graph: reading '", path, "' failed (", e.what(), "); check the file"));
  }
  if (in.bad()) throw Error(msg("load_graph: reading '", path, "' failed; check the file"));
  return parse_graph(bytes, path);
}

}  // namespace tandem::io
