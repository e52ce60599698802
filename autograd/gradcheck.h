// autograd/gradcheck.h — checking a derivative rule against the definition of the derivative.
//
// A backward rule is hand-written math, and hand-written math has sign slips, missing factors and
// transposes. gradcheck catches them by computing every partial derivative a second, independent
// way — by *measuring* it — and comparing:
//
//   numerical:   ∂y_m/∂x_k ≈ (f(x + eps·e_k) − f(x − eps·e_k))_m / (2·eps)   (central difference)
//   analytical:  row m of the Jacobian, from backward() with a one-hot output gradient e_m
//
// and requiring |analytical − numerical| <= atol + rtol·|numerical| for every entry, as
// torch.autograd.gradcheck does, with its defaults eps = 1e-6, atol = 1e-5, rtol = 1e-3. Inputs
// must be float64: see gradcheck.cpp for why those numbers only work in double precision.
//
//   auto f = [](const std::vector<Tensor>& x) { return x[0] * x[1].exp(); };
//   Tensor a = randn({3, 1}, kFloat64).requires_grad_(), b = randn({4}, kFloat64).requires_grad_();
//   auto r = autograd::gradcheck(f, {a, b});
//   if (!r) std::cout << r.message;  // "Jacobian mismatch for output 0 with respect to input 1..."
//
// gradgradcheck does the same one level up: it checks the derivative *of the backward pass*
// (create_graph=true), which double backward and every rule built from other rules rely on.
//
// Read next: autograd/gradcheck.cpp, then tests/test_gradcheck.cpp (every op of the sheet,
// checked).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace tandem::autograd {

struct GradcheckOptions {
  double eps = 1e-6;   // the step of the central difference
  double atol = 1e-5;  // absolute tolerance
  double rtol = 1e-3;  // tolerance relative to the numerical value
  // Throw a tandem::Error carrying the message instead of returning a failed result (PyTorch's
  // raise_exception; its default is true, ours false because the result says everything).
  bool raise_exception = false;
  // Also fail when every numerical derivative is zero: a check of a function that does not move
  // proves nothing about its rule. Off by default (as in PyTorch); the test suite turns it on.
  bool require_nonzero = false;
};

// What gradcheck found. Converts to bool, so `CHECK(gradcheck(f, xs))` reads naturally.
struct GradcheckResult {
  bool ok = true;
  std::string message;  // empty when ok; otherwise says which entry failed and why
  // Where the first failure was (-1 when ok or not about one entry):
  int output = -1;              // which output of f
  int input = -1;               // which input (index into the inputs given to gradcheck)
  int64_t output_element = -1;  // row-major index into that output
  int64_t input_element = -1;   // row-major index into that input
  double numerical = 0.0, analytical = 0.0;

  explicit operator bool() const { return ok; }
};

// f maps the inputs to one tensor, or to several.
using GradcheckFunction = std::function<Tensor(const std::vector<Tensor>&)>;
using GradcheckFunctionN = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

// Checks the derivative of f with respect to every input that requires grad (inputs that do not,
// such as int64 indices, are passed through unchanged). Those inputs must be float64 CPU tensors
// without overlapping memory (no expand()ed views); they may be non-contiguous views. Their
// values are perturbed in place during the check and restored exactly. f's float64 outputs are
// checked; integer or bool outputs are ignored; float32 outputs are refused.
// Misuse (float32 inputs, nothing to check) always throws a tandem::Error.
GradcheckResult gradcheck(const GradcheckFunction& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& opts = {});
GradcheckResult gradcheck(const GradcheckFunctionN& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& opts = {});

// ---- the analytical side, from another executor ----------------------------------------------------
// gradcheck compares two Jacobians: one measured by finite differences of f, one assembled row by
// row from a backward pass. Eager mode's backward pass is backward(); graph mode's is a Session
// running the nodes graph::gradients() added (graph/gradcheck.h checks those). A Backward supplies
// it: given the inputs as the check prepared them (args; `checked` the indices of those to
// differentiate), it returns a function that, for output `output` of f and the one-hot output
// gradient `seed`, gives the gradient of each checked input, in the order of `checked` (undefined
// where no gradient arrives).
using VjpFunction = std::function<std::vector<Tensor>(int output, const Tensor& seed)>;
using Backward = std::function<VjpFunction(const std::vector<Tensor>& args, const std::vector<int>& checked)>;
GradcheckResult gradcheck_with(const GradcheckFunctionN& f, const Backward& backward,
                               const std::vector<Tensor>& inputs, const GradcheckOptions& opts = {});

// Second order: checks, with gradcheck, the function
//     (inputs, v) -> autograd::grad(f(inputs), inputs, grad_outputs = v, create_graph = true)
// with respect to both the inputs and v. `grad_outputs` (one per float64 output of f) are drawn
// from a fixed-seed normal distribution when not given. PyTorch's torch.autograd.gradgradcheck.
GradcheckResult gradgradcheck(const GradcheckFunction& f, const std::vector<Tensor>& inputs,
                              const std::vector<Tensor>& grad_outputs = {},
                              const GradcheckOptions& opts = {});
GradcheckResult gradgradcheck(const GradcheckFunctionN& f, const std::vector<Tensor>& inputs,
                              const std::vector<Tensor>& grad_outputs = {},
                              const GradcheckOptions& opts = {});

}  // namespace tandem::autograd
