// core/print.cpp — printing a tensor exactly as PyTorch does (torch/_tensor_str.py).
//
// Printing looks like a detail, but it is the first thing a student compares between two
// frameworks, so Tandem copies PyTorch's format rule for rule. The rules, and why they exist:
//
//  1. ONE FORMAT AND ONE WIDTH FOR THE WHOLE TENSOR. The formatter first looks at every element
//     that will be shown, picks a single notation and measures the widest element; then every
//     element is right-aligned to that width. That is what makes a matrix read as a grid: the
//     decimal points of one column line up from row to row (`[ 6.,  8., 16.]` over
//     `[27., 36., 72.]`), and a row that wraps onto a second line stays aligned too.
//  2. THE NOTATION IS CHOSEN FROM THE FINITE, NON-ZERO MAGNITUDES (zeros, nan and inf say nothing
//     about scale). With min and max of |x| over those:
//       - every value a whole number       -> "int mode": `3.` (the dot says "this is a float");
//       - max/min > 1000 or max > 1e8      -> scientific, `1.0000e+08` (fixed notation would need
//                                             a very wide column, or lose the small values);
//       - otherwise, non-integers with min < 1e-4 -> scientific too (`1.0000e-05`, because
//                                             fixed notation with 4 decimals would print 0.0000);
//       - otherwise fixed, 4 decimals      -> `1.5000`.
//     set_printoptions({.sci_mode = true/false}) overrides the choice of notation but not the
//     width measured for the automatic choice — a PyTorch quirk we mirror, so outputs match.
//     Integer and bool tensors print plain values (`3`, `True`), right-aligned the same way.
//  3. NESTING. A tensor prints as nested brackets after the prefix `tensor(`. Each level of
//     brackets is indented one more space; the rows of a matrix are separated by ",\n", the
//     matrices of a 3-D tensor by a blank line, and in general dimension k from the end by k-1
//     newlines. A 1-D row that does not fit in `linewidth` characters wraps, with as many
//     elements per line as fit.
//  4. SUMMARIES. Beyond `threshold` elements (1000) only `edgeitems` (3) entries at each end of
//     every dimension are shown, with `...` between them. The width is measured on the shown
//     elements only.
//  5. SUFFIXES. Whatever cannot be read off the values is added as `, key=value`: the device, the
//     size of an empty tensor, a dtype other than the defaults (float32; and int64 and bool,
//     whose values show their type), and autograd's grad_fn / requires_grad. A suffix that would
//     go past `linewidth` starts a new line.
//
// The numbers themselves come from C's printf: Python's '{:.4f}' and '{:.4e}' are %.4f and %.4e
// (both round the exact binary value, ties to even), except that Python prints every NaN as
// `nan`, never `-nan`. A float32 element is widened to double first, as PyTorch's .item() does,
// so 0.1f prints 0.1000.
//
// The printer reads elements through the strides, so a transposed or sliced view prints its
// logical values without being copied.
//
// Read next: core/print.h for the options; tests/test_print.cpp compares against PyTorch.
#include "core/print.h"

#include "autograd/node.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <ostream>

