// graph/ops.h — what only graphs have: placeholders, constants, variables, assignments, groups.
//
// Every *computation* on graph outputs — mul(a, b), relu(x), x.sum(), x + 1 — is the function of
// core/ops.h that eager mode uses too, a template over the tensor type. On Outputs, apply() (below:
// make_op) runs the op's shape rule from the catalogue at once, so a shape error names your line now,
// not at run time, and adds a node; nothing is computed until Session::run.
//
// This file holds the vocabulary only a graph needs: placeholder, constant, Variable and the
// initializer op, assign, apply_update, group — and make_op, graph mode's half of apply().
//
// Read next: graph/session.h.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "core/ops.h"
#include "core/scalar.h"
#include "graph/graph.h"

namespace tandem::graph {

// ---- sources ---------------------------------------------------------------------------------
// A value fed at run time. Dimensions of -1 are unknown (printed `?`), e.g. the batch size.
Output placeholder(DType dtype, const Shape& shape, const std::string& name = "");
// A value stored in the graph.
Output constant(const Tensor& value, const std::string& name = "");
Output constant(const Scalar& value, DType dtype, const std::string& name = "");
// A constant in graph g rather than the default graph.
Output constant_in(Graph& g, const Tensor& value, const std::string& name = "");

// A variable: state that lives in the Session and persists across run() calls. Its initial value is
// assigned when global_variables_initializer() runs. An initializer function is called once, when
// the variable is declared (e.g. a seeded random tensor), and its result becomes the initial value.
using Initializer = std::function<Tensor(const Shape&, DType)>;
Output Variable(const Tensor& initial_value, bool trainable = true, const std::string& name = "");
Output Variable(const Shape& shape, const Initializer& init, DType dtype = kFloat32,
                bool trainable = true, const std::string& name = "");
// The op that initializes every variable of the graph, named "init" (TF's init op).
Output global_variables_initializer(Graph& g = default_graph());

// ---- state and control -------------------------------------------------------------------------
Output assign(const Output& variable, const Output& value);      // variable = value
Output assign_add(const Output& variable, const Output& value);  // variable += value
Output assign_sub(const Output& variable, const Output& value);  // variable -= value
// An update op of the catalogue (OpDef::updates > 0: sgd_update, adam_update...) as a node: its
// first op.updates inputs must be Variables — the parameter and the optimizer's state — which
// each run overwrites in place: graph mode's call_update(). Optimizers (optim/) build these.
// Its value is the parameter's new value. One input more, last: the learning rate as a 0-dim
// tensor, read on every run in place of attrs.lr (optim/train.h).
Output apply_update(const OpDef& op, const std::vector<Output>& inputs, const Attrs& attrs,
                    const std::string& name = "");
Output group(const std::vector<Output>& ops, const std::string& name = "group");  // runs them all

// tf.identity(x, name="y"): the value of x under a name you can look up later (a saved graph's
// inputs and outputs are found by name). The catalogue's identity op, with a name.
Output identity(const Output& x, const std::string& name = "");

// Adds a catalogue op node: runs the shape rule now (errors name the op, the shapes and your line).
// apply() on Outputs calls it; it is also the way to add an op of the catalogue by hand.
Output make_op(const OpDef& op, std::vector<Output> inputs, const Attrs& attrs = {},
               const std::string& name = "");
// "MatMul" for matmul, "LogSoftmax" for log_softmax: the node type shown in names and drawings.
std::string type_name(const OpDef& op);

}  // namespace tandem::graph
