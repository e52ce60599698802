// tests/run_program.h — runs a command through the shell and gives back what it printed.
//
// The examples are programs a student runs in a terminal; their tests run them the same way and
// read what they print (stdout and stderr together, as the terminal shows them):
//
//     const std::string out = run_ok(TANDEM_BINARY_DIR "/10_fit " + sample);  // fails the test unless it exits 0
//     CHECK(out.find("train accuracy") != std::string::npos);
//
//     const ProgramOutput bad = run_program("dot -Tsvg g.dot -o /dev/null");  // any exit status
#pragma once

#include <catch2/catch.hpp>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace tandem {

struct ProgramOutput {
  std::string text;  // stdout and stderr, interleaved as printed
  int status = -1;   // the exit status: 0 for success; -1 when it could not start or was killed
};

// Runs `command` with /bin/sh (in `dir` when one is given), stderr merged into stdout.
inline ProgramOutput run_program(const std::string& command, const std::string& dir = "") {
  const std::string line = (dir.empty() ? "" : "cd '" + dir + "' && ") + "(" + command + ") 2>&1";
  ProgramOutput result;
  FILE* pipe = ::popen(line.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 512> buf{};
  while (std::fgets(buf.data(), buf.size(), pipe)) result.text += buf.data();
  const int raw = ::pclose(pipe);
  result.status = raw != -1 && WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return result;
}

// What `command` printed; the test fails (with that output) unless it exits with status 0.
inline std::string run_ok(const std::string& command, const std::string& dir = "") {
  const ProgramOutput out = run_program(command, dir);
  if (out.status != 0) FAIL(command << " exited with status " << out.status << ", printing:\n" << out.text);
  return out.text;
}

}  // namespace tandem
