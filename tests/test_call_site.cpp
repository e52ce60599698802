// tests/test_call_site.cpp — which stack frame is "the user's line" (core/call_site.h).
//
// The rules are checked one by one on the paths and symbols a real stack holds, then on a real
// stack: this file is the user's code here. (tests/consumer/ checks a program built without line
// tables: its errors name its function and program, never a glibc file.)
#include <catch2/catch.hpp>

#include <functional>
#include <string>

#include "core/call_site.h"

using namespace tandem;

TEST_CASE("system libraries, system headers, relative paths and the engine are never the user's",
          "[call_site]") {
  using namespace tandem::detail;
  CHECK(is_system_object("/lib/x86_64-linux-gnu/libc.so.6"));
  CHECK(is_system_object("/usr/lib/x86_64-linux-gnu/libstdc++.so.6"));
  CHECK(is_system_object("/lib64/ld-linux-x86-64.so.2"));
  CHECK_FALSE(is_system_object("./app"));
  CHECK_FALSE(is_system_object("/home/me/app/build/app"));

  CHECK_FALSE(is_user_file("../sysdeps/nptl/libc_start_call_main.h"));  // glibc's debug info
  CHECK_FALSE(is_user_file("/usr/include/c++/12/bits/std_function.h"));
  CHECK_FALSE(is_user_file(TANDEM_SOURCE_DIR "/graph/ops.cpp"));
  CHECK_FALSE(is_user_file(TANDEM_SOURCE_DIR "/tandem.h"));
  CHECK_FALSE(is_user_file("/home/me/.local/include/tandem/core/ops.h"));  // installed headers
  CHECK(is_user_file(TANDEM_SOURCE_DIR "/tests/test_call_site.cpp"));
  CHECK(is_user_file(TANDEM_SOURCE_DIR "/examples/02_eager_tape.cpp"));
  CHECK(is_user_file("/home/me/app/main.cpp"));
  CHECK(is_user_file("/home/me/core/main.cpp"));  // a folder called core, outside the engine

  CHECK(is_user_symbol("main"));
  CHECK(is_user_symbol("_Z11build_modeli"));                 // build_model(int)
  CHECK(is_user_symbol("_Z3mlpIN6tandem6TensorEET_RKS2_"));  // mlp<tandem::Tensor>(...)
  CHECK(is_user_symbol("_ZZ4mainENKUlvE_clEv"));             // a lambda in main
  CHECK_FALSE(
      is_user_symbol("_ZN6tandem5graph6matmulERKNS0_6OutputES3_"));  // tandem::graph::matmul
  CHECK_FALSE(is_user_symbol("_ZNK6tandem6Tensor3sumEv"));           // a const member of Tensor
  CHECK_FALSE(
      is_user_symbol("_ZNSt17_Function_handlerIFvvEZ4mainEUlvE_E9_M_invokeERKSt9_Any_data"));
  CHECK_FALSE(is_user_symbol("_start"));
  CHECK_FALSE(is_user_symbol("__libc_start_call_main"));
  CHECK_FALSE(is_user_symbol(""));
}

TEST_CASE("describe names this file and line, also through a std::function", "[call_site]") {
  const int line = __LINE__ + 1;
  const std::string here = describe(capture_call_site());
  CHECK(here.starts_with("tests/test_call_site.cpp:" + std::to_string(line)));
  std::string inside;
  const std::function<void()> f = [&] { inside = describe(capture_call_site()); };
  f();
  CHECK(inside.starts_with("tests/test_call_site.cpp:"));
}
