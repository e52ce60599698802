// core/ops/elementwise_ops.h — the table of elementwise ops: each op's name, the functor that
// computes one element of it (core/ops/math.h), and its shape rule.
//
// Three parts of the engine need this table, and all three read this one copy of it:
//   core/ops/binary.cpp, unary.cpp   define each op's catalogue entry and CPU kernel;
//   cuda/elementwise.cu              compiles each functor into a CUDA kernel;
//   graph/passes/fusion.cpp          runs each functor inside a fused loop.
// So a new elementwise op is one row here and one functor in math.h: it then has a CPU kernel, a
// CUDA kernel and a place in fused loops, and nothing can list it in one place and forget another.
//
// The table is an "X-macro", the classic C way to keep one list for several uses: each list below
// is a macro that applies a macro X, supplied by the reader, to every row. A reader writes
//
//     #define DEFINE_OP(name, Functor, shape_rule) ...what to make of one row...
//     TANDEM_UNARY_OPS(DEFINE_OP)
//
// and gets one expansion per op. The shape rules are templates over the op's name (for error
// messages) defined in binary.cpp and unary.cpp; the other readers ignore that column.
//
// The elementwise ops *not* in the table: where (three inputs, one of them bool), cast and clone
// (copies, in unary.cpp), and add_n (a list of inputs, in binary.cpp). Fusion handles add_n and
// leaves the other three as group boundaries.
#pragma once

// Arithmetic: broadcast the shapes, promote the dtypes (PyTorch's rules), compute in that dtype.
//   name      functor        shape rule
#define TANDEM_ARITHMETIC_OPS(X)                 \
  X(add,       Add,           arithmetic_shape)  \
  X(sub,       Sub,           sub_shape)         \
  X(mul,       Mul,           arithmetic_shape)  \
  X(div,       Div,           div_shape)         \
  X(pow,       Pow,           arithmetic_shape)  \
  X(maximum,   Maximum,       arithmetic_shape)  \
  X(minimum,   Minimum,       arithmetic_shape)

// Comparisons: broadcast and promote as arithmetic does, but write bools.
#define TANDEM_COMPARISON_OPS(X)                 \
  X(eq,        Eq,            comparison_shape)  \
  X(ne,        Ne,            comparison_shape)  \
  X(lt,        Lt,            comparison_shape)  \
  X(le,        Le,            comparison_shape)  \
  X(gt,        Gt,            comparison_shape)  \
  X(ge,        Ge,            comparison_shape)

// The fused activation derivatives (g, saved value) -> g * f'(x): two floating inputs of one dtype.
// They serve eager mode's speed section of the derivative sheet (autograd/derivatives.cpp).
#define TANDEM_ACTIVATION_BACKWARD_OPS(X)                             \
  X(relu_backward,     ReluBackward,     activation_backward_shape)   \
  X(sigmoid_backward,  SigmoidBackward,  activation_backward_shape)   \
  X(tanh_backward,     TanhBackward,     activation_backward_shape)   \
  X(gelu_backward,     GeluBackward,     activation_backward_shape)

// Unary: one input. `floating_shape` turns integers into float32 (exp of an int64 tensor is
// float32, as in PyTorch); `same_shape` keeps the dtype.
#define TANDEM_UNARY_OPS(X)                      \
  X(neg,       Neg,           neg_shape)         \
  X(exp,       Exp,           floating_shape)    \
  X(log,       Log,           floating_shape)    \
  X(sqrt,      Sqrt,          floating_shape)    \
  X(abs,       Abs,           same_shape)        \
  X(sin,       Sin,           floating_shape)    \
  X(cos,       Cos,           floating_shape)    \
  X(tanh,      Tanh,          floating_shape)    \
  X(sigmoid,   Sigmoid,       floating_shape)    \
  X(relu,      Relu,          same_shape)        \
  X(gelu,      Gelu,          gelu_shape)        \
  X(erf,       Erf,           floating_shape)    \
  X(sign,      Sign,          same_shape)
