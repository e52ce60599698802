// io/summary_writer.h — PyTorch's SummaryWriter: log a training run for TensorBoard, eagerly.
//
// torch.utils.tensorboard, line by line:
//
//     writer = SummaryWriter("runs/mlp/eager")          tensorboard::SummaryWriter writer("runs/mlp/eager");
//     writer.add_scalar("loss", loss.item(), step)       writer.add_scalar("loss", loss.item(), step);
//     writer.add_histogram("fc1/weight", w1, step)       writer.add_histogram("fc1/weight", w1, step);
//     writer.add_image("input", img, step)               writer.add_image("input", img, step);
//     writer.add_text("notes", "lr = 0.1", 0)            writer.add_text("notes", "lr = 0.1", 0);
//     writer.add_graph(model, x)                         writer.add_graph(traced_model, {x}, named_params);
//     writer.close()                                     writer.close();
//
// then `tensorboard --logdir runs` and open the browser. Each add_* call makes one Event (a time, a
// step, a Summary holding one tagged value: io/summary.h) and hands it to the event file
// (io/event_file.h), which queues it and appends it; see there for when the bytes reach the disk.
//
// Graph mode logs the same things with TensorFlow 1's spelling, io/summary_ops.h — and to compare
// the two executors, log them side by side: runs/<name>/eager and runs/<name>/graph are two runs
// of one experiment, and TensorBoard draws their curves on the same axes.
//
// ADD_GRAPH FOR AN EAGER MODEL. TensorBoard draws graphs; an eager model has none — it is code.
// PyTorch's add_graph traces it: runs it once on example inputs and records the ops it ran
// (torch.jit.trace). Tandem can trace more cheaply and just as honestly, because a Tandem model
// is written once over the tensor type: call it with graph placeholders instead of tensors and
// it *builds* the graph (nothing is computed). The parameters become Variables holding their
// values, under the names you give (use "fc1/weight" and TensorBoard boxes them by layer). As with
// torch.jit.trace, what is drawn is the path the model took for these inputs: a model that
// branches on values (is_eager<T>) shows the branch a graph would take.
//
// Read next: io/summary_ops.h (the graph-mode spelling), docs/tensorboard.md.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "io/event_file.h"
#include "io/summary.h"

namespace tandem::graph {
class Graph;
class Output;
}  // namespace tandem::graph

namespace tandem::tensorboard {

struct SummaryWriterOptions {
  std::string comment{};        // added to the default log_dir's name (PyTorch's comment)
  int max_queue = 10;           // events queued before they are written to the file
  double flush_secs = 120;      // at most this long between flushes to disk (fsync)
  std::string filename_suffix{};  // added to the event file's name
};

// PyTorch's default log_dir: runs/<Mon><dd>_<HH-MM-SS>_<host><comment>, e.g. runs/Dec05_14-03-22_vm.
std::string default_log_dir(const std::string& comment = "");

// Safe to share between threads (a DataLoader's workers may log too): every add_* takes a lock.
class SummaryWriter {
 public:
  // Creates `log_dir` (default_log_dir() when empty) and an event file in it.
  explicit SummaryWriter(const std::string& log_dir = "", SummaryWriterOptions options = {});

  // A point on the curve `tag`. The Tensor form takes a one-element tensor (loss, not loss.item()).
  // walltime: seconds since 1970; 0 means now.
  void add_scalar(const std::string& tag, double value, int64_t global_step = 0, double walltime = 0);
  void add_scalar(const std::string& tag, const Tensor& value, int64_t global_step = 0, double walltime = 0);
  // Several curves in one chart: each {name, value} goes to its own run,
  // <log_dir>/<main_tag>_<name>, under the tag main_tag (PyTorch's layout).
  void add_scalars(const std::string& main_tag, const std::vector<std::pair<std::string, double>>& tag_scalar_dict,
                   int64_t global_step = 0, double walltime = 0);
  // The distribution of every element of `values` (TensorFlow's buckets: io/summary.h).
  void add_histogram(const std::string& tag, const Tensor& values, int64_t global_step = 0, double walltime = 0);
  // One image: dataformats "CHW" (the default, as PyTorch's), "HWC" or "HW"; floats in [0, 1] or
  // int64 0-255. Stored as PNG.
  void add_image(const std::string& tag, const Tensor& img_tensor, int64_t global_step = 0, double walltime = 0,
                 const std::string& dataformats = "CHW");
  void add_text(const std::string& tag, const std::string& text_string, int64_t global_step = 0, double walltime = 0);

  // A graph-mode Graph, for TensorBoard's Graphs tab (io/graph_def.h).
  void add_graph(const graph::Graph& graph);
  // An eager model, traced (see above): `model` is called once with placeholders shaped like
  // `example_inputs` and Variables holding `named_parameters`, in a graph of its own.
  using TracedModel =
      std::function<void(const std::vector<graph::Output>& inputs, const std::vector<graph::Output>& parameters)>;
  void add_graph(const TracedModel& model, const std::vector<Tensor>& example_inputs,
                 const std::vector<std::pair<std::string, Tensor>>& named_parameters = {});

  // Everything added so far, on disk (fsync). Also done every flush_secs, and by close().
  void flush();
  // flush() and close the files. Adding more afterwards opens a new event file, as PyTorch does.
  void close();

  const std::string& log_dir() const { return log_dir_; }
  io::EventFileWriter& file_writer() { return *writer_; }

 private:
  void add(io::SummaryValue value, int64_t step, double walltime);

  std::string log_dir_;
  SummaryWriterOptions options_;
  std::unique_ptr<io::EventFileWriter> writer_;
  std::mutex scalars_mutex_;  // guards scalars_writers_ (each EventFileWriter has a lock of its own)
  std::map<std::string, std::unique_ptr<io::EventFileWriter>> scalars_writers_;  // add_scalars' runs
};

}  // namespace tandem::tensorboard
