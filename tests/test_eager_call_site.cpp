// tests/test_eager_call_site.cpp — an eager op that fails names the line of the program that called it.
//
// A C++ exception has no traceback, so an eager error would say what went wrong and never where.
// apply<Tensor> (core/op.cpp) adds "in 'op' called at file:line (in function)" to every error an op
// throws, keeping the error's class; graph mode keeps its own "created at" (graph/ops.cpp). The
// line numbers below are this file's: the test is the user's program here.
#include <catch2/catch.hpp>

#include <functional>
#include <string>

#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

namespace {
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("an eager op that fails names the op and the line that called it", "[call_site][errors]") {
  const Tensor a = zeros({8, 4}), b = zeros({5, 2});
  const int line = __LINE__ + 1;
  const std::string m = error_of([&] { matmul(a, b); });
  CHECK_THAT(m, Catch::StartsWith("matmul: mat1 and mat2 shapes cannot be multiplied (8x4 and 5x2)"));
  CHECK_THAT(m, Catch::Contains("\n  in 'matmul' called at tests/test_eager_call_site.cpp:" + std::to_string(line)));
  // The class is kept: code that catches ShapeError still does.
  CHECK_THROWS_AS(matmul(a, b), ShapeError);
  // A method and an operator go through the same door.
  const int line2 = __LINE__ + 1;
  const std::string m2 = error_of([&] { (void)(a + b); });
  CHECK_THAT(m2, Catch::Contains("called at tests/test_eager_call_site.cpp:" + std::to_string(line2)));
  // Named once, however deep the failing op sat.
  CHECK(m.find("called at") == m.rfind("called at"));
}

TEST_CASE("an error raised in backward names the user's backward() line", "[call_site][errors]") {
  Tensor z = tensor({0.0}).requires_grad_();
  const Tensor y = (check_numerics(z, "z") * 0.0).sqrt().sum();
  const int line = __LINE__ + 1;
  const std::string m = error_of([&] { y.backward(); });
  CHECK_THAT(m, Catch::Contains("in gradient. z"));
  CHECK_THAT(m, Catch::Contains("called at tests/test_eager_call_site.cpp:" + std::to_string(line)));
}

TEST_CASE("graph errors keep their own place: created at, never called at", "[call_site][errors]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output a = g::placeholder(kFloat32, {-1, 4}, "a"), b = g::placeholder(kFloat32, {5, 2}, "b");
  const std::string decl = error_of([&] { matmul(a, b); });
  CHECK_THAT(decl, Catch::Contains("created at tests/test_eager_call_site.cpp:"));
  CHECK(decl.find("called at") == std::string::npos);
  // At run time (an unknown width), the node and its line; the executor runs kernels, not apply().
  const g::Output u = g::placeholder(kFloat32, {-1, -1}, "u");
  const g::Output y = matmul(u, g::constant(zeros({5, 2})));
  g::Session session(graph);
  const std::string run = error_of([&] { session.run(y, {{u, zeros({3, 4})}}); });
  CHECK_THAT(run, Catch::Contains("mat1 and mat2 shapes cannot be multiplied (3x4 and 5x2)"));
  CHECK_THAT(run, Catch::Contains("[[node 'MatMul' (MatMul) created at tests/test_eager_call_site.cpp:"));
  CHECK(run.find("called at") == std::string::npos);
}

TEST_CASE("an error names the user's function by its name, not its whole signature", "[call_site][errors]") {
  using detail::function_name;
  CHECK(function_name("tandem::Tensor mlp<tandem::Tensor>(tandem::Tensor const&, Params<tandem::Tensor> const&)") ==
        "mlp<tandem::Tensor>");
  CHECK(function_name("main") == "main");
  CHECK(function_name("nan_gradient()") == "nan_gradient");
  CHECK(function_name("main::{lambda()#1}::operator()() const") == "main::{lambda()#1}::operator()");
  CHECK(function_name("(anonymous namespace)::helper(int)") == "(anonymous namespace)::helper");
  CHECK(function_name("std::vector<int, std::allocator<int> > make<int>(unsigned long)") == "make<int>");
  // And so does a real error: this test's function is a Catch2 test case, named without its parameters.
  const std::string m = error_of([] { matmul(zeros({2, 3}), zeros({2, 3})); });
  CHECK_THAT(m, Catch::Contains("tests/test_eager_call_site.cpp:"));
  CHECK(m.find("const&") == std::string::npos);
}
