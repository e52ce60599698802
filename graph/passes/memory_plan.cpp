// graph/passes/memory_plan.cpp — memory planning: give each value a reusable buffer, by liveness.
//
// Eager mode cannot plan memory: it does not know what comes next, so every op allocates its result
// and frees it when the last handle goes away. A graph is known in advance, so before running it the
// Session can work out *every* buffer the run needs and share them. Two steps:
//
// 1. Runtime shape inference. A node's static shape may have unknown dims ([?, 784]); at run time
//    the feeds' shapes are known, so running each step's shape rule (the catalogue's) on concrete metas
//    gives every value's exact size. Sizes depend only on the feeds' shapes, so the Session caches
//    one MemoryPlan per *shape signature* of the feeds, as tf.function keeps one trace per signature.
//
// 2. Liveness and slot assignment. A value is *live* from the step that writes it to the last step
//    that reads it: an interval [def, last_use] on the step numbers.
//
//        step:        2     3     4     5     6            x fed; a = relu(x); b = exp(a);
//        a = relu   [=====]                                 c = neg(b); d = sigmoid(c); e = sum(d)
//        b = exp          [=====]
//        c = neg                [=====]                     a and c never overlap: one buffer.
//        d = sigmoid                  [=====]               b and d never overlap: another.
//
//    Two values *interfere* when their intervals overlap; interfering values need different
//    buffers, the others may share one. (Sharing buffers is colouring the interference graph; for
//    intervals a greedy sweep in step order is the classic method, as in register allocation.) The
//    sweep keeps a pool of *slots* (buffers with a size and a device). At each step that needs a
//    buffer: every slot whose occupant's interval has ended becomes free; the step takes the free
//    slot that fits it best:
//
//      first fit  takes the first free slot that is big enough — simple, but a small value may
//                 occupy a big slot and force the next big value to create a new one;
//      best fit   takes the *smallest* free slot that is big enough, keeping big slots for big
//                 values. Tandem uses best fit (tests/test_memory_plan.cpp shows a graph where
//                 first fit would need one more buffer).
//
//    When no free slot is big enough, the biggest free slot *grows* to the new size (it costs
//    new - old bytes, where a new slot would cost all of new); only when no slot is free at all is
//    a new one made. Sizes are settled while planning, so at run time each slot is allocated once,
//    at its final size. None of these rules is optimal (optimal packing is NP-hard); they are what
//    real planners start from. In a training step growth matters: the big weight gradients come
//    last, and reuse the slots of forward activations that died before them.
//
// 3. In place. A value and the output of its last reader do overlap — for one step. But when that
//    reader is elementwise (out[i] depends on in[i] only) and the input has exactly the output's
//    shape and dtype, the kernel reads in[i] before it writes out[i], at the same address, and never
//    looks at in[i] again: the output can take over the input's slot. So a chain of unary ops runs
//    in ONE buffer, and `g * lr` in an optimizer update overwrites the gradient it scales. Conditions
//    (`takes_over`): the step is an elementwise catalogue op (or a fused elementwise loop) that is not
//    a plain copy, not bool; the input has a slot of its own, is not read after this step, and is not
//    also read through a view by the same step (x + x.t() would read elements already overwritten).
//    This is TensorFlow's "forward the input buffer" and XLA's operand-output buffer sharing.
//
// Views make it harder. View ops (identity, reshape, permute, expand, slice, the shape-reading
// *_like views...) return their input's storage read another way, not a buffer of their own. So
// liveness is tracked per *buffer*, not per value: a view's readers extend the life of the buffer it
// aliases, followed through chains of views (`buffer_of`). A view op that sometimes copies (reshape
// of a transposed matrix; sum_to_like when it really sums) is planned as a view — safe, since its
// copy is a fresh buffer outside the plan, at worst keeping its input's buffer a little longer.
//
// Shape-only reads. gradients() uses ops that read some inputs for their *shape* only
// (OpDef::shape_only_inputs: sum_to_like's target, zeros_like's input, count_ratio's two). The plan
// knows every shape, so those reads do not extend a buffer's life: a forward activation is freed as
// soon as its last *value* reader has run, even when a gradient step later asks for its shape. (The
// executor then hands such a step a stand-in of the right shape: graph/executor.cpp.)
//
// Which steps get a slot — the rules (2 and 3 above say which slot):
//   - compute steps: catalogue ops with a kernel (and fused steps) — add_n too (the sum accumulates
//     in its one buffer), and zeros_like, ones_like, count_ratio;
//   - NOT fetched values, nor any buffer a fetched view aliases: they are handed to the caller, and
//     the next run would overwrite a slot under the caller's feet. They get a fresh buffer each run;
//   - NOT fed values, constants, variables, assign/assign_add: their storage belongs to the caller,
//     the graph or the Session. (assign *copies* its value into the variable, so a value computed in
//     a slot can be assigned safely);
//   - NOT views and aliases: they have no buffer of their own (see above);
//   - a step whose output is written by a replaced kernel (kernel_override) gets a slot like any
//     compute step; the executor checks, before reusing a slot, that nothing still holds its storage.
//
// The executor (graph/session.cpp) then runs each compute step's kernel straight into its slot.
// Slots live in the Session's cached plan from one run to the next, so the second run of the same
// training step allocates nothing but the values it returns.
//
// Read next: graph/session.cpp (executing into slots), tests/test_memory_plan.cpp.
#include <algorithm>

