// io/summary_ops.cpp — summary records built from catalogue ops, and read back by the FileWriter.
//
// The record (io/summary_ops.h says why it exists), every entry a float64:
//
//     magic      5461325, "SUM" read as a number: says "a summary record starts here"
//     kind       1 scalar, 2 histogram, 3 image, 4 text
//     tag        its length, then one entry per byte
//     dtype      of the summarised value: 0 float32, 1 float64, 2 int64, 3 bool (an image of int64
//                holds 0-255, of floats [0, 1]: the writer must know which)
//     option     max_outputs for an image; 0 otherwise
//     shape      its rank, then the dims as declared, -1 where unknown
//     count      the number of values (computed in the run where the shape has a -1)
//     values     the value's elements (a text's bytes)
//
// Read next: docs/tensorboard.md.
#include "io/summary_ops.h"

#include <algorithm>
#include <cmath>
#include <span>

#include "core/error.h"
#include "core/factories.h"
#include "graph/ops.h"
#include "io/graph_def.h"
#include "io/summary.h"

namespace tandem::graph::summary {
namespace {

constexpr double kMagic = 5461325;  // 0x53554D, "SUM"
enum RecordKind { kScalar = 1, kHistogram = 2, kImage = 3, kText = 4 };
constexpr const char* kTypes[] = {"", "ScalarSummary", "HistogramSummary", "ImageSummary", "TextSummary"};
constexpr const char* kMergeType = "MergeSummary";
constexpr DType kDTypeCodes[] = {kFloat32, kFloat64, kInt64, kBool};  // code = position

double dtype_code(DType dt) {
  for (size_t i = 0; i < std::size(kDTypeCodes); ++i)
    if (kDTypeCodes[i] == dt) return static_cast<double>(i);
  throw DTypeError(msg("summary: cannot summarise a ", to_string(dt), " value"));
}

bool is_summary(const Node* n) {
  for (int k = kScalar; k <= kText; ++k)
    if (n->type == kTypes[k]) return true;
  return n->type == kMergeType;
}

// TF1's tag: the name under the current name scope.
std::string scoped(const Graph& g, const std::string& name) {
  std::string tag;
  for (const std::string& s : g.scopes) tag += s + "/";
  return tag + name;
}

// The constant part: magic, kind, tag, dtype, option, rank, dims.
std::vector<double> header(RecordKind kind, const std::string& tag, DType dtype, double option, const Shape& dims) {
  std::vector<double> h = {kMagic, static_cast<double>(kind), static_cast<double>(tag.size())};
  for (const char c : tag) h.push_back(static_cast<uint8_t>(c));
  h.push_back(dtype_code(dtype));
  h.push_back(option);
  h.push_back(static_cast<double>(dims.size()));
  for (const int64_t d : dims) h.push_back(static_cast<double>(d));
  return h;
}

Tensor vector_tensor(const std::vector<double>& v) {
  return from_vector(v, {static_cast<int64_t>(v.size())});
}

// A record node for x: cat(header, count, values), all catalogue ops, typed for TensorBoard.
Output record(RecordKind kind, const std::string& name, const Output& x, double option) {
  Graph& g = x.graph();
  DefaultGraph use(g);
  const std::string tag = scoped(g, name);
  NameScope scope(name, g);
  std::vector<double> h = header(kind, tag, x.dtype(), option, x.shape());
  const Output values = reshape(to(x, kFloat64), {-1});
  std::vector<Output> parts;
  if (std::none_of(x.shape().begin(), x.shape().end(), [](int64_t d) { return d < 0; })) {
    // Speed: a shape known now has a count known now, so it goes into the constant header and the
    // record costs two kernels (to, cat) per run instead of three. At batch 1, where a graph-mode
    // MLP step takes 45 µs, that kernel is a measurable share of logging's cost (bench/RESULTS.md).
    h.push_back(static_cast<double>(numel(x.shape())));
    parts = {constant(vector_tensor(h), "header"), values};
  } else {
    // numel(x) / numel(a scalar) = numel(x), computed in each run, where the shape has a `?`.
    const Output count = reshape(count_ratio(x, constant(Scalar(0.0), kFloat64, "one_element")), {1});
    parts = {constant(vector_tensor(h), "header"), count, values};
  }
  Output rec = make_op(ops::cat, parts, {.dim = 0}, kTypes[kind]);
  rec.node()->type = kTypes[kind];
  return rec;
}

// ---- reading a record back -----------------------------------------------------------------------

class RecordReader {
 public:
  explicit RecordReader(std::span<const double> r) : r_(r) {}
  bool done() const { return pos_ == r_.size(); }
  size_t left() const { return r_.size() - pos_; }

