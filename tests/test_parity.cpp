// tests/test_parity.cpp — does Tandem compute what PyTorch computes? Forward ops, case by case.
//
// tests/fixtures/ops.txt holds, for each named case, the inputs PyTorch was given and the output
// it produced (written by scripts/fixtures/gen_ops.py; format in tests/fixture.h). The table below
// holds the same expression in Tandem's API under the same name. The test runs every case of the
// file through its expression and checks dtype, shape and values:
//   float32  rtol 1e-5,  atol 1e-6    (a few float32 ulps: summation order, libm differences)
//   float64  rtol 1e-10, atol 1e-12   (the same idea at double precision)
//   int64, bool  exact
// NaN must meet NaN and an infinity the same infinity (see compare_with_fixture).
//
// The two lists cannot drift apart silently: a case in the file without an expression here fails,
// and so does an expression here without a case in the file. The expressions are written once for
// both modes (tests/two_modes.h): tests/test_unknown_dims.cpp runs them as graphs too.
//
// Run one case:  tandem_tests "[parity]" -c "softmax_large"
// Read next: tests/fixture.h (the format and why fixtures), scripts/fixtures/gen_ops.py.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "core/factories.h"
#include "core/ops.h"
#include "tests/fixture.h"
#include "tests/two_modes.h"

using namespace tandem;

