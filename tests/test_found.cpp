// tests/test_found.cpp — what trying to break Tandem found, one test per finding, kept so it stays
// fixed.
//
// Tandem was used the way a careless or hostile user would use it: bad inputs through the public
// API under the sanitizers, random bytes into the file loaders, several threads at once. Each test
// below is one thing that went wrong — a crash, a wrong answer, a terabyte allocation or a
// misleading message — and checks the behaviour that replaced it. The wider catalogue of errors,
// organised for learning them, is tests/test_bad_inputs.cpp; threads are in test_threads.cpp and
// saving in test_atomic_file.cpp.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "data/idx.h"
#include "io/graph_file.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;
namespace fs = std::filesystem;

// ---- element counts that overflow ------------------------------------------------------------------

TEST_CASE("found: empty({2^62}) allocated 0 bytes, and fill_ then wrote past the heap", "[found]") {
  // 2^62 floats are 2^64 bytes: the byte count wrapped to 0.
  CHECK_THROWS_AS(empty({int64_t{1} << 62}), ShapeError);
  CHECK_THROWS_WITH(empty({int64_t{1} << 62}), Catch::Contains("empty") && Catch::Contains("too large"));
}

TEST_CASE("found: zeros({2^32, 2^32}) had numel 0, and at({1, 1}) read anywhere", "[found]") {
  CHECK_THROWS_AS(zeros({int64_t{1} << 32, int64_t{1} << 32}), ShapeError);
  CHECK_THROWS_WITH(zeros({int64_t{1} << 32, int64_t{1} << 32}),
                    Catch::Contains("zeros") && Catch::Contains("[4294967296, 4294967296]"));
  // The same product reached through a view: expand allocates nothing, but its numel overflowed.
  CHECK_THROWS_AS(ones({1, 1}).expand({int64_t{1} << 32, int64_t{1} << 32}), ShapeError);
}

TEST_CASE("found: a placeholder [2^40, 2^40] reshaped to [-1] silently got shape [0]", "[found]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  CHECK_THROWS_AS(g::placeholder(kFloat32, {int64_t{1} << 40, int64_t{1} << 40}), ShapeError);
  // An unknown size is still fine, and so is a large but possible shape.
  g::Output x = g::placeholder(kFloat32, {-1, int64_t{1} << 40});
  CHECK(g::reshape(x, {-1}).shape() == Shape{-1});
}

TEST_CASE("found: contiguous strides overflowed when a dimension was 0", "[found]") {
  // {0, 2^62, 4} holds no element, but its first stride would be 2^64 (undefined behaviour).
  CHECK_THROWS_AS(zeros({0, int64_t{1} << 62, 4}), ShapeError);
  CHECK(zeros({0, 3, 4}).strides() == Strides{12, 4, 1});  // small empty tensors are fine
}

// ---- IDX files that lie about their size -----------------------------------------------------------

namespace {
std::string idx_header(std::initializer_list<uint32_t> dims, unsigned char type = 0x08) {
  std::string h = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) h += static_cast<char>((d >> shift) & 0xff);
  return h;
}
}  // namespace

TEST_CASE("found: an 8-byte IDX file made read_idx allocate 16 GB before saying truncated", "[found][data]") {
  // Header: uint8, one dimension of 2^32 - 1. Nothing follows. Before: a 4 GiB buffer (16 GB as
  // int64), zeroed, and 72 seconds; now the data is read as it comes and its absence is reported.
  CHECK_THROWS_WITH(data::parse_idx(idx_header({0xffffffffu}), "labels.idx"),
                    Catch::Contains("labels.idx is truncated") && Catch::Contains("4294967295 bytes") &&
                        Catch::Contains("only 0 bytes follow"));
}

TEST_CASE("found: a 12-byte IDX file threw std::bad_alloc, a 36-byte one made a tensor of 0 bytes",
          "[found][data]") {
  // Three sizes of 65535: 2.8e14 bytes, std::bad_alloc (or length_error) before; now an Error.
  CHECK_THROWS_AS(data::parse_idx(idx_header({65535, 65535, 65535}), "a.idx"), Error);
  // [65536]^4 is 2^64 elements: numel wrapped to 0, and the "tensor" had no bytes behind it.
  const std::string wrapped = idx_header({65536, 65536, 65536, 65536}) + std::string(20, '\0');
  CHECK_THROWS_WITH(data::parse_idx(wrapped, "b.idx"), Catch::Contains("b.idx is corrupt") &&
                                                           Catch::Contains("too large to be real"));
}

TEST_CASE("found: read_idx let std:: exceptions escape and did not name the file", "[found][data]") {
  const fs::path dir = fs::temp_directory_path() / ("tandem_found_idx_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  CHECK_THROWS_WITH(data::read_idx(dir.string()), Catch::Contains("read_idx") && Catch::Contains("is a folder"));
  const fs::path file = dir / "short.idx";
  std::ofstream(file, std::ios::binary) << idx_header({3, 2}) << "abc";
  try {
    data::read_idx(file.string());
    FAIL("a truncated file was read");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains(file.string()) && Catch::Contains("truncated"));
  }
  fs::remove_all(dir);
}

