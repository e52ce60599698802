// tests/test_bad_inputs.cpp — Tandem's errors, one bad input at a time: a catalogue to learn from.
//
// "Errors are lessons": every mistake below raises a tandem::Error — or the subclass that names its
// family, so a program (or a student) can catch one kind: ShapeError (sizes that do not fit),
// DTypeError (a dtype an op cannot take), IndexError (an index or dimension out of range),
// OutOfMemoryError (more than the device holds). Nothing crashes, nothing is silently wrong.
//
// Each case is one line:   BAD(ErrorClass, the call, "the op's name", "what to do", ...)
// and checks that the call throws that class and that the message contains every piece given:
// first the op (or function, or file) it names, then the words that tell the user what to do.
// Read a section to see what its family of mistakes looks like:
//
//   shapes · dtypes · indices and dimensions · graph mode · autograd · numerics · memory · files
//
// The same file runs under AddressSanitizer and UndefinedBehaviorSanitizer in CI (.ci/run), where
// "nothing crashes" is checked to the byte.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "autograd/gradcheck.h"
#include "core/threads.h"
#include "data/idx.h"
#include "io/graph_file.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;
namespace fs = std::filesystem;

namespace {

// Runs `call`, which must throw E; every piece of `says` must appear in the message.
template <class E, class F>
void expect(const char* what, F&& call, std::initializer_list<const char*> says) {
  INFO("the call: " << what);
  try {
    call();
  } catch (const E& e) {
    for (const char* piece : says) CHECK_THAT(e.what(), Catch::Contains(piece));
    return;
  } catch (const std::exception& e) {
    FAIL_CHECK("threw the wrong class of error: " << e.what());
    return;
  }
  FAIL_CHECK("threw nothing");
}

#define BAD(E, call, ...) expect<E>(#call, [&] { (void)(call); }, {__VA_ARGS__})

// A scratch folder for the file cases, removed at the end of the test.
struct Scratch {
  fs::path dir = fs::temp_directory_path() / ("tandem_bad_inputs_" + std::to_string(::getpid()));
  Scratch() { fs::create_directories(dir); }
  ~Scratch() { fs::remove_all(dir); }
  std::string file(const std::string& name, const std::string& bytes) const {
    const fs::path p = dir / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }
};

// An IDX header: dtype code, then the sizes, big-endian.
std::string idx_header(std::initializer_list<uint32_t> dims, unsigned char type = 0x08) {
  std::string h = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) h += static_cast<char>((d >> shift) & 0xff);
  return h;
}

constexpr int64_t k2p32 = int64_t{1} << 32;
constexpr int64_t k2p40 = int64_t{1} << 40;
constexpr int64_t k2p62 = int64_t{1} << 62;

}  // namespace

// ---- shapes: sizes that do not fit ------------------------------------------------------------

TEST_CASE("bad inputs: shapes that cannot exist", "[errors][bad_inputs]") {
  BAD(ShapeError, zeros({-1}), "zeros", "negative dimension -1: [-1]", "must be >= 0");
  BAD(ShapeError, ones({2, -3}), "ones", "negative dimension -3: [2, -3]");
  BAD(ShapeError, full({-2}, 1.0), "full", "negative dimension");
  BAD(ShapeError, rand({3, -1}), "rand", "negative dimension");
  BAD(ShapeError, empty({k2p62}), "empty", "too large", "Check the sizes");
  BAD(ShapeError, zeros({k2p32, k2p32}), "zeros", "[4294967296, 4294967296]", "too large");
  BAD(ShapeError, randn({k2p40, k2p40}), "randn", "too large");
  BAD(ShapeError, zeros({0, k2p62, 4}), "zeros", "too large");  // no elements, but its strides overflow
  BAD(ShapeError, eye(-1), "eye()", "must be greater or equal to 0");
  BAD(ShapeError, eye(2, -5), "eye()", "m must be greater or equal to 0");
  BAD(ShapeError, arange(0.0, 1e30), "arange()", "possible overflow", "Check the bounds");
  BAD(ShapeError, from_vector(std::vector<float>{1, 2, 3}, {2, 2}), "from_vector()", "3 values",
      "as many values as");
  BAD(ShapeError, from_vector(std::vector<float>{}, {k2p32, k2p32}), "from_vector", "too large");
  BAD(ShapeError, tensor({{1.f, 2.f}, {3.f}}), "tensor()", "ragged", "expected sequence of length 2");
}

