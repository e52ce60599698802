// autograd/dot.h — drawing the eager tape as a picture (Graphviz DOT).
//
// After `loss = sum(relu(x.matmul(w) + b))` the tape is a chain of Nodes hanging off
// loss.grad_fn().
// Printing it as text is hard to follow; drawing it is not:
//
//        w (3, 2)              lightblue: leaves, the tensors the user asked gradients for
//            │      x (4, 3) ┄┄ orange: a value MatmulBackward0 saved for backward
//     MatmulBackward0 ┄┄ w      grey boxes: the recorded ops (backward Nodes)
//            │        b (2,)
//       AddBackward0 ◄──┘
//            │
//      ReluBackward0 ┄┄ output  (relu saves its own output: dx = g*[y>0])
//            │
//       SumBackward0
//            │
//       loss ()                 darkolivegreen1: the tensor the drawing starts from
//
// Edges run in the direction data flowed forward (from leaves towards the loss); backward() walks
// them the other way. The orange nodes show the memory a training step holds until backward: mul
// and matmul keep both inputs, add keeps nothing. After a backward without retain_graph, those
// saved values are freed, and the drawing says so.
//
// The conventions are torchviz's (PyTorch's make_dot), so a drawing from Tandem and one from
// PyTorch can be compared side by side. Graph mode draws its static graphs with the same DotStyle,
// so both paradigms' pictures share fonts and colours. See docs/drawings.md for how to render.
//
// Read next: autograd/dot.cpp (the walk), examples/02_eager_tape.cpp (a drawing, start to end).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/shape.h"
#include "core/tensor.h"

namespace tandem {

// ---- style, shared by the eager tape and graph mode's drawings ---------------------------------

// Every colour, shape and font of Tandem's drawings, in one place. The first group follows
// torchviz; the second is the convention for static graphs (TensorBoard's shapes, torchviz's
// colours), used by graph mode.
struct DotStyle {
  // Graph-wide.
  const char* font = "monospace";
  const char* font_size = "10";
  const char* size = "12,12";         // Graphviz's maximum drawing size, in inches
  // The eager tape (torchviz).
  const char* node_fill = "lightgrey";        // backward Nodes: grey boxes
  const char* leaf_fill = "lightblue";        // leaves that require grad
  const char* saved_fill = "orange";          // values saved for backward, dir=none edges
  const char* freed_fill = "white";           // ... once backward has freed them (dashed)
  const char* output_fill = "darkolivegreen1";  // the tensor drawn from (the loss)
  // Static graphs.
  const char* op_shape = "ellipse";           // an op: "op_type\nname"
  const char* placeholder_shape = "invhouse";
  const char* placeholder_fill = "lightyellow";
  const char* variable_fill = "lightblue";     // variables are the graph's leaves
  const char* constant_shape = "circle";
  const char* gradient_fill = "lightgrey";     // gradient ops, inside cluster_gradients
  const char* control_edge = "dashed";
};

inline constexpr DotStyle kDotStyle{};

// A DOT string literal: "..." with `"` and `\` escaped and line breaks turned into \n, so any text
// (a user's name for a tensor, say) can be a label or an ID.
std::string dot_quote(const std::string& text);

// A shape as PyTorch prints a size tuple: (4, 3), (2,), () for a scalar, ? for an unknown size.
std::string dot_shape(const Shape& shape);

// The opening lines of a digraph in Tandem's style (fonts, sizes, default node attributes),
// up to and including the `{`; the caller writes nodes and edges, then "}\n".
std::string dot_header(const std::string& graph_name, const DotStyle& style = kDotStyle);

// What draw_tape (and graph mode's drawing) did: the files written, and whether the picture was
// rendered. `message` says it in a sentence fit to print.
struct DotRender {
  std::string dot_path;
  std::string svg_path;  // empty when nothing was rendered
  bool rendered = false;
  std::string message;
};

// Writes `dot_text` to `path` + ".dot" and, when Graphviz's `dot` program is installed, renders
// `path` + ".svg" with `dot -Tsvg`. A missing `dot` is not an error (the .dot file is still
// written, and message says how to get the picture); a file that cannot be written is.
DotRender write_and_render(const std::string& dot_text, const std::string& path);

// ---- the eager tape ----------------------------------------------------------------------------

struct DotOptions {
  // Names to print instead of anonymous shapes: {{"w", w}, {"b", b}, {"loss", loss}}. A name finds
  // its tensor by identity (the same handle, or a view of the same storage with the same shape,
  // strides and offset), whether it is a leaf, an input saved for backward, or an op's result.
  std::vector<std::pair<std::string, Tensor>> names = {};
  bool show_saved = true;  // draw the values each Node saved for backward (orange)
  std::string title = {};  // a caption under the drawing; none when empty
  DotStyle style = kDotStyle;
};

// The tape that produced `root`, as Graphviz DOT text. Node IDs are numbered in the order the
// walk meets them (fn0, fn1..., leaf0..., saved0...), so the same tape always gives the same text.
// A root that does not require grad draws as a single node saying it has no tape.
std::string tape_to_dot(const Tensor& root, const DotOptions& options = {});

// tape_to_dot, written to `path`.dot and rendered to `path`.svg when Graphviz is installed:
//   draw_tape(loss, "eager_tape")  ->  eager_tape.dot, eager_tape.svg
DotRender draw_tape(const Tensor& root, const std::string& path, const DotOptions& options = {});

}  // namespace tandem
