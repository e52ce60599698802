// autograd/gradcheck.cpp — measuring derivatives, and comparing them with the derivative sheet.
//
// THE NUMERICAL SIDE. The derivative is a limit, f'(x) = lim (f(x+h) − f(x)) / h. A computer
// cannot take the limit, so it picks a small h, and two errors fight over that choice:
//
//   truncation: Taylor gives f(x±h) = f(x) ± h f'(x) + h²/2 f''(x) ± h³/6 f'''(x) + ...
//     forward difference (f(x+h) − f(x)) / h        = f' + h/2 f'' + ...    error O(h)
//     central difference (f(x+h) − f(x−h)) / (2h)   = f' + h²/6 f''' + ...  error O(h²)
//   The central difference cancels the even terms: for the same h it is far more accurate
//   (h = 1e-6: error ~2e-13·f''' instead of ~5e-7·f''), at the price of twice the evaluations
//   (a forward difference can reuse one f(x) for every input element).
//
//   rounding: each value of f carries a relative error of about u (the machine epsilon), so the
//     difference f(x+h) − f(x−h) is only known to about u·|f|, and dividing by 2h magnifies that
//     to u·|f| / h. The smaller h, the worse.
//
// WHY FLOAT64, AND WHY eps = 1e-6. With u = 1.1e-16 (double) and h = 1e-6 the rounding part is
// ~1e-10·|f| and the truncation part ~2e-13·|f'''|: both are many orders of magnitude below
// the tolerance (atol 1e-5, rtol 1e-3), so a correct rule always passes and a wrong one — off by
// a sign, a factor or a transpose — cannot hide in the noise. In float32, u = 6e-8 and the rounding
// part alone is 6e-8 / 1e-6 = 6%: sixty times rtol. A correct rule would fail, and loosening the
// tolerances far enough to pass would also pass wrong ones. So gradcheck refuses float32 inputs
// (PyTorch only warns: "This check will likely fail if input is of less precision").
// eps = 1e-6 is PyTorch's default: near the h ≈ u^(1/3) ≈ 5e-6 that balances the two errors.
//
// THE ANALYTICAL SIDE. backward() does not compute the Jacobian J (∂y_m/∂x_k); it computes
// vector-Jacobian products vᵀJ for the output gradient v it is given. With v the one-hot vector
// e_m, vᵀJ is row m of J: one backward pass per output element builds the whole matrix.
//
// Perturbing an input: gradcheck writes x_k ± eps straight into the input's storage — through its
// strides, so non-contiguous views work — under no_grad, and writes the original bits back after.
//
// Read next: tests/test_gradcheck.cpp (every rule of autograd/derivatives.h, checked this way).
#include "autograd/gradcheck.h"

#include <cmath>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "core/factories.h"

