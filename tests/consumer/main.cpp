// tests/consumer/main.cpp — a program of your own on Tandem (README.md, "Your own program").
// It computes one product eagerly, then runs a graph whose shapes only clash when fed: the error
// names the line of main() that created the failing node — file:line when built with -g1 or -g,
// the function and the program otherwise (tests/consumer/check.cmake checks both).
#include <iostream>

#include "tandem.h"
using namespace tandem;
namespace g = tandem::graph;

int main() {
  std::cout << matmul(tensor({{1., 2.}}), tensor({{3.}, {4.}})) << "\n";  // eager: tensor([[11.]])
  g::Output x = g::placeholder(kFloat32, {-1, -1}, "x");
  g::Output y = g::matmul(x, g::constant(ones({4, 5})));  // graph: shapes checked when it runs
  try {
    g::Session session;
    session.run(y, {{x, ones({2, 3})}});  // 3 columns meet 4 rows
  } catch (const Error& e) {
    std::cout << e.what() << "\n";
    return 0;
  }
  std::cout << "expected an error\n";
  return 1;
}