namespace {

using In = FixtureTensors;
using Expr = ParityExpr;  // one generic expression, both modes (tests/two_modes.h)

// The binary ops of gen_ops.py run over the same five shape pairs (same, row, outer, rank3, 0dim).
template <class F> void add_binary_family(std::map<std::string, Expr>& table, const std::string& op, F fn) {
  for (const char* pair : {"same", "row", "outer", "rank3", "0dim"})
    table[op + "_" + pair] = [fn](const auto& in) { return fn(in["a"], in["b"]); };
}

// Case name -> the Tandem expression. Keep the order of gen_ops.py, so the two read side by side.
const std::map<std::string, Expr>& expressions() {
  static const std::map<std::string, Expr> table = [] {
    std::map<std::string, Expr> t{
        // ---- elementwise binary ----
        {"pow_scalar_2", [](const auto& in) { return pow(in["a"], 2); }},
        {"pow_scalar_half", [](const auto& in) { return pow(in["a"], 0.5); }},
        {"pow_scalar_negative", [](const auto& in) { return pow(in["a"], -1.5); }},
        {"pow_int64_scalar_2", [](const auto& in) { return pow(in["a"], 2); }},
        {"add_float64", [](const auto& in) { return add(in["a"], in["b"]); }},
        {"mul_int64", [](const auto& in) { return mul(in["a"], in["b"]); }},
        {"div_by_zero", [](const auto& in) { return div(in["a"], in["b"]); }},
        {"maximum_nan", [](const auto& in) { return maximum(in["a"], in["b"]); }},
        {"minimum_nan", [](const auto& in) { return minimum(in["a"], in["b"]); }},
        {"seed_broadcast_mul", [](const auto& in) { return in["a"] * in["b"]; }},
        {"seed_scalar_mul", [](const auto& in) { return in["a"] * in["b"]; }},
        {"seed_mean", [](const auto& in) { return mean(in["a"]); }},
        {"add_scalar_number", [](const auto& in) { return in["a"] + 2.5; }},
        {"rsub_scalar_number", [](const auto& in) { return 1 - in["a"]; }},
        {"rdiv_scalar_number", [](const auto& in) { return 2 / in["a"]; }},
        {"mul_scalar_number_float64", [](const auto& in) { return in["a"] * 2.5; }},
        // ---- comparisons and where ----
        {"eq_row", [](const auto& in) { return eq(in["a"], in["b"]); }},
        {"ne_row", [](const auto& in) { return ne(in["a"], in["b"]); }},
        {"lt_row", [](const auto& in) { return lt(in["a"], in["b"]); }},
        {"le_row", [](const auto& in) { return le(in["a"], in["b"]); }},
        {"gt_row", [](const auto& in) { return gt(in["a"], in["b"]); }},
        {"ge_row", [](const auto& in) { return ge(in["a"], in["b"]); }},
        {"lt_int64_outer", [](const auto& in) { return in["a"] < in["b"]; }},
        {"eq_int64_float", [](const auto& in) { return in["a"] == in["b"]; }},
        {"ge_nan", [](const auto& in) { return in["a"] >= in["b"]; }},
        {"ne_nan", [](const auto& in) { return in["a"] != in["b"]; }},
        {"where_broadcast", [](const auto& in) { return where(in["c"], in["a"], in["b"]); }},
        {"where_scalar_branch", [](const auto& in) { return where(in["c"], in["a"], in["b"]); }},
        {"where_promotes", [](const auto& in) { return where(in["c"], in["a"], in["b"]); }},
        // ---- elementwise unary ----
        {"neg", [](const auto& in) { return neg(in["x"]); }},
        {"exp", [](const auto& in) { return exp(in["x"]); }},
        {"sin", [](const auto& in) { return sin(in["x"]); }},
        {"cos", [](const auto& in) { return cos(in["x"]); }},
        {"tanh", [](const auto& in) { return tanh(in["x"]); }},
        {"sigmoid", [](const auto& in) { return sigmoid(in["x"]); }},
        {"relu", [](const auto& in) { return relu(in["x"]); }},
        {"abs", [](const auto& in) { return abs(in["x"]); }},
        {"gelu", [](const auto& in) { return gelu(in["x"]); }},
        {"log", [](const auto& in) { return log(in["x"]); }},
        {"sqrt", [](const auto& in) { return sqrt(in["x"]); }},
        {"log_edges", [](const auto& in) { return log(in["x"]); }},
        {"sqrt_edges", [](const auto& in) { return sqrt(in["x"]); }},
        {"exp_extremes", [](const auto& in) { return exp(in["x"]); }},
        {"tanh_extremes", [](const auto& in) { return tanh(in["x"]); }},
        {"sigmoid_extremes", [](const auto& in) { return sigmoid(in["x"]); }},
        {"relu_extremes", [](const auto& in) { return relu(in["x"]); }},
        {"gelu_extremes", [](const auto& in) { return gelu(in["x"]); }},
        {"exp_float64", [](const auto& in) { return exp(in["x"]); }},
        {"log_float64", [](const auto& in) { return log(in["x"]); }},
        {"tanh_float64", [](const auto& in) { return tanh(in["x"]); }},
        {"sigmoid_float64", [](const auto& in) { return sigmoid(in["x"]); }},
        {"gelu_float64", [](const auto& in) { return gelu(in["x"]); }},
        {"neg_int64", [](const auto& in) { return neg(in["x"]); }},
        {"abs_int64", [](const auto& in) { return abs(in["x"]); }},
        {"relu_int64", [](const auto& in) { return relu(in["x"]); }},
        {"exp_int64", [](const auto& in) { return exp(in["x"]); }},
        {"sqrt_bool", [](const auto& in) { return sqrt(in["x"]); }},
        // ---- reductions ----
        {"sum_all", [](const auto& in) { return sum(in["x"]); }},
        {"sum_dim0", [](const auto& in) { return sum(in["x"], {0}); }},
        {"sum_dim1_keepdim", [](const auto& in) { return sum(in["x"], {1}, true); }},
        {"sum_dims_0_2", [](const auto& in) { return sum(in["y"], {0, 2}); }},
        {"sum_dim_neg1", [](const auto& in) { return sum(in["y"], {-1}); }},
        {"sum_int64", [](const auto& in) { return sum(in["x"]); }},
        {"sum_bool", [](const auto& in) { return sum(in["x"]); }},
        {"sum_float64_dim", [](const auto& in) { return sum(in["x"], {1}); }},
        {"mean_all", [](const auto& in) { return mean(in["x"]); }},
        {"mean_dim1", [](const auto& in) { return mean(in["x"], {1}); }},
        {"mean_dims_keepdim", [](const auto& in) { return mean(in["y"], {0, 1}, true); }},
        {"max_all", [](const auto& in) { return max(in["x"]); }},
        {"max_dim0", [](const auto& in) { return max(in["x"], 0); }},
        {"max_dim1_keepdim", [](const auto& in) { return max(in["y"], 1, true); }},
        {"min_all", [](const auto& in) { return min(in["x"]); }},
        {"min_dim_neg1", [](const auto& in) { return min(in["y"], -1); }},
        {"max_int64", [](const auto& in) { return max(in["x"]); }},
        {"argmax_all", [](const auto& in) { return argmax(in["x"]); }},
        {"argmax_dim1", [](const auto& in) { return argmax(in["x"], 1); }},
        {"argmax_dim0_keepdim", [](const auto& in) { return argmax(in["y"], 0, true); }},
        {"argmin_all", [](const auto& in) { return argmin(in["x"]); }},
        {"argmin_dim_neg1", [](const auto& in) { return argmin(in["y"], -1); }},
        {"argmax_ties", [](const auto& in) { return argmax(in["x"], 1); }},
        {"argmin_ties", [](const auto& in) { return argmin(in["x"]); }},
        {"var_all", [](const auto& in) { return var(in["x"]); }},
        // Not var(x, {1}): a braced single integer would pick the var(x, correction) overload.
        {"var_dim1", [](const auto& in) { return var(in["x"], std::vector<int64_t>{1}); }},
        {"var_correction0", [](const auto& in) { return var(in["x"], {0}, 0); }},
        {"var_dims_keepdim", [](const auto& in) { return var(in["y"], {0, 2}, 1, true); }},
        {"var_float64", [](const auto& in) { return var(in["x"]); }},
        {"sum_to_row", [](const auto& in) { return sum_to(in["x"], {3}); }},
        {"sum_to_keep_row", [](const auto& in) { return sum_to(in["x"], {1, 3}); }},
        {"sum_to_column", [](const auto& in) { return sum_to(in["x"], {3, 1}); }},
        {"sum_to_rank3", [](const auto& in) { return sum_to(in["y"], {3, 1}); }},
        {"sum_to_scalar", [](const auto& in) { return sum_to(in["x"], Shape{}); }},
        {"sum_to_same", [](const auto& in) { return sum_to(in["x"], {2, 3}); }},
        // ---- matmul: every rank combination ----
        {"matmul_transposed", [](const auto& in) { return matmul(transpose(in["a"], 0, 1), in["b"]); }},
        // ---- softmax family ----
        {"softmax_last", [](const auto& in) { return softmax(in["x"], -1); }},
        {"softmax_dim0", [](const auto& in) { return softmax(in["x"], 0); }},
        {"softmax_rank3_dim1", [](const auto& in) { return softmax(in["y"], 1); }},
        {"softmax_large", [](const auto& in) { return softmax(in["x"], 1); }},
        {"softmax_masked", [](const auto& in) { return softmax(in["x"], 1); }},
        {"softmax_float64", [](const auto& in) { return softmax(in["x"], -1); }},
        {"log_softmax_last", [](const auto& in) { return log_softmax(in["x"], -1); }},
        {"log_softmax_dim0", [](const auto& in) { return log_softmax(in["x"], 0); }},
        {"log_softmax_rank3_dim1", [](const auto& in) { return log_softmax(in["y"], 1); }},
        {"log_softmax_large", [](const auto& in) { return log_softmax(in["x"], 1); }},
        {"log_softmax_masked", [](const auto& in) { return log_softmax(in["x"], 1); }},
        {"log_softmax_float64", [](const auto& in) { return log_softmax(in["x"], -1); }},
        // ---- indexing ----
        {"index_select_dim0", [](const auto& in) { return index_select(in["x"], 0, in["i"]); }},
        {"index_select_dim1", [](const auto& in) { return index_select(in["x"], 1, in["i"]); }},
        {"index_select_vector", [](const auto& in) { return index_select(in["x"], 0, in["i"]); }},
        {"index_select_rank3_int64",
         [](const auto& in) { return index_select(in["x"], -1, in["i"]); }},
        {"gather_dim1", [](const auto& in) { return gather(in["x"], 1, in["i"]); }},
        {"gather_dim0", [](const auto& in) { return gather(in["x"], 0, in["i"]); }},
        {"gather_rank3", [](const auto& in) { return gather(in["y"], 2, in["i"]); }},
        {"one_hot", [](const auto& in) { return one_hot(in["labels"], 4); }},
        {"one_hot_inferred", [](const auto& in) { return one_hot(in["labels"], -1); }},  // -1: max + 1
        // ---- views, then an op that must read their strides ----
        {"transpose_contiguous", [](const auto& in) { return contiguous(transpose(in["x"], 0, 1)); }},
        {"transpose_add", [](const auto& in) { return transpose(in["x"], 0, 1) + in["b"]; }},
        {"slice_step_mul", [](const auto& in) { return slice(in["x"], 1, 0, 5, 2) * 3; }},
        {"slice_rows_exp", [](const auto& in) { return exp(slice(in["x"], 0, 1, 3)); }},
        {"expand_add", [](const auto& in) { return expand(in["x"], {3, 4}) + in["b"]; }},
        {"expand_contiguous", [](const auto& in) { return contiguous(expand(in["x"], {2, 3, 2})); }},
        {"permute_contiguous", [](const auto& in) { return contiguous(permute(in["x"], {2, 0, 1})); }},
        {"permute_sum", [](const auto& in) { return sum(permute(in["x"], {1, 2, 0}), {0}); }},
        {"select_neg", [](const auto& in) { return -select(in["x"], 1, 2); }},
        {"narrow_relu", [](const auto& in) { return relu(narrow(in["x"], 0, 1, 2)); }},
        {"reshape_after_transpose", [](const auto& in) { return reshape(transpose(in["x"], 0, 1), {6}); }},
        {"unsqueeze_mul", [](const auto& in) { return unsqueeze(in["x"], 1) * in["y"]; }},
        {"squeeze_add", [](const auto& in) { return squeeze(in["x"]) + 1; }},
        {"flatten_matmul", [](const auto& in) { return matmul(flatten(in["x"], 1), in["w"]); }},
        {"to_float64", [](const auto& in) { return to(in["x"], kFloat64); }},
        {"to_int64_truncates", [](const auto& in) { return to(in["x"], kInt64); }},
        {"to_bool", [](const auto& in) { return to(in["x"], kBool); }},
        // ---- joining ----
        {"cat_dim0", [](const auto& in) { return cat(std::vector{in["a"], in["b"]}, 0); }},
        {"cat_dim1", [](const auto& in) { return cat(std::vector{in["a"], in["b"], in["c"]}, 1); }},
        {"cat_neg_dim", [](const auto& in) { return cat(std::vector{in["a"], in["b"]}, -1); }},
        {"cat_int64", [](const auto& in) { return cat(std::vector{in["a"], in["b"]}); }},
        {"cat_transposed", [](const auto& in) { return cat(std::vector{transpose(in["a"], 0, 1), in["b"]}, 0); }},
        {"stack_dim0", [](const auto& in) { return stack(std::vector{in["a"], in["b"]}, 0); }},
        {"stack_dim1", [](const auto& in) { return stack(std::vector{in["a"], in["b"], in["c"]}, 1); }},
        {"stack_last", [](const auto& in) { return stack(std::vector{in["a"], in["b"]}, -1); }},
        // ---- type promotion (core/dtype.h) ----
        {"promote_int64_times_float_number", [](const auto& in) { return in["a"] * 2.5; }},
        {"promote_int64_times_int_number", [](const auto& in) { return in["a"] * 2; }},
        {"promote_float32_plus_int_number", [](const auto& in) { return in["a"] + 2; }},
        {"promote_int64_plus_float64_0dim", [](const auto& in) { return in["a"] + in["b"]; }},
        {"promote_float32_plus_float64_0dim", [](const auto& in) { return in["a"] + in["b"]; }},
        {"promote_float32_plus_float64", [](const auto& in) { return in["a"] + in["b"]; }},
        {"promote_int64_plus_float32_0dim", [](const auto& in) { return in["a"] + in["b"]; }},
        {"promote_int64_div_int64", [](const auto& in) { return div(in["a"], in["b"]); }},
        {"promote_bool_plus_bool", [](const auto& in) { return in["a"] + in["b"]; }},
        {"promote_bool_plus_int64", [](const auto& in) { return in["a"] + in["b"]; }},
        {"promote_bool_times_float32", [](const auto& in) { return in["a"] * in["b"]; }},
        {"promote_int64_0dim_plus_bool", [](const auto& in) { return in["a"] + in["b"]; }},
    };
    add_binary_family(t, "add", [](const auto& a, const auto& b) { return add(a, b); });
    add_binary_family(t, "sub", [](const auto& a, const auto& b) { return sub(a, b); });
    add_binary_family(t, "mul", [](const auto& a, const auto& b) { return mul(a, b); });
    add_binary_family(t, "div", [](const auto& a, const auto& b) { return div(a, b); });
    add_binary_family(t, "maximum", [](const auto& a, const auto& b) { return maximum(a, b); });
    add_binary_family(t, "minimum", [](const auto& a, const auto& b) { return minimum(a, b); });
    add_binary_family(t, "pow", [](const auto& a, const auto& b) { return pow(a, b); });
    for (const char* name : {"dot", "mv", "vm", "mm", "bmm", "batch_by_matrix", "matrix_by_batch",
                             "vector_by_batch", "batch_by_vector", "broadcast_batch", "odd_sizes",
                             "float64"})
      t[std::string("matmul_") + name] = [](const auto& in) { return matmul(in["a"], in["b"]); };
    return t;
  }();
  return table;
}

}  // namespace