#include "core/ops.h"
#include "graph/passes.h"

namespace tandem::graph {

Meta runtime_meta(const Step& s, std::span<const Meta> in) {
  switch (s.kind) {
    case Kind::constant:
      return meta_of(s.value);
    case Kind::placeholder:
    case Kind::variable:
    case Kind::assign:      // a variable's meta is fully known (assign converts to its dtype)
    case Kind::assign_add:
    case Kind::update:
    case Kind::no_op:
    case Kind::control:  // no value of its own: its result steps hold them
      return s.meta;
    case Kind::result:  // known before the body runs only when the graph declared it in full
      for (int64_t d : s.meta.shape)
        if (d == kUnknown)
          throw Error(msg(s.label, ": the size of a cond or while_loop result declared ", shape_str(s.meta.shape),
                          " is known only once its body has run; this run goes without a memory plan"));
      return s.meta;
    case Kind::op:
      if (s.kernel_override) {
        // A fused elementwise loop: its output is the broadcast of all its inputs, in the dtype
        // the fusion pass recorded.
        Shape shape = in.empty() ? Shape{} : in[0].shape;
        for (size_t k = 1; k < in.size(); ++k) shape = broadcast_shapes(shape, in[k].shape, s.label.c_str());
        return {shape, s.meta.dtype};
      }
      return s.op->shape(in, s.attrs);
  }
  return s.meta;
}

int runtime_alias(const Step& s, std::span<const Meta>) {
  return s.kernel_override ? -1 : aliased_input(s);  // a replaced kernel writes a buffer
}

bool writes_buffer(const Step& s, std::span<const Meta> in) {
  return s.kind == Kind::op && runtime_alias(s, in) < 0;
}

namespace {

// Can step i write its output over input step j's slot? (Rule 3 of the opening comment.)
bool takes_over(const Plan& plan, const MemoryPlan& mp, size_t i, int j) {
  const Step& s = plan.steps[i];
  if (s.kind != Kind::op || !s.op->elementwise || s.op == &ops::clone || s.op == &ops::cast) return false;
  // BEGIN SOLUTION a6.t3
  const Meta& out = mp.metas[i];
  if (out.dtype == kBool || mp.slot_of_step[j] < 0 || mp.last_use[j] != static_cast<int>(i)) return false;
  if (mp.metas[j].shape != out.shape || mp.metas[j].dtype != out.dtype) return false;
  for (int k : s.inputs)  // no other input reads j's buffer through a view
    if (mp.buffer_of[k] == j && k != j) return false;
  return true;
  // END SOLUTION
}

}  // namespace

MemoryPlan plan_memory(const Plan& plan, const std::vector<std::optional<ValueInfo>>& sources,
                       bool in_place) {
  const size_t n = plan.steps.size();
  MemoryPlan mp;
  mp.metas.resize(n);
  mp.devices.resize(n, Device::cpu());
  mp.buffer_of.assign(n, -1);
  mp.last_use.assign(n, -1);
  mp.slot_of_step.assign(n, -1);
  mp.writes_over.assign(n, -1);
  std::vector<bool> needs_slot(n, false);

  // ---- 1. runtime shape inference, in step order (inputs come before their readers) --------------
  std::vector<Meta> in;
  for (size_t i = 0; i < n; ++i) {
    const Step& s = plan.steps[i];
    if (i < sources.size() && sources[i]) {  // a fed value, or a variable's current value
      mp.metas[i] = sources[i]->meta;
      mp.devices[i] = sources[i]->device;
      mp.buffer_of[i] = static_cast<int>(i);
      continue;
    }
    if (s.kind == Kind::placeholder)
      throw Error(msg("You must feed a value for placeholder tensor '", s.source->name, "' with dtype ",
                      to_string(s.meta.dtype), " and shape ", shape_str(s.meta.shape)));
    in.clear();
    for (int j : s.inputs) in.push_back(mp.metas[j]);
    mp.metas[i] = runtime_meta(s, in);
    if (s.kind == Kind::constant) mp.devices[i] = s.value.device();
    else if (s.kind == Kind::assign || s.kind == Kind::assign_add) mp.devices[i] = mp.devices[s.inputs[1]];
    else if (!s.inputs.empty()) mp.devices[i] = mp.devices[s.inputs[0]];
    if (s.kind == Kind::no_op || s.kind == Kind::control) continue;  // no value, no buffer
    const int alias = runtime_alias(s, in);
    mp.buffer_of[i] = alias >= 0 ? mp.buffer_of[s.inputs[alias]] : static_cast<int>(i);
    needs_slot[i] = writes_buffer(s, in);
  }

  // ---- 2. liveness: each buffer lives until the last step that reads it or any view of it ---------
  // BEGIN SOLUTION a6.t1
  for (size_t i = 0; i < n; ++i) {
    const int b = mp.buffer_of[i];
    if (b >= 0) mp.last_use[b] = std::max(mp.last_use[b], static_cast<int>(i));
    const Step& s = plan.steps[i];
    for (size_t k = 0; k < s.inputs.size(); ++k) {
      const int read = mp.buffer_of[s.inputs[k]];
      if (read >= 0 && !reads_only_shape(s, k)) mp.last_use[read] = std::max(mp.last_use[read], static_cast<int>(i));
    }
  }
  // END SOLUTION
  // What the caller receives must not sit in a slot that the next run overwrites.
  for (int f : plan.fetches)
    if (mp.buffer_of[f] >= 0) needs_slot[mp.buffer_of[f]] = false;

  // ---- 3. the sweep, in step order: in place, else best fit, else grow, else a new slot ----------
  std::vector<int> busy_until;  // per slot: the last step that uses its current occupant
  for (size_t i = 0; i < n; ++i) {
    if (!needs_slot[i]) continue;
    if (in_place) {
      const std::vector<int>& inputs = plan.steps[i].inputs;
      auto j = std::find_if(inputs.begin(), inputs.end(), [&](int k) { return takes_over(plan, mp, i, k); });
      if (j != inputs.end()) {
        mp.writes_over[i] = *j;
        mp.slot_of_step[i] = mp.slot_of_step[*j];
        busy_until[mp.slot_of_step[i]] = mp.last_use[i];
        continue;
      }
    }
    const size_t bytes = static_cast<size_t>(numel(mp.metas[i].shape)) * itemsize(mp.metas[i].dtype);
    int best = -1;
    // BEGIN SOLUTION a6.t2
    for (size_t k = 0; k < mp.slot_bytes.size(); ++k) {
      const bool free = busy_until[k] < static_cast<int>(i);  // its occupant's readers have all run
      if (!free || mp.slot_devices[k] != mp.devices[i] || mp.slot_bytes[k] < bytes) continue;
      if (best < 0 || mp.slot_bytes[k] < mp.slot_bytes[best]) best = static_cast<int>(k);
    }
    if (best < 0) {  // nothing free is big enough: grow the biggest free slot
      for (size_t k = 0; k < mp.slot_bytes.size(); ++k)
        if (busy_until[k] < static_cast<int>(i) && mp.slot_devices[k] == mp.devices[i] &&
            (best < 0 || mp.slot_bytes[k] > mp.slot_bytes[best]))
          best = static_cast<int>(k);
      if (best >= 0) mp.slot_bytes[best] = bytes;
    }
    // END SOLUTION
    if (best < 0) {  // no slot is free: a new slot, exactly this big
      best = static_cast<int>(mp.slot_bytes.size());
      mp.slot_bytes.push_back(bytes);
      mp.slot_devices.push_back(mp.devices[i]);
      busy_until.push_back(-1);
    }
    mp.slot_of_step[i] = best;
    busy_until[best] = mp.last_use[i];
  }
  return mp;
}

}  // namespace tandem::graph
