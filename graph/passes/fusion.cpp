// graph/passes/fusion.cpp — elementwise fusion: one loop over memory instead of one per op.
//
// Run op by op, y = relu(x * a + b) * c - d is five loops. Each one reads its inputs from memory
// and writes a full-size result back, which the next loop reads again. On a 1024 x 1024 float
// tensor every intermediate is 4 MB, far more than the L1 and L2 caches hold, and an add or a
// multiply is much cheaper than moving its operands: the time goes into moving bytes, five passes
// over memory where one would do. Fusion replaces the chain by a single step that makes one pass:
//
//     before: 5 steps, 5 kernels, 4 temporaries         after: 1 step, 1 kernel
//       t1 = Mul(x, a)                                    y = Fused[Mul,Add,Relu,Mul,Sub](x, a, b, c, d)
//       t2 = Add(t1, b)
//       t3 = Relu(t2)
//       t4 = Mul(t3, c)
//       y  = Sub(t4, d)
//
// This is the optimisation eager mode cannot make: it runs each op the moment it is called and
// never sees the next one. A graph is known in advance, so the executor can look ahead.
//
// WHICH STEPS FUSE. A group grows from its last step (the "root") backward through its inputs.
// An input step joins when
//   - it is an elementwise op of the table in core/ops/elementwise_ops.h, or an AddN
//     (where gradients() sums partial gradients), computing in float32 or float64, all its inputs
//     of that same dtype (no hidden conversions);
//   - its static output shape equals the root's (its inputs may still broadcast);
//   - every step that reads it is in the group, it is not fetched, and no control dependency
//     names it — its value is then needed nowhere else, so it need never be stored.
// The group's *external inputs* (placeholders, a matmul's result, constants...) become the fused
// step's inputs; the root's position in the plan is a valid place for it, since every member
// runs before the root. Groups are trees or DAGs: t = x + y; v = t * t - t fuses to one step.
//
// HOW THE FUSED STEP COMPUTES. The group is compiled into a tiny register program, one
// instruction per op: `r7 = Mul(r2, r5)`. Inputs are registers 0..k-1, the last instruction
// writes the result. Interpreting it element by element would pay the interpreter's overhead per
// element; instead it runs *blocked*: the output is cut into blocks of kBlock elements, and each
// instruction runs over a whole block — a plain loop the compiler vectorises — writing a
// temporary of kBlock elements that stays in the L1 cache until the next instruction reads it.
// So each input element is read from memory once and each output element written once, and the
// per-block dispatch cost vanishes next to kBlock elements of work. Broadcast inputs are read
// through their broadcast strides (core/shape.h), row by row as in core/ops/loops.h.
//
// Each instruction calls the same functor (core/ops/math.h) in the same type as the unfused
// kernel does, so fused results equal unfused ones bit for bit.
//
// What it gains depends on where the temporaries would have lived. When they spill out of the
// last-level cache (a [4096, 1024] chain), the fused loop is several times faster; when all of
// them fit in a large L3, the unfused loops stream from there quickly and the gain is smaller.
// Why members must have the root's shape: a member is computed once per *output* element, so
// fusing exp(bias) of shape [10] into an [N, 10] sum would compute the exp N times, not once.
//
// Read next: graph/passes/memory_plan.cpp (the next pass), graph/session.cpp (how the
// executor runs a step's kernel_override).
#include <algorithm>
#include <memory>
#include <set>

#include "graph/passes.h"
#include "core/ops.h"
#include "core/ops/elementwise_ops.h"
#include "core/ops/loops.h"
#include "core/ops/math.h"
#include "core/threads.h"

