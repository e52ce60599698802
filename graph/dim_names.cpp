// graph/dim_names.cpp — naming the unknown dims (see the header for the rules).
#include "graph/dim_names.h"

#include "core/ops.h"

namespace tandem::graph {

namespace {

// Ops whose output has the shape of input 0 (besides the elementwise ones).
bool keeps_input_shape(const OpDef* op) {
  return op == &ops::softmax || op == &ops::log_softmax || op == &ops::slice_scatter ||
         op == &ops::select_scatter || op == &ops::index_add || op == &ops::scatter_add ||
         op == &ops::identity || op == &ops::stop_gradient || op == &ops::zeros_like || op == &ops::ones_like ||
         op == &ops::check_numerics || op == &ops::print;
}

// Ops whose output has the shape of input 1, the value whose shape they read.
bool takes_shape_of_input_1(const OpDef* op) {
  return op == &ops::sum_to_like || op == &ops::expand_like || op == &ops::reshape_like;
}

// The input dim an output dim of a reduction comes from: the kept dims, in order (reduced dims
// are gone, or size 1 with keepdim, which is a known size and needs no name). -1: none.
int64_t reduction_source(const Node& n, size_t d) {
  const auto rank = static_cast<int64_t>(n.inputs[0].shape().size());
  std::vector<bool> reduced(static_cast<size_t>(rank), n.attrs.dims.empty());
  for (int64_t r : n.attrs.dims)
    if (r >= -rank && r < rank) reduced[static_cast<size_t>(r < 0 ? r + rank : r)] = true;
  int64_t out = 0;
  for (int64_t i = 0; i < rank; ++i) {
    if (reduced[static_cast<size_t>(i)] && !n.attrs.keepdim) continue;
    if (out++ == static_cast<int64_t>(d)) return reduced[static_cast<size_t>(i)] ? -1 : i;
  }
  return -1;
}

bool is_reduction(const OpDef* op) {
  return op == &ops::sum || op == &ops::mean || op == &ops::amax || op == &ops::amin ||
         op == &ops::var || op == &ops::argmax || op == &ops::argmin;
}

}  // namespace

const std::vector<int64_t>& DimNames::of(const Node* n) {
  // Nodes only read earlier nodes, so naming in creation order finds every input named.
  const std::vector<std::unique_ptr<Node>>& nodes = n->graph->nodes();
  while (names_.size() <= static_cast<size_t>(n->id)) names_.push_back(name(*nodes[names_.size()]));
  return names_[n->id];
}

bool DimNames::same_shape(const Output& a, const Output& b) {
  const std::vector<int64_t> first = of(a.node());  // a copy: naming b may grow the table
  return first == of(b.node());
}

std::vector<int64_t> DimNames::name(const Node& n) {
  const Shape& s = n.meta.shape;
  std::vector<int64_t> out(s.begin(), s.end());
  // Where the output's names come from: one input's names (copied), or all inputs' (broadcast).
  const Node* copy_from = nullptr;
  bool broadcast = false;
  // A node inside a cond branch or loop body may read an Arg made after it (graph/control_flow.h:
  // captured values become Args once the body is built): no proof for it, only fresh names.
  for (const Output& in : n.inputs)
    if (in.defined() && in.node()->id > n.id) {
      for (int64_t& d : out) d = d >= 0 ? d : next_--;
      return out;
    }
  if (n.kind == Kind::op) {
    if (n.op->elementwise) broadcast = true;  // add_n too
    else if (keeps_input_shape(n.op)) copy_from = n.inputs[0].node();
    else if (takes_shape_of_input_1(n.op)) copy_from = n.inputs[1].node();
  }
  const bool reduction = n.kind == Kind::op && is_reduction(n.op);
  // A 2-D matmul [n, k] x [k, m] -> [n, m]: its rows are a's rows, its columns b's columns.
  const bool matmul = n.kind == Kind::op && n.op == &ops::matmul && s.size() == 2 &&
                      n.inputs[0].shape().size() == 2 && n.inputs[1].shape().size() == 2;
  for (size_t d = 0; d < s.size(); ++d) {
    if (s[d] != kUnknown) continue;
    int64_t agreed = 0;  // 0: no name seen yet
    if (copy_from && copy_from->meta.shape.size() == s.size()) {
      agreed = of(copy_from)[d];
    } else if (reduction) {
      const int64_t from = reduction_source(n, d);
      if (from >= 0) agreed = of(n.inputs[0].node())[static_cast<size_t>(from)];
    } else if (matmul) {
      agreed = d == 0 ? of(n.inputs[0].node())[0] : of(n.inputs[1].node())[1];
    } else if (broadcast) {
      const size_t from_end = s.size() - d;  // broadcasting aligns dims from the right
      for (const Output& in : n.inputs) {
        const std::vector<int64_t>& names = of(in.node());
        if (from_end > names.size() || names[names.size() - from_end] == 1) continue;  // copies nothing
        const int64_t name = names[names.size() - from_end];
        agreed = agreed == 0 || agreed == name ? name : kUnknown;  // kUnknown: they disagree
      }
    }
    out[d] = agreed < kUnknown ? agreed : next_--;  // an agreed name, or a fresh one
  }
  return out;
}

}  // namespace tandem::graph