namespace tandem::autograd {

namespace {

// ---- small helpers ----------------------------------------------------------------------------

// Where each element of t lives, in row-major order of its indices, as an offset (in elements)
// from t's first element: element (i, j) is at i*strides[0] + j*strides[1].
std::vector<int64_t> element_offsets(const Tensor& t) {
  std::vector<int64_t> offsets;
  offsets.reserve(static_cast<size_t>(t.numel()));
  if (t.numel() == 0) return offsets;
  const int64_t rank = t.dim();
  std::vector<int64_t> index(static_cast<size_t>(rank), 0);
  int64_t offset = 0;
  while (true) {
    offsets.push_back(offset);
    // Odometer: bump the last index, carrying into the ones before it.
    int64_t d = rank - 1;
    for (; d >= 0; --d) {
      offset += t.stride(d);
      if (++index[d] < t.size(d)) break;
      offset -= t.stride(d) * t.size(d);
      index[d] = 0;
    }
    if (d < 0) return offsets;
  }
}

// "[1, 2]": the index of flat element `flat` of a tensor of shape `shape` ("[]" for a 0-dim one).
std::string index_str(const Shape& shape, int64_t flat) {
  std::vector<int64_t> index(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return shape_str(index);
}

// A Jacobian block, printed with one row per input element (PyTorch's layout).
std::string matrix_str(const std::vector<double>& m, int64_t rows, int64_t cols) {
  std::ostringstream os;
  os << std::setprecision(6);
  for (int64_t r = 0; r < rows; ++r) {
    os << "    ";
    for (int64_t c = 0; c < cols; ++c) os << std::setw(13) << m[r * cols + c];
    os << "\n";
  }
  return os.str();
}

// The inputs as f will see them: an input to check becomes a fresh leaf that shares its storage
// (so writing into it perturbs what f reads, and the gradients land on a tensor of our own, not
// on the caller's graph); the others are passed through.
struct Prepared {
  std::vector<Tensor> args;
  std::vector<int> checked;  // indices of the inputs that require grad
};

Prepared prepare_inputs(const std::vector<Tensor>& inputs) {
  Prepared p;
  for (size_t j = 0; j < inputs.size(); ++j) {
    const Tensor& x = inputs[j];
    if (!x.defined()) throw Error(msg("gradcheck: input ", j, " is an undefined tensor"));
    if (!x.requires_grad()) {
      p.args.push_back(x);
      continue;
    }
    if (x.dtype() != kFloat64)
      throw DTypeError(
          msg("gradcheck: input ", j, " is ", to_string(x.dtype()),
              "; gradcheck needs float64 inputs: in float32 the rounding error of the "
              "finite difference (about 6e-8 / eps = 6%) is far above the tolerance, so "
              "the check would be meaningless. Convert with .to(kFloat64) first"));
    if (!x.device().is_cpu())
      throw Error(
          msg("gradcheck: input ", j, " is on ", to_string(x.device()),
              "; gradcheck perturbs values in memory and runs on CPU tensors: pass .cpu()"));
    for (int64_t d = 0; d < x.dim(); ++d)
      if (x.stride(d) == 0 && x.size(d) > 1)
        throw Error(msg("gradcheck: input ", j, " of shape ", shape_str(x.shape()),
                        " has overlapping memory (stride 0 along dim ", d,
                        ", as made by "
                        "expand): perturbing one element would change several. Pass "
                        ".contiguous() instead"));
    Tensor leaf = x.detach();
    leaf.requires_grad_();
    p.args.push_back(leaf);
    p.checked.push_back(static_cast<int>(j));
  }
  if (p.checked.empty())
    throw Error(
        "gradcheck: no input requires grad, so there is nothing to check; call "
        "requires_grad_() on the inputs whose gradients should be checked");
  // Two checked inputs must not share an element (the same tensor passed twice, overlapping
  // views): perturbing one would move the other too, and the measured slope would be a sum.
  std::map<const Storage*, std::set<int64_t>> used;
  for (int j : p.checked) {
    const Tensor& x = p.args[j];
    std::set<int64_t>& taken = used[x.storage().get()];
    for (int64_t off : element_offsets(x))
      if (!taken.insert(x.offset() + off).second)
        throw Error(msg("gradcheck: input ", j,
                        " shares memory with an earlier input; pass "
                        "a clone() so that each checked input owns its elements"));
  }
  return p;
}

// Which outputs are checked: floating ones. Integer and bool outputs carry no gradient.
std::vector<int> checked_outputs(const std::vector<Tensor>& outs) {
  std::vector<int> checked;
  for (size_t i = 0; i < outs.size(); ++i) {
    if (!outs[i].defined() || !outs[i].is_floating_point()) continue;
    if (outs[i].dtype() != kFloat64)
      throw DTypeError(msg("gradcheck: output ", i, " of the function is ",
                           to_string(outs[i].dtype()),
                           "; compute in float64 (gradcheck needs float64 inputs and outputs)"));
    checked.push_back(static_cast<int>(i));
  }
  return checked;
}

// The Jacobian of output i with respect to input j, stored [input element][output element].
struct Block {
  int64_t rows = 0, cols = 0;  // elements of input j, of output i
  std::vector<double> numerical, analytical;
};

GradcheckResult failure(GradcheckResult r, const GradcheckOptions& opts) {
  r.ok = false;
  if (opts.raise_exception) throw Error(r.message);
  return r;
}

// ---- the check ----------------------------------------------------------------------------------

// Eager mode's backward pass: f once with the tape on, then one autograd::grad() per row.
Backward eager_backward(const GradcheckFunctionN& f) {
  return [f](const std::vector<Tensor>& args, const std::vector<int>& checked) -> VjpFunction {
    std::vector<Tensor> outputs, wrt;
    {
      enable_grad guard;  // a caller inside no_grad still gets a real check
      outputs = f(args);
    }
    for (int j : checked) wrt.push_back(args[j]);
    return [outputs, wrt](int output, const Tensor& seed) {
      const Tensor& y = outputs[output];
      if (!y.requires_grad()) return std::vector<Tensor>(wrt.size());  // y does not depend on them
      enable_grad guard;
      return grad({y}, wrt, {seed}, /*retain_graph=*/true, /*create_graph=*/false, /*allow_unused=*/true);
    };
  };
}

GradcheckResult check(const GradcheckFunctionN& f, const Backward& backward, const std::vector<Tensor>& inputs,
                      const GradcheckOptions& opts) {
  const Prepared p = prepare_inputs(inputs);
  const size_t n_checked = p.checked.size();

  // One plain evaluation tells us the outputs: how many, their shapes, which ones to check.
  std::vector<Tensor> reference;
  {
    no_grad guard;
    reference = f(p.args);
  }
  const std::vector<int> outs = checked_outputs(reference);
  // blocks[a][b]: output outs[a] with respect to input p.checked[b].
  std::vector<std::vector<Block>> blocks(outs.size(), std::vector<Block>(n_checked));
  for (size_t a = 0; a < outs.size(); ++a)
    for (size_t b = 0; b < n_checked; ++b) {
      Block& blk = blocks[a][b];
      blk.rows = p.args[p.checked[b]].numel();
      blk.cols = reference[outs[a]].numel();
      blk.numerical.assign(static_cast<size_t>(blk.rows * blk.cols), 0.0);
      blk.analytical.assign(static_cast<size_t>(blk.rows * blk.cols), 0.0);
    }

  auto evaluate = [&]() {
    std::vector<Tensor> o = f(p.args);
    std::vector<std::vector<double>> values;
    for (int i : outs) {
      if (o.size() <= static_cast<size_t>(i) || o[i].shape() != reference[i].shape())
        throw Error(msg("gradcheck: the function's output ", i,
                        " changed shape when an input "
                        "was perturbed; it must compute the same shapes for every input value"));
      values.push_back(o[i].to_vector<double>());
    }
    return values;
  };

  // 1. Numerical Jacobian: column by column of the input, two evaluations per input element.
  {
    no_grad guard;
    for (size_t b = 0; b < n_checked; ++b) {
      const Tensor& x = p.args[p.checked[b]];
      double* base = x.data<double>();
      const std::vector<int64_t> offsets = element_offsets(x);
      for (int64_t k = 0; k < x.numel(); ++k) {
        double* element = base + offsets[k];
        const double original = *element;
        struct Restore {  // put the exact original value back, even if f throws
          double* at;
          double value;
          ~Restore() { *at = value; }
        } restore{element, original};
        // BEGIN SOLUTION a2.t3
        *element = original - opts.eps;
        const auto minus = evaluate();
        *element = original + opts.eps;
        const auto plus = evaluate();
        for (size_t a = 0; a < outs.size(); ++a) {
          Block& blk = blocks[a][b];
          for (int64_t m = 0; m < blk.cols; ++m)
            blk.numerical[k * blk.cols + m] = (plus[a][m] - minus[a][m]) / (2 * opts.eps);
        }
        // END SOLUTION
      }
    }
  }

  // 2. Analytical Jacobian: row by row of the output, one backward pass per output element.
  GradcheckResult r;
  {
    const VjpFunction vjp = backward(p.args, p.checked);
    std::vector<Tensor> wrt;
    for (int j : p.checked) wrt.push_back(p.args[j]);
    for (size_t a = 0; a < outs.size(); ++a) {
      const Tensor& y = reference[outs[a]];
      for (int64_t m = 0; m < y.numel(); ++m) {
        Tensor one_hot = zeros(y.shape(), kFloat64);
        one_hot.data<double>()[m] = 1.0;
        const std::vector<Tensor> g = vjp(outs[a], one_hot);
        for (size_t b = 0; b < n_checked; ++b) {
          if (!g[b].defined()) continue;  // backward never reached this input: its row stays 0
          if (g[b].shape() != wrt[b].shape() || g[b].dtype() != kFloat64) {
            r.output = outs[a];
            r.input = p.checked[b];
            r.message =
                msg("gradcheck: the gradient of output ", outs[a], " with respect to input ",
                    p.checked[b], " has shape ", shape_str(g[b].shape()), " and dtype ",
                    to_string(g[b].dtype()), ", but the input has shape ",
                    shape_str(wrt[b].shape()), " and dtype float64");
            return failure(r, opts);
          }
          Block& blk = blocks[a][b];
          const std::vector<double> row = g[b].to_vector<double>();
          for (int64_t k = 0; k < blk.rows; ++k) blk.analytical[k * blk.cols + m] = row[k];
        }
      }
    }
  }

  // 3. Compare, block by block.
  bool any_nonzero = false;
  for (size_t a = 0; a < outs.size(); ++a) {
    for (size_t b = 0; b < n_checked; ++b) {
      const Block& blk = blocks[a][b];
      const Shape& in_shape = p.args[p.checked[b]].shape();
      const Shape& out_shape = reference[outs[a]].shape();
      r.output = outs[a];
      r.input = p.checked[b];
      const std::string head = msg("Jacobian mismatch for output ", outs[a],
                                   " with respect to input ", p.checked[b], ",\n");
      const std::string matrices =
          blk.numerical.size() > 64
              ? std::string()
              : msg("numerical Jacobian (a row per input element, a column per output element):\n",
                    matrix_str(blk.numerical, blk.rows, blk.cols), "analytical Jacobian:\n",
                    matrix_str(blk.analytical, blk.rows, blk.cols));

      // (a) The all-zero check. A backward pass that never reaches an input (a detach(), a stray
      // no_grad, a rule returning zeros) gives an analytical Jacobian of exact zeros. Say so
      // plainly instead of reporting one mismatching entry.
      size_t largest = 0;
      bool analytical_all_zero = true;
      for (size_t e = 0; e < blk.numerical.size(); ++e) {
        if (std::abs(blk.numerical[e]) > std::abs(blk.numerical[largest])) largest = e;
        if (blk.analytical[e] != 0.0) analytical_all_zero = false;
        if (blk.numerical[e] != 0.0) any_nonzero = true;
      }
      if (!blk.numerical.empty() && analytical_all_zero &&
          std::abs(blk.numerical[largest]) > opts.atol) {
        r.input_element = static_cast<int64_t>(largest) / blk.cols;
        r.output_element = static_cast<int64_t>(largest) % blk.cols;
        r.numerical = blk.numerical[largest];
        r.analytical = 0.0;
        r.message = msg(head, "the analytical gradient is all zeros but the numerical one is not (",
                        std::setprecision(10), r.numerical, " at input element ",
                        index_str(in_shape, r.input_element), ", output element ",
                        index_str(out_shape, r.output_element),
                        "): backward never reached this input. Look for a detach(), a no_grad "
                        "scope, or a derivative rule that returns zeros.\n",
                        matrices);
        return failure(r, opts);
      }

      // (b) Entry by entry: |a - n| <= atol + rtol * |n|, written so that a NaN fails too.
      int64_t mismatches = 0, first = -1;
      for (size_t e = 0; e < blk.numerical.size(); ++e) {
        const double n = blk.numerical[e], an = blk.analytical[e];
        if (!(std::abs(an - n) <= opts.atol + opts.rtol * std::abs(n))) {
          if (first < 0) first = static_cast<int64_t>(e);
          ++mismatches;
        }
      }
      if (first >= 0) {
        r.input_element = first / blk.cols;
        r.output_element = first % blk.cols;
        r.numerical = blk.numerical[first];
        r.analytical = blk.analytical[first];
        r.message = msg(head, "at input element ", index_str(in_shape, r.input_element),
                        " and output element ", index_str(out_shape, r.output_element),
                        std::setprecision(10), ": numerical ", r.numerical, ", analytical ",
                        r.analytical, " (difference ", std::abs(r.analytical - r.numerical),
                        ", allowed ", opts.atol + opts.rtol * std::abs(r.numerical), "); ",
                        mismatches, " of ", blk.numerical.size(), " entries differ.\n", matrices);
        return failure(r, opts);
      }
    }
  }

  if (opts.require_nonzero && !any_nonzero) {
    r = GradcheckResult{};
    r.message =
        "gradcheck: every numerical derivative is zero, so this check proves nothing about "
        "the derivative rules; choose inputs where the function actually changes";
    return failure(r, opts);
  }
  return GradcheckResult{};
}

}  // namespace

GradcheckResult gradcheck(const GradcheckFunctionN& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& opts) {
  return check(f, eager_backward(f), inputs, opts);
}

GradcheckResult gradcheck(const GradcheckFunction& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& opts) {
  return gradcheck(GradcheckFunctionN([&f](const std::vector<Tensor>& x) { return std::vector<Tensor>{f(x)}; }),
                   inputs, opts);
}

GradcheckResult gradcheck_with(const GradcheckFunctionN& f, const Backward& backward,
                               const std::vector<Tensor>& inputs, const GradcheckOptions& opts) {
  return check(f, backward, inputs, opts);
}

// ---- second order -------------------------------------------------------------------------------
//
// The backward pass is itself a function: it maps (x, v) to vᵀJ(x), and with create_graph=true it
// is recorded like any other computation. gradgradcheck runs gradcheck on that function. Its
// derivative with respect to v checks the rules once more (vᵀJ is linear in v, with Jacobian J);
// its derivative with respect to x checks the derivatives *of the rules* — the second derivatives
// that double backward, Hessian-vector products and rules built from other rules rely on.
GradcheckResult gradgradcheck(const GradcheckFunctionN& f, const std::vector<Tensor>& inputs,
                              const std::vector<Tensor>& grad_outputs,
                              const GradcheckOptions& opts) {
  const Prepared p = prepare_inputs(inputs);  // validates the inputs, as gradcheck will again
  std::vector<Tensor> reference;
  {
    no_grad guard;
    reference = f(p.args);
  }
  const std::vector<int> outs = checked_outputs(reference);

  // The output gradients v: given, or drawn from a fixed seed (reproducible, and the default
  // generator the user seeded is left alone).
  std::vector<Tensor> vs;
  if (grad_outputs.empty()) {
    Generator gen(20240917);
    for (int i : outs) {
      std::vector<double> values(static_cast<size_t>(reference[i].numel()));
      for (double& v : values) v = gen.normal();
      vs.push_back(from_vector(values, reference[i].shape()).requires_grad_());
    }
  } else {
    if (grad_outputs.size() != outs.size())
      throw Error(msg("gradgradcheck: got ", grad_outputs.size(), " grad_outputs for ", outs.size(),
                      " float64 outputs; give one per output, or none to draw them at random"));
    for (size_t a = 0; a < outs.size(); ++a) {
      const Tensor& v = grad_outputs[a];
      if (v.shape() != reference[outs[a]].shape() || v.dtype() != kFloat64)
        throw ShapeError(msg("gradgradcheck: grad_outputs[", a, "] has shape ",
                             shape_str(v.shape()), " and dtype ", to_string(v.dtype()),
                             ", but output ", outs[a], " has shape ",
                             shape_str(reference[outs[a]].shape()), " and dtype float64"));
      vs.push_back(v.detach().requires_grad_());
    }
  }

  const size_t n = inputs.size();
  auto first_order = [&](const std::vector<Tensor>& args) {
    enable_grad guard;  // gradcheck evaluates under no_grad; this function needs the tape
    const std::vector<Tensor> xs(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(n));
    const std::vector<Tensor> o = f(xs);
    std::vector<Tensor> roots, seeds, wrt;
    for (size_t a = 0; a < outs.size(); ++a)
      if (o[outs[a]].requires_grad()) {
        roots.push_back(o[outs[a]]);
        seeds.push_back(args[n + a]);
      }
    for (int j : p.checked) wrt.push_back(xs[j]);
    std::vector<Tensor> g(wrt.size());
    if (!roots.empty())
      g = grad(roots, wrt, seeds, /*retain_graph=*/true, /*create_graph=*/true,
               /*allow_unused=*/true);
    for (size_t b = 0; b < wrt.size(); ++b)
      if (!g[b].defined()) g[b] = zeros(wrt[b].shape(), kFloat64);  // unused: a constant zero
    return g;
  };

  std::vector<Tensor> all = inputs;
  all.insert(all.end(), vs.begin(), vs.end());
  return check(first_order, eager_backward(first_order), all, opts);
}

GradcheckResult gradgradcheck(const GradcheckFunction& f, const std::vector<Tensor>& inputs,
                              const std::vector<Tensor>& grad_outputs,
                              const GradcheckOptions& opts) {
  return gradgradcheck([&f](const std::vector<Tensor>& x) { return std::vector<Tensor>{f(x)}; },
                       inputs, grad_outputs, opts);
}

}  // namespace tandem::autograd
