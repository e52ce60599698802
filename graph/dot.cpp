// graph/dot.cpp — a graph (or a Plan) as Graphviz DOT: one line per node, one per edge.
//
// TWO STEPS. A Graph and a Plan are drawn by the same code: each is first turned into a flat list
// of Items (what to draw: kind, label, static shape, inputs by item index), then the Items are
// written out. Only the first step differs between the two.
//
// GROUPING. Graphviz draws a subgraph as a box when its name starts with "cluster". Items are
// split in two: the forward ones at top level, the gradient ones inside `cluster_gradients`. In
// each half, the name scopes (the parts of a name before its last '/') form a tree, written as
// nested clusters. Gradient nodes all live under the "gradients/" scope (gradients() opens it), so
// inside cluster_gradients that first level is left out: the box already says "gradients".
//
// EDGES are written after all the nodes, at top level: an edge may cross from one box to another,
// and Graphviz places a node in the cluster where it is first declared, not where it is used.
//
// Read next: examples/03_graph_vs_tape.cpp.
#include "graph/dot.h"

#include <cstdio>
#include <sstream>
#include <unordered_map>

#include "graph/control_flow.h"

namespace tandem::graph {

namespace {

// What one drawn node is, whichever structure it came from.
struct Item {
  std::string id;    // "n3" (graph node 3) or "s3" (plan step 3)
  Kind kind = Kind::op;
  std::string type;  // "MatMul", "Fused[Add,Relu]"
  std::string name;  // "dense/MatMul"
  std::string shown_name;  // a name given in the options, shown instead of the last part of `name`
  Meta meta;
  bool gradient = false;     // made by gradients(): grey, inside cluster_gradients
  bool highlighted = false;  // an output the drawing is about: green
  bool fed = false;          // a Plan step whose value is fed: drawn as a placeholder
  Tensor value;              // constants: shown when it is a single number
  std::vector<int> inputs;   // item indices
  std::vector<int> control;  // item indices
  // A control node (cond / while_loop): each body's results, drawn as dotted edges into it labelled
  // with the body's role ("true branch", "body"...): what the node runs.
  std::vector<std::pair<int, std::string>> bodies;
};

// Forward ops and constants are plain white: the colours of DotStyle mark everything else.
constexpr const char* kForwardFill = "white";

std::string meta_str(const Meta& m) { return dot_shape(m.shape) + " " + to_string(m.dtype); }

// The value of a one-element constant, short: "2", "0.5", "1e-08", "true".
std::string scalar_str(const Tensor& t) {
  const double v = t.cpu().item<double>();  // a session on a GPU holds its constants there
  if (t.dtype() == kBool) return v != 0 ? "true" : "false";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// "dense/MatMul" -> {"dense"}; "MatMul" -> {}.
std::vector<std::string> scope_path(const std::string& name) {
  std::vector<std::string> path;
  size_t start = 0;
  for (size_t slash; (slash = name.find('/', start)) != std::string::npos; start = slash + 1)
    path.push_back(name.substr(start, slash - start));
  return path;
}

std::string local_name(const std::string& name) { return name.substr(name.rfind('/') + 1); }

class Drawer {
 public:
  Drawer(const std::vector<Item>& items, const GraphDotOptions& options)
      : items_(items), opt_(options), s_(options.style) {}

  std::string draw(const std::string& graph_name) {
    std::ostringstream os;
    os << dot_header(graph_name, s_);
    if (!opt_.title.empty()) os << "  label=" << dot_quote(opt_.title) << ";\n  labelloc=b;\n";

    // The two halves, each a tree of scopes.
    std::vector<int> forward, gradient;
    for (size_t i = 0; i < items_.size(); ++i)
      (items_[i].gradient ? gradient : forward).push_back(static_cast<int>(i));
    write_tree(os, forward, /*skip_gradients_scope=*/false, "  ");
    if (!gradient.empty()) {
      os << "  subgraph cluster_gradients {\n"
         << "    label=\"gradients\";\n    style=\"rounded,dashed\";\n    color=grey50;\n";
      write_tree(os, gradient, /*skip_gradients_scope=*/true, "    ");
      os << "  }\n";
    }

    // Edges: data edges labelled with what flows on them; control edges dashed and unlabelled.
    for (const Item& it : items_) {
      for (int in : it.inputs) {
        std::string label = " ";  // a space keeps the label off the line
        label += meta_str(items_[in].meta);
        os << "  " << items_[in].id << " -> " << it.id << " [label=" << dot_quote(label) << "];\n";
      }
      for (int c : it.control)
        os << "  " << items_[c].id << " -> " << it.id << " [style=" << s_.control_edge << "];\n";
      for (const auto& [from, role] : it.bodies)
        os << "  " << items_[from].id << " -> " << it.id << " [style=dotted, label=" << dot_quote(" " + role) << "];\n";
    }
    os << "}\n";
    return os.str();
  }

 private:
  struct Scope {
    std::string name;
    std::vector<int> children;  // indices into scopes_, in order of first appearance
    std::vector<int> items;
  };

  // Builds the scope tree of `members` and writes it: the root's items at `indent`, each child
  // scope as a cluster around its own items and sub-scopes.
  void write_tree(std::ostringstream& os, const std::vector<int>& members, bool skip_gradients_scope,
                  const std::string& indent) {
    scopes_.assign(1, Scope{});
    for (int i : members) {
      std::vector<std::string> path = opt_.scopes ? scope_path(items_[i].name) : std::vector<std::string>{};
      if (skip_gradients_scope && !path.empty() && path[0] == "gradients") path.erase(path.begin());
      int at = 0;
      for (const std::string& part : path) at = child(at, part);
      scopes_[at].items.push_back(i);
    }
    write_scope(os, 0, indent);
  }

  int child(int parent, const std::string& name) {
    for (int c : scopes_[parent].children)
      if (scopes_[c].name == name) return c;
    scopes_.push_back(Scope{name, {}, {}});
    const int c = static_cast<int>(scopes_.size()) - 1;
    scopes_[parent].children.push_back(c);
    return c;
  }

  // Recursion depth is the depth of name scopes ("a/b/c/..."), a handful in practice.
  void write_scope(std::ostringstream& os, int s, const std::string& indent) {
    for (int i : scopes_[s].items) write_node(os, items_[i], indent);
    for (int c : scopes_[s].children) {
      os << indent << "subgraph cluster_" << cluster_count_++ << " {\n"
         << indent << "  label=" << dot_quote(scopes_[c].name) << ";\n"
         << indent << "  style=rounded;\n" << indent << "  color=grey60;\n";
      write_scope(os, c, indent + "  ");
      os << indent << "}\n";
    }
  }

  void write_node(std::ostringstream& os, const Item& it, const std::string& indent) {
    const std::string name = !it.shown_name.empty() ? it.shown_name : opt_.scopes ? local_name(it.name) : it.name;
    std::string label, shape;
    std::string fill = it.gradient ? s_.gradient_fill : kForwardFill;
    if (it.fed || it.kind == Kind::placeholder) {
      label = name + "\n" + meta_str(it.meta) + (it.fed ? "\nfed" : "");
      shape = s_.placeholder_shape;
      fill = s_.placeholder_fill;
    } else if (it.kind == Kind::variable) {
      label = name + "\n" + meta_str(it.meta);
      shape = "box";
      fill = s_.variable_fill;
    } else if (it.kind == Kind::constant) {
      // A single number says more than its name ("2", "0.5"); a bigger constant shows its name.
      label = it.value.defined() && it.value.numel() == 1 ? scalar_str(it.value) : name;
      shape = std::string(s_.constant_shape) + ", width=0.3";
    } else if (it.kind == Kind::control) {
      // A cond is a diamond (a decision), a loop a double octagon; the bodies' boxes lead into it.
      label = it.type + "\n" + name;
      shape = it.type == "Cond" ? "diamond" : "doubleoctagon";
      if (!it.gradient) fill = "lightsalmon";
    } else {
      // "Type\nname", or just the type when the name says nothing more ("MatMul" named "MatMul").
      label = name == it.type ? name : it.type + "\n" + name;
      shape = s_.op_shape;
    }
    if (it.highlighted) fill = s_.output_fill;
    os << indent << it.id << " [label=" << dot_quote(label) << ", shape=" << shape
       << ", fillcolor=" << fill << "];\n";
  }

  const std::vector<Item>& items_;
  const GraphDotOptions& opt_;
  const DotStyle& s_;
  std::vector<Scope> scopes_;
  int cluster_count_ = 0;
};

// ---- from a Graph --------------------------------------------------------------------------------

std::vector<Item> graph_items(const Graph& g, const GraphDotOptions& opt) {
  const auto& nodes = g.nodes();
  // Which nodes to draw: all of them, or those the outputs reach walking backward. Creation order
  // is topological, so one pass from the last node to the first finds them all.
  std::vector<bool> keep(nodes.size(), !opt.only_needed);
  if (opt.only_needed) {
    for (const Output& o : opt.outputs)
      if (o.defined() && o.node()->graph == &g) keep[o.node()->id] = true;
    for (size_t i = nodes.size(); i-- > 0;) {
      if (!keep[i]) continue;
      for (const Output& in : nodes[i]->inputs)
        if (in.defined()) keep[in.node()->id] = true;
      for (const Node* c : nodes[i]->control_inputs) keep[c->id] = true;
      if (nodes[i]->flow)  // a cond or while_loop needs what its bodies compute (created before it)
        for (const auto& body : nodes[i]->flow->bodies)
          for (const Output& r : body->results) keep[r.node()->id] = true;
    }
  }
  if (!opt.show_gradients)
    for (size_t i = 0; i < nodes.size(); ++i) keep[i] = keep[i] && !nodes[i]->is_gradient;

  std::vector<int> index(nodes.size(), -1);  // node id -> item index
  int drawn = 0;  // numbered first: a body's node may read an Arg made after it (control_flow.h)
  for (size_t i = 0; i < nodes.size(); ++i)
    if (keep[i]) index[i] = drawn++;
  std::vector<Item> items;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!keep[i]) continue;
    const Node& n = *nodes[i];
    Item it;
    it.id = msg("n", n.id);
    it.kind = n.kind;
    it.type = n.type;
    it.name = n.name;
    it.meta = n.meta;
    it.gradient = n.is_gradient;
    if (n.kind == Kind::constant) it.value = n.value;
    for (const Output& o : opt.outputs) it.highlighted = it.highlighted || o.node() == &n;
    for (const auto& [shown, o] : opt.names)
      if (o.node() == &n) it.shown_name = shown;
    // An edge whose other end is not drawn (a gradient node, with show_gradients off) is left out.
    for (const Output& in : n.inputs)
      if (in.defined() && index[in.node()->id] >= 0) it.inputs.push_back(index[in.node()->id]);
    for (const Node* c : n.control_inputs)
      if (index[c->id] >= 0) it.control.push_back(index[c->id]);
    if (n.flow)
      for (const auto& body : n.flow->bodies)
        for (const Output& r : body->results)
          if (index[r.node()->id] >= 0) it.bodies.emplace_back(index[r.node()->id], body->role);
    items.push_back(std::move(it));
  }
  return items;
}

// ---- from a Plan -----------------------------------------------------------------------------------

std::vector<Item> plan_items(const Plan& plan) {
  std::vector<Item> items;
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const Step& s = plan.steps[i];
    Item it;
    it.id = msg("s", i);
    it.kind = s.kind;
    it.type = s.label;
    it.name = s.source ? s.source->name : s.label;
    it.meta = s.meta;
    it.gradient = s.source && s.source->is_gradient;
    if (s.kind == Kind::constant) it.value = s.value;
    it.inputs = s.inputs;
    it.control = s.control;
    items.push_back(std::move(it));
  }
  for (int f : plan.fetches) items[f].highlighted = true;
  for (int f : plan.feeds) items[f].fed = true;
  return items;
}

}  // namespace

std::string graph_to_dot(const Graph& g, const GraphDotOptions& options) {
  return Drawer(graph_items(g, options), options).draw("graph");
}

std::string plan_to_dot(const Plan& plan, const GraphDotOptions& options) {
  return Drawer(plan_items(plan), options).draw("plan");
}

DotRender draw_graph(const Graph& g, const std::string& path, const GraphDotOptions& options) {
  return write_and_render(graph_to_dot(g, options), path);
}

DotRender draw_plan(const Plan& plan, const std::string& path, const GraphDotOptions& options) {
  return write_and_render(plan_to_dot(plan, options), path);
}

}  // namespace tandem::graph
