// tests/test_readme.cpp — the README's example is real: same source, same output.
//
// The README shows examples/00_readme.cpp and what it prints. This test reads both blocks out of
// README.md, checks the first against the example's source file, runs the built example and
// checks the second against its output. Edit one without the other and this test fails. The same
// holds for the "Your own program" section and tests/consumer/.
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/run_program.h"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The body of the first (or the n-th, from 0) fenced block that opens with "```<lang>".
std::string fenced_block(const std::string& text, const std::string& lang, int n = 0) {
  const std::string open = "```" + lang + "\n";
  size_t start = text.find(open);
  for (int i = 0; i < n && start != std::string::npos; ++i) start = text.find(open, start + 1);
  REQUIRE(start != std::string::npos);
  const size_t body = start + open.size();
  const size_t end = text.find("```", body);
  REQUIRE(end != std::string::npos);
  return text.substr(body, end - body);
}

}  // namespace

TEST_CASE("the README's example is examples/00_readme.cpp and prints what the README says", "[readme]") {
  const std::string readme = read_file(TANDEM_SOURCE_DIR "/README.md");
  CHECK(fenced_block(readme, "cpp") == read_file(TANDEM_SOURCE_DIR "/examples/00_readme.cpp"));
  CHECK(tandem::run_ok(TANDEM_BINARY_DIR "/00_readme") == fenced_block(readme, "text"));
}

TEST_CASE("the README's own-program lines are tests/consumer/, which ctest and CI build", "[readme]") {
  const std::string readme = read_file(TANDEM_SOURCE_DIR "/README.md");
  CHECK(fenced_block(readme, "cmake") == read_file(TANDEM_SOURCE_DIR "/tests/consumer/CMakeLists.txt"));
  CHECK(fenced_block(readme, "cpp", 1) == read_file(TANDEM_SOURCE_DIR "/tests/consumer/main.cpp"));
}
