#include <iostream>

#include "tandem.h"
using namespace tandem;

int main() {
  Tensor a = tensor({{3., 4., 8.}});      // shape [1, 3]
  Tensor b = tensor({{2.}, {3.}, {9.}});  // shape [3, 1]
  Tensor c = a * b;                       // broadcasts to [3, 3]
  std::cout << c << "\n" << c.sum({0}) << "\n";
  std::cout << mean(tensor({{1., 2.}, {3., 4.}})) << "\n";
}
