// graph/passes/cse.cpp — common-subexpression elimination: compute each value once.
//
// Two steps that do the same thing to the same inputs compute the same value. Keep the first,
// point every reader of the second (and every fetch of it) at the first, and drop the second:
//
//     before                                   after
//       e1 = Exp(x)                              e1 = Exp(x)
//       m1 = Mul(e1, w)                          m1 = Mul(e1, w)
//       e2 = Exp(x)            (same as e1)
//       m2 = Mul(e2, w)        (then same as m1)
//       y  = Add(m1, m2)                         y  = Add(m1, m1)
//
// Graphs repeat themselves more than one would think: `f(x) * f(x)` written out, the same scalar
// constant made by every `x * 2`, and above all gradients(). The derivative of a product a * b is
// (g * b, g * a), so for w * w it builds g * w twice; two sum()s that receive the same gradient
// reshape it the same way twice. (An MLP with an L2 penalty: 4 of its 59 steps are duplicates.)
//
// How: give each step a *key*, a string that describes exactly what it computes — its kind, op,
// every attribute, and its inputs. A hash map from key to the first step with that key finds a
// duplicate in O(1), so the pass is O(steps). The plan is in topological order and a step's
// inputs are renamed to their survivors before its key is made, so after e2 → e1, m2's key reads
// "Mul(e1, w)" — the same as m1's — and chains of duplicates fold up in one pass.
//
// The fine print, each case a way to get it wrong:
//   - constants are equal when dtype, shape, device and bytes are (the key holds a hash of the
//     bytes; a match is confirmed byte by byte). Larger than kMaxHashedElements: left alone;
//   - add and mul are commutative, exactly so even in floating point (a + b and b + a round the
//     same), so their two inputs are sorted in the key: a * b and b * a merge;
//   - control dependencies are part of the key: a read ordered after an assign is not the read
//     ordered before it;
//   - a value read from a variable depends on *when* it is read if an assign runs in between
//     (assigns and optimizer updates write the variable in place). Such a step's key also holds
//     how many of those writes precede it, so a read before an update never merges with a read
//     after it;
//   - never merged: variables, placeholders, assigns, optimizer updates, no_ops and fed steps.
//     Each one is its own source of a value or of an effect: two assign_add(v, 1) steps must
//     add 2;
//   - random ops (rand_like, behind dropout) are never merged either: two draws from a generator
//     are not one value.
//
// The simplest duplicate of all is an identity: identity(x) (and stop_gradient(x), which is only an
// identity once the gradients are built) computes x. Its readers read x instead, and it goes —
// unless it orders something (control dependencies of its own). gradients() makes a few of these
// where it records a shape it proved (graph/gradients.cpp, declared_as).
//
// Read next: graph/passes/fusion.cpp.
#include <algorithm>
#include <bit>
#include <cstring>
#include <string_view>
#include <unordered_map>

#include "core/ops.h"
#include "graph/passes.h"

