// tests/test_tensor.cpp — making tensors and reading them back: factories, dtypes, element access.
// Read these as examples of the API: each test is a small PyTorch snippet translated to C++.
#include <catch2/catch.hpp>

#include "core/factories.h"
#include "core/ops.h"

using namespace tandem;

TEST_CASE("tensor() from nested braces: shape from the nesting, dtype from the literals", "[tensor]") {
  Tensor a = tensor({{3., 4., 8.}});  // torch.tensor([[3., 4., 8.]])
  CHECK(a.shape() == Shape{1, 3});
  CHECK(a.dtype() == kFloat32);  // floating literals give the default dtype, float32
  CHECK(a.to_vector<double>() == std::vector<double>{3, 4, 8});

  Tensor i = tensor({1, 2, 3});  // integer literals give int64, as Python ints do
  CHECK(i.dtype() == kInt64);
  CHECK(tensor({true, false}).dtype() == kBool);

  Tensor cube = tensor({{{1., 2.}, {3., 4.}}, {{5., 6.}, {7., 8.}}});
  CHECK(cube.shape() == Shape{2, 2, 2});
  CHECK(cube.at({1, 0, 1}) == 6.0);

  Tensor s = tensor(3.);  // 0-dim
  CHECK(s.dim() == 0);
  CHECK(s.numel() == 1);
  CHECK(s.item() == 3.0);

  CHECK(tensor({1., 2.}, kFloat64).dtype() == kFloat64);
}

TEST_CASE("ragged nested lists are an error that names the dimension", "[tensor][errors]") {
  REQUIRE_THROWS_WITH(tensor({{1., 2.}, {3.}}),
                      Catch::Contains("expected sequence of length 2 at dim 1 (got 1)"));
}

TEST_CASE("seed example: 3. * 4. = 12.", "[tensor][seed]") {
  Tensor x = tensor(3.0), y = tensor(4.0);
  Tensor z = x * y;
  CHECK(z.dim() == 0);
  CHECK(z.item() == 12.0);
}

TEST_CASE("from_vector keeps the C++ element type", "[tensor]") {
  Tensor f = from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(f.dtype() == kFloat32);
  CHECK(f.at({1, 2}) == 6.0);
  Tensor d = from_vector(std::vector<double>{1, 2}, {2});
  CHECK(d.dtype() == kFloat64);
  Tensor l = from_vector(std::vector<int64_t>{7}, {});
  CHECK(l.dtype() == kInt64);
  CHECK(l.item<int64_t>() == 7);
  REQUIRE_THROWS_AS(from_vector(std::vector<float>{1, 2, 3}, {2, 2}), ShapeError);
}

TEST_CASE("filled factories", "[tensor]") {
  CHECK(zeros({2, 3}).to_vector<double>() == std::vector<double>(6, 0.0));
  CHECK(ones({4}, kInt64).to_vector<int64_t>() == std::vector<int64_t>(4, 1));
  CHECK(full({2}, 7).dtype() == kInt64);  // torch.full infers int64 from an int fill value
  CHECK(full({2}, 7.5).dtype() == kFloat32);
  CHECK(full({2}, 7.5).to_vector<double>() == std::vector<double>{7.5, 7.5});
  CHECK(eye(3).to_vector<double>() == std::vector<double>{1, 0, 0, 0, 1, 0, 0, 0, 1});
  CHECK(eye(2, 3).shape() == Shape{2, 3});

  Tensor x = rand({3, 2}, kFloat64);
  CHECK(zeros_like(x).shape() == x.shape());
  CHECK(zeros_like(x).dtype() == kFloat64);
  CHECK(ones_like(x, kInt64).dtype() == kInt64);
  CHECK(full_like(x, 2.0).to_vector<double>() == std::vector<double>(6, 2.0));
}

TEST_CASE("arange follows Python's range, with int64 for integer arguments", "[tensor]") {
  CHECK(arange(5).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 3, 4});
  CHECK(arange(5).dtype() == kInt64);
  CHECK(arange(1, 10, 3).to_vector<int64_t>() == std::vector<int64_t>{1, 4, 7});
  Tensor f = arange(0, 1, 0.25);
  CHECK(f.dtype() == kFloat32);
  CHECK(f.to_vector<double>() == std::vector<double>{0, 0.25, 0.5, 0.75});
  CHECK(arange(3, 0, -1).to_vector<int64_t>() == std::vector<int64_t>{3, 2, 1});
  REQUIRE_THROWS_WITH(arange(0, 5, 0), Catch::Contains("step must be nonzero"));
}