TEST_CASE("bad inputs: shapes that do not fit together", "[errors][bad_inputs]") {
  const Tensor a = ones({2, 3}), b = ones({4, 5});
  BAD(ShapeError, ones({3}) + ones({4}), "add", "cannot be broadcast", "Sizes must be equal, or one of them 1");
  BAD(ShapeError, ones({2, 3}) * ones({3, 2}), "mul", "cannot be broadcast");
  BAD(ShapeError, matmul(a, b), "matmul", "cannot be multiplied", "did you mean to transpose");
  BAD(ShapeError, matmul(tensor(1.f), a), "matmul", "at least 1D");
  BAD(ShapeError, matmul(ones({2, 2, 3}), ones({3, 3, 4})), "matmul", "batch dimensions");
  BAD(ShapeError, a.reshape({4}), "reshape", "invalid for input of size 6", "the number of elements must stay the same");
  BAD(ShapeError, a.reshape({-1, -1}), "reshape", "only one dimension can be inferred");
  BAD(ShapeError, a.reshape({3, -2}), "reshape", "invalid shape dimension -2");
  BAD(ShapeError, a.reshape({k2p40, k2p40, 0}), "reshape", "multiply to more than int64");
  BAD(ShapeError, a.t().view({6}), "view(", "use .reshape(...) instead");
  BAD(ShapeError, ones({3}).expand({4}), "expand", "must match the existing size");
  BAD(ShapeError, ones({2, 3}).expand({3}), "expand", "number of sizes provided");
  BAD(ShapeError, ones({1}).expand({k2p40, k2p40}), "expand", "too large");
  BAD(ShapeError, cat({a, b}), "cat", "sizes of tensors must match except in dimension");
  BAD(ShapeError, cat(std::vector<Tensor>{}), "cat", "non-empty list");
  BAD(ShapeError, stack({a, b}), "stack", "equal size");
  BAD(ShapeError, a.permute({0}), "permute", "number of dims");
  BAD(ShapeError, a.permute({1, 1}), "permute", "repeated dim");
  BAD(ShapeError, ones({2, 2, 2}).t(), "t()", "use transpose(dim0, dim1)");
  BAD(ShapeError, conv2d(ones({1, 3, 8, 8}), ones({4, 2, 3, 3})), "conv2d", "expected input");
  BAD(ShapeError, conv2d(ones({1, 3, 8, 8}), ones({4, 3, 3, 3}), ones({5})), "conv2d", "bias of shape");
  BAD(ShapeError, dropout2d(ones({2, 3}), 0.5, true), "dropout2d", "4-D input [N, C, H, W]");
  BAD(ShapeError, ones({2, 3}).add_(ones({3, 3})), "add_", "cannot be broadcast", "Sizes must be equal");
  BAD(ShapeError, ones({2}).copy_(ones({5})), "copy_", "cannot be broadcast");
  BAD(ShapeError, ones({2}).mul_(ones({3, 2})), "mul_", "doesn't match the broadcast shape [3, 2]",
      "an in-place op cannot change the shape");
  BAD(ShapeError, sum_to(ones({2, 3}), {4}), "sum_to", "not expandable");
  BAD(ShapeError, index_add(ones({3, 2}), 0, tensor({int64_t{0}}), ones({1, 5})), "index_add",
      "same size in every dimension but 0", "each source slice is added to one slice");
  BAD(ShapeError, index_add(ones({3, 2}), 0, tensor({int64_t{0}}), ones({2, 2})), "index_add",
      "the index has 1 entries but the source has size 2", "one index per source slice");
}

// ---- dtypes: a type the op cannot take ------------------------------------------------------------