namespace tandem::graph {

namespace {

// ---- the instruction set: one entry per fusable op ----------------------------------------------

// Runs one op over a block of n elements: out[i] = f(a[i]) or f(a[i], b[i]).
template <typename T> using BlockFn = void (*)(T* out, const T* a, const T* b, int64_t n);

// `out` may be `a` or `b` (a temporary's buffer is reused once its value is dead): each element
// is read before the same element is written, so that is safe.
template <typename F, typename T> void unary_block(T* out, const T* a, const T*, int64_t n) {
  const F f;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] = f(a[i]);
}

template <typename F, typename T> void binary_block(T* out, const T* a, const T* b, int64_t n) {
  const F f;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
}

struct FusableOp {
  const OpDef* op;
  int arity;
  BlockFn<float> f32;
  BlockFn<double> f64;
};

template <typename F> FusableOp unary(const OpDef& op) {
  return {&op, 1, unary_block<F, float>, unary_block<F, double>};
}
template <typename F> FusableOp binary(const OpDef& op) {
  return {&op, 2, binary_block<F, float>, binary_block<F, double>};
}

// The ops fusion knows how to run, each with the functor its own kernel uses: every row of the
// elementwise table (core/ops/elementwise_ops.h) except the comparisons, whose bool results have no
// place in a float loop. (where, cast and clone are not in the table: they end a group.)
const FusableOp* find_fusable(const OpDef* op) {
#define BINARY(name, Functor, rule) binary<math::Functor>(ops::name),
#define UNARY(name, Functor, rule) unary<math::Functor>(ops::name),
  static const FusableOp table[] = {
      TANDEM_ARITHMETIC_OPS(BINARY) TANDEM_ACTIVATION_BACKWARD_OPS(BINARY) TANDEM_UNARY_OPS(UNARY)};
#undef BINARY
#undef UNARY
  for (const FusableOp& f : table)
    if (f.op == op) return &f;
  return nullptr;
}

// ---- the program a fused step runs --------------------------------------------------------------

// Registers 0..num_inputs-1 hold the inputs; instruction j writes register num_inputs + j.
struct Instruction {
  const FusableOp* fn;
  int a = -1, b = -1;  // registers read (b = -1 for a unary op)
  int slot = -1;       // scratch buffer the result goes to (the last instruction: the output)
};

struct Program {
  int num_inputs = 0;
  int num_slots = 0;  // scratch buffers of kBlock elements, reused once a temporary is dead
  std::vector<Instruction> code;
};

// 256 elements: 1 KB of float32 per temporary. Long enough that each instruction's loop
// amortises its dispatch; short enough that the block of every input, the output and a dozen
// temporaries stay together in a 32 KB L1 cache. (Measured: 128 and 512 are both a little slower
// on a chain with five full-size inputs; 128 is slower with broadcast ones.)
constexpr int64_t kBlock = 256;

// Merges adjacent dimensions that every operand lays out back to back and drops size-1 ones:
// loops::coalesce (core/ops/loops.h), for a number of operands known only at run time.
Shape coalesce(const Shape& shape, std::vector<Strides>& strides) {
  Shape out_shape;
  std::vector<Strides> out_strides(strides.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !out_shape.empty();
    for (size_t k = 0; k < strides.size() && merge; ++k)
      merge = out_strides[k].back() == strides[k][d] * shape[d];
    if (merge) {
      out_shape.back() *= shape[d];
      for (size_t k = 0; k < strides.size(); ++k) out_strides[k].back() = strides[k][d];
    } else {
      out_shape.push_back(shape[d]);
      for (size_t k = 0; k < strides.size(); ++k) out_strides[k].push_back(strides[k][d]);
    }
  }
  strides = std::move(out_strides);
  return out_shape;
}

// Runs the program over the (contiguous, already allocated) output. All tensors are T on the CPU.
// The output may be the very buffer of an input laid out like it, when memory planning lets the
// step write over an input that dies here: safe, because only the last instruction writes the
// output, and it reads each element of the block before it writes that element.
template <typename T> void run_blocked(const Program& p, std::span<const Tensor> in, Tensor& out) {
  const int64_t total = out.numel();
  if (total == 0) return;
  const int L = p.num_inputs;

  // The layout: operand 0 is the output, operand k + 1 is input k read through broadcast strides.
  std::vector<Strides> strides{out.strides()};
  for (const Tensor& t : in) strides.push_back(broadcast_strides(t.shape(), t.strides(), out.shape()));
  Shape shape = coalesce(out.shape(), strides);
  if (shape.empty()) {  // a single element
    shape = {1};
    for (Strides& s : strides) s = {0};
  }
  const auto rank = static_cast<int64_t>(shape.size());
  const int64_t n = shape[rank - 1];  // elements per row
  const int64_t rows = total / n;
  const int64_t blocks_per_row = (n + kBlock - 1) / kBlock;

  std::vector<const T*> base;
  for (const Tensor& t : in) base.push_back(t.data<T>());
  T* po = out.data<T>();

  // Work is shared out by blocks, so one long row is split between threads as well as many rows
  // are: each thread takes a contiguous range of blocks (a chunk) and scratch buffers of its own.
  const int64_t units = rows * blocks_per_row;
  const bool parallel = total >= loops::kParallelGrain;
  const int64_t chunks = parallel ? std::min<int64_t>(units, get_num_threads()) : 1;
  loops::parallel_for(chunks, parallel, [&](int64_t chunk) {
    // Scratch: one buffer per input that needs copying, one per slot.
    std::vector<T> scratch(static_cast<size_t>(L + p.num_slots) * kBlock);
    auto buffer = [&](int i) { return scratch.data() + static_cast<size_t>(i) * kBlock; };
    std::vector<const T*> reg(L + p.code.size());
    std::vector<int64_t> off(L);

    for (int64_t u = chunk * units / chunks; u < (chunk + 1) * units / chunks; ++u) {
      const int64_t row = u / blocks_per_row;
      const int64_t start = (u % blocks_per_row) * kBlock;
      const int64_t len = std::min(kBlock, n - start);

      // Where this row starts in each input: decompose the row number into outer indices.
      std::fill(off.begin(), off.end(), 0);
      for (int64_t d = rank - 2, rem = row; d >= 0; --d) {
        const int64_t i = rem % shape[d];
        rem /= shape[d];
        for (int k = 0; k < L; ++k) off[k] += i * strides[k + 1][d];
      }
      // Load the inputs: a unit-stride input is read in place; a broadcast one (stride 0) or a
      // strided one is copied into a contiguous buffer first.
      for (int k = 0; k < L; ++k) {
        const int64_t st = strides[k + 1][rank - 1];
        const T* src = base[k] + off[k] + start * st;
        if (st == 1) {
          reg[k] = src;
          continue;
        }
        T* buf = buffer(k);
        if (st == 0) {
          std::fill(buf, buf + len, *src);
        } else {
          for (int64_t i = 0; i < len; ++i) buf[i] = src[i * st];
        }
        reg[k] = buf;
      }
      // Run the program, one instruction over the whole block at a time.
      for (size_t j = 0; j < p.code.size(); ++j) {
        const Instruction& ins = p.code[j];
        T* dst = j + 1 == p.code.size() ? po + row * n + start : buffer(L + ins.slot);
        const T* b = ins.b >= 0 ? reg[ins.b] : nullptr;
        if constexpr (std::is_same_v<T, float>) ins.fn->f32(dst, reg[ins.a], b, len);
        else ins.fn->f64(dst, reg[ins.a], b, len);
        reg[L + j] = dst;
      }
    }
  });
}

// The step's kernel_override. Tensors on another device (the program is a CPU loop), of an
// unexpected dtype or an output that is not contiguous fall back to running the members' ops one
// by one: the same values, without the speed-up.
void run_fused(const Program& p, std::span<const Tensor> in, Tensor& out) {
  bool blocked = out.device().is_cpu() && out.is_contiguous();
  for (const Tensor& t : in) blocked = blocked && t.device().is_cpu() && t.dtype() == out.dtype();
  if (blocked && out.dtype() == kFloat32) return run_blocked<float>(p, in, out);
  if (blocked && out.dtype() == kFloat64) return run_blocked<double>(p, in, out);

  std::vector<Tensor> reg(in.begin(), in.end());
  for (const Instruction& ins : p.code) {
    std::vector<Tensor> args{reg[ins.a]};
    if (ins.b >= 0) args.push_back(reg[ins.b]);
    reg.push_back(call(*ins.fn->op, args));
  }
  out = reg.back();
}

// ---- finding the groups -------------------------------------------------------------------------

// Can step i take part in a fused group at all? An elementwise op of the table, or an AddN (the
// sum gradients() writes where partial gradients meet), in float32 or float64 throughout.
bool fusable(const Plan& plan, int i, const std::vector<bool>& fed) {
  const Step& s = plan.steps[i];
  if (fed[i] || s.kernel_override) return false;
  if (s.kind != Kind::op) return false;
  if (s.op == &ops::add_n) {
    if (s.inputs.size() < 2) return false;
  } else {
    const FusableOp* f = find_fusable(s.op);
    if (!f || static_cast<int>(s.inputs.size()) != f->arity) return false;
  }
  if (s.meta.dtype != kFloat32 && s.meta.dtype != kFloat64) return false;
  for (int in : s.inputs)
    if (plan.steps[in].meta.dtype != s.meta.dtype) return false;
  return true;
}

// Compiles the members (in plan order; the last one is the root) into a Program whose inputs are
// `inputs`: one instruction per op, and for an AddN of k values k - 1 Adds, ((x0 + x1) + x2) + ...,
// in the executor's order (so the sum rounds the same).
Program compile(const Plan& plan, const std::vector<int>& members, const std::vector<int>& inputs) {
  Program p;
  p.num_inputs = static_cast<int>(inputs.size());
  std::vector<int> reg_of(plan.steps.size(), -1);  // the register holding each step's value
  for (size_t k = 0; k < inputs.size(); ++k) reg_of[inputs[k]] = static_cast<int>(k);
  auto emit = [&](const FusableOp* fn, int a, int b) {
    p.code.push_back({fn, a, b, -1});
    return p.num_inputs + static_cast<int>(p.code.size()) - 1;
  };
  for (int m : members) {
    const Step& s = plan.steps[m];
    if (s.op == &ops::add_n) {
      int sum = reg_of[s.inputs[0]];
      for (size_t k = 1; k < s.inputs.size(); ++k) sum = emit(find_fusable(&ops::add), sum, reg_of[s.inputs[k]]);
      reg_of[m] = sum;
    } else {
      reg_of[m] = emit(find_fusable(s.op), reg_of[s.inputs[0]], s.inputs.size() > 1 ? reg_of[s.inputs[1]] : -1);
    }
  }

  // Scratch slots: a temporary takes a free slot when it is computed and gives it back after the
  // last instruction that reads it — the same liveness idea as memory planning, at block scale.
  const int num_regs = p.num_inputs + static_cast<int>(p.code.size());
  std::vector<int> last_read(num_regs, -1);
  for (size_t j = 0; j < p.code.size(); ++j)
    for (int r : {p.code[j].a, p.code[j].b})
      if (r >= 0) last_read[r] = static_cast<int>(j);
  std::vector<int> slot_of_reg(num_regs, -1);
  std::vector<int> free_slots;
  for (size_t j = 0; j < p.code.size(); ++j) {
    Instruction& ins = p.code[j];
    for (int r : {ins.a, ins.b})  // operands read for the last time give back their slots
      if (r >= p.num_inputs && last_read[r] == static_cast<int>(j) && slot_of_reg[r] >= 0) {
        free_slots.push_back(slot_of_reg[r]);
        slot_of_reg[r] = -1;  // (when a == b, give the slot back once)
      }
    if (j + 1 == p.code.size()) break;  // the last instruction writes the output
    if (free_slots.empty()) free_slots.push_back(p.num_slots++);
    ins.slot = free_slots.back();
    free_slots.pop_back();
    slot_of_reg[p.num_inputs + j] = ins.slot;
  }
  return p;
}

}  // namespace

