// One product computed now, then a graph whose shapes clash only when it runs: the error names
// the line below that created the failing node (tests/consumer/ in Tandem's tree).
#include <iostream>

#include "tandem.h"
using namespace tandem;
namespace g = tandem::graph;

int main() {
  std::cout << matmul(tensor({{1., 2.}}), tensor({{3.}, {4.}})) << "\n";  // tensor([[11.]])
  g::Output x = g::placeholder(kFloat32, {-1, -1}, "x");
  g::Output y = g::matmul(x, g::constant(ones({4, 5})));  // the inner sizes are checked when run
  try {
    g::Session().run(y, {{x, ones({2, 3})}});  // 3 columns meet 4 rows
  } catch (const Error& e) {
    std::cout << e.what() << "\n";  // ... created at main.cpp:12 (in main)
  }
}
