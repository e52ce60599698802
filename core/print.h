// core/print.h — how tensors print: the print options, and repr().
//
// `std::cout << t` prints a tensor exactly as PyTorch's repr does, so a student can put Tandem's
// output next to PyTorch's and compare them character by character:
//
//     tensor([[ 6.,  8., 16.],
//             [ 9., 12., 24.],
//             [27., 36., 72.]])
//
// The rules of the format (one width for all elements, when scientific notation is chosen, how
// big tensors are summarised) are explained in core/print.cpp. This header only holds the knobs,
// which mirror torch.set_printoptions: precision, threshold, edgeitems, linewidth, sci_mode and
// the three profiles. Like PyTorch's, the options are one process-wide setting.
//
// Read next: core/print.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace tandem {

struct PrintOptions {
  int precision = 4;         // digits after the decimal point (fixed and scientific notation)
  int64_t threshold = 1000;  // tensors with more elements than this are summarised
  int edgeitems = 3;         // elements kept at each end of a summarised dimension
  int linewidth = 80;        // characters per line before a row of elements wraps
  // Unset: chosen per tensor (see core/print.cpp); true / false: always / never "1.0000e+00".
  std::optional<bool> sci_mode = std::nullopt;
};

// PyTorch's profiles: "default" (the values above), "short" (precision 2, edgeitems 2) and
// "full" (never summarise). `default` and `short` are C++ keywords, hence the underscores.
enum class PrintProfile { default_, short_, full };
PrintOptions print_profile(PrintProfile profile);

// Replaces all the options at once. With designated initializers the call reads like Python's
// keyword arguments:   set_printoptions({.precision = 2, .sci_mode = false});
// Unlike torch.set_printoptions, an option not named goes back to its default value instead of
// keeping its current one. Throws tandem::Error for a negative precision, threshold or edgeitems,
// or a linewidth below 1.
void set_printoptions(const PrintOptions& options);
void set_printoptions(PrintProfile profile);  // set_printoptions(PrintProfile::short_)
PrintOptions get_printoptions();

// The printed form of a tensor: what `os << t` writes, and what Python's repr(t) gives (with
// "tandem." where PyTorch writes "torch."). A tensor on a GPU is copied to the CPU to be printed.
std::string repr(const Tensor& t);

// The ", key=value" parts printed after the values, in PyTorch's order: device='cuda:0' for a
// tensor off the CPU; size=(0, 3) for an empty tensor that is not 1-D; dtype=tandem.float64 when
// the dtype cannot be told from the values (any dtype but float32, int64 and bool; for an empty
// tensor, any dtype but float32); then whatever the autograd extension adds.
std::vector<std::string> suffixes(const Tensor& t);

// The autograd suffixes — grad_fn=<MulBackward0> for a tensor computed by a recorded op,
// requires_grad=True for a leaf that requires grad — are printed by default. A program may replace
// them with its own function (a test does); nullptr restores the default.
using SuffixFn = void (*)(const Tensor& t, std::vector<std::string>& out);
void register_autograd_suffixes(SuffixFn fn);

}  // namespace tandem