const std::map<std::string, ParityExpr>& tandem::parity_op_expressions() { return expressions(); }

namespace {

const std::vector<FixtureCase>& ops_cases() {
  static const std::vector<FixtureCase> cases = load_fixtures(fixture_path("ops.txt"));
  return cases;
}

// Writes `text` to a scratch file in the build tree and returns its path.
std::string scratch_fixture(const std::string& name, const std::string& text) {
  const std::string path = std::string(TANDEM_BINARY_DIR) + "/" + name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST_CASE("PyTorch parity: every forward-op case of tests/fixtures/ops.txt", "[parity]") {
  const auto& table = expressions();
  for (const FixtureCase& c : ops_cases()) {
    DYNAMIC_SECTION(c.name) {
      INFO("case " << c.name << " (" << c.where() << "): " << c.expr);
      const auto it = table.find(c.name);
      if (it == table.end()) {
        FAIL_CHECK("no Tandem expression for this case: add one named \""
                   << c.name << "\" to the table in tests/test_parity.cpp");
      } else {
        Tensor result;
        std::string error;
        try {
          result = it->second(c.inputs);
        } catch (const std::exception& e) {
          error = e.what();
        }
        CHECK(error == "");
        if (error.empty()) {
          const std::string mismatch = compare_with_fixture(result, c.output);
          CHECK(mismatch == "");
        }
      }
    }
  }
}

TEST_CASE("PyTorch parity: every expression in the table has a case in ops.txt", "[parity]") {
  std::set<std::string> in_file;
  for (const FixtureCase& c : ops_cases()) in_file.insert(c.name);
  for (const auto& [name, expr] : expressions()) {
    INFO("tests/test_parity.cpp has an expression for \""
         << name << "\", but tests/fixtures/ops.txt has no such case: add it to "
         << "scripts/fixtures/gen_ops.py and run scripts/make_fixtures, or remove the entry");
    CHECK(in_file.count(name) == 1);
  }
}

// ---- the loader itself ----------------------------------------------------------------------

TEST_CASE("fixture loader reads every dtype exactly, 0-dim and empty tensors, and grads",
          "[parity][fixture]") {
  const std::string path = scratch_fixture("fixture_loader_ok.txt",
                                           "# a comment\n"
                                           "\n"
                                           "case demo\n"
                                           "expr mul(a, b) then sum\n"
                                           "input a float32 [2,2] 0.100000001 -inf nan 3\n"
                                           "input b float64 [] 0.1\n"
                                           "input n int64 [3] -9223372036854775808 0 42\n"
                                           "input m bool [2] 1 0\n"
                                           "input e float32 [0]\n"
                                           "output float32 [] 1.5\n"
                                           "grad a float32 [2,2] 1 2 3 4\n"
                                           "end\n");
  const auto cases = load_fixtures(path);
  REQUIRE(cases.size() == 1);
  const FixtureCase& c = cases[0];
  CHECK(c.name == "demo");
  CHECK(c.expr == "mul(a, b) then sum");
  CHECK(c.line == 3);
  REQUIRE(c.inputs.size() == 5);
  CHECK(c.inputs.items()[0].first == "a");  // file order is kept

  const Tensor& a = c.inputs["a"];
  CHECK(a.dtype() == kFloat32);
  CHECK(a.shape() == Shape{2, 2});
  const float* pa = a.data<float>();
  CHECK(pa[0] == 0.1f);  // '%.9g' of the float32 nearest 0.1 reads back to the very same float
  CHECK(pa[1] == -std::numeric_limits<float>::infinity());
  CHECK(std::isnan(pa[2]));
  CHECK(pa[3] == 3.0f);

  CHECK(c.inputs["b"].dtype() == kFloat64);
  CHECK(c.inputs["b"].shape().empty());
  CHECK(c.inputs["b"].data<double>()[0] == 0.1);

  const int64_t* pn = c.inputs["n"].data<int64_t>();
  CHECK(pn[0] == std::numeric_limits<int64_t>::min());
  CHECK(pn[2] == 42);
  CHECK(c.inputs["m"].data<bool>()[0] == true);
  CHECK(c.inputs["m"].data<bool>()[1] == false);
  CHECK(c.inputs["e"].shape() == Shape{0});

  CHECK(c.output.data<float>()[0] == 1.5f);
  REQUIRE(c.grads.size() == 1);
  CHECK(c.grads["a"].data<float>()[3] == 4.0f);
  CHECK_THROWS_WITH(c.inputs["zz"], Catch::Contains("no tensor named 'zz'") &&
                                        Catch::Contains("a, b, n, m, e"));
}

TEST_CASE("fixture loader rejects a malformed file, naming the file and the line",
          "[parity][fixture]") {
  struct Bad {
    const char* what;
    const char* text;
    const char* line;     // "file:line" suffix expected in the message
    const char* message;  // and this piece of the explanation
  };
  const Bad bad[] = {
      {"too few values", "case x\ninput a float32 [2,2] 1 2 3\noutput bool [] 1\nend\n", ":2:",
       "needs 4 values, but the line has 3"},
      {"unknown dtype", "case x\noutput float16 [1] 1\nend\n", ":2:", "unknown dtype 'float16'"},
      {"bad number", "case x\n\noutput float32 [2] 1 1.5.2\nend\n", ":3:", "cannot read '1.5.2'"},
      {"bad bool", "case x\noutput bool [1] 2\nend\n", ":2:", "must be 0 or 1"},
      {"bad sizes", "case x\noutput float32 2,3 1\nend\n", ":2:", "sizes in brackets"},
      {"missing end", "case x\noutput float32 [] 1\n", ":1:", "has no 'end'"},
      {"nested case", "case x\ncase y\n", ":2:", "has no 'end'"},
      {"no output", "case x\ninput a int64 [] 1\nend\n", ":3:", "has no 'output'"},
      {"two outputs", "case x\noutput int64 [] 1\noutput int64 [] 2\nend\n", ":3:",
       "a second 'output'"},
      {"duplicate case", "case x\noutput int64 [] 1\nend\ncase x\n", ":4:", "a second case"},
      {"grad of no input", "case x\ninput a float32 [] 1\noutput float32 [] 1\n"
                           "grad b float32 [] 1\nend\n", ":4:", "names no input"},
      {"grad of wrong shape", "case x\ninput a float32 [2] 1 2\noutput float32 [] 1\n"
                              "grad a float32 [] 1\nend\n", ":4:", "has shape []"},
      {"unknown record", "case x\noutputs float32 [] 1\nend\n", ":2:", "unknown record 'outputs'"},
      {"record outside a case", "input a float32 [] 1\n", ":1:", "outside a case"},
  };
  for (const Bad& b : bad) {
    INFO(b.what);
    const std::string path = scratch_fixture("fixture_loader_bad.txt", b.text);
    CHECK_THROWS_AS(load_fixtures(path), Error);
    CHECK_THROWS_WITH(load_fixtures(path), Catch::Contains(path + b.line) &&
                                               Catch::Contains(b.message) &&
                                               Catch::Contains("scripts/make_fixtures"));
  }
  std::remove((std::string(TANDEM_BINARY_DIR) + "/fixture_loader_bad.txt").c_str());
  CHECK_THROWS_WITH(load_fixtures(std::string(TANDEM_BINARY_DIR) + "/no_such_fixture.txt"),
                    Catch::Contains("cannot open fixture file") &&
                        Catch::Contains("no_such_fixture.txt"));
}

TEST_CASE("compare_with_fixture tells dtype, shape and value mismatches apart", "[parity][fixture]") {
  const Tensor expected = from_vector(std::vector<float>{1.f, NAN, INFINITY, 100.f}, {4});
  // Equal within the float32 tolerance (1e-6 + 1e-5 * 100 = 1.001e-3 allowed on the last one).
  CHECK(compare_with_fixture(from_vector(std::vector<float>{1.f, NAN, INFINITY, 100.0009f}, {4}),
                             expected) == "");
  CHECK_THAT(compare_with_fixture(from_vector(std::vector<float>{1.f, NAN, INFINITY, 100.002f}, {4}),
                                  expected),
             Catch::Contains("1 of 4 values differ") && Catch::Contains("element 3"));
  CHECK_THAT(compare_with_fixture(from_vector(std::vector<float>{1.f, 0.f, INFINITY, 100.f}, {4}),
                                  expected),
             Catch::Contains("element 1"));  // NaN must meet NaN
  CHECK_THAT(compare_with_fixture(from_vector(std::vector<float>{1.f, NAN, -INFINITY, 100.f}, {4}),
                                  expected),
             Catch::Contains("element 2"));  // an infinity must meet the same infinity
  CHECK_THAT(compare_with_fixture(from_vector(std::vector<double>{1, NAN, INFINITY, 100}, {4}),
                                  expected),
             Catch::Contains("dtype: got float64, PyTorch gives float32"));
  CHECK_THAT(compare_with_fixture(from_vector(std::vector<float>{1.f, NAN, INFINITY, 100.f}, {2, 2}),
                                  expected),
             Catch::Contains("shape: got [2, 2], PyTorch gives [4]"));
  // int64 is compared exactly, even beyond 2^53 where doubles can no longer tell neighbours apart.
  const int64_t big = (int64_t{1} << 60) + 1;
  CHECK_THAT(compare_with_fixture(from_vector(std::vector<int64_t>{big - 1}, {1}),
                                  from_vector(std::vector<int64_t>{big}, {1})),
             Catch::Contains("1 of 1 values differ"));
  // A strided view is read through its strides: column 1 of [[1, 2], [3, 4]] is [2, 4].
  const Tensor m = from_vector(std::vector<float>{1, 2, 3, 4}, {2, 2});
  CHECK(compare_with_fixture(m.select(1, 1), from_vector(std::vector<float>{2, 4}, {2})) == "");
}
