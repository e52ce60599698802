// io/summary.h — what a tensor becomes in TensorBoard: a scalar, a histogram, an image, a text.
//
// Both writers use these: PyTorch's SummaryWriter (io/summary_writer.h) on eager tensors, and
// TF1's FileWriter (io/summary_ops.h) on the values a Session fetched. One function per kind, so a
// loss logged in either mode becomes the same bytes.
//
// HISTOGRAMS, TensorFlow's way (tensorflow/core/lib/histogram, and PyTorch's add_histogram with its
// default bins="tensorflow"). The bucket edges are fixed in advance, not fitted to the data, so
// the same edges serve every step and TensorBoard can stack the steps into its 3-D view:
//
//     edges 1e-12, 1e-12·1.1, 1e-12·1.1², ... up to 1e20 (each 10% past the last), their
//     negatives, 0, and ±DBL_MAX at the ends                    — 1551 edges in all
//
// A value v counts in the bucket of the first edge above it (edges[i-1] <= v < edges[i]), so
// buckets are narrow near 0 and wide far from it: relative precision of 10% at every scale.
// Then runs of empty buckets are written as one (the edge where the run ends, count 0), so a
// histogram takes room for the buckets it uses, not for all 1551. TensorBoard turns the result
// into bars from `min` to `max` (data_compat.py).
//
// Read next: io/summary_writer.h.
#pragma once

#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/event.h"

namespace tandem::io {

// The 1551 edges above, in increasing order.
const std::vector<double>& default_bucket_limits();

// The histogram of every element of `values` (any dtype, any shape; read as doubles). `what`
// names the caller in errors: an empty tensor, or one holding NaN or ±inf (which TensorBoard
// cannot draw, and which TF1 refuses with "Nan in summary histogram"), is a tandem::Error.
HistogramProto make_histogram(const Tensor& values, const std::string& what);

// Summary values, one per kind:
//   scalar: `value` as the float TensorBoard stores;
//   histogram: make_histogram(values);
//   image: `image` [C, H, W] (C = 1 grey, 3 RGB, 4 RGBA; or 2, grey + alpha) or [H, W], encoded
//     as PNG — float values are taken as [0, 1], int64 values as 0-255 (torchvision's convention,
//     and PyTorch's add_image's);
//   text: shown in TensorBoard's Text tab, as Markdown.
SummaryValue scalar_value(const std::string& tag, double value);
SummaryValue histogram_value(const std::string& tag, const Tensor& values);
SummaryValue image_value(const std::string& tag, const Tensor& image);
SummaryValue text_value(const std::string& tag, const std::string& text);

}  // namespace tandem::io
