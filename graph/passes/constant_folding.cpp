// graph/passes/constant_folding.cpp — compute once, while planning, what no run can change.
//
// A step whose inputs are all constants gives the same value on every run. There is no reason to
// compute it on every run: compute it now, once, and replace the step by a constant holding the
// result. The pass walks the plan in execution order — a topological order — so by the time it
// looks at a step, every input that *could* be folded already has been, and a whole chain of
// constant work collapses in a single pass:
//
//     before                                   after
//       c0 = Const 2        c1 = Const 3
//       t  = Mul(c0, c1)                          t = Const 6        (computed while planning)
//       u  = Exp(t)                               u = Const e^6
//       y  = Add(x, u)                            y = Add(x, u)      (x is a placeholder: stays)
//
// People rarely multiply two constants by hand, but programs that write graphs do: gradients()
// turns d/dx x^2 into `2 * x^(2 - 1)`, and `2 - 1` is a step of two constants; a scale written as
// `1 / sqrt(constant(d))` is another. Those steps then cost nothing per run.
//
// The value is computed by the op catalogue's own kernels (through call()), the ones the executor
// runs, so a folded constant holds bit for bit the value the step would have computed at run time.
// (A view op folds into a view of the constant's storage: the constant holds it alive.)
//
// What is never folded (when unsure, don't):
//   - variables, placeholders and fed steps: their values arrive at run time (a fed step is a
//     source whatever it was built from — the value fed in wins, even over a constant's own value:
//     `y = c * 3` with c fed 2 gives 6, not 3 × c's stored value);
//   - assign and no_op steps, and stateful ops (print): they *do* something, not only compute a
//     value (a check_numerics of constants is folded: the check runs once, here, on values that no
//     run can change — and when it fails, the step stays and the run reports it);
//   - a step with any input that is not a constant — including the shape-reading ops
//     (zeros_like, sum_to_like, ...) of a non-constant value, whose run-time shape is not known;
//   - a result of more than kMaxFoldedElements elements: a folded value stays in the plan for as
//     long as the Session keeps the plan, so folding `ones({4096}) * ones({4096, 1})` would trade
//     one cheap kernel per run for 64 MB held for good;
//   - a step whose evaluation fails (an index out of range, say): it stays, so that Session::run
//     raises the error and names the user's line, exactly as it does without the pass.
//
// Steps left without readers (the constants a folded step used to read) are pruned at the end.
//
// Read next: graph/passes/cse.cpp (which then merges equal constants).
#include "autograd/grad_mode.h"
#include "core/factories.h"
#include "graph/passes.h"
#include "core/ops.h"

namespace tandem::graph {

namespace {

// 1M elements: 4 MB of float32. Larger results are recomputed on every run instead of stored.
constexpr int64_t kMaxFoldedElements = int64_t{1} << 20;

bool fully_known(const Shape& shape) {
  for (int64_t d : shape)
    if (d == kUnknown) return false;
  return true;
}

// The value of step `s` from the values of its (constant) inputs, computed by the very kernels the
// executor runs. An undefined Tensor for the kinds that are never folded (state, sources, no_op).
Tensor evaluate(const Step& s, const std::vector<Tensor>& in) {
  if (s.kind != Kind::op) return Tensor();
  return call(*s.op, in, s.attrs);
}

}  // namespace

int fold_constants(Plan& plan) {
  std::vector<bool> fed(plan.steps.size(), false);
  for (int f : plan.feeds) fed[f] = true;
  no_grad no_recording;  // folding computes values; nothing here belongs on an autograd tape

  int folded = 0;
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    Step& s = plan.steps[i];
    if (fed[i] || s.inputs.empty() || s.kernel_override) continue;
    if (s.kind == Kind::op && s.op->random) continue;  // a fresh draw every run: never a constant
    if (s.kind == Kind::op && s.op->stateful) continue;  // print: its effect belongs to every run
    // BEGIN SOLUTION a3.t3
    bool all_constant = true;
    // A fed constant is no constant: its value arrives with the run (feeds win over folding).
    for (int j : s.inputs) all_constant = all_constant && plan.steps[j].kind == Kind::constant && !fed[j];
    if (!all_constant) continue;
    // END SOLUTION
    if (!fully_known(s.meta.shape) || numel(s.meta.shape) > kMaxFoldedElements) continue;

    std::vector<Tensor> in;
    for (int j : s.inputs) in.push_back(plan.steps[j].value);
    Tensor value;
    try {
      value = evaluate(s, in);
    } catch (const Error&) {
      continue;  // leave it to Session::run, whose error names the node and the user's line
    }
    if (!value.defined()) continue;  // a kind that is not folded

    // The step becomes a constant. It keeps its source (errors and drawings still point at the
    // node the user wrote) and its control dependencies (they may be what makes an assign run).
    // BEGIN SOLUTION a3.t3
    s.kind = Kind::constant;
    s.op = nullptr;
    s.attrs = Attrs{};
    s.inputs.clear();
    s.value = value;
    s.meta = meta_of(value);
    s.label = "Const";
    ++folded;
    // END SOLUTION
  }
  if (folded > 0) prune(plan);  // drop the constants nothing reads any more
  return folded;
}

}  // namespace tandem::graph
