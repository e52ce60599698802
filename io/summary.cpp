// io/summary.cpp — scalars, histograms (TensorFlow's buckets), images (PNG) and text as summary values.
//
// Read next: io/summary_writer.cpp.
#include "io/summary.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "core/error.h"
#include "data/image.h"

namespace tandem::io {

const std::vector<double>& default_bucket_limits() {
  // Built once, on first use, exactly as TensorFlow's InitDefaultBucketsInner builds it.
  static const std::vector<double> limits = [] {
    std::vector<double> positive;
    for (double v = 1e-12; v < 1e20; v *= 1.1) positive.push_back(v);
    positive.push_back(DBL_MAX);
    std::vector<double> all;
    for (auto it = positive.rbegin(); it != positive.rend(); ++it) all.push_back(-*it);  // -DBL_MAX ... -1e-12
    all.push_back(0.0);
    all.insert(all.end(), positive.begin(), positive.end());  // 1e-12 ... DBL_MAX
    return all;
  }();
  return limits;
}

HistogramProto make_histogram(const Tensor& values, const std::string& what) {
  if (!values.defined() || values.numel() == 0)
    throw Error(msg(what, ": cannot make a histogram of ", values.defined() ? "an empty tensor" : "an undefined tensor",
                    " (TensorBoard needs at least one value)"));
  const std::vector<double> v = values.detach().cpu().to_vector<double>();
  const std::vector<double>& limits = default_bucket_limits();
  std::vector<double> counts(limits.size(), 0.0);
  HistogramProto h;
  h.min = DBL_MAX;
  h.max = -DBL_MAX;
  for (const double x : v) {
    if (!std::isfinite(x))
      throw Error(msg(what, ": the values hold ", x, " (a NaN or an infinity), which a histogram cannot show. "
                      "TensorFlow refuses them too (\"Nan in summary histogram\"); training has probably "
                      "diverged — lower the learning rate, or look for a log of 0 or a division by 0"));
    // The bucket of the first edge above x: edges[b-1] <= x < edges[b].
    const size_t b = std::upper_bound(limits.begin(), limits.end(), x) - limits.begin();
    counts[std::min(b, limits.size() - 1)] += 1;  // (x = DBL_MAX itself would fall past the last edge)
    h.min = std::min(h.min, x);
    h.max = std::max(h.max, x);
    h.sum += x;
    h.sum_squares += x * x;
  }
  h.num = static_cast<double>(v.size());
  // Each bucket with its right edge; a run of empty buckets as one, with the edge where it ends.
  for (size_t i = 0; i < counts.size();) {
    double edge = limits[i], count = counts[i];
    ++i;
    if (count == 0)
      while (i < counts.size() && counts[i] == 0) edge = limits[i++];
    h.bucket_limit.push_back(edge);
    h.bucket.push_back(count);
  }
  return h;
}

SummaryValue scalar_value(const std::string& tag, double value) { return {tag, static_cast<float>(value)}; }

SummaryValue histogram_value(const std::string& tag, const Tensor& values) {
  return {tag, make_histogram(values, msg("histogram '", tag, "'"))};
}

SummaryValue image_value(const std::string& tag, const Tensor& image) {
  ImageProto p;
  try {
    p.encoded_image = data::encode_png(image.detach());
  } catch (const Error& e) {
    rethrow_with_context(e, msg(" (the image '", tag, "')"));
  }
  p.height = static_cast<int32_t>(image.size(-2));
  p.width = static_cast<int32_t>(image.size(-1));
  p.colorspace = image.dim() == 2 ? 1 : static_cast<int32_t>(image.size(0));
  return {tag, p};
}

SummaryValue text_value(const std::string& tag, const std::string& text) { return {tag, TextValue{text}}; }

}  // namespace tandem::io
