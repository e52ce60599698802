// autograd/dot.cpp — the tape as Graphviz DOT: a walk over the Nodes, one line per thing drawn.
//
// THE WALK. Start at root.grad_fn() and follow each Node's edges (autograd/node.h: one Edge per
// input, to the Node that made it or to a leaf). A Node reached along two paths (the diamond
// b = a + a; c = b + b) is drawn once, so the walk remembers what it has met. It runs
// breadth-first with an explicit queue, not recursion: a tape may be 10^5 ops deep, far deeper
// than the C++ stack.
//
// IDS. Graphviz needs an ID per node. Pointers would do, but they change from run to run; instead
// each thing gets the next number of its kind when the walk first meets it (fn0 is always the
// root's Node), so the same program always prints the same text and a test can compare it.
//
// Read next: examples/02_eager_tape.cpp, docs/drawings.md.
#include "autograd/dot.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "autograd/derivatives.h"
#include "autograd/node.h"

namespace tandem {

// ---- shared helpers ----------------------------------------------------------------------------

std::string dot_quote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') out += "\\n";
    else out += c;
  }
  return out + "\"";
}

std::string dot_shape(const Shape& shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ", ";
    out += shape[i] == kUnknown ? std::string("?") : std::to_string(shape[i]);
  }
  if (shape.size() == 1) out += ",";  // a 1-tuple, as Python writes it: (3,)
  return out + ")";
}

std::string dot_header(const std::string& graph_name, const DotStyle& s) {
  std::ostringstream os;
  os << "digraph " << dot_quote(graph_name) << " {\n"
     << "  graph [size=" << dot_quote(s.size) << ", ranksep=0.1, fontname=" << dot_quote(s.font)
     << ", fontsize=" << s.font_size << "];\n"
     << "  node [style=filled, shape=box, height=0.2, fontname=" << dot_quote(s.font)
     << ", fontsize=" << s.font_size << "];\n"
     << "  edge [fontname=" << dot_quote(s.font) << ", fontsize=" << s.font_size << "];\n";
  return os.str();
}

namespace {

// 'text' for /bin/sh: single quotes, with any ' inside written as '\''.
std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a shell command, returning its exit status and what it printed (stdout and stderr).
std::pair<int, std::string> run_command(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return {-1, "could not start a shell"};
  std::array<char, 256> buf{};
  while (fgets(buf.data(), buf.size(), pipe)) output += buf.data();
  return {pclose(pipe), output};
}

}  // namespace

DotRender write_and_render(const std::string& dot_text, const std::string& path) {
  DotRender r;
  r.dot_path = path + ".dot";
  {
    std::ofstream out(r.dot_path);
    out << dot_text;
    if (!out.good())
      throw Error(msg("draw: could not write '", r.dot_path,
                      "'; check that its folder exists and is writable"));
  }
  if (std::system("command -v dot >/dev/null 2>&1") != 0) {
    r.message = msg("wrote ", r.dot_path, "; Graphviz's `dot` program is not installed, so no ",
                    "picture was rendered (install the graphviz package, then run: dot -Tsvg ",
                    r.dot_path, " -o ", path, ".svg)");
    return r;
  }
  const std::string svg = path + ".svg";
  auto [status, output] =
      run_command("dot -Tsvg " + shell_quote(r.dot_path) + " -o " + shell_quote(svg));
  if (status != 0) {
    r.message =
        msg("wrote ", r.dot_path, "; `dot -Tsvg` failed, so no picture was rendered: ", output);
    return r;
  }
  r.svg_path = svg;
  r.rendered = true;
  r.message = msg("wrote ", r.dot_path, " and ", svg);
  return r;
}

// ---- the tape ----------------------------------------------------------------------------------

namespace {

using autograd::Node;

// True when `a` and `b` read the same elements: the same handle, or two handles of one view (a
// saved value is such a second handle: same storage, shape, strides and offset, no history).
bool same_view(const Tensor& a, const Tensor& b) {
  if (a.is_same(b)) return true;
  return a.storage() == b.storage() && a.offset() == b.offset() && a.shape() == b.shape() &&
         a.strides() == b.strides() && a.dtype() == b.dtype();
}

class TapeDrawer {
 public:
  explicit TapeDrawer(const DotOptions& options) : opt_(options), s_(options.style) {
    // A named tensor that was made by an op lends its name to that op's Node.
    for (const auto& [name, t] : opt_.names)
      if (t.defined() && t.grad_fn()) node_names_.emplace(t.grad_fn().get(), name);
  }

  std::string draw(const Tensor& root) {
    std::ostringstream os;
    os << dot_header("tape", s_);
    if (!opt_.title.empty()) os << "  label=" << dot_quote(opt_.title) << ";\n  labelloc=b;\n";
    if (!root.defined() || !root.requires_grad()) {
      os << "  empty [label=" << dot_quote("no tape: this tensor does not require grad")
         << ", style=dashed];\n}\n";
      return os.str();
    }
    if (!root.grad_fn()) {  // a leaf: the whole tape is the tensor itself
      leaf_id(root.impl_ptr().get(), root);
      os << nodes_.str() << "}\n";
      return os.str();
    }
    node_names_.erase(root.grad_fn().get());  // the root's name goes on the output node instead
    walk(root.grad_fn());
    const std::string label = name_or(root, "output") + "\n" + meta_str(root.shape(), root.dtype());
    nodes_ << "  out [label=" << dot_quote(label) << ", fillcolor=" << s_.output_fill << "];\n";
    edges_ << "  fn0 -> out;\n";
    os << nodes_.str() << edges_.str() << "}\n";
    return os.str();
  }