TEST_CASE("bad inputs: dtypes", "[errors][bad_inputs]") {
  const Tensor ints = tensor({int64_t{1}, int64_t{2}});
  const Tensor mask = tensor({true, false});
  BAD(DTypeError, gelu(mask), "gelu", "floating point", "to(kFloat32)");
  BAD(DTypeError, gelu(ints), "gelu", "got int64");
  BAD(DTypeError, mean(ints), "mean()", "floating point");
  BAD(DTypeError, var(ints), "var", "floating point");
  BAD(DTypeError, -mask, "neg", "bool", "logical_not");
  BAD(DTypeError, mask - mask, "sub", "bool");
  BAD(DTypeError, where(ints, ints, ints), "where", "bool tensor");
  BAD(DTypeError, matmul(ones({2, 2}, kBool), ones({2, 2}, kBool)), "matmul", "bool", "convert them first");
  BAD(DTypeError, matmul(ones({2, 2}), ones({2, 2}, kFloat64)), "matmul", "same dtype");
  BAD(DTypeError, ints.requires_grad_(), "floating point dtype can require gradients");
  BAD(DTypeError, ints.data<float>(), "data<float32>()", "convert it first with .to(dtype)");
  BAD(DTypeError, rand({2}, kInt64), "rand()", "floating dtype");
  BAD(DTypeError, one_hot(ones({2})), "one_hot", "int64 labels");
  BAD(DTypeError, rand_like(ints), "rand_like", "floating point");
  BAD(DTypeError, mask.clone().add_(mask), "add_", "bool", "convert first");
  BAD(DTypeError, ints.clone().div_(2), "div_", "use div()");
}

// ---- indices and dimensions out of range ---------------------------------------------------------

TEST_CASE("bad inputs: indices and dimensions", "[errors][bad_inputs]") {
  const Tensor a = arange(6).reshape({2, 3}).to(kFloat32);
  BAD(IndexError, a.at({2, 0}), "at()", "index 2 is out of bounds for dimension 0 with size 2");
  BAD(IndexError, a.at({0}), "at()", "got 1 indices for a tensor of rank 2");
  BAD(IndexError, a.size(2), "size", "dimension out of range", "[-2, 1]");
  BAD(IndexError, a.sum({5}), "sum", "dimension out of range");
  BAD(IndexError, softmax(a, 2), "softmax", "dimension out of range");
  BAD(IndexError, a.transpose(0, 3), "transpose", "dimension out of range");
  BAD(IndexError, a.unsqueeze(4), "unsqueeze", "dimension out of range");
  BAD(IndexError, a.select(0, 2), "select", "index 2 is out of range");
  BAD(IndexError, a[-3], "select", "out of range");
  BAD(IndexError, tensor(1.f).select(0, 0), "select", "0-dim");
  BAD(IndexError, a.slice(1, 0, 2, 0), "slice", "step must be positive");
  BAD(IndexError, a.narrow(1, 2, 5), "narrow", "start (2) + length (5)");
  BAD(IndexError, a.flatten(1, 0), "flatten", "start_dim (1) cannot come after end_dim (0)");
  BAD(IndexError, index_select(a, 1, tensor({int64_t{3}})), "index_select()", "index 3 is out of range");
  BAD(IndexError, index_select(a, 0, ones({1, 1}, kInt64)), "index_select()", "supposed to be a vector");
  BAD(IndexError, gather(a, 1, tensor({{int64_t{0}}, {int64_t{7}}})), "gather()", "index 7 is out of bounds");
  BAD(ShapeError, gather(a, 1, tensor({int64_t{0}})), "gather()", "same number of dimensions");
  BAD(IndexError, one_hot(tensor({int64_t{-1}}), 3), "one_hot", "non-negative");
  BAD(IndexError, one_hot(tensor({int64_t{5}}), 3), "one_hot", "smaller than num_classes");
  BAD(IndexError, scatter_add(zeros({2}), 0, tensor({int64_t{4}}), ones({1})), "scatter_add", "out of bounds");
  BAD(Error, a.item(), "item()", "only one-element tensors can");
}

// ---- graph mode: declared now, checked now ---------------------------------------------------------

