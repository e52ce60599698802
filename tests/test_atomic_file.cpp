// tests/test_atomic_file.cpp — the one save helper (io/atomic_file.h), put through what goes wrong.
//
// io::write_file_atomic writes a uniquely named temporary file beside the target, fsyncs it,
// renames it over the target and fsyncs the folder. What each test shows:
//   - two saves to one path at once (threads, then processes): each succeeds, and the file is one
//     of them, whole — with one fixed temporary name ("path.tmp") the two would write into the
//     same temporary file, one rename would fail, and the survivor could hold the other's bytes;
//   - a save that fails (no such folder, a folder nobody may write, a write cut short) throws an
//     Error naming the file, leaves the previous file as it was, and leaves no temporary file;
//   - a save killed with SIGKILL in the middle of writing leaves the previous file whole.
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "io/atomic_file.h"

namespace fs = std::filesystem;
using tandem::Error;

namespace {

// A fresh, empty folder for one test, removed at the end.
struct TempFolder {
  fs::path path;
  explicit TempFolder(const std::string& name)
      : path(fs::temp_directory_path() / ("tandem_atomic_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempFolder() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, ec);
    fs::remove_all(path, ec);
  }
  // Every file in the folder but `keep` (the temporaries a save might have left behind).
  std::vector<std::string> others(const fs::path& keep) const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path))
      if (e.path() != keep) out.push_back(e.path().filename().string());
    return out;
  }
};

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Contents that show when they were mixed: `size` copies of `fill`.
std::string block(char fill, size_t size) { return std::string(size, fill); }

// Runs `child` in a forked process and returns its exit status (-signal when killed).
// A child process running `child`, its exit code 0 (done), 2 (it threw) or 1.
template <typename F> pid_t start_child(F child) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    int rc = 1;
    try {
      rc = child();
    } catch (...) {
      rc = 2;
    }
    ::_exit(rc);
  }
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

template <typename F> int in_child(F child) { return wait_for(start_child(child)); }

}  // namespace

TEST_CASE("write_file_atomic: the file holds exactly the bytes, and nothing else is left", "[io][atomic]") {
  TempFolder dir("basic");
  const fs::path file = dir.path / "model.tgraph";
  tandem::io::write_file_atomic(file, "first");
  CHECK(read_all(file) == "first");
  tandem::io::write_file_atomic(file, std::string("second\0with a zero", 18));
  CHECK(read_all(file) == std::string("second\0with a zero", 18));
  CHECK(dir.others(file).empty());
}

TEST_CASE("two threads saving to one path at once: both succeed, the file is one of them whole",
          "[io][atomic][threads]") {
  TempFolder dir("threads");
  const fs::path file = dir.path / "model.tgraph";
  const std::string a = block('A', 1 << 18), b = block('B', 1 << 18);
  std::latch start(2);
  int failures[2] = {0, 0};
  auto saver = [&](int k) {
    start.arrive_and_wait();
    for (int i = 0; i < 40; ++i) {
      try {
        tandem::io::write_file_atomic(file, k == 0 ? a : b, "save");
      } catch (const Error&) {
        ++failures[k];  // with one shared "model.tgraph.tmp", the loser's rename fails here
      }
    }
  };
  std::thread t0(saver, 0), t1(saver, 1);
  t0.join();
  t1.join();
  CHECK(failures[0] == 0);
  CHECK(failures[1] == 0);
  const std::string got = read_all(file);
  CHECK((got == a || got == b));
  CHECK(dir.others(file).empty());
}

TEST_CASE("two processes saving to one path at once: both succeed, the file is one of them whole",
          "[io][atomic]") {
  TempFolder dir("processes");
  const fs::path file = dir.path / "model.tgraph";
  const std::string a = block('A', 1 << 18), b = block('B', 1 << 18);
  auto save_many = [&](const std::string& bytes) {
    return [&file, &bytes] {
      for (int i = 0; i < 40; ++i) tandem::io::write_file_atomic(file, bytes, "save");
      return 0;
    };
  };
  // Both forked from this thread, one after the other (forking from two threads at once can copy a
  // lock the other thread holds — the sanitizers' allocator's — into a child that then waits for
  // it forever); the two children then save at the same time.
  const pid_t p0 = start_child(save_many(a)), p1 = start_child(save_many(b));
  CHECK(wait_for(p0) == 0);  // 2: a save threw
  CHECK(wait_for(p1) == 0);
  const std::string got = read_all(file);
  CHECK((got == a || got == b));
  CHECK(dir.others(file).empty());
}

