// io/graph_file.h — freezing a trained graph and saving it to a file another program can run.
//
// A graph-mode model is a Graph (what to compute) plus a Session (the variables' current values).
// To ship it — to a server, a phone, a classmate — TensorFlow 1 *froze* it: keep only the nodes
// the outputs need, and turn every variable into a constant holding its trained value
// (tf.graph_util.convert_variables_to_constants). What is left is a pure function of the
// placeholders: no state, no initializer, no gradients, no optimizer. That fits in one file, and
// a program that knows nothing about the model can load the file and run it:
//
//   training program                               deploying program
//   ----------------                               -----------------
//   ... build, train with a Session ...            FrozenGraph m = io::load_graph("model.tgraph");
//   FrozenGraph m = io::freeze(sess, {probs});     graph::Session s(*m.graph);
//   io::save_graph(m, "model.tgraph");             s.run(m.output("probs"), {{m.input("x"), batch}});
//
// The file stores each node by name with its op's *name* ("matmul"), not its code: the loader
// looks the name up in the op catalogue (core/op.h), so the deploying program runs the very
// kernels the trainer ran. The byte layout is in docs/graph_file_format.md: a magic word and a
// version first (so a wrong or newer file is recognised), then the nodes, then a CRC-32 of
// everything before it (so a damaged file is refused instead of computing nonsense). A missing,
// truncated, corrupt or foreign file is a tandem::Error saying what is wrong and what to do; the
// loader never reads past the end of what it was given.
//
// Read next: io/graph_file.cpp, docs/graph_file_format.md, examples/04_freeze_and_deploy.cpp and
// examples/05_deploy_inference.cpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "graph/session.h"

namespace tandem::io {

// A stateless graph and the names of its ends: what freeze() makes, save_graph() writes and
// load_graph() reads back.
struct FrozenGraph {
  std::unique_ptr<graph::Graph> graph;
  std::vector<graph::Output> inputs;   // the placeholders, in creation order
  std::vector<graph::Output> outputs;  // the outputs asked for, in the order asked

  // By name ("x" or "x:0"); an unknown name is an error listing the names there are.
  graph::Output input(const std::string& name) const;
  graph::Output output(const std::string& name) const;
};

// The subgraph `outputs` need, in a new Graph, with every variable replaced by a constant holding
// its current value in `session`. Nodes keep their names. Only data edges are followed: control
// dependencies order state changes, and a frozen graph has none, so they are dropped — and with
// them initializers, gradients and optimizer updates the outputs do not compute from. An output
// that changes a variable (assign) or produces no value (a group) is an error, as is a variable
// the session has not initialized.
FrozenGraph freeze(graph::Session& session, const std::vector<graph::Output>& outputs);

// The graph file's bytes (docs/graph_file_format.md) and back. `source` names the bytes in error
// messages (a file name). serialize throws if the graph holds state (variables, assigns): freeze it.
std::string serialize_graph(const FrozenGraph& frozen);
FrozenGraph parse_graph(const std::string& bytes, const std::string& source = "<bytes>");

// The same through a file. save_graph goes through io::write_file_atomic (io/atomic_file.h): a
// uniquely named temporary file in the same folder, fsync, rename over `path`, fsync the folder —
// so an interrupted or failed save never leaves a half-written file where a good one was.
void save_graph(const FrozenGraph& frozen, const std::string& path);
FrozenGraph load_graph(const std::string& path);

// What the format is: the magic word that opens every graph file, and its version.
inline constexpr char kGraphFileMagic[8] = {'T', 'G', 'R', 'A', 'P', 'H', '1', '\0'};
inline constexpr uint32_t kGraphFileVersion = 1;

}  // namespace tandem::io