  double take(const char* what) {
    if (pos_ >= r_.size()) fail(msg("it ends where ", what, " should be"));
    return r_[pos_++];
  }
  // A whole number in [lo, hi].
  int64_t whole(const char* what, double lo, double hi) {
    const double v = take(what);
    if (!(v >= lo && v <= hi) || v != std::floor(v))
      fail(msg(what, " is ", v, ", not a whole number in [", lo, ", ", hi, "]"));
    return static_cast<int64_t>(v);
  }
  std::span<const double> values(size_t n) {
    const std::span<const double> s = r_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(msg("add_summary: the tensor is not a summary record (at entry ", pos_, " of ", r_.size(), ": ",
                    what, "). Pass what Session::run fetched for a summary op — summary::scalar, histogram, "
                    "image, text, merge or merge_all — not the value that op summarises"));
  }

 private:
  std::span<const double> r_;
  size_t pos_ = 0;
};

// The declared dims with at most one -1, resolved by the count of values.
Shape resolve(Shape dims, int64_t count, RecordReader& r) {
  double known = 1;  // in double: a damaged record's dims must not overflow the product
  int64_t unknown = -1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] >= 0) known *= static_cast<double>(dims[i]);
    else if (unknown < 0) unknown = static_cast<int64_t>(i);
    else r.fail("the shape has more than one unknown dim");
  }
  const auto n = static_cast<double>(count);
  if (unknown >= 0 && known > 0 && known <= n && count % static_cast<int64_t>(known) == 0)
    dims[static_cast<size_t>(unknown)] = count / static_cast<int64_t>(known);
  else if (unknown >= 0 || known != n)
    r.fail(msg("the shape ", shape_str(dims), " does not hold ", count, " values"));
  return dims;
}

void read_one(RecordReader& r, io::Summary& out) {
  if (r.take("the magic number") != kMagic) r.fail("it does not start with the magic number 5461325");
  const auto kind = static_cast<RecordKind>(r.whole("the kind", kScalar, kText));
  std::string tag;
  const int64_t tag_size = r.whole("the tag's length", 0, static_cast<double>(r.left()));
  for (int64_t i = 0; i < tag_size; ++i) tag.push_back(static_cast<char>(r.whole("a byte of the tag", 0, 255)));
  const DType dtype = kDTypeCodes[r.whole("the dtype code", 0, std::size(kDTypeCodes) - 1)];
  const double option = r.take("the option");
  const int64_t rank = r.whole("the rank", 0, 64);
  Shape dims;
  for (int64_t i = 0; i < rank; ++i) dims.push_back(r.whole("a dim", -1, 1e15));
  const int64_t count = r.whole("the count of values", 0, static_cast<double>(r.left()));
  const std::span<const double> v = r.values(static_cast<size_t>(count));
  if (kind == kText) {
    std::string text;
    for (const double b : v) {
      if (!(b >= 0 && b <= 255)) r.fail("a byte of the text is out of range");
      text.push_back(static_cast<char>(static_cast<uint8_t>(b)));
    }
    out.values.push_back(io::text_value(tag, text));
    return;
  }
  if (kind == kScalar) {
    if (count != 1) r.fail(msg("the scalar '", tag, "' holds ", count, " values"));
    out.values.push_back(io::scalar_value(tag, v[0]));
    return;
  }
  const Shape shape = resolve(dims, count, r);
  const Tensor t = from_vector(std::vector<double>(v.begin(), v.end()), shape);
  if (kind == kHistogram) {
    out.values.push_back(io::histogram_value(tag, t));
  } else {  // images: [N, C, H, W] or one [C, H, W], with int64 images back as int64 (0-255)
    const Tensor images = shape.size() == 3 ? t.unsqueeze(0) : t;
    const auto max_outputs = static_cast<int64_t>(option);
    for (int64_t i = 0; i < std::min(images.size(0), max_outputs); ++i) {
      const std::string name = max_outputs == 1 ? tag + "/image" : msg(tag, "/image/", i);
      const Tensor one = images.select(0, i);
      out.values.push_back(io::image_value(name, dtype == kInt64 ? one.to(kInt64) : one));
    }
  }
}

}  // namespace