// ---- graph mode ---------------------------------------------------------------------------------------

TEST_CASE("found: feeding a constant was ignored when constant folding was on", "[found][graph]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output c = g::constant(tensor({1.f, 1.f}));
  g::Output y = c * 3.0;
  g::Session folding(graph);  // constant folding on, the default
  CHECK(folding.run(y, {{c, tensor({2.f, 2.f})}}).to_vector<double>() == std::vector<double>{6, 6});
  CHECK(folding.run(y).to_vector<double>() == std::vector<double>{3, 3});  // unfed: c's own value
}

TEST_CASE("found: a fed learning rate was baked into a fused update", "[found][graph]") {
  // The same finding one pass further: update fusion read a fed scalar constant's stored value.
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::constant(tensor({{1.f, 2.f}}));
  g::Output w = g::Variable(tensor({{0.f}, {0.f}}));
  g::Output lr = g::constant(0.5, kFloat32);
  g::Output grad_w = g::matmul(g::transpose(x, 0, 1), g::constant(tensor({{1.f}})));
  g::Output step = g::assign_add(w, -(grad_w * lr));
  g::Session s(graph);
  s.run(g::global_variables_initializer());
  s.run(step, {{lr, tensor(0.25f)}});
  CHECK(s.variable_value(w).to_vector<double>() == std::vector<double>{-0.25, -0.5});
}

TEST_CASE("found: an undefined feed key dereferenced null", "[found][graph]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {1});
  g::Session s(graph);
  CHECK_THROWS_WITH(s.run(x, {{g::Output(), ones({1})}}),
                    Catch::Contains("Session::run: feed key 0 is undefined"));
}

TEST_CASE("found: an Output used after its Graph was destroyed read freed memory", "[found][graph]") {
  g::Output kept;
  {
    g::Graph graph;
    g::DefaultGraph use(graph);
    kept = g::placeholder(kFloat32, {2}, "x");
  }
  CHECK_THROWS_WITH(kept.name(), Catch::Contains("belongs to a Graph that no longer exists"));
  CHECK_THROWS_AS(g::relu(kept), Error);
}

TEST_CASE("found: a control dependency on another graph threw std::out_of_range", "[found][graph]") {
  g::Graph one, two;
  g::Output a;
  {
    g::DefaultGraph use(one);
    a = g::constant(1.0, kFloat32);
  }
  g::DefaultGraph use(two);
  g::Output b = g::constant(2.0, kFloat32);
  CHECK_THROWS_WITH(g::group({b, a}), Catch::Contains("is a node of another graph"));
  CHECK_THROWS_WITH(g::ControlDependencies({a}, two), Catch::Contains("another graph"));
}

TEST_CASE("found: a control-dependency cycle threw std::out_of_range", "[found][graph]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output a = g::constant(1.0, kFloat32);
  g::Output b = g::identity(a);
  // Through the API: refused when declared.
  CHECK_THROWS_WITH(graph.add_control_input(a.node(), b), Catch::Contains("would be a cycle"));
  CHECK_THROWS_WITH(graph.add_control_input(a.node(), a), Catch::Contains("would be a cycle"));
  // Edited by hand (the fields are public): refused, clearly, when the graph is run.
  a.node()->control_inputs.push_back(b.node());
  g::Session s(graph);
  CHECK_THROWS_WITH(s.run(b), Catch::Contains("which is created after it") && Catch::Contains("cycle"));
}

TEST_CASE("found: a placeholder of size -2 was accepted until feed time", "[found][graph]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  CHECK_THROWS_WITH(g::placeholder(kFloat32, {2, -2}),
                    Catch::Contains("Placeholder: invalid size -2 in shape [2, -2]") &&
                        Catch::Contains("or -1 for a size known only at run time"));
}

TEST_CASE("found: a placeholder fed twice silently took the last value", "[found][graph]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {1}, "x");
  g::Session s(graph);
  CHECK_THROWS_WITH(s.run(x, {{x, ones({1})}, {x, zeros({1})}}),
                    Catch::Contains("'x:0' is fed twice in one FeedDict (entries 0 and 1)"));
}

// ---- autograd and dtypes ---------------------------------------------------------------------------

TEST_CASE("found: an in-place op on a view of a leaf changed the leaf", "[found][autograd]") {
  Tensor w = ones({3}).requires_grad_();
  CHECK_THROWS_WITH(w.slice(0, 0, 2).mul_(2.0),
                    Catch::Contains("mul_: a view of a leaf Variable that requires grad is being used in "
                                    "an in-place operation"));
  CHECK_THROWS_AS(w.reshape({3, 1}).add_(ones({3, 1})), Error);
  CHECK(w.detach().to_vector<double>() == std::vector<double>{1, 1, 1});  // unchanged
  {
    no_grad guard;  // where optimizers write: allowed
    w.slice(0, 0, 2).mul_(2.0);
  }
  CHECK(w.detach().to_vector<double>() == std::vector<double>{2, 2, 1});
  // A view of a result (not of a leaf) may be written, as in PyTorch.
  Tensor y = w * 1.0;
  y.slice(0, 0, 1).mul_(3.0);
  CHECK(y.detach().to_vector<double>() == std::vector<double>{6, 2, 1});
}