TEST_CASE("bad inputs: graph mode, when the graph is built", "[errors][bad_inputs][graph]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {-1, 3}, "x");
  BAD(ShapeError, g::placeholder(kFloat32, {2, -2}), "Placeholder", "invalid size -2", "or -1 for a size known");
  BAD(ShapeError, g::placeholder(kFloat32, {k2p40, k2p40}), "Placeholder", "too large");
  BAD(ShapeError, g::matmul(x, g::placeholder(kFloat32, {4, 2})), "matmul", "cannot be multiplied",
      "test_bad_inputs.cpp");
  BAD(ShapeError, g::reshape(g::placeholder(kFloat32, {2, 3}), {5}), "reshape", "invalid for input of size 6");
  BAD(ShapeError, g::expand(g::placeholder(kFloat32, {1}), {k2p40, k2p40}), "Expand", "too large");
  BAD(Error, g::add_n(std::vector<g::Output>{}), "add_n", "at least one input");
  BAD(Error, g::assign(x, x), "Assign", "must be a Variable");
  g::Output v = g::Variable(ones({2}), true, "v");
  BAD(ShapeError, g::assign(v, g::constant(ones({3}))), "Assign", "shapes must be equal");
  BAD(ShapeError, g::Variable({2}, [](const Shape&, DType) { return ones({3}); }), "Variable",
      "the initializer returned");
  g::Graph other;
  g::Output foreign;
  {
    g::DefaultGraph use_other(other);
    foreign = g::constant(1.0, kFloat32);
  }
  BAD(Error, g::add(g::constant(1.0, kFloat32), foreign), "Add", "must be from the same graph");
  BAD(Error, g::group({v, foreign}), "is a node of another graph", "its own graph");
  BAD(Error, g::ControlDependencies({foreign}), "ControlDependencies", "another graph");
  BAD(Error, g::ControlDependencies({g::Output()}), "ControlDependencies", "undefined");
  BAD(Error, graph.add_control_input(v.node(), g::identity(v)), "cannot depend on", "Create the dependency first");
  BAD(Error, g::reset_default_graph(), "reset_default_graph()", "leave the block first");
  BAD(Error, g::Output().shape(), "graph Output is undefined");
  g::Output dead;
  {
    g::Graph gone;
    g::DefaultGraph use_gone(gone);
    dead = g::constant(1.0, kFloat32);
  }
  BAD(Error, g::relu(dead), "belongs to a Graph that no longer exists", "keep the Graph alive");
  graph.finalize();
  BAD(Error, g::relu(x), "Graph is finalized", "Build every op before the training loop");
}

TEST_CASE("bad inputs: graph mode, when it runs", "[errors][bad_inputs][graph]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {-1, 3}, "x");
  g::Output y = g::relu(x) * 2.0;
  g::Output v = g::Variable(ones({3}), true, "v");
  g::Output uses_v = v + 1.0;
  g::Output idx = g::placeholder(kInt64, {1}, "idx");
  g::Output picked = g::index_select(g::constant(ones({3})), 0, idx);
  g::Graph other;
  g::Output foreign;
  {
    g::DefaultGraph use_other(other);
    foreign = g::placeholder(kFloat32, {3});
  }
  g::Session s(graph);
  const Tensor batch = ones({2, 3});
  BAD(Error, s.run(y), "You must feed a value for placeholder tensor 'x'", "test_bad_inputs.cpp");
  BAD(ShapeError, s.run(y, {{x, ones({2, 4})}}), "Cannot feed value of shape (2, 4)", "which has shape '(?, 3)'");
  BAD(DTypeError, s.run(y, {{x, ones({2, 3}, kFloat64)}}), "Cannot feed value of dtype float64", ".to(float32)");
  BAD(Error, s.run(y, {{g::Output(), batch}}), "Session::run: feed key 0 is undefined", "feed values to placeholders");
  BAD(Error, s.run(y, {{x, batch}, {x, batch}}), "Session::run", "fed twice", "one value per run");
  BAD(Error, s.run(y, {{foreign, ones({3})}}), "Session::run", "not an element of this graph");
  BAD(Error, s.run(y, {{x, Tensor()}}), "Session::run", "is undefined");
  BAD(Error, s.run(g::Output()), "Session::run: a fetch is undefined");
  BAD(Error, s.run(foreign), "Session::run", "runs only the graph it was created with");
  BAD(Error, s.run(uses_v), "Attempting to use uninitialized value v", "global_variables_initializer()");
  BAD(Error, s.variable_value(v), "uninitialized value v", "run the initializer");
  BAD(IndexError, s.run(picked, {{idx, tensor({int64_t{9}})}}), "index_select()", "out of range",
      "node 'IndexSelect'", "test_bad_inputs.cpp");
}

// ---- autograd --------------------------------------------------------------------------------------