TEST_CASE("manual_seed makes random tensors reproducible", "[tensor][random]") {
  manual_seed(42);
  Tensor a = randn({100});
  Tensor u = rand({100});
  Tensor k = randint(0, 10, {100});
  manual_seed(42);
  CHECK(equal(randn({100}), a));
  CHECK(equal(rand({100}), u));
  CHECK(equal(randint(0, 10, {100}), k));

  // The distributions are what they claim: uniform in [0,1), normal with mean 0 and std 1.
  manual_seed(0);
  const auto uv = rand({20000}, kFloat64).to_vector<double>();
  double mean = 0;
  for (double v : uv) {
    CHECK((v >= 0.0 && v < 1.0));
    mean += v / uv.size();
  }
  CHECK(mean == Approx(0.5).margin(0.01));  // std of the mean: 0.29/sqrt(20000) = 0.002
  const auto nv = randn({20000}, kFloat64).to_vector<double>();
  double m = 0, sq = 0;
  for (double v : nv) m += v / nv.size();
  for (double v : nv) sq += (v - m) * (v - m) / nv.size();
  CHECK(m == Approx(0.0).margin(0.03));
  CHECK(std::sqrt(sq) == Approx(1.0).margin(0.03));
  for (int64_t v : randint(-3, 3, {1000}).to_vector<int64_t>()) CHECK((v >= -3 && v < 3));
}

TEST_CASE("item() needs exactly one element", "[tensor][errors]") {
  REQUIRE_THROWS_WITH(zeros({2}).item(), Catch::Contains("cannot be converted to a scalar"));
  CHECK(ones({1, 1}).item() == 1.0);
}

TEST_CASE("at() checks rank and bounds", "[tensor][errors]") {
  Tensor t = zeros({2, 3});
  REQUIRE_THROWS_WITH(t.at({0}), Catch::Contains("got 1 indices for a tensor of rank 2"));
  REQUIRE_THROWS_WITH(t.at({0, 3}), Catch::Contains("index 3 is out of bounds for dimension 1 with size 3"));
  CHECK(t.at({-1, -1}) == 0.0);  // negative indices count from the end
}

TEST_CASE("data<T>() checks the dtype", "[tensor][errors]") {
  Tensor t = zeros({2});
  CHECK(t.data<float>() != nullptr);
  REQUIRE_THROWS_AS(t.data<double>(), DTypeError);
}

TEST_CASE("an undefined tensor explains itself", "[tensor][errors]") {
  Tensor t;
  CHECK_FALSE(t.defined());
  REQUIRE_THROWS_WITH(t.shape(), Catch::Contains("undefined"));
}

TEST_CASE("to(dtype) converts, and casting to bool means nonzero", "[tensor][dtype]") {
  Tensor f = tensor({-1.5, 0.0, 2.7});
  CHECK(f.to(kInt64).to_vector<int64_t>() == std::vector<int64_t>{-1, 0, 2});  // truncation, as C
  CHECK(f.to(kBool).to_vector<bool>() == std::vector<bool>{true, false, true});
  CHECK(f.to(kFloat32).is_same(f));  // no copy when the dtype already matches
  Tensor d = f.to(kFloat64);
  CHECK(d.dtype() == kFloat64);
  CHECK(d.at({2}) == Approx(2.7f));  // the float32 value, widened
}

TEST_CASE("copies to a CUDA device fail clearly in a CPU-only build", "[tensor][errors]") {
#ifndef TANDEM_HAVE_CUDA
  REQUIRE_THROWS_WITH(zeros({2}).to(Device::cuda()), Catch::Contains("no CUDA backend"));
#endif
  CHECK(zeros({2}).to(Device::cpu()).device().is_cpu());
}

TEST_CASE("memory statistics count storage, not views", "[tensor][memory]") {
  reset_peak_memory_stats();
  const auto before = memory_stats();
  {
    Tensor t = zeros({256});  // 1 KiB
    Tensor v = t.reshape({16, 16}).t();  // views: no new storage
    CHECK(memory_stats().allocations == before.allocations + 1);
    CHECK(memory_stats().bytes_in_use == before.bytes_in_use + 1024);
  }
  CHECK(memory_stats().bytes_in_use == before.bytes_in_use);
  CHECK(memory_stats().peak_bytes >= before.bytes_in_use + 1024);
}
