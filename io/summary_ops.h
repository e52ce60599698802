// io/summary_ops.h — TensorFlow 1's tf.summary in graph mode: summaries declared as nodes, fetched
// by Session::run, written by a FileWriter.
//
// TF1, and Tandem, line by line:
//
//     tf.summary.scalar("loss", loss)                g::summary::scalar("loss", loss);
//     tf.summary.histogram("fc1/weight", w1)         g::summary::histogram("fc1/weight", w1);
//     merged = tf.summary.merge_all()                g::Output merged = g::summary::merge_all();
//     writer = tf.summary.FileWriter(logdir,         g::summary::FileWriter writer(logdir, &graph);
//                                    sess.graph)
//     s, _ = sess.run([merged, train_op], feed)      auto out = sess.run({merged, train_op}, feeds);
//     writer.add_summary(s, step)                    writer.add_summary(out[0], step);
//
// HOW A SUMMARY CAN BE A TENSOR WITHOUT STRINGS. In TF1 a summary op outputs a *string* tensor: the
// serialized Summary protobuf. merge_all concatenates those strings (protobuf lets you: two
// serialized Summary messages glued together parse as one Summary holding both lists of values),
// and add_summary only wraps the string in an Event. Tandem has no string dtype, so its summary op
// outputs a float64 vector that spells a *record* of its own, numbers only:
//
//     [magic, kind, tag length, tag's bytes..., option, rank, dims..., count, values...]
//      └──────────────── a constant, known when declared ────────────┘ └─ computed in each run ─┘
//
// kind is scalar / histogram / image / text; a dim not known until run time (the batch, `?`) is -1
// and count, the number of values, tells it. The node is built from ops of the catalogue —
// cat(constant header, count_ratio(x) as the count, flatten(to(x, float64))), the count going into
// the constant when x's shape is known — so it runs like any other node, on any executor, and the
// graph passes treat it like any other. Records concatenate
// as TF's strings do, so merge_all is a cat too. The FileWriter reads the records back and does
// what TF's summary kernels did: the histogram's buckets, the PNG, the protobuf (io/summary.h).
// What moves from the graph to the writer is only the formatting: the numbers are still computed
// by the Session, in the same run as the training step, from the same values.
//
// The node's type is ScalarSummary, HistogramSummary, ImageSummary, TextSummary or MergeSummary,
// TF's names, so TensorBoard draws it with its summary icon. merge_all() gathers the summaries of
// the graph by that type, in the order they were declared (TF1's SUMMARIES collection).
//
// Tags are TF1's: the name, under the current name scope ("fc1/weight" inside NameScope("fc1") is
// the tag "fc1/weight"). Images are Tandem's layout, [N, C, H, W] (or one [C, H, W]), floats in
// [0, 1] or int64 0-255, as in eager add_image; the first max_outputs are written, tagged
// "<name>/image/<i>" (or "<name>/image" when max_outputs is 1), as TF1 does.
//
// Read next: io/summary_writer.h (the eager spelling), docs/tensorboard.md.
#pragma once

#include <string>
#include <vector>

#include "graph/graph.h"
#include "io/event_file.h"

namespace tandem::graph::summary {

// Summary ops: each adds its record node to x's graph and returns it (fetch it, or merge it).
Output scalar(const std::string& name, const Output& x);  // x: one element
Output histogram(const std::string& name, const Output& values);
Output image(const std::string& name, const Output& images, int max_outputs = 3);
Output text(const std::string& name, const std::string& text, Graph& g = default_graph());

// One record holding every summary in `summaries` (summary ops or merged ones), as tf.summary.merge.
Output merge(const std::vector<Output>& summaries, const std::string& name = "Merge");
// Every summary op of `g`, merged, in declaration order (tf.summary.merge_all). An error when the
// graph has none.
Output merge_all(Graph& g = default_graph());

// The summary values a fetched record holds (what add_summary writes). `summary` must be the value
// of a summary op as Session::run returned it; anything else is a tandem::Error saying so.
io::Summary decode_summary_record(const Tensor& summary);

// tf.summary.FileWriter: one event file in `logdir`. Given a graph, it writes it first (as TF1's
// FileWriter(logdir, sess.graph) does), for TensorBoard's Graphs tab.
class FileWriter {
 public:
  explicit FileWriter(const std::string& logdir, const Graph* graph = nullptr, io::EventFileOptions options = {});

  // Writes what a run fetched from a summary op (or merge_all) as the summary of `global_step`.
  void add_summary(const Tensor& summary, int64_t global_step = 0);
  void add_graph(const Graph& graph, int64_t global_step = 0);
  void flush() { writer_.flush(); }
  void close() { writer_.close(); }
  const std::string& get_logdir() const { return writer_.log_dir(); }
  io::EventFileWriter& event_file_writer() { return writer_; }

 private:
  io::EventFileWriter writer_;
};

}  // namespace tandem::graph::summary