int fuse_elementwise(Plan& plan) {
  const int n = static_cast<int>(plan.steps.size());
  const StepRoles roles = roles_of(plan);
  const std::vector<bool>& fed = roles.fed;
  const std::vector<int> readers = plan.reader_counts();

  std::vector<bool> grouped(n, false);
  std::vector<int> reads_from_group(n, 0);  // per group: how often its members read each step
  int fused = 0;

  // Roots are tried from the last step backward, so each group is as large as it can be.
  for (int root = n - 1; root >= 0; --root) {
    if (grouped[root] || !fusable(plan, root, fed)) continue;
    const Step& r = plan.steps[root];
    std::vector<int> members{root};
    std::vector<int> touched;  // steps whose reads_from_group count this group changed
    // Candidates are visited highest index first. Every reader of a step comes after it in the
    // plan, so when a candidate is visited, all its readers that will ever join have joined: its
    // count of reads from the group is final, and the test "read only inside the group" is exact.
    std::set<int, std::greater<>> candidates;
    auto take_inputs = [&](int m) {
      for (int in : plan.steps[m].inputs) {
        if (reads_from_group[in]++ == 0) touched.push_back(in);
        candidates.insert(in);
      }
    };
    grouped[root] = true;
    take_inputs(root);
    while (!candidates.empty()) {
      const int c = *candidates.begin();
      candidates.erase(candidates.begin());
      const Step& s = plan.steps[c];
      const bool joins = !grouped[c] && fusable(plan, c, fed) && s.meta.shape == r.meta.shape &&
                         s.meta.dtype == r.meta.dtype && !roles.fetched[c] && !roles.control_target[c] &&
                         reads_from_group[c] == readers[c];
      if (!joins) continue;
      grouped[c] = true;
      members.push_back(c);
      take_inputs(c);
    }
    for (int t : touched) reads_from_group[t] = 0;
    if (members.size() < 2) continue;  // a lone op gains nothing: leave it as it is

    // The fused step: members in plan order, the group's external inputs in order of first use.
    std::sort(members.begin(), members.end());
    std::vector<int> inputs, control;
    std::string label = "Fused[";
    for (int m : members) {
      const Step& s = plan.steps[m];
      for (int in : s.inputs)
        if (!std::binary_search(members.begin(), members.end(), in) &&
            std::find(inputs.begin(), inputs.end(), in) == inputs.end())
          inputs.push_back(in);
      control.insert(control.end(), s.control.begin(), s.control.end());
      label += (m == members.front() ? "" : ",") + s.label;
    }
    std::sort(control.begin(), control.end());
    control.erase(std::unique(control.begin(), control.end()), control.end());

    auto program = std::make_shared<const Program>(compile(plan, members, inputs));
    // The fused step takes the root's place, meta and source (errors name the root's node). It is
    // an op step whose kernel is replaced; an AddN root lends it the op of what it runs, add.
    Step& fused_step = plan.steps[root];
    if (fused_step.op == &ops::add_n) fused_step.op = &ops::add;
    fused_step.inputs = std::move(inputs);
    fused_step.control = std::move(control);
    fused_step.label = label + "]";
    fused_step.kernel_override = [program](std::span<const Tensor> in, Tensor& out) {
      run_fused(*program, in, out);
    };
    for (int m : members)
      if (m != root) plan.steps[m].removed = true;
    ++fused;
  }
  if (fused > 0) plan.compact();
  return fused;
}

}  // namespace tandem::graph
