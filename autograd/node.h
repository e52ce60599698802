// autograd/node.h — what the tape is made of.
//
// When an op runs on a tensor that requires grad, the engine records a Node: "this op, with
// these attributes, made this output from these inputs; here is what its derivative will need".
// The Node hangs off the output tensor as its `grad_fn`, and points back (Edges) to the Nodes that
// made its inputs. Following the edges from a loss reaches every op that contributed to it: that
// chain of Nodes *is* the tape.
//
//     w (leaf) ─┐
//               ├─ MulBackward0 ── SumBackward0 ◄── loss.grad_fn
//     x (leaf) ─┘
//
// A leaf is a tensor the user made with requires_grad (a weight). Gradients that reach a leaf are
// accumulated into its `.grad`; gradients reaching a Node are passed on through its derivative.
//
// Saved tensors: a Node keeps only the values its derivative needs (mul keeps both inputs, add
// none, exp its output), each with the storage version it had when saved, so an in-place change
// made afterwards is caught instead of silently giving a wrong gradient.
//
// Read next: autograd/derivatives.h (what each Node computes), autograd/engine.cpp (the walk).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/call_site.h"
#include "core/inline_list.h"
#include "core/op.h"
#include "core/tensor.h"

namespace tandem::autograd {

struct Node;
struct Derivative;

// Where the gradient of one input goes: to the Node that produced that input, or, for a leaf,
// into the leaf's .grad. Neither is set when the input does not require grad.
struct Edge {
  std::shared_ptr<Node> node;
  std::weak_ptr<TensorImpl> leaf;
  bool is_leaf() const { return !node && !leaf.expired(); }
  bool needs_grad() const { return node != nullptr || !leaf.expired(); }
};

// A value kept for backward. `data` is a detached alias (same storage, no autograd history), so a
// Node never owns its own output's history — that would be a reference cycle. What is needed to
// rebuild the history (for create_graph) is kept beside it.
struct SavedTensor {
  Tensor data;
  uint64_t version = 0;              // storage version at the time it was saved
  std::shared_ptr<Node> grad_fn;     // the saved value's own grad_fn, if it had one
  std::weak_ptr<TensorImpl> leaf;    // or the leaf it was, if it was one
  bool is_output = false;            // the Node's own output (its grad_fn is the Node itself)
};

struct Node : std::enable_shared_from_this<Node> {
  const OpDef* op = nullptr;
  const Derivative* rule = nullptr;
  Attrs attrs;
  // Per input, in input order (most ops have one or two inputs: these lists hold two inside the
  // Node itself, so recording an op is one allocation, not four; core/inline_list.h. The few ops
  // with three or more — where, index_add, scatter_add, batch norm — move them to the heap):
  InlineList<Edge, 2> next;             // where each input's gradient goes
  InlineList<Meta, 2> input_meta;       // every input's shape and dtype (always kept: cheap)
  InlineList<std::optional<SavedTensor>, 2> saved_inputs;  // only those the rule asks for
  Meta output_meta;
  std::optional<SavedTensor> saved_output;
  uint64_t sequence_nr = 0;           // creation order
  bool released = false;              // saved values freed by a backward without retain_graph
  std::unique_ptr<CallSite> created_at;  // recorded in anomaly mode
  std::weak_ptr<TensorImpl> retained_output;  // set by retain_grad(): also store its grad

  // "MulBackward0", as PyTorch names its backward functions.
  std::string name() const;
  // Frees the saved values (what backward() does when retain_graph is false).
  void release();
  // Tears down long chains without recursion (a 10^5-op tape would overflow the stack otherwise).
  ~Node();
};

// SPEED: a Node is allocated and freed once per recorded op (std::make_shared: the Node and its
// two reference counts, 16 bytes more, in one block). glibc's malloc keeps freed blocks of up to
// 1032 bytes in a per-thread cache (its tcache), a few instructions to take back; a bigger block
// goes through the shared bins, with their locking and merging of neighbours. So the Node stays
// below that: its lists hold two inputs inline, not three, and anomaly mode's call stack (256
// bytes) is kept behind a pointer. Measured (bench_op_cost, one thread): a recorded view and its
// backward, 550 -> 357 ns, when the Node was 1400 bytes; the other ops' costs within the noise.
#if defined(__GLIBC__)
static_assert(sizeof(Node) + 16 <= 1032, "a tape Node should fit glibc's per-thread cache (see above)");
#endif

// The autograd part of a tensor: absent for plain tensors.
struct AutogradMeta {
  bool requires_grad = false;
  bool retains_grad = false;          // retain_grad(): a non-leaf that also keeps its .grad
  Tensor grad;                        // accumulated gradient (leaves, or retains_grad)
  std::shared_ptr<Node> grad_fn;      // the Node that made this tensor; null for a leaf
  bool view_of_leaf = false;          // a view sharing the bytes of a leaf that requires grad
};

}  // namespace tandem::autograd
