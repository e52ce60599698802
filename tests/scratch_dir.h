// tests/scratch_dir.h — a fresh folder for one test's files, removed when the test ends.
//
//     ScratchDir dir("saver");                      // /tmp/tandem_saver_<pid>, empty
//     io::save_checkpoint(c, dir / "model.tckpt");  // a path inside it
//
// The process id in the name keeps two test runs at once (ctest -j) out of each other's files;
// the destructor removes the folder even when a REQUIRE stops the test halfway.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace tandem {

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name)
      : path_(std::filesystem::temp_directory_path() /
              ("tandem_" + name + "_" + std::to_string(static_cast<long>(::getpid())))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string string() const { return path_.string(); }
  // dir / "name": the path of a file inside, as a string (what the loaders and savers take).
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace tandem