namespace tandem::graph {

namespace {

// Constants are hashed up to this size (512 KB of float64): enough for every scalar, bias and
// small table; bigger ones are rare in graphs (weights are variables) and are left alone.
constexpr int64_t kMaxHashedElements = int64_t{1} << 16;

// A key must name every field of Attrs. If this fails, Attrs has changed: add the new field to
// append_attrs() below, then update the size here.
static_assert(sizeof(Attrs) == sizeof(Shape) + 136 + sizeof(std::string), "Attrs changed: make the CSE key include the new field");

void append(std::string& key, int64_t v) {
  key += std::to_string(v);
  key += ',';
}

void append_attrs(std::string& key, const Attrs& a) {
  key += "dims=";
  for (int64_t d : a.dims) append(key, d);
  key += " dim=";
  append(key, a.dim);
  key += " slice=";
  append(key, a.start);
  append(key, a.end);
  append(key, a.step);
  key += " correction=";
  append(key, a.correction);
  key += " classes=";
  append(key, a.num_classes);
  key += " keepdim=";
  append(key, a.keepdim);
  key += " dtype=";
  append(key, static_cast<int64_t>(a.dtype));
  key += " hyper=";  // an optimizer's (update nodes are never merged; the key stays complete)
  for (double v : {a.lr, a.momentum, a.dampening, a.weight_decay, a.beta1, a.beta2, a.eps, a.alpha, a.lr_decay})
    append(key, std::bit_cast<int64_t>(v));
  append(key, a.nesterov);
  append(key, a.decoupled_weight_decay);
  append(key, a.centered);
  key += " message=";  // check_numerics with two messages is two checks
  key += std::to_string(a.message.size());  // the length first: no message can fake the end
  key += ':';
  key += a.message;
}

bool never_merged(Kind k) {
  return k == Kind::variable || k == Kind::placeholder || k == Kind::assign || k == Kind::assign_add ||
         k == Kind::update || k == Kind::no_op || k == Kind::control;  // two conds: two bodies
}

bool is_commutative(const Step& s) { return s.kind == Kind::op && (s.op == &ops::add || s.op == &ops::mul); }

std::string_view bytes_of(const Tensor& contiguous) {
  return {static_cast<const char*>(contiguous.raw_data()), contiguous.nbytes()};
}

bool same_constant(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape() || a.device() != b.device()) return false;
  return bytes_of(a.contiguous()) == bytes_of(b.contiguous());
}

// What step s computes, as a string; empty when the step must keep its own identity.
// `after_assigns` is how many assign steps run before s, for steps that read a variable.
std::string key_of(const Step& s, bool reads_variable, int after_assigns) {
  if (never_merged(s.kind) || s.kernel_override) return {};
  if (s.kind == Kind::op && s.op->random) return {};  // two draws are two different values
  if (s.kind == Kind::op && s.op->stateful) return {};  // two prints print twice
  std::string key = kind_name(s.kind);
  key += ' ';
  if (s.kind == Kind::constant) {  // "constant float32[2, 3] #<hash of the bytes>"
    const Tensor& v = s.value;
    if (!v.defined() || !v.device().is_cpu() || v.numel() > kMaxHashedElements) return {};
    key += to_string(v.dtype());
    key += shape_str(v.shape());
    key += " #";
    key += std::to_string(std::hash<std::string_view>{}(bytes_of(v.contiguous())));
  } else {  // "op mul(3,5,) dims= dim=0, ..."
    if (s.op) key += s.op->name;
    key += '(';
    std::vector<int> in = s.inputs;
    if (is_commutative(s)) std::sort(in.begin(), in.end());
    for (int i : in) append(key, i);
    key += ") ";
    append_attrs(key, s.attrs);
  }
  if (!s.control.empty()) {
    std::vector<int> control = s.control;
    std::sort(control.begin(), control.end());
    control.erase(std::unique(control.begin(), control.end()), control.end());
    key += " after=";
    for (int c : control) append(key, c);
  }
  if (reads_variable) {
    key += " assigns_before=";
    append(key, after_assigns);
  }
  return key;
}

}  // namespace

int eliminate_common_subexpressions(Plan& plan) {
  const size_t n = plan.steps.size();
  std::vector<bool> fed(n, false);
  for (int f : plan.feeds) fed[f] = true;

  std::vector<int> survivor(n);          // survivor[i]: the step that now stands for step i
  std::vector<bool> reads_variable(n, false);
  std::unordered_map<std::string, int> first_with_key;
  int assigns_so_far = 0;
  int removed = 0;

  for (size_t i = 0; i < n; ++i) {
    Step& s = plan.steps[i];
    survivor[i] = static_cast<int>(i);
    // Inputs and control dependencies point at earlier steps, whose survivors are already known.
    for (int& in : s.inputs) in = survivor[in];
    for (int& c : s.control) c = survivor[c];

    if (!fed[i] && s.kind == Kind::op && (s.op == &ops::identity || s.op == &ops::stop_gradient) &&
        s.control.empty() && !s.kernel_override) {
      survivor[i] = s.inputs[0];  // an identity: its readers read its input
      s.removed = true;
      ++removed;
      continue;
    }
    reads_variable[i] = s.kind == Kind::variable;
    for (int in : s.inputs) reads_variable[i] = reads_variable[i] || reads_variable[in];

    const std::string key = fed[i] ? std::string() : key_of(s, reads_variable[i], assigns_so_far);
    if (!key.empty()) {
      auto [it, inserted] = first_with_key.try_emplace(key, static_cast<int>(i));
      // A known key: s repeats an earlier step (a constant, once its bytes, not just their hash,
      // are confirmed equal). Its readers will read the earlier one instead.
      if (!inserted && (s.kind != Kind::constant || same_constant(s.value, plan.steps[it->second].value))) {
        survivor[i] = it->second;
        s.removed = true;
        ++removed;
      }
    }
    if (s.kind == Kind::assign || s.kind == Kind::assign_add || s.kind == Kind::update) ++assigns_so_far;
  }
  for (int& f : plan.fetches) f = survivor[f];
  if (removed > 0) plan.compact();
  return removed;
}

}  // namespace tandem::graph
