// io/summary_writer.cpp — each add_* is one Event: a step, a time, one tagged value.
//
// Read next: io/summary_ops.cpp (the same values, declared in a graph and fetched from a Session).
#include "io/summary_writer.h"

#include <unistd.h>

#include <ctime>
#include <filesystem>

#include "core/error.h"
#include "graph/ops.h"
#include "io/graph_def.h"

namespace tandem::tensorboard {

std::string default_log_dir(const std::string& comment) {
  // Python's datetime.now().strftime("%b%d_%H-%M-%S") + "_" + socket.gethostname() + comment.
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%b%d_%H-%M-%S", &local);
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof host, "localhost");
  return (std::filesystem::path("runs") / msg(stamp, "_", host, comment)).string();
}

SummaryWriter::SummaryWriter(const std::string& log_dir, SummaryWriterOptions options)
    : log_dir_(log_dir.empty() ? default_log_dir(options.comment) : log_dir), options_(std::move(options)) {
  writer_ = std::make_unique<io::EventFileWriter>(
      log_dir_, io::EventFileOptions{options_.max_queue, options_.flush_secs, options_.filename_suffix});
}

void SummaryWriter::add(io::SummaryValue value, int64_t step, double walltime) {
  writer_->add_event({.wall_time = walltime, .step = step, .what = io::Summary{{std::move(value)}}});
}

void SummaryWriter::add_scalar(const std::string& tag, double value, int64_t global_step, double walltime) {
  add(io::scalar_value(tag, value), global_step, walltime);
}

void SummaryWriter::add_scalar(const std::string& tag, const Tensor& value, int64_t global_step, double walltime) {
  if (!value.defined() || value.numel() != 1)
    throw ShapeError(msg("add_scalar: '", tag, "' must be one number, got ",
                         value.defined() ? "a tensor of shape " + shape_str(value.shape()) : "an undefined tensor",
                         "; log a reduction (mean, sum) or one element"));
  add_scalar(tag, value.item(), global_step, walltime);
}

void SummaryWriter::add_scalars(const std::string& main_tag,
                                const std::vector<std::pair<std::string, double>>& tag_scalar_dict,
                                int64_t global_step, double walltime) {
  std::string prefix = main_tag;
  for (char& c : prefix)
    if (c == '/') c = '_';
  std::lock_guard lock(scalars_mutex_);
  for (const auto& [tag, value] : tag_scalar_dict) {
    const std::string dir = (std::filesystem::path(log_dir_) / (prefix + "_" + tag)).string();
    auto& w = scalars_writers_[dir];
    if (!w)
      w = std::make_unique<io::EventFileWriter>(
          dir, io::EventFileOptions{options_.max_queue, options_.flush_secs, options_.filename_suffix});
    w->add_event({.wall_time = walltime, .step = global_step, .what = io::Summary{{io::scalar_value(main_tag, value)}}});
  }
}

void SummaryWriter::add_histogram(const std::string& tag, const Tensor& values, int64_t global_step,
                                  double walltime) {
  add(io::histogram_value(tag, values), global_step, walltime);
}

void SummaryWriter::add_image(const std::string& tag, const Tensor& img_tensor, int64_t global_step,
                              double walltime, const std::string& dataformats) {
  const size_t rank = dataformats.size();
  if (!img_tensor.defined() || (dataformats != "CHW" && dataformats != "HWC" && dataformats != "HW") ||
      img_tensor.dim() != static_cast<int64_t>(rank))
    throw ShapeError(msg("add_image: '", tag, "' with dataformats \"", dataformats, "\" needs a ", rank,
                         "-dimensional tensor, got ",
                         img_tensor.defined() ? shape_str(img_tensor.shape()) : std::string("an undefined tensor"),
                         ". dataformats is \"CHW\" (the default), \"HWC\" or \"HW\""));
  const Tensor chw = dataformats == "HWC" ? img_tensor.permute({2, 0, 1}) : img_tensor;
  add(io::image_value(tag, chw), global_step, walltime);
}

void SummaryWriter::add_text(const std::string& tag, const std::string& text_string, int64_t global_step,
                             double walltime) {
  add(io::text_value(tag, text_string), global_step, walltime);
}

void SummaryWriter::add_graph(const graph::Graph& graph) {
  writer_->add_event({.what = io::GraphDefBytes{io::encode_graph_def(io::graph_def_nodes(graph))}});
}

void SummaryWriter::add_graph(const TracedModel& model, const std::vector<Tensor>& example_inputs,
                              const std::vector<std::pair<std::string, Tensor>>& named_parameters) {
  graph::Graph g;
  graph::DefaultGraph use(g);
  std::vector<graph::Output> inputs, parameters;
  for (size_t i = 0; i < example_inputs.size(); ++i)
    inputs.push_back(graph::placeholder(example_inputs[i].dtype(), example_inputs[i].shape(),
                                        example_inputs.size() == 1 ? "input" : msg("input_", i)));
  for (const auto& [name, value] : named_parameters) parameters.push_back(graph::Variable(value.detach(), true, name));
  model(inputs, parameters);
  add_graph(g);
}

void SummaryWriter::flush() {
  writer_->flush();
  std::lock_guard lock(scalars_mutex_);
  for (auto& [dir, w] : scalars_writers_) w->flush();
}

void SummaryWriter::close() {
  writer_->close();
  std::lock_guard lock(scalars_mutex_);
  for (auto& [dir, w] : scalars_writers_) w->close();
}

}  // namespace tandem::tensorboard
