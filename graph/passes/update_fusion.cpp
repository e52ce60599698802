// graph/passes/update_fusion.cpp — update fusion: the optimizer step folded into its gradient.
//
// A training step ends with one update per weight. For a Linear layer's weight W, read as a
// plan, plain SGD is four steps:
//
//     G = MatMul(Xᵀ, D)           the weight gradient, as big as W
//     T = Mul(G, lr)              a second W-sized array
//     U = Neg(T)                  (elementwise fusion turns T and U into one loop: still one array)
//     W = AssignAdd(W, U)         a third pass over W-sized memory
//
// G and U exist only to be added into W. GEMM can do that addition itself: BLAS's GEMM computes
// C = alpha·A·B + beta·C, and with C = W, alpha = -lr and beta = 1 it *is* the update. So the pass
// rewrites the four steps into one,
//
//     W = AssignAdd[-lr·MatMul](W, Xᵀ, D)      W += -lr · (Xᵀ · D), one GEMM, no temporary
//
// (core/ops/matmul.h, matmul_accumulate). Two things are gained:
//   - memory: the weight gradients are never stored. For the MLP of bench/, W1's gradient alone
//     (784 x 256 floats, 784 KiB) is most of a training step's peak memory; without it the peak
//     is what the activations need;
//   - time: W is read and written once where the plan made three passes over W-sized arrays. At
//     batch 1 the product Xᵀ·D is an outer product (a rank-1 update), and the step is bound by
//     memory traffic, so this is most of the step's time.
// Eager mode cannot do this: `loss.backward()` must leave the gradient in `w.grad` for the
// optimizer to read, because eager mode never knows what the program does next.
//
// WHICH UPDATES FUSE. An AssignAdd(v, e), or an optimizer's ApplyGradientDescent(v, e) without
// weight decay (which is AssignAdd(v, -lr · e): optim/train.h's GradientDescentOptimizer), where
//   - e is alpha · MatMul(A, B): a chain of Neg, and Mul or Div by a constant scalar (a 0-dim or
//     one-element float constant), over a MatMul; alpha is the product of the signs and constants;
//     or alpha · MatMul(A, B)ᵀ, the chain holding 2-D transposes: an odd number transposes the
//     product, an even number cancels (a Linear layer's weight gradient holds two: below);
//   - v is a 2-D float32 or float64 variable, and A, B, the MatMul and the chain all have its dtype
//     (so no hidden conversion is skipped), and the chain keeps the MatMul's shape (no broadcast);
//   - the MatMul and every link of the chain are read by nothing else, fetched by nobody and named
//     by no control dependency: their values are needed nowhere else, so they need never exist.
// The result rounds differently from the unfused steps (GEMM adds alpha·(A·B) in one operation,
// the plan rounded G, then T, then W): the values agree to float rounding, not bit for bit.
//
// WHERE THE FUSED STEP RUNS. The AssignAdd sits near the end of the plan, after the whole backward
// pass; its MatMul sat where the gradient was computed. Running the fused update late would keep
// A and B (an activation and a gradient) alive until the end, for nothing. So the fused step takes
// the MatMul's place, and the old AssignAdd becomes an Identity of it (anything that fetched it or
// depended on it still does). Running the update earlier is safe when nothing after that place
// reads the variable's old value: no later step reads v or a view of v, v is not fetched, no other
// assignment to v exists, and the AssignAdd waits for no control dependency. Otherwise the fused
// step stays where the AssignAdd was (still without the temporaries).
//
// Read next: graph/passes/fusion.cpp (the next pass), graph/session.cpp (how the
// executor runs an assign step's kernel_override).
#include <cmath>
#include <sstream>

#include "graph/passes.h"
#include "core/ops.h"
#include "core/ops/matmul.h"