namespace tandem {
namespace {

// The process-wide options, like torch's PRINT_OPTS.
PrintOptions g_options;
SuffixFn g_autograd_suffixes = nullptr;

// ---- one number as text -------------------------------------------------------------------------

// printf into a std::string of the exact length.
std::string printf_string(const char* format, int precision, double v) {
  const int n = std::snprintf(nullptr, 0, format, precision, v);
  std::string s(static_cast<size_t>(n), '\0');
  std::snprintf(s.data(), s.size() + 1, format, precision, v);
  return s;
}

// Python's '{:.Pf}' and '{:.Pe}'.
std::string fixed_text(double v, int precision) {
  return std::isnan(v) ? "nan" : printf_string("%.*f", precision, v);
}
std::string sci_text(double v, int precision) {
  return std::isnan(v) ? "nan" : printf_string("%.*e", precision, v);
}

std::string pad_left(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

// ---- reading elements through the strides -------------------------------------------------------
//
// An element is addressed by its offset in elements from t.data(): sum of index[d] * stride[d].

double float_at(const Tensor& t, int64_t off) {
  return t.dtype() == kFloat64 ? t.data<double>()[off] : static_cast<double>(t.data<float>()[off]);
}

std::string integer_text(const Tensor& t, int64_t off) {
  if (t.dtype() == kBool) return t.data<bool>()[off] ? "True" : "False";
  return std::to_string(t.data<int64_t>()[off]);
}

// The indices of one dimension of `size` that are shown: all of them, or, when summarising and
// there are more than 2*edgeitems, the first and last `edgeitems`. -1 marks the place of "...".
std::vector<int64_t> shown_indices(int64_t size, bool summarize, const PrintOptions& o) {
  std::vector<int64_t> idx;
  if (summarize && size > 2 * static_cast<int64_t>(o.edgeitems)) {
    for (int64_t i = 0; i < o.edgeitems; ++i) idx.push_back(i);
    idx.push_back(-1);
    for (int64_t i = size - o.edgeitems; i < size; ++i) idx.push_back(i);
  } else {
    for (int64_t i = 0; i < size; ++i) idx.push_back(i);
  }
  return idx;
}

// Offsets of every element that will be printed (PyTorch's get_summarized_data).
void collect_shown(const Tensor& t, int64_t dim, int64_t off, bool summarize, const PrintOptions& o,
                   std::vector<int64_t>& out) {
  if (dim == t.dim()) {
    out.push_back(off);
    return;
  }
  for (int64_t i : shown_indices(t.size(dim), summarize, o))
    if (i >= 0) collect_shown(t, dim + 1, off + i * t.stride(dim), summarize, o, out);
}

// ---- the formatter: one notation and one width for the whole tensor -----------------------------

class Formatter {
 public:
  Formatter(const Tensor& t, const std::vector<int64_t>& shown, const PrintOptions& o)
      : t_(t), precision_(o.precision), floating_(t.is_floating_point()) {
    if (!floating_) {
      for (int64_t off : shown) width_ = std::max(width_, integer_text(t, off).size());
      return;
    }
    std::vector<double> vals;  // the finite, non-zero values: only they say something about scale
    for (int64_t off : shown) {
      const double v = float_at(t, off);
      if (std::isfinite(v) && v != 0.0) vals.push_back(v);
    }
    if (vals.empty()) return;  // all zero / nan / inf: int mode, width 1 (sci_mode is not applied)

    double lo = std::abs(vals[0]), hi = lo;
    for (double v : vals) {
      lo = std::min(lo, std::abs(v));
      hi = std::max(hi, std::abs(v));
      if (v != std::ceil(v)) int_mode_ = false;
    }
    // Rule 2 of the opening comment: the notation, then the width of the widest value in it
    // (int mode counts its trailing dot).
    sci_mode_ = hi / lo > 1000.0 || hi > 1.0e8 || (!int_mode_ && lo < 1.0e-4);
    for (double v : vals) {
      const std::string text = sci_mode_   ? sci_text(v, precision_)
                               : int_mode_ ? fixed_text(v, 0) + "."
                                           : fixed_text(v, precision_);
      width_ = std::max(width_, text.size());
    }
    if (o.sci_mode) sci_mode_ = *o.sci_mode;
  }

  size_t width() const { return width_; }

  // One element, right-aligned to the common width (an element wider than it, such as `nan`
  // where the width was measured on `1.`, is simply left as it is).
  std::string format(int64_t off) const {
    if (!floating_) return pad_left(integer_text(t_, off), width_);
    const double v = float_at(t_, off);
    std::string s;
    if (sci_mode_) {
      s = sci_text(v, precision_);
    } else if (int_mode_) {
      s = fixed_text(v, 0);
      if (std::isfinite(v)) s += ".";
    } else {
      s = fixed_text(v, precision_);
    }
    return pad_left(s, width_);
  }

 private:
  const Tensor& t_;
  int precision_;
  bool floating_;
  bool int_mode_ = true;
  bool sci_mode_ = false;
  size_t width_ = 1;
};

// ---- nesting: brackets, separators, line wrapping -----------------------------------------------

// A 1-D row at `off` along dimension `dim`, starting at column `indent`. Elements are joined by
// ", "; as many as fit in the line width go on one line, the next line starts under the "[".
//   per_line = floor((linewidth - indent) / (width + 2)), at least 1   (", " is 2 characters)
// (C++'s integer division truncates where Python's floor rounds down, but the two differ only
// when linewidth < indent, where the "at least 1" decides anyway.)
std::string vector_str(const Tensor& t, int64_t dim, int64_t off, int indent, bool summarize,
                       const Formatter& f, const PrintOptions& o) {
  const int64_t element_length = static_cast<int64_t>(f.width()) + 2;
  const int64_t per_line = std::max<int64_t>(1, (o.linewidth - indent) / element_length);

  std::vector<std::string> items;
  for (int64_t i : shown_indices(t.size(dim), summarize, o))
    items.push_back(i < 0 ? " ..." : f.format(off + i * t.stride(dim)));

  std::string s = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) s += (i % per_line == 0) ? ",\n" + std::string(indent + 1, ' ') : ", ";
    s += items[i];
  }
  return s + "]";
}

// The sub-tensor at `off` made of dimensions dim..rank-1, its "[" at column `indent`.
std::string tensor_str(const Tensor& t, int64_t dim, int64_t off, int indent, bool summarize,
                       const Formatter& f, const PrintOptions& o) {
  const int64_t rank = t.dim() - dim;  // dimensions left to print
  if (rank == 0) return f.format(off);
  if (rank == 1) return vector_str(t, dim, off, indent, summarize, f, o);

  // Between two slices: a comma, rank-1 newlines (a blank line between matrices, two between
  // 3-D blocks, ...), and the indent that puts the next "[" under the previous one.
  std::string separator = ",";
  separator.append(static_cast<size_t>(rank - 1), '\n');
  separator.append(static_cast<size_t>(indent + 1), ' ');
  std::string s = "[";
  bool first = true;
  for (int64_t i : shown_indices(t.size(dim), summarize, o)) {
    if (!first) s += separator;
    first = false;
    s += i < 0 ? "..."
               : tensor_str(t, dim + 1, off + i * t.stride(dim), indent + 1, summarize, f, o);
  }
  return s + "]";
}

// "(0, 3)": Python's str(tuple(shape)).
std::string tuple_str(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

// Appends ", suffix" for each suffix, starting a new line (indented under the first "[") when the
// suffix would reach past the line width. PyTorch counts the current line's length as
// `len - rfind("\n") + 1`, which is 2 more than the characters on it; we count the same way so
// the wrapping decisions agree.
std::string add_suffixes(std::string s, const std::vector<std::string>& suffixes, int indent,
                         const PrintOptions& o) {
  const size_t nl = s.rfind('\n');
  int64_t last_line_len = static_cast<int64_t>(s.size()) -
                          (nl == std::string::npos ? -1 : static_cast<int64_t>(nl)) + 1;
  for (const std::string& suffix : suffixes) {
    const auto len = static_cast<int64_t>(suffix.size());
    if (last_line_len + len + 2 > o.linewidth) {
      s += ",\n" + std::string(indent, ' ') + suffix;
      last_line_len = indent + len;
    } else {
      s += ", " + suffix;
      last_line_len += len + 2;
    }
  }
  return s + ")";
}

}  // namespace

// ---- the public functions -----------------------------------------------------------------------

PrintOptions print_profile(PrintProfile profile) {
  PrintOptions o;  // default: precision 4, threshold 1000, edgeitems 3, linewidth 80
  if (profile == PrintProfile::short_) {
    o.precision = 2;
    o.edgeitems = 2;
  } else if (profile == PrintProfile::full) {
    o.threshold = std::numeric_limits<int64_t>::max();
  }
  return o;
}

void set_printoptions(const PrintOptions& options) {
  if (options.precision < 0 || options.threshold < 0 || options.edgeitems < 0 ||
      options.linewidth < 1)
    throw Error(msg("set_printoptions: got precision=", options.precision,
                    ", threshold=", options.threshold, ", edgeitems=", options.edgeitems,
                    ", linewidth=", options.linewidth,
                    "; precision, threshold and edgeitems must be >= 0 and linewidth >= 1"));
  g_options = options;
}
void set_printoptions(PrintProfile profile) { g_options = print_profile(profile); }
PrintOptions get_printoptions() { return g_options; }

void register_autograd_suffixes(SuffixFn fn) { g_autograd_suffixes = fn; }

std::vector<std::string> suffixes(const Tensor& t) {
  std::vector<std::string> out;
  if (!t.device().is_cpu()) out.push_back("device='" + to_string(t.device()) + "'");
  if (t.numel() == 0) {
    // No values to tell the dtype from, so anything but the default float32 is named.
    if (t.dim() != 1) out.push_back("size=" + tuple_str(t.shape()));
    if (t.dtype() != kFloat32) out.push_back("dtype=" + dtype_repr(t.dtype()));
  } else if (t.dtype() != kFloat32 && t.dtype() != kInt64 && t.dtype() != kBool) {
    out.push_back("dtype=" + dtype_repr(t.dtype()));
  }
  if (g_autograd_suffixes) {
    g_autograd_suffixes(t, out);
  } else if (t.grad_fn()) {  // the default: PyTorch's grad_fn=<MulBackward0> / requires_grad=True
    out.push_back("grad_fn=<" + t.grad_fn()->name() + ">");
  } else if (t.requires_grad()) {
    out.push_back("requires_grad=True");
  }
  return out;
}

std::string repr(const Tensor& t) {
  if (!t.defined()) return "[ Tensor (undefined) ]";  // what libtorch prints
  const PrintOptions& o = g_options;
  const std::string prefix = "tensor(";
  const int indent = static_cast<int>(prefix.size());

  const Tensor c = t.device().is_cpu() ? t : t.cpu();  // the values are read on the CPU
  std::string body = "[]";
  if (c.numel() > 0) {
    const bool summarize = c.numel() > o.threshold;
    std::vector<int64_t> shown;
    collect_shown(c, 0, 0, summarize, o, shown);
    const Formatter f(c, shown, o);
    body = tensor_str(c, 0, 0, indent, summarize, f, o);
  }
  return add_suffixes(prefix + body, suffixes(t), indent, o);
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << repr(t); }

}  // namespace tandem