TEST_CASE("bad inputs: autograd", "[errors][bad_inputs][autograd]") {
  Tensor w = ones({3}).requires_grad_();
  BAD(Error, w.add_(ones({3})), "add_", "leaf Variable that requires grad", "no_grad");
  BAD(Error, w.sub_(ones({3})), "sub_", "leaf Variable", "no_grad");
  BAD(Error, w.mul_(2.0), "mul_", "leaf Variable");
  BAD(Error, w.zero_(), "fill_", "leaf Variable");
  BAD(Error, w.slice(0, 0, 2).mul_(2.0), "mul_", "a view of a leaf Variable", "v.clone()");
  BAD(Error, w[0].fill_(3.0), "fill_", "a view of a leaf Variable");
  BAD(Error, ones({2}).backward(), "does not require grad", "requires_grad");
  BAD(Error, (w * 2.0).backward(), "grad can be implicitly created only for scalar outputs");
  BAD(ShapeError, (w * 2.0).backward(ones({4})), "backward: the gradient has shape [4]");
  Tensor y = (w * w).sum();
  y.backward();
  BAD(Error, y.backward(), "backward through the graph a second time", "retain_graph");
  Tensor h = w.exp();
  Tensor loss = h.sum();
  {
    no_grad guard;
    h.add_(ones({3}));  // exp saved its output for backward; this changes it
  }
  BAD(Error, loss.backward(), "modified by an inplace operation");
  BAD(Error, (w * 2.0).requires_grad_(false), "only change requires_grad flags of leaf variables");
  BAD(Error, ones({2}).retain_grad(), "can't retain_grad");
  BAD(ShapeError, w.set_grad(ones({5})), "set_grad", "grad has shape [5]");
  BAD(Error, autograd::grad({(w * 2.0).sum()}, {ones({3})}), "autograd::grad", "does not require grad");
  BAD(Error, Tensor().shape(), "this Tensor is undefined", "give it a value");
  BAD(Error, Tensor() + ones({1}), "undefined");
}

// ---- numerics and settings ----------------------------------------------------------------------

TEST_CASE("bad inputs: numbers out of their range", "[errors][bad_inputs]") {
  BAD(Error, arange(0, 5, 0), "arange()", "step must be nonzero");
  BAD(Error, arange(5, 0, 1), "arange()", "inconsistent with step sign");
  BAD(Error, arange(0.0, std::numeric_limits<double>::infinity()), "arange()", "must be finite");
  BAD(Error, randint(3, 3, {2}), "randint()", "expected low < high");
  BAD(Error, dropout(ones({2}), 1.5, true), "dropout probability has to be between 0 and 1");
  BAD(Error, set_num_threads(0), "set_num_threads", "positive number of threads");
  PrintOptions bad_print;
  bad_print.precision = -1;
  BAD(Error, set_printoptions(bad_print), "set_printoptions", "precision=-1");
  BAD(Error, one_hot(tensor({int64_t{1}}), -7), "one_hot", "num_classes");
  BAD(Error, one_hot(zeros({0}, kInt64)), "one_hot", "infer total number of classes from empty tensor",
      "pass num_classes");
}

// ---- memory: more than the machine has ---------------------------------------------------------------

TEST_CASE("bad inputs: memory", "[errors][bad_inputs]") {
  // 2^40 floats (4 TiB): a valid shape, refused before anything is allocated or touched.
  BAD(OutOfMemoryError, zeros({k2p40}), "zeros", "out of CPU memory", "GiB of RAM and swap",
      "smaller shape or batch");
  BAD(OutOfMemoryError, empty({k2p40}, kFloat64), "empty", "float64 tensor of shape [1099511627776]");
  BAD(OutOfMemoryError, rand({k2p40}), "rand", "out of CPU memory");
  const Tensor huge_view = ones({1, 1}).expand({k2p32, 1024});  // 2^42 elements, no bytes
  BAD(OutOfMemoryError, huge_view + 1.0, "add: cannot make", "out of CPU memory");
  BAD(OutOfMemoryError, huge_view.contiguous(), "clone", "out of CPU memory");
  BAD(OutOfMemoryError, matmul(huge_view, ones({1024, 1024})), "matmul", "out of CPU memory");
  BAD(OutOfMemoryError, ones({1, 1}).expand({k2p40, 2}).sum({1}), "sum: cannot make", "out of CPU memory");
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {-1, 1024}, "x");
  g::Output r = g::relu(x);
  g::Session s(graph);
  BAD(OutOfMemoryError, s.run(r, {{x, huge_view}}), "out of CPU memory", "node 'Relu'");
}

