// io/state_dict.cpp — the ordered map, and load_state_dict: compare everything, then copy.
#include "io/state_dict.h"

#include <ostream>

#include "autograd/grad_mode.h"
#include "io/checkpoint.h"

namespace tandem {

namespace {

// '"a", "b"' — PyTorch's way of listing keys in its message.
std::string quoted(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "\"" : ", \"") + n + "\"";
  return s;
}

// "['a', 'b']" — Python's repr of a list of strings, for the report's own printing.
std::string python_list(const std::vector<std::string>& names) {
  std::string s = "[";
  for (const std::string& n : names) s += (s.size() == 1 ? "'" : ", '") + n + "'";
  return s + "]";
}

}  // namespace

// ---- the ordered map --------------------------------------------------------------------------------

StateDict::StateDict(std::initializer_list<Entry> entries) {
  for (const auto& [name, t] : entries) insert(name, t);
}

StateDict::StateDict(const std::vector<std::string>& names, const std::vector<Tensor>& tensors) {
  if (names.size() != tensors.size())
    throw Error(msg("StateDict: ", names.size(), " names for ", tensors.size(), " tensors; give one name per tensor"));
  for (size_t k = 0; k < names.size(); ++k) insert(names[k], tensors[k]);
}

void StateDict::insert(const std::string& name, const Tensor& value) {
  if (name.empty()) throw Error("StateDict: an entry needs a name (got an empty one)");
  if (!value.defined()) throw Error(msg("StateDict: the tensor for '", name, "' is undefined"));
  if (contains(name))
    throw Error(msg("StateDict: the name '", name, "' is already taken; every tensor needs its own name "
                    "(use set() to replace an entry)"));
  index_[name] = entries_.size();
  entries_.emplace_back(name, value);
}

void StateDict::set(const std::string& name, const Tensor& value) {
  auto it = index_.find(name);
  if (it == index_.end()) return insert(name, value);
  if (!value.defined()) throw Error(msg("StateDict: the tensor for '", name, "' is undefined"));
  entries_[it->second].second = value;
}

const Tensor& StateDict::at(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) {
    std::vector<std::string> some = names();
    const size_t shown = std::min<size_t>(some.size(), 10);
    std::string list = quoted({some.begin(), some.begin() + static_cast<std::ptrdiff_t>(shown)});
    if (shown < some.size()) list += msg(" and ", some.size() - shown, " more");
    throw Error(msg("StateDict: no tensor named \"", name, "\"; the names are ", list.empty() ? "none" : list));
  }
  return entries_[it->second].second;
}

bool StateDict::erase(const std::string& name) {
  auto it = index_.find(name);
  if (it == index_.end()) return false;
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(it->second));
  index_.clear();
  for (size_t k = 0; k < entries_.size(); ++k) index_[entries_[k].first] = k;
  return true;
}

std::vector<std::string> StateDict::names() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.first);
  return out;
}

StateDict StateDict::with_prefix(const std::string& prefix) const {
  StateDict out;
  for (const auto& [name, t] : entries_) out.insert(prefix + name, t);
  return out;
}

StateDict StateDict::under(const std::string& prefix) const {
  StateDict out;
  for (const auto& [name, t] : entries_)
    if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0)
      out.insert(name.substr(prefix.size()), t);
  return out;
}

void StateDict::update(const StateDict& other) {
  for (const auto& [name, t] : other) insert(name, t);
}

StateDict StateDict::clone() const {
  StateDict out;
  for (const auto& [name, t] : entries_) out.insert(name, t.detach().cpu().clone());
  return out;
}

void StateDict::save(const std::string& path) const {
  io::Checkpoint c;  // the tensors, and no metadata
  c.tensors = *this;
  io::save_checkpoint(c, path);
}

StateDict StateDict::load(const std::string& path) { return io::load_checkpoint(path).tensors; }

// ---- load_state_dict ----------------------------------------------------------------------------------

LoadReport compare_state_dicts(const StateDict& destination, const StateDict& source) {
  LoadReport r;
  for (const auto& [name, t] : destination) {
    if (!source.contains(name)) {
      r.missing_keys.push_back(name);
      continue;
    }
    const Tensor& from = source.at(name);
    if (from.shape() != t.shape()) r.size_mismatches.push_back({name, from.shape(), t.shape()});
  }
  for (const auto& [name, t] : source)
    if (!destination.contains(name)) r.unexpected_keys.push_back(name);
  return r;
}

std::string LoadReport::message(const std::string& owner, bool strict) const {
  std::string lines;
  if (strict && !missing_keys.empty()) lines += "\n\tMissing key(s) in state_dict: " + quoted(missing_keys) + ". ";
  if (strict && !unexpected_keys.empty())
    lines += "\n\tUnexpected key(s) in state_dict: " + quoted(unexpected_keys) + ". ";
  for (const SizeMismatch& m : size_mismatches)
    lines += msg("\n\tsize mismatch for ", m.name, ": copying a param with shape ", shape_str(m.in_checkpoint),
                 " from checkpoint, the shape in current model is ", shape_str(m.in_model), ".");
  return lines.empty() ? "" : "Error(s) in loading state_dict for " + owner + ":" + lines;
}

std::ostream& operator<<(std::ostream& os, const LoadReport& r) {
  if (r.missing_keys.empty() && r.unexpected_keys.empty()) return os << "<All keys matched successfully>";
  return os << "_IncompatibleKeys(missing_keys=" << python_list(r.missing_keys)
            << ", unexpected_keys=" << python_list(r.unexpected_keys) << ")";
}

LoadReport load_state_dict(const StateDict& destination, const StateDict& source, bool strict,
                           const std::string& owner) {
  // 1. Compare everything; refuse before touching anything.
  LoadReport report = compare_state_dicts(destination, source);
  const std::string problems = report.message(owner, strict);
  if (!problems.empty())
    throw Error(problems + "\nNothing was loaded: the " + owner + " is unchanged. Compare the names with "
                "StateDict::names(), or pass strict = false to load the keys that match");
  // 2. Copy. copy_ converts the dtype and moves to the parameter's device; no_grad, because
  //    writing a leaf that requires grad is only allowed outside the tape (as an optimizer does).
  no_grad loading;
  for (const auto& [name, t] : destination)
    if (source.contains(name)) t.copy_(source.at(name));
  return report;
}

}  // namespace tandem
