// io/saver.cpp — Saver: variables out of a Session into a checkpoint file, and back through assigns.
//
// Saving is a fetch: one Session::run of every variable, so all values come from the same moment.
// Restoring is a run too: the restore op (an assign per variable, from a placeholder) fed with
// the file's values — the same path a training step's writes take, so a restore is safe beside
// other threads' runs (graph/session.h: a run that writes variables runs alone).
//
// Read next: io/checkpoint.cpp (the file), docs/checkpoint_format.md.
#include "io/saver.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "graph/ops.h"
#include "io/atomic_file.h"

namespace tandem::graph::train {

namespace fs = std::filesystem;

namespace {

NamedVariables by_node_name(const std::vector<Output>& vars) {
  NamedVariables out;
  for (const Output& v : vars) {
    if (!v.defined()) throw Error("Saver: a variable in var_list is undefined");
    out.emplace_back(v.node()->name, v);
  }
  return out;
}

Graph& graph_of(const NamedVariables& vars) {
  if (vars.empty())
    throw Error("Saver: no variables to save; build the model (and minimize(), whose slot variables are "
                "saved too) before making the Saver");
  if (!vars[0].second.defined()) throw Error(msg("Saver: the variable for '", vars[0].first, "' is undefined"));
  return vars[0].second.graph();
}

// "model.ckpt-2000" in a state file: a double-quoted string with \" and \\ escaped, as TF writes.
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The path as the state file of `dir` records it: relative when it is in `dir`.
std::string as_recorded(const std::string& path, const fs::path& dir) {
  const fs::path p(path);
  return p.parent_path() == dir ? p.filename().string() : path;
}

void write_state_file(const fs::path& dir, const std::string& latest, const std::vector<std::string>& all) {
  std::string text = "model_checkpoint_path: " + quote(as_recorded(latest, dir)) + "\n";
  for (const std::string& p : all) text += "all_model_checkpoint_paths: " + quote(as_recorded(p, dir)) + "\n";
  io::write_file_atomic(dir / "checkpoint", text, "Saver::save (the folder's checkpoint file)");
}

}  // namespace

// ---- making a Saver: the variables, and the restore op ----------------------------------------------

Saver::Saver(Graph& g, SaverOptions options) : Saver(g.global_variables(), options) {}

Saver::Saver(const std::vector<Output>& var_list, SaverOptions options)
    : Saver(by_node_name(var_list), options) {}

Saver::Saver(NamedVariables var_list, SaverOptions options)
    : graph_(graph_of(var_list)), vars_(std::move(var_list)), options_(options) {
  std::set<std::string> names;
  for (const auto& [name, v] : vars_) {
    if (!v.defined()) throw Error(msg("Saver: the variable for '", name, "' is undefined"));
    if (v.node()->kind != Kind::variable)
      throw Error(msg("Saver: '", v.name(), "' is a ", v.node()->type, ", not a Variable; a Saver saves variables"));
    if (&v.graph() != &graph_) throw Error(msg("Saver: variable '", v.name(), "' is from another graph"));
    if (name.empty() || !names.insert(name).second)
      throw Error(msg("Saver: the name '", name, "' is empty or given twice; every variable needs its own name"));
  }
  if (options_.max_to_keep < 0)
    throw Error(msg("Saver: max_to_keep is ", options_.max_to_keep, "; give 0 (keep all) or more"));
  build_restore_op();
}

void Saver::build_restore_op() {
  // Under a "save" scope (save/restore_all, as TF names it), outside any control dependencies the
  // caller has open: a restore must not wait for, or trigger, a training step.
  DefaultGraph use(graph_);
  std::vector<std::vector<Node*>> control = std::exchange(graph_.control_stack, {});
  try {
    NameScope scope("save", graph_);
    std::vector<Output> assigns;
    for (const auto& [name, v] : vars_) {
      feeds_.push_back(placeholder(v.dtype(), v.shape(), "restore_" + v.node()->name));
      assigns.push_back(assign(v, feeds_.back()));
    }
    restore_op_ = group(assigns, "restore_all");
  } catch (...) {
    graph_.control_stack = std::move(control);
    throw;
  }
  graph_.control_stack = std::move(control);
}

// ---- save -------------------------------------------------------------------------------------------

std::string Saver::save(Session& session, const std::string& path, std::optional<int64_t> global_step,
                        io::Checkpoint extra) {
  if (&session.graph() != &graph_) throw Error("Saver::save: the session runs another graph than the Saver's");
  if (path.empty()) throw Error("Saver::save: the path is empty; give a file name such as \"run/model.ckpt\"");
  // 1. One run fetches every variable: a consistent snapshot.
  std::vector<Output> fetches;
  for (const auto& nv : vars_) fetches.push_back(nv.second);
  std::vector<Tensor> values;
  try {
    values = session.run(fetches);
  } catch (const Error& e) {
    rethrow_with_context(e, " (in Saver::save: every variable must be initialized or restored first)");
  }
  // 2. The checkpoint: the extra's content, the variables under their names, the step.
  for (size_t k = 0; k < vars_.size(); ++k) {
    if (extra.tensors.contains(vars_[k].first))
      throw Error(msg("Saver::save: the extra tensors already hold a tensor named '", vars_[k].first,
                      "', the name of a variable; rename one of them"));
    extra.tensors.insert(vars_[k].first, values[k]);
  }
  if (global_step) extra.step = *global_step;
  const std::string written = global_step ? msg(path, "-", *global_step) : path;
  io::save_checkpoint(extra, written);
  // 3. Keep the newest max_to_keep, and say which is the latest in the folder's state file.
  std::erase(kept_, written);
  kept_.push_back(written);
  while (options_.max_to_keep > 0 && kept_.size() > static_cast<size_t>(options_.max_to_keep)) {
    std::error_code ignored;  // a file already gone is no reason to fail a save that succeeded
    fs::remove(kept_.front(), ignored);
    kept_.erase(kept_.begin());
  }
  write_state_file(fs::path(written).parent_path(), written, kept_);
  return written;
}

std::string Saver::save(Session& session, const std::string& path, const Output& global_step,
                        io::Checkpoint extra) {
  if (!global_step.defined()) return save(session, path, std::nullopt, std::move(extra));
  const Tensor step = session.run(global_step);
  if (step.numel() != 1 || step.is_floating_point())
    throw Error(msg("Saver::save: global_step '", global_step.name(), "' should be an integer scalar, but is a ",
                    to_string(step.dtype()), " tensor of shape ", shape_str(step.shape())));
  return save(session, path, step.item<int64_t>(), std::move(extra));
}

void Saver::recover_last_checkpoints(const std::vector<std::string>& paths) {
  // The recovered ones count as older than those this Saver wrote; files already gone are dropped.
  std::vector<std::string> merged;
  std::error_code ec;
  for (const std::string& p : paths)
    if (fs::exists(p, ec) && std::find(merged.begin(), merged.end(), p) == merged.end()) merged.push_back(p);
  for (const std::string& p : kept_)
    if (std::find(merged.begin(), merged.end(), p) == merged.end()) merged.push_back(p);
  kept_ = std::move(merged);
}

// ---- restore ----------------------------------------------------------------------------------------

io::Checkpoint Saver::restore(Session& session, const std::string& path) {
  if (&session.graph() != &graph_) throw Error("Saver::restore: the session runs another graph than the Saver's");
  io::Checkpoint c = io::load_checkpoint(path);
  // 1. Check every variable against the file before assigning any.
  LoadReport report;
  for (const auto& [name, v] : vars_) {
    if (!c.tensors.contains(name)) report.missing_keys.push_back(name);
    else if (c.tensors.at(name).shape() != v.shape())
      report.size_mismatches.push_back({name, c.tensors.at(name).shape(), v.shape()});
  }
  const std::string problems = report.message(msg("the graph's variables (Saver::restore of '", path, "')"));
  if (!problems.empty())
    throw Error(problems + "\nNothing was restored: the session's variables are unchanged. The file holds " +
                std::to_string(c.tensors.size()) + " tensors; compare their names with Saver::variables()");
  // 2. One run of the restore op assigns them all.
  FeedDict feeds;
  for (size_t k = 0; k < vars_.size(); ++k)
    feeds.emplace_back(feeds_[k], c.tensors.at(vars_[k].first).to(vars_[k].second.dtype()));
  session.run(restore_op_, feeds);
  return c;
}

// ---- the folder's state file ------------------------------------------------------------------------

std::optional<CheckpointState> get_checkpoint_state(const std::string& dir) {
  const fs::path file = fs::path(dir) / "checkpoint";
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return std::nullopt;
  std::ifstream in(file);
  if (!in) throw Error(msg("get_checkpoint_state: cannot read '", file.string(), "'"));
  // Each line: `key: "value"`, the value with \" and \\ escaped.
  CheckpointState state;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const size_t colon = line.find(": \"");
    std::string value;
    bool closed = false;
    if (colon != std::string::npos)
      for (size_t i = colon + 3; i < line.size(); ++i) {
        if (line[i] == '\\' && i + 1 < line.size()) value += line[++i];
        else if (line[i] == '"') { closed = i + 1 == line.size(); break; }
        else value += line[i];
      }
    const std::string key = colon == std::string::npos ? "" : line.substr(0, colon);
    if (!closed || (key != "model_checkpoint_path" && key != "all_model_checkpoint_paths"))
      throw Error(msg("get_checkpoint_state: line ", number, " of '", file.string(), "' is not `model_checkpoint_path: "
                      "\"...\"` or `all_model_checkpoint_paths: \"...\"`: ", line,
                      ". The file is written by Saver::save; delete it to start afresh"));
    const std::string full = fs::path(value).is_absolute() ? value : (fs::path(dir) / value).string();
    if (key == "model_checkpoint_path") state.model_checkpoint_path = full;
    else state.all_model_checkpoint_paths.push_back(full);
  }
  return state;
}

