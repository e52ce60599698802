// io/saver.h — graph mode's checkpoints: tf.train.Saver, over the same file as eager mode's.
//
// In a graph, the trained values are not in the graph: they live in the Session, one tensor per
// variable (graph/session.h). TensorFlow 1 saved them with a Saver, made once the graph is built:
//
//     g::train::Saver saver;                              // saver = tf.train.Saver()
//     for (int64_t step = 1; ...; ++step) {
//       session.run(train_op, feeds);
//       if (step % 1000 == 0) saver.save(session, "run/model.ckpt", step);  // run/model.ckpt-1000
//     }
//     // later, or in another program that built the same graph:
//     saver.restore(session, *g::train::latest_checkpoint("run"));  // no initializer needed
//
// What a Saver does, in TF's own way:
//   - At construction it takes the variables to save — every global variable there is now, slot
//     variables of optimizers included ("w/Adam", "w/Momentum"), so make it after minimize() —
//     and the name each is saved under: its node name ("dense/kernel"), or a name you choose.
//     It also adds, once, the nodes restore() runs: for each variable a placeholder and an
//     assign, grouped under "save/restore_all" (TF's restore op). Make it before finalize().
//   - save() fetches every variable in one run (one consistent snapshot, even while another thread
//     trains), writes them as an io::Checkpoint (docs/checkpoint_format.md) to "path-<step>",
//     records that path in the folder's "checkpoint" file (TF's text format, which
//     latest_checkpoint() reads) and deletes the oldest of its files beyond max_to_keep.
//   - restore() reads a file, checks that it holds every variable with the variable's shape — all
//     before it assigns anything — then runs the restore op once, feeding the values.
//
// ONE FILE FOR BOTH MODES. The Saver writes the file StateDict::save writes. Name your graph
// variables as your eager parameters are named and a checkpoint moves between the modes:
// dotted_names() maps TF's "fc1/weight" to PyTorch's "fc1.weight", so an eager model's
// StateDict loads into a graph (Saver(dotted_names(vars)).restore(...)) and a graph's save()
// loads into an eager model (load_state_dict). Optimizer state too: slot_names() says which slot
// variable holds which entry of an eager optimizer's state_dict ("w/Adam" is "state.0.exp_avg").
//
// Read next: io/checkpoint.h (the file), tests/test_checkpoint_resume.cpp (exact resume in
// both modes).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "graph/session.h"
#include "io/checkpoint.h"

namespace tandem::graph::train {

// Checkpoint names and the variables saved under them.
using NamedVariables = std::vector<std::pair<std::string, Output>>;

struct SaverOptions {
  // How many of its most recent checkpoints a Saver keeps; older ones are deleted as new ones are
  // written. 0 keeps them all. (TF's default, 5.)
  int max_to_keep = 5;
};

class Saver {
 public:
  // Every global variable of `g` (TF's default), each under its node name.
  explicit Saver(Graph& g = default_graph(), SaverOptions options = {});
  // These variables, each under its node name.
  explicit Saver(const std::vector<Output>& var_list, SaverOptions options = {});
  // These variables under these names (TF's Saver({"name": var})): how a graph's variables take
  // the names of an eager model's parameters.
  explicit Saver(NamedVariables var_list, SaverOptions options = {});

  // Writes the variables' values in `session` to `path`, or to "path-<global_step>" when a step
  // is given (and as the checkpoint's step), and returns the path written. `extra` rides along:
  // the epoch, the random state (Checkpoint::record_random_state), notes, and more tensors (an
  // eager model's, say) whose names must differ from the variables'.
  std::string save(Session& session, const std::string& path, std::optional<int64_t> global_step = {},
                   io::Checkpoint extra = {});
  // The same with the step read from a variable (TF's global_step tensor).
  std::string save(Session& session, const std::string& path, const Output& global_step,
                   io::Checkpoint extra = {});

  // Gives every variable its value from the file at `path` and returns the whole checkpoint (for
  // its epoch, step, random state and notes). Every variable must be in the file with its shape;
  // the file may hold more. All checked before anything is assigned: a refused restore leaves the
  // session as it was.
  io::Checkpoint restore(Session& session, const std::string& path);

  // The checkpoints this Saver keeps, oldest first.
  const std::vector<std::string>& last_checkpoints() const { return kept_; }
  // Adopts checkpoints written earlier (by another run), so that max_to_keep counts them too
  // (TF's recover_last_checkpoints(get_checkpoint_state(dir).all_model_checkpoint_paths)).
  void recover_last_checkpoints(const std::vector<std::string>& paths);

  const NamedVariables& variables() const { return vars_; }

 private:
  void build_restore_op();
  Graph& graph_;
  NamedVariables vars_;
  SaverOptions options_;
  std::vector<Output> feeds_;  // a placeholder per variable, fed by restore()
  Output restore_op_;
  std::vector<std::string> kept_;
};

// The folder's "checkpoint" file, as TF writes it:
//     model_checkpoint_path: "model.ckpt-2000"
//     all_model_checkpoint_paths: "model.ckpt-1000"
//     all_model_checkpoint_paths: "model.ckpt-2000"
// (paths relative to the folder when they are in it). Returned with full paths.
struct CheckpointState {
  std::string model_checkpoint_path;
  std::vector<std::string> all_model_checkpoint_paths;
};
// The folder's state, or nothing when it has no "checkpoint" file. A file that cannot be read as
// one is an error naming it.
std::optional<CheckpointState> get_checkpoint_state(const std::string& dir);
// The newest checkpoint saved in `dir` (tf.train.latest_checkpoint), or nothing if there is none
// (no state file, or the file it names is gone).
std::optional<std::string> latest_checkpoint(const std::string& dir);

// ---- names across the modes ---------------------------------------------------------------------
// Each variable under its node name with '/' turned into '.': "fc1/weight" → "fc1.weight", the
// name PyTorch gives the weight of a layer fc1.
NamedVariables dotted_names(const std::vector<Output>& variables);

// Where an eager optimizer's state lives in graph mode. Given the checkpoint names of the
// parameters, in the optimizer's order, the names its state takes as slot variables, so that
// saver and optimizer agree: for Adam, "state.k.exp_avg" ↔ "<name k>/Adam", "state.k.exp_avg_sq"
// ↔ "<name k>/Adam_1", "state.k.step" ↔ "<name k>/Adam_step"; for SGD with momentum,
// "state.k.momentum_buffer" ↔ "<name k>/Momentum" (optim/train.h names them). Hyper-parameters
// have no slots (a graph's are numbers in its update nodes) and are left out. RMSprop's and
// Adagrad's state has no twin (graph mode computes TensorFlow's formulas for them, eager mode
// PyTorch's): to_slots refuses it.
//   to_slots: an eager optimizer's state_dict, renamed to slot names.
//   from_slots: the slot entries of a checkpoint, renamed to an eager optimizer's names (its
//               hyper-parameters are then added from `optimizer_now`, the optimizer to load into).
StateDict to_slots(const StateDict& optimizer_state, const std::vector<std::string>& param_names);
StateDict from_slots(const StateDict& checkpoint, const std::vector<std::string>& param_names,
                     const StateDict& optimizer_now);

}  // namespace tandem::graph::train