TEST_CASE("found: tensor() of an int64 literal went through double", "[found]") {
  constexpr int64_t big = (int64_t{1} << 53) + 1;  // the first integer a double cannot hold
  CHECK(tensor(big).item<int64_t>() == big);
  CHECK(tensor({big, -big}).to_vector<int64_t>() == std::vector<int64_t>{big, -big});
  CHECK(full({2}, big, kInt64).to_vector<int64_t>() == std::vector<int64_t>{big, big});
  CHECK((tensor({int64_t{1}}) + big).item<int64_t>() == big + 1);
}

TEST_CASE("found: int64 overflow was undefined behaviour, now it wraps around as in PyTorch", "[found]") {
  // PyTorch: torch.tensor([2**62, 3]) * 4 == [0, 12]; 2**62 + 2**62 + 2**62 == -2**62; and
  // -(-2**63) == abs(-2**63) == -2**63. (UBSan reported the multiply in core/ops/math.h.)
  const Tensor x = tensor({int64_t{1} << 62, int64_t{3}});
  CHECK((x * 4).to_vector<int64_t>() == std::vector<int64_t>{0, 12});
  CHECK((x + x + x).to_vector<int64_t>()[0] == -(int64_t{1} << 62));
  const Tensor lowest = tensor({std::numeric_limits<int64_t>::min()});
  CHECK((-lowest).item<int64_t>() == std::numeric_limits<int64_t>::min());
  CHECK(lowest.abs().item<int64_t>() == std::numeric_limits<int64_t>::min());
  // 3^41 = 36472996377170786403, which is 18026252303461234787 modulo 2^64: as a signed number,
  // 18026252303461234787 - 2^64 = -420491770248316829 (PyTorch prints the same).
  CHECK(tensor({int64_t{3}}).pow(int64_t{41}).item<int64_t>() == -420491770248316829);
}

TEST_CASE("found: gelu(bool) returned floats where PyTorch refuses", "[found]") {
  CHECK_THROWS_AS(gelu(tensor({true, false})), DTypeError);
  CHECK_THROWS_WITH(gelu(tensor({int64_t{1}})), Catch::Contains("gelu: expected a floating point tensor") &&
                                                    Catch::Contains("to(kFloat32)"));
  CHECK(gelu(tensor({0.f})).item() == 0.0);
}

// ---- error texts that named the wrong thing -----------------------------------------------------

TEST_CASE("found: zeros({-1}) and eye(-1) blamed empty() and printed the shape as [?]", "[found]") {
  CHECK_THROWS_WITH(zeros({-1}), Catch::StartsWith("zeros: trying to create tensor with negative dimension -1: [-1]"));
  CHECK_THROWS_WITH(ones({2, -3}, kInt64), Catch::StartsWith("ones: trying to create tensor with negative "
                                                             "dimension -3: [2, -3]"));
  CHECK_THROWS_WITH(eye(-1), Catch::Equals("eye(): n must be greater or equal to 0, got -1"));
}

TEST_CASE("found: w.sub_() on a leaf reported add_", "[found][autograd]") {
  Tensor w = ones({2}).requires_grad_();
  CHECK_THROWS_WITH(w.sub_(ones({2})), Catch::StartsWith("sub_:") && Catch::Contains("no_grad"));
  CHECK_THROWS_WITH(w.div_(2.0), Catch::StartsWith("div_:"));
}

TEST_CASE("found: 'out of CPU memory' named no op", "[found]") {
  // 2^40 floats: 4 TiB, a valid shape but more than this machine (or any test machine) has.
  CHECK_THROWS_AS(zeros({int64_t{1} << 40}), OutOfMemoryError);
  CHECK_THROWS_WITH(zeros({int64_t{1} << 40}), Catch::StartsWith("zeros: cannot make a float32 tensor of "
                                                                  "shape [1099511627776]") &&
                                                   Catch::Contains("out of CPU memory") &&
                                                   Catch::Contains("smaller shape or batch"));
  const Tensor big = ones({1}).expand({int64_t{1} << 40});  // a view: no memory needed
  CHECK_THROWS_WITH(big + 1.0, Catch::StartsWith("add: cannot make"));
}

TEST_CASE("found: load_graph on a folder threw std::ios_base::failure", "[found][io]") {
  CHECK_THROWS_AS(io::load_graph(fs::temp_directory_path().string()), Error);
  CHECK_THROWS_WITH(io::load_graph(fs::temp_directory_path().string()),
                    Catch::Contains("is a folder, not a graph file"));
}