TEST_CASE("a failed save throws, names the file, keeps the old file and leaves no temporary", "[io][atomic]") {
  TempFolder dir("failures");
  const fs::path file = dir.path / "model.tgraph";
  tandem::io::write_file_atomic(file, "the old model");

  SECTION("the folder does not exist") {
    const fs::path missing = dir.path / "no such folder" / "model.tgraph";
    CHECK_THROWS_WITH(tandem::io::write_file_atomic(missing, "x", "save_graph"),
                      Catch::Contains("save_graph") && Catch::Contains("no such folder") &&
                          Catch::Contains("No such file or directory") && Catch::Contains("create it first"));
  }
  SECTION("the folder may not be written") {
    // /proc refuses new files even to root; a folder without write permission refuses everyone
    // else (root may write anywhere, so that half is checked only for other users).
    CHECK_THROWS_WITH(tandem::io::write_file_atomic("/proc/tandem_model.tgraph", "x", "save_graph"),
                      Catch::Contains("save_graph") && Catch::Contains("/proc/tandem_model.tgraph"));
    if (::geteuid() != 0) {
      fs::permissions(dir.path, fs::perms::owner_read | fs::perms::owner_exec);
      CHECK_THROWS_WITH(tandem::io::write_file_atomic(file, "new", "save_graph"),
                        Catch::Contains("Permission denied") && Catch::Contains("unchanged"));
      fs::permissions(dir.path, fs::perms::owner_all);
    }
  }
  SECTION("the target is a folder") {
    CHECK_THROWS_WITH(tandem::io::write_file_atomic(dir.path, "x", "save_graph"),
                      Catch::Contains("is a folder") && Catch::Contains("give a file name"));
  }
  SECTION("the write is cut short half-way (a file size limit: like a full disk)") {
    // In a child, so that the limit and its signal stay there: writes past 64 KiB fail (EFBIG)
    // after the temporary file exists and holds part of the bytes — the cleanup path.
    const int status = in_child([&] {
      std::signal(SIGXFSZ, SIG_IGN);
      const rlimit limit{1 << 16, 1 << 16};
      ::setrlimit(RLIMIT_FSIZE, &limit);
      try {
        tandem::io::write_file_atomic(file, block('N', 1 << 20), "save_graph");
      } catch (const Error& e) {
        return std::string(e.what()).find("writing") != std::string::npos ? 0 : 3;
      }
      return 4;  // it should have failed
    });
    CHECK(status == 0);
  }
  CHECK(read_all(file) == "the old model");
  CHECK(dir.others(file).empty());
}

TEST_CASE("a save killed with SIGKILL while writing leaves the previous file whole", "[io][atomic]") {
  TempFolder dir("killed");
  const fs::path file = dir.path / "model.tgraph";
  const std::string old_bytes = block('O', 1 << 20), new_bytes = block('N', 16 << 20);
  tandem::io::write_file_atomic(file, old_bytes);
  const pid_t pid = ::fork();
  if (pid == 0) {
    try {
      for (;;) tandem::io::write_file_atomic(file, new_bytes);  // saves until it is killed
    } catch (...) {
    }
    ::_exit(1);
  }
  // Kill it the moment a temporary file exists: between the open and the rename, mid-write.
  bool mid_write = false;
  for (int i = 0; i < 100000 && !mid_write; ++i) {  // up to 10 s, on a busy machine
    mid_write = !dir.others(file).empty();
    if (!mid_write) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(mid_write);
  CHECK(WIFSIGNALED(status));
  // Either no save finished (the old file) or one did (the new file): never a mix or a stub.
  const std::string got = read_all(file);
  CHECK((got == old_bytes || got == new_bytes));
  // A killed process cleans nothing up: its temporary file stays, under a name no later save will
  // use (so it can never be mistaken for the model, or overwrite it).
  for (const std::string& left : dir.others(file)) CHECK(left.find("model.tgraph.tmp.") == 0);
}