namespace tandem::graph {

namespace {

// Is step i a constant holding one floating-point number? Then `value` is that number. A fed
// constant is not: its value arrives with each run (a learning rate fed per step, say).
bool scalar_constant(const Plan& plan, int i, const std::vector<bool>& fed, double& value) {
  const Step& s = plan.steps[i];
  if (fed[i] || s.kind != Kind::constant || !s.value.defined() || s.value.numel() != 1 ||
      !s.value.is_floating_point())
    return false;
  value = s.value.cpu().item();  // the constant may have been made from a GPU tensor
  return true;
}

// The steps that hold the variable's storage: the variable step, and every view or alias of it
// (identity, permute, reshape...), followed through chains of views. Marks them in `alias`.
void mark_aliases(const Plan& plan, int var, std::vector<bool>& alias) {
  alias[var] = true;
  for (size_t i = static_cast<size_t>(var) + 1; i < plan.steps.size(); ++i) {
    const int a = aliased_input(plan.steps[i]);
    if (a >= 0 && alias[plan.steps[i].inputs[a]]) alias[i] = true;
  }
}

std::string alpha_label(double alpha) {
  std::ostringstream os;
  os << alpha;
  return os.str();
}

}  // namespace

int fuse_updates(Plan& plan) {
  const int n = static_cast<int>(plan.steps.size());
  const StepRoles roles = roles_of(plan);
  const std::vector<int> readers = plan.reader_counts();
  auto used_only_once = [&](int i) { return readers[i] == 1 && !roles.pinned(i); };

  // How many assignments each variable step has: an early update must be the only one.
  std::vector<int> assignments(n, 0);
  for (const Step& s : plan.steps)
    if (s.kind == Kind::assign || s.kind == Kind::assign_add) ++assignments[s.inputs[0]];
    else if (s.kind == Kind::update)
      for (int k = 0; k < s.op->updates; ++k) ++assignments[s.inputs[k]];

  int fused = 0;
  for (int u = 0; u < n; ++u) {
    Step& update = plan.steps[u];
    // An optimizer's plain SGD step, ApplyGradientDescent(v, g) with no weight decay, is the same
    // update as AssignAdd(v, -lr · g): its chain starts with alpha = -lr.
    const bool sgd = update.kind == Kind::update && update.op == &ops::sgd_update &&
                     update.attrs.weight_decay == 0;
    if ((update.kind != Kind::assign_add && !sgd) || update.kernel_override || update.inputs.size() != 2 ||
        roles.fed[u])
      continue;
    const int var = update.inputs[0];
    const Meta& vm = plan.steps[var].meta;
    if (plan.steps[var].kind != Kind::variable || vm.shape.size() != 2) continue;
    if (vm.dtype != kFloat32 && vm.dtype != kFloat64) continue;

    // Walk down the chain of scalings to the MatMul, collecting alpha — and transposes: a Linear
    // layer holds W as [out, in] and computes x·Wᵀ, so the gradient of Wᵀ is (Gᵀ·X)ᵀ (the matmul
    // rule's column-major branch) and W's is that transposed back: two transposes, which cancel.
    // One left over, W += alpha·(A·B)ᵀ, is the GEMM W += alpha·Bᵀ·Aᵀ (transposed operands cost
    // GEMM nothing).
    double alpha = sgd ? -update.attrs.lr : 1;
    bool transposed = false;
    std::vector<int> chain;
    int e = update.inputs[1];
    while (true) {
      const Step& s = plan.steps[e];
      if (s.kind != Kind::op || s.kernel_override || !used_only_once(e) || s.meta.dtype != vm.dtype) break;
      double c = 0;
      int next = -1;
      if (s.op == &ops::permute && s.attrs.dims == Shape{1, 0}) {
        const Shape& in = plan.steps[s.inputs[0]].meta.shape;
        if (in.size() != 2 || Shape{in[1], in[0]} != s.meta.shape) break;
        transposed = !transposed;
        chain.push_back(e);
        e = s.inputs[0];
        continue;
      }
      if (s.op == &ops::neg) {
        alpha = -alpha;
        next = s.inputs[0];
      } else if ((s.op == &ops::mul || s.op == &ops::div) && scalar_constant(plan, s.inputs[1], roles.fed, c)) {
        alpha = s.op == &ops::mul ? alpha * c : alpha / c;
        next = s.inputs[0];
      } else if (s.op == &ops::mul && scalar_constant(plan, s.inputs[0], roles.fed, c)) {
        alpha *= c;
        next = s.inputs[1];
      }
      if (next < 0 || plan.steps[next].meta.shape != s.meta.shape) break;  // not a scaling, or it broadcasts
      chain.push_back(e);
      e = next;
    }
    const Step& mm = plan.steps[e];
    if (mm.kind != Kind::op || mm.op != &ops::matmul || mm.kernel_override || !used_only_once(e)) continue;
    if (mm.meta.dtype != vm.dtype || !std::isfinite(alpha)) continue;
    const int a = mm.inputs[0], b = mm.inputs[1];
    if (plan.steps[a].meta.shape.size() != 2 || plan.steps[b].meta.shape.size() != 2 ||
        plan.steps[a].meta.dtype != vm.dtype || plan.steps[b].meta.dtype != vm.dtype)
      continue;

    // Can the update run where the MatMul was? Only if nothing after that point reads the
    // variable's old value (see the opening comment).
    std::vector<bool> alias(n, false);
    mark_aliases(plan, var, alias);
    bool early = assignments[var] == 1 && update.control.empty() && !alias[a] && !alias[b];
    for (int i = 0; i < n && early; ++i) {
      if (alias[i] && roles.fetched[i]) early = false;
      if (i <= e || i == u) continue;
      for (int in : plan.steps[i].inputs)
        if (alias[in] && !alias[i]) early = false;  // a later step reads the old value
    }

    Step fused_step = std::move(update);
    fused_step.kind = Kind::assign_add;  // what an SGD step becomes, too
    fused_step.op = nullptr;
    fused_step.inputs = {var, a, b};
    fused_step.label = "AssignAdd[" + alpha_label(alpha) + (transposed ? "·MatMulᵀ]" : "·MatMul]");
    // The executor hands the kernel the variable's tensor as `target` (see session.cpp).
    fused_step.kernel_override = [alpha, transposed](std::span<const Tensor> in, Tensor& target) {
      const Tensor a = transposed ? in[2].t() : in[1], b = transposed ? in[1].t() : in[2];  // (A·B)ᵀ = Bᵀ·Aᵀ
      if (!matmul_accumulate(target, a, b, alpha))
        target = target + matmul(a, b) * alpha;  // another device or dtype: out of place
    };
    for (int c : chain) plan.steps[c].removed = true;
    if (early) {
      plan.steps[e] = std::move(fused_step);  // the update takes the MatMul's place...
      Step& rest = plan.steps[u];             // ...and the AssignAdd becomes an alias of it
      rest = Step{};
      rest.kind = Kind::op;
      rest.op = &ops::identity;
      rest.inputs = {e};
      rest.meta = plan.steps[e].meta;
      rest.source = plan.steps[e].source;
      rest.label = "Identity";
    } else {
      plan.steps[e].removed = true;
      plan.steps[u] = std::move(fused_step);
    }
    ++fused;
  }
  if (fused > 0) plan.compact();
  return fused;
}

}  // namespace tandem::graph
