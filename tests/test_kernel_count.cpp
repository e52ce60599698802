// tests/test_kernel_count.cpp — eager_kernels_run() (core/kernel_count.h): the kernels eager calls
// start, counted per thread, as examples/12_fashion_mnist.cpp reads them around a training step.
#include <catch2/catch.hpp>

#include <thread>

#include "core/kernel_count.h"
#include "tandem.h"

using namespace tandem;

TEST_CASE("eager_kernels_run counts each kernel an eager call starts, and views that copy nothing as none",
          "[kernel_count]") {
  const Tensor a = ones({2, 3}), b = full({2, 3}, 2.0);
  int64_t before = eager_kernels_run();
  const Tensor c = a * b + a;  // two elementwise ops: a mul kernel, an add kernel
  CHECK(eager_kernels_run() - before == 2);

  before = eager_kernels_run();
  const Tensor t = c.t();  // a view: new strides over the same bytes, no kernel
  const Tensor s = c.narrow(1, 0, 2);
  CHECK(eager_kernels_run() - before == 0);
  CHECK(t.storage() == c.storage());

  before = eager_kernels_run();
  const Tensor flat = t.reshape({6});  // a transposed view cannot be reshaped in place: one copy
  CHECK(eager_kernels_run() - before == 1);
  CHECK(flat.storage() != c.storage());
  CHECK(s.numel() == 4);
}

TEST_CASE("eager_kernels_run counts an optimizer's in-place steps, and only this thread's kernels", "[kernel_count]") {
  Tensor w = ones({3}).requires_grad_();
  optim::SGD optimizer({w}, {.lr = 0.1});
  (w * 2.0).sum().backward();
  int64_t before = eager_kernels_run();
  optimizer.step();  // one parameter: one update kernel (w -= lr * grad, in place)
  CHECK(eager_kernels_run() - before == 1);
  CHECK(w.to_vector()[0] == Approx(0.8));  // 1 - 0.1 · 2

  // Another thread's kernels are its own (Catch's CHECK is not for other threads: count there,
  // check here).
  const Tensor x = ones({4}), y = ones({4});
  int64_t on_other = -1;
  before = eager_kernels_run();
  std::thread other([&] {
    const int64_t start = eager_kernels_run();
    const Tensor z = x + y;  // one add kernel, on the other thread
    on_other = eager_kernels_run() - start;
  });
  other.join();
  CHECK(on_other == 1);
  CHECK(eager_kernels_run() - before == 0);  // nothing ran on this thread
}