// ---- files: missing, foreign, cut short, damaged ----------------------------------------------------

TEST_CASE("bad inputs: graph files", "[errors][bad_inputs][io]") {
  Scratch scratch;
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {2}, "x");
  g::Output w = g::Variable(ones({2}), true, "w");
  g::Output y = g::relu(x * w);
  g::Session s(graph);
  s.run(g::global_variables_initializer());
  const io::FrozenGraph frozen = io::freeze(s, {y});
  const std::string good = io::serialize_graph(frozen);
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x10;
  BAD(Error, io::load_graph((scratch.dir / "missing.tgraph").string()), "load_graph", "cannot open", "check the path");
  BAD(Error, io::load_graph(scratch.dir.string()), "load_graph", "is a folder", "written by io::save_graph()");
  BAD(Error, io::load_graph(scratch.file("empty.tgraph", "")), "load_graph", "is empty", "save the graph again");
  BAD(Error, io::load_graph(scratch.file("foreign.tgraph", "PK\x03\x04 a zip")), "load_graph",
      "is not a Tandem graph file", "load a file written by save_graph()");
  BAD(Error, io::load_graph(scratch.file("short.tgraph", good.substr(0, good.size() - 9))), "load_graph",
      "is truncated", "save or copy it again");
  BAD(Error, io::load_graph(scratch.file("flipped.tgraph", flipped)), "load_graph", "CRC-32",
      "save or copy it again");
  BAD(Error, io::parse_graph(good + "x", "extra"), "load_graph", "unexpected bytes after its checksum");
  BAD(Error, io::save_graph(frozen, scratch.dir.string()), "save_graph", "is a folder", "give a file name");
  BAD(Error, io::save_graph(frozen, (scratch.dir / "no" / "such" / "m.tgraph").string()), "save_graph",
      "No such file or directory", "unchanged");
  io::FrozenGraph unfrozen;
  unfrozen.graph = std::make_unique<g::Graph>();
  {
    g::DefaultGraph use_unfrozen(*unfrozen.graph);
    g::Variable(ones({1}), true, "state");
  }
  BAD(Error, io::serialize_graph(unfrozen), "save_graph", "a graph file holds no state", "io::freeze");
  BAD(Error, io::freeze(s, {g::assign(w, w)}), "freeze", "changes a variable", "Freeze the values the model computes");
  BAD(Error, frozen.input("nope"), "FrozenGraph", "no input named 'nope'", "the inputs are 'x'");
}

TEST_CASE("bad inputs: IDX files", "[errors][bad_inputs][data]") {
  Scratch scratch;
  BAD(Error, data::read_idx((scratch.dir / "missing.idx").string()), "read_idx", "no such file", "check the path");
  BAD(Error, data::read_idx(scratch.dir.string()), "read_idx", "is a folder");
  BAD(Error, data::read_idx(scratch.file("text.idx", "hello world")), "read_idx", "is not an IDX file",
      "train-images-idx3-ubyte.gz");
  BAD(Error, data::read_idx(scratch.file("tiny.idx", "\0\0")), "read_idx", "truncated",
      "Re-download or reinstall");
  BAD(Error, data::read_idx(scratch.file("short.idx", idx_header({4, 4}) + "0123")), "read_idx",
      "is truncated", "(16 bytes), but only 4 bytes follow", "Re-download");
  BAD(Error, data::read_idx(scratch.file("long.idx", idx_header({2}) + "0123")), "read_idx",
      "2 more bytes than its header declares", "Re-download");
  BAD(Error, data::parse_idx(idx_header({65536, 65536, 65536, 65536}), "huge.idx"), "read_idx",
      "huge.idx is corrupt", "too large to be real");
  BAD(Error, data::parse_idx(std::string("\x1f\x8b\x08\0\0\0\0\0\0\x03garbage", 18), "bad.gz"), "read_idx",
      "bad.gz", "Re-download");
  BAD(Error, data::load_fashion_mnist(true, scratch.dir.string()), "Fashion-MNIST not found",
      "apt-get install dataset-fashion-mnist");
}