std::optional<std::string> latest_checkpoint(const std::string& dir) {
  const std::optional<CheckpointState> state = get_checkpoint_state(dir);
  std::error_code ec;
  if (!state || state->model_checkpoint_path.empty() || !fs::exists(state->model_checkpoint_path, ec))
    return std::nullopt;
  return state->model_checkpoint_path;
}

// ---- names across the modes -------------------------------------------------------------------------

NamedVariables dotted_names(const std::vector<Output>& variables) {
  NamedVariables out = by_node_name(variables);
  for (auto& [name, v] : out) std::replace(name.begin(), name.end(), '/', '.');
  return out;
}

namespace {
// An eager optimizer's state field and the slot that holds it in graph mode (optim/train.h).
constexpr std::pair<const char*, const char*> kSlots[] = {
    {"exp_avg", "Adam"}, {"exp_avg_sq", "Adam_1"}, {"step", "Adam_step"}, {"momentum_buffer", "Momentum"}};
}  // namespace

StateDict to_slots(const StateDict& optimizer_state, const std::vector<std::string>& names) {
  for (const auto& [key, t] : optimizer_state) {
    if (key.rfind("state.", 0) != 0) continue;
    const std::string field = key.substr(key.rfind('.') + 1);
    bool known = false;
    for (const auto& [f, slot] : kSlots) known = known || field == f;
    if (!known)
      throw Error(msg("to_slots: \"", key, "\" has no slot variable in graph mode (only SGD's and Adam's state "
                      "does: graph mode's RMSProp and Adagrad compute TensorFlow's formulas, not PyTorch's, "
                      "so their state would not mean the same there)"));
  }
  StateDict out;
  for (size_t k = 0; k < names.size(); ++k)
    for (const auto& [field, slot] : kSlots) {
      const std::string key = msg("state.", k, ".", field);
      if (optimizer_state.contains(key)) out.insert(names[k] + "." + slot, optimizer_state.at(key));
    }
  return out;
}

StateDict from_slots(const StateDict& checkpoint, const std::vector<std::string>& names,
                     const StateDict& optimizer_now) {
  StateDict out;
  for (size_t k = 0; k < names.size(); ++k)
    for (const auto& [field, slot] : kSlots) {
      const std::string name = names[k] + "." + slot;
      if (checkpoint.contains(name)) out.insert(msg("state.", k, ".", field), checkpoint.at(name));
    }
  out.update(optimizer_now.under("param_groups.").with_prefix("param_groups."));
  return out;
}

}  // namespace tandem::graph::train
