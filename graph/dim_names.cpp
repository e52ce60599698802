// graph/dim_names.cpp — naming the unknown dims (see the header for the rules).
#include "graph/dim_names.h"

#include "core/ops.h"

namespace tandem::graph {

namespace {

// Ops whose output has the shape of input 0 (besides the elementwise ones).
bool keeps_input_shape(const OpDef* op) {
  return op == &ops::softmax || op == &ops::log_softmax || op == &ops::slice_scatter ||
         op == &ops::select_scatter || op == &ops::index_add || op == &ops::scatter_add ||
         op == &ops::identity || op == &ops::stop_gradient || op == &ops::zeros_like || op == &ops::ones_like;
}

// Ops whose output has the shape of input 1, the value whose shape they read.
bool takes_shape_of_input_1(const OpDef* op) {
  return op == &ops::sum_to_like || op == &ops::expand_like || op == &ops::reshape_like;
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
  if (n.kind == Kind::op) {
    if (n.op->elementwise) broadcast = true;  // add_n too
    else if (keeps_input_shape(n.op)) copy_from = n.inputs[0].node();
    else if (takes_shape_of_input_1(n.op)) copy_from = n.inputs[1].node();
  }
  for (size_t d = 0; d < s.size(); ++d) {
    if (s[d] != kUnknown) continue;
    int64_t agreed = 0;  // 0: no name seen yet
    if (copy_from && copy_from->meta.shape.size() == s.size()) {
      agreed = of(copy_from)[d];
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