Output scalar(const std::string& name, const Output& x) {
  const bool known = std::none_of(x.shape().begin(), x.shape().end(), [](int64_t d) { return d < 0; });
  if (known && numel(x.shape()) != 1)
    throw ShapeError(msg("summary::scalar: '", name, "' must be one number, but ", x.name(), " has shape ",
                         tf_shape_str(x.shape()), "; summarise a reduction (mean, sum) or one element"));
  return record(kScalar, name, x, 0);
}

Output histogram(const std::string& name, const Output& values) { return record(kHistogram, name, values, 0); }

Output image(const std::string& name, const Output& images, int max_outputs) {
  const Shape& s = images.shape();
  const bool known_chw = s.size() >= 3 && s[s.size() - 1] > 0 && s[s.size() - 2] > 0 && s[s.size() - 3] > 0;
  if ((s.size() != 3 && s.size() != 4) || !known_chw || s[s.size() - 3] > 4 || images.dtype() == kBool ||
      max_outputs < 1)
    throw ShapeError(msg("summary::image: '", name, "' needs images [N, C, H, W] or one image [C, H, W] with C, H "
                         "and W known (C = 1, 2, 3 or 4), of floats in [0, 1] or int64 0-255, and max_outputs >= 1; "
                         "got ", images.name(), " of shape ", tf_shape_str(s), " (", to_string(images.dtype()),
                         "), max_outputs ", max_outputs));
  return record(kImage, name, images, max_outputs);
}

Output text(const std::string& name, const std::string& text, Graph& g) {
  DefaultGraph use(g);
  const std::string tag = scoped(g, name);
  NameScope scope(name, g);
  std::vector<double> r = header(kText, tag, kFloat64, 0, {static_cast<int64_t>(text.size())});
  r.push_back(static_cast<double>(text.size()));
  for (const char c : text) r.push_back(static_cast<uint8_t>(c));
  Output rec = constant(vector_tensor(r), kTypes[kText]);  // all known now: one constant
  rec.node()->type = kTypes[kText];
  return rec;
}

Output merge(const std::vector<Output>& summaries, const std::string& name) {
  if (summaries.empty()) throw Error("summary::merge: nothing to merge; pass the summary ops to write together");
  for (const Output& s : summaries)
    if (!s.defined() || !is_summary(s.node()))
      throw Error(msg("summary::merge: ", s.defined() ? s.name() : "an undefined output",
                      " is not a summary op; merge what summary::scalar, histogram, image, text or merge returned"));
  Graph& g = summaries[0].graph();
  DefaultGraph use(g);
  NameScope scope(name, g);
  Output merged = make_op(ops::cat, summaries, {.dim = 0}, kMergeType);
  merged.node()->type = kMergeType;
  return merged;
}

Output merge_all(Graph& g) {
  std::vector<Output> all;
  for (const auto& n : g.nodes())
    if (is_summary(n.get()) && n->type != kMergeType) all.emplace_back(n.get());
  if (all.empty())
    throw Error("summary::merge_all: the graph has no summary ops; declare some first, e.g. "
                "summary::scalar(\"loss\", loss)");
  return merge(all);
}

io::Summary decode_summary_record(const Tensor& summary) {
  if (!summary.defined() || summary.dtype() != kFloat64 || summary.dim() != 1 || summary.numel() == 0)
    throw Error(msg("add_summary: expected the value of a summary op (a non-empty float64 vector), got ",
                    summary.defined() ? to_string(summary.dtype()) + " " + shape_str(summary.shape())
                                      : std::string("an undefined tensor"),
                    ". Fetch the summary op (summary::scalar, merge_all...) in Session::run and pass its value"));
  // The record's numbers where they are (a fetched value is a contiguous CPU tensor), else a copy.
  const Tensor host = summary.detach().cpu().contiguous();
  RecordReader r(std::span<const double>(host.data<double>(), static_cast<size_t>(host.numel())));
  io::Summary out;
  while (!r.done()) read_one(r, out);
  return out;
}

FileWriter::FileWriter(const std::string& logdir, const Graph* graph, io::EventFileOptions options)
    : writer_(logdir, std::move(options)) {
  if (graph) add_graph(*graph);
}

void FileWriter::add_summary(const Tensor& summary, int64_t global_step) {
  writer_.add_event({.step = global_step, .what = decode_summary_record(summary)});
}

void FileWriter::add_graph(const Graph& graph, int64_t global_step) {
  writer_.add_event({.step = global_step, .what = io::GraphDefBytes{io::encode_graph_def(io::graph_def_nodes(graph))}});
}

}  // namespace tandem::graph::summary