 private:
  // Breadth-first over the Nodes: draw each one, its saved values, and an edge from each input.
  void walk(const std::shared_ptr<Node>& root_fn) {
    std::vector<const Node*> queue{root_fn.get()};
    fn_ids_.emplace(root_fn.get(), "fn0");
    for (size_t head = 0; head < queue.size(); ++head) {
      const Node& n = *queue[head];
      const std::string& id = fn_ids_.at(&n);
      draw_node(n, id);
      for (size_t i = 0; i < n.next.size(); ++i) {
        const autograd::Edge& e = n.next[i];
        if (e.node) {
          auto [it, is_new] = fn_ids_.emplace(e.node.get(), "fn" + std::to_string(fn_ids_.size()));
          if (is_new) queue.push_back(e.node.get());
          edges_ << "  " << it->second << " -> " << id << ";\n";
        } else if (auto leaf = e.leaf.lock()) {
          edges_ << "  " << leaf_id(leaf.get(), Tensor(leaf)) << " -> " << id << ";\n";
        }
        // Neither: the input did not require grad (data, a constant) and has no place on the tape.
      }
    }
  }

  void draw_node(const Node& n, const std::string& id) {
    std::string label = n.name() + "\n";
    if (const std::string name = node_name(&n); !name.empty()) label += name + ": ";
    label += meta_str(n.output_meta.shape, n.output_meta.dtype);
    nodes_ << "  " << id << " [label=" << dot_quote(label) << ", fillcolor=" << s_.node_fill
           << "];\n";
    if (!opt_.show_saved || !n.rule) return;
    // Which values the Node saves is its row of the derivative sheet; after release() the
    // optionals are empty, but the row still says what was there.
    for (size_t i = 0; i < n.next.size() && i < 32; ++i)
      if (n.rule->saves_inputs & (1u << i)) {
        const auto& saved = n.saved_inputs[i];
        std::string who = saved ? saved_name(*saved) : input_name(n.next[i]);
        draw_saved(id, "input " + std::to_string(i) + (who.empty() ? "" : ": " + who),
                   n.input_meta[i].shape, !saved.has_value());
      }
    if (n.rule->saves_output) {
      const std::string name = node_name(&n);
      draw_saved(id, "output" + (name.empty() ? "" : ": " + name), n.output_meta.shape,
                 !n.saved_output.has_value());
    }
  }

  void draw_saved(const std::string& fn_id, const std::string& what, const Shape& shape,
                  bool freed) {
    const std::string id = "saved" + std::to_string(saved_count_++);
    const std::string label = what + "\n" + dot_shape(shape) + (freed ? "\nfreed" : "");
    nodes_ << "  " << id << " [label=" << dot_quote(label)
           << ", fillcolor=" << (freed ? s_.freed_fill : s_.saved_fill)
           << (freed ? ", style=\"filled,dashed\"" : "") << "];\n";
    edges_ << "  " << id << " -> " << fn_id << " [dir=none];\n";
  }

  // The ID of a leaf, drawing it the first time it is met.
  std::string leaf_id(const TensorImpl* impl, const Tensor& t) {
    auto [it, is_new] = leaf_ids_.emplace(impl, "leaf" + std::to_string(leaf_ids_.size()));
    if (is_new) {
      const std::string name = name_or(t, "");
      const std::string label = (name.empty() ? "" : name + "\n") + meta_str(t.shape(), t.dtype());
      nodes_ << "  " << it->second << " [label=" << dot_quote(label)
             << ", fillcolor=" << s_.leaf_fill << "];\n";
    }
    return it->second;
  }

  // The name of the input an edge comes from, when the saved value itself is gone.
  std::string input_name(const autograd::Edge& e) const {
    if (auto leaf = e.leaf.lock()) return name_or(Tensor(leaf), "");
    return e.node ? node_name(e.node.get()) : std::string();
  }

  // The name of a saved input. The saved value is a second handle on the input's elements with no
  // history, so it is traced back to where it came from: a leaf, a Node, or (for data that
  // requires no grad) the named tensor whose elements it shares.
  std::string saved_name(const autograd::SavedTensor& saved) const {
    if (auto leaf = saved.leaf.lock()) return name_or(Tensor(leaf), "");
    if (saved.grad_fn) return node_name(saved.grad_fn.get());
    for (const auto& [name, named] : opt_.names)
      if (named.defined() && same_view(named, saved.data)) return name;
    return "";
  }

  std::string node_name(const Node* n) const {
    auto it = node_names_.find(n);
    return it == node_names_.end() ? std::string() : it->second;
  }

  std::string name_or(const Tensor& t, const std::string& fallback) const {
    for (const auto& [name, named] : opt_.names)
      if (named.is_same(t)) return name;
    return fallback;
  }

  static std::string meta_str(const Shape& shape, DType dtype) {
    return dot_shape(shape) + " " + to_string(dtype);
  }

  const DotOptions& opt_;
  const DotStyle& s_;
  std::unordered_map<const Node*, std::string> node_names_;
  std::unordered_map<const Node*, std::string> fn_ids_;
  std::unordered_map<const TensorImpl*, std::string> leaf_ids_;
  int saved_count_ = 0;
  std::ostringstream nodes_, edges_;
};

}  // namespace

std::string tape_to_dot(const Tensor& root, const DotOptions& options) {
  return TapeDrawer(options).draw(root);
}

DotRender draw_tape(const Tensor& root, const std::string& path, const DotOptions& options) {
  return write_and_render(tape_to_dot(root, options), path);
}

}  // namespace tandem
