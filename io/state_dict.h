// io/state_dict.h — StateDict: a model's (or an optimizer's) state as named tensors, and loading it.
//
// PyTorch saves a model as its state_dict: an ordered map from dotted names to tensors,
//
//     fc1.weight  [256, 784]      fc1.bias  [256]      fc2.weight  [10, 256]      fc2.bias  [10]
//
// and loads it back with model.load_state_dict(sd), which matches the names and copies the values
// in. Nothing in the file says how the model is built: the program builds the model, the file
// fills it. A StateDict here is that map; the names are yours to choose (a Module will choose
// "fc1.weight" for you), and it saves to and loads from one file (docs/checkpoint_format.md):
//
//     StateDict sd = {{"fc1.weight", w1}, {"fc1.bias", b1}};   // torch: model.state_dict()
//     sd.save("model.tckpt");                                  // torch.save(sd, "model.pt")
//     load_state_dict(sd, StateDict::load("model.tckpt"));     // model.load_state_dict(torch.load(...))
//
// The tensors in a StateDict are handles, not copies: a StateDict made from a model's parameters
// *is* a view of the model (as PyTorch's state_dict shares storage with the parameters), and
// load_state_dict(model_sd, loaded) writes into the model through it. save() snapshots the values
// at that moment; clone() makes an in-memory snapshot.
//
// LOADING IS ALL OR NOTHING. load_state_dict first compares everything — every name, every shape —
// and only if the load can succeed does it copy anything: a failed load leaves the model exactly
// as it was. (PyTorch copies the keys that match as it goes and raises at the end, so a model that
// failed to load is half new and half old.) The report and its message are PyTorch's:
//
//     Error(s) in loading state_dict for model:
//         Missing key(s) in state_dict: "fc2.bias".
//         Unexpected key(s) in state_dict: "fc3.weight".
//         size mismatch for fc1.weight: copying a param with shape [256, 784] from checkpoint, the
//         shape in current model is [128, 784].
//
// Read next: io/checkpoint.h (the file, and what else a checkpoint holds), optim/optim.h
// (an optimizer's state_dict), io/saver.h (graph mode's Saver).
#pragma once

#include <initializer_list>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace tandem {

class StateDict {
 public:
  using Entry = std::pair<std::string, Tensor>;

  StateDict() = default;
  StateDict(std::initializer_list<Entry> entries);
  // Names and tensors side by side: StateDict({"w", "b"}, {w, b}) — how a parameter list gets names.
  StateDict(const std::vector<std::string>& names, const std::vector<Tensor>& tensors);

  // Adds a new name at the end; a name already present, an empty name or an undefined tensor is an
  // error (two tensors under one name would silently lose one).
  void insert(const std::string& name, const Tensor& value);
  // Adds or replaces (a replaced entry keeps its place), as `sd["name"] = t` does in Python.
  void set(const std::string& name, const Tensor& value);
  bool contains(const std::string& name) const { return index_.count(name) > 0; }
  // The tensor under `name`; a missing name is an error listing the names there are.
  const Tensor& at(const std::string& name) const;
  // Removes `name` (false if it was not there), keeping the others' order.
  bool erase(const std::string& name);

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  std::vector<std::string> names() const;
  // In insertion order: for (const auto& [name, tensor] : sd).
  std::vector<Entry>::const_iterator begin() const { return entries_.begin(); }
  std::vector<Entry>::const_iterator end() const { return entries_.end(); }

  // Nested state, flattened: with_prefix("model.") puts every name under "model."; under("model.")
  // takes the entries whose names start with "model.", without it. One file can so hold a model
  // and an optimizer, as PyTorch's {"model": ..., "optimizer": ...} dictionary does.
  StateDict with_prefix(const std::string& prefix) const;
  StateDict under(const std::string& prefix) const;
  // Adds every entry of `other` (insert(): a name in both is an error).
  void update(const StateDict& other);
  // A deep copy: new tensors on the CPU, detached, that later training does not change.
  StateDict clone() const;

  // The file (docs/checkpoint_format.md): save goes through io::write_file_atomic (a crash never
  // leaves half a file); load checks everything before it believes anything (io/checkpoint.h).
  // Loaded tensors are on the CPU; load_state_dict copies them to wherever the model is.
  void save(const std::string& path) const;
  static StateDict load(const std::string& path);

 private:
  std::vector<Entry> entries_;
  std::unordered_map<std::string, size_t> index_;  // name -> position in entries_
};

// ---- loading a StateDict into another: PyTorch's load_state_dict(strict) --------------------------

// One tensor whose shape in the file differs from the model's.
struct SizeMismatch {
  std::string name;
  Shape in_checkpoint, in_model;
};

// What comparing a state_dict with a model found (PyTorch's _IncompatibleKeys, plus size
// mismatches, which PyTorch reports in its error message).
struct LoadReport {
  std::vector<std::string> missing_keys;     // the model has them, the state_dict does not
  std::vector<std::string> unexpected_keys;  // the state_dict has them, the model does not
  std::vector<SizeMismatch> size_mismatches;
  bool all_keys_matched() const { return missing_keys.empty() && unexpected_keys.empty() && size_mismatches.empty(); }
  // PyTorch's text: "Error(s) in loading state_dict for <owner>:\n\tMissing key(s) ..." — the
  // lines that count under `strict` (missing and unexpected keys only when strict).
  std::string message(const std::string& owner, bool strict = true) const;
};
// "<All keys matched successfully>" or "_IncompatibleKeys(missing_keys=[...], unexpected_keys=[...])".
std::ostream& operator<<(std::ostream& os, const LoadReport& report);

// What loading `source` into `destination` would find, without changing anything. Only names and
// shapes are compared: a dtype is converted on copy, as PyTorch's copy_ does.
LoadReport compare_state_dicts(const StateDict& destination, const StateDict& source);

// Copies every tensor of `source` into the tensor of the same name in `destination` (in place,
// under no_grad: the parameters stay the same objects, on their own device and dtype). Checks
// first, copies after: on any error nothing was copied. Size mismatches are always errors;
// missing and unexpected keys are errors when `strict`, and otherwise only reported. `owner`
// names the model in the message ("Error(s) in loading state_dict for <owner>").
LoadReport load_state_dict(const StateDict& destination, const StateDict& source, bool strict = true,
                           const std::string& owner = "model");

}  // namespace tandem
