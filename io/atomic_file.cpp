// io/atomic_file.cpp — unique temporary file, fsync, rename, fsync the folder.
#include "io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>
#include <string>

#include "core/error.h"

namespace tandem::io {

namespace {

// "<name>.tmp.<pid>.<n>.<random>": unique between processes (pid), between threads and calls
// of one process (a counter) and, should a pid be reused after a crash, between runs (random).
std::filesystem::path temporary_name(const std::filesystem::path& path) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::filesystem::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++) + "." +
         std::to_string(random() % 1000000);
  return tmp;
}

[[noreturn]] void fail(std::string_view what, const std::filesystem::path& path, const std::string& doing,
                       int err) {
  throw Error(msg(what, ": ", doing, " '", path.string(), "' failed (", std::strerror(err),
                  "); the previous file, if any, is unchanged"));
}

// Writes every byte (write() may write fewer than asked, or be interrupted by a signal).
bool write_all(int fd, std::string_view bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Makes a rename inside `folder` durable. Some file systems cannot fsync a folder (EINVAL): the
// rename is then as durable as that file system makes it, which is not an error of ours.
void sync_folder(const std::filesystem::path& folder, std::string_view what) {
  const int fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail(what, folder, "opening the folder", errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0 && err != EINVAL) fail(what, folder, "syncing the folder", err);
}

}  // namespace

void write_file_atomic(const std::filesystem::path& path, std::string_view bytes, std::string_view what) {
  if (path.empty()) throw Error(msg(what, ": the file name is empty"));
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw Error(msg(what, ": '", path.string(), "' is a folder; give a file name inside it"));
  // A folder that is not there is the usual mistake (TF's Saver refuses it too, "Parent directory
  // of model.ckpt doesn't exist"): say so, and what to do, rather than name the temporary file.
  const std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : ".";
  if (!std::filesystem::exists(folder, ec))
    throw Error(msg(what, ": cannot save '", path.string(), "': the folder '", folder.string(), "' does not exist (",
                    std::strerror(ENOENT), "); create it first (std::filesystem::create_directories). Nothing was "
                    "written: the previous file, if any, is unchanged"));
  const std::filesystem::path tmp = temporary_name(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) fail(what, tmp, "creating the temporary file", errno);
  const bool written = write_all(fd, bytes);
  int err = errno;
  const bool synced = written && ::fsync(fd) == 0;
  if (written && !synced) err = errno;
  const bool closed = ::close(fd) == 0;
  if (synced && !closed) err = errno;
  if (!written || !synced || !closed) {
    ::unlink(tmp.c_str());
    fail(what, path, written ? "syncing" : "writing (disk full?)", err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    ::unlink(tmp.c_str());
    fail(what, path, "renaming the temporary file to", err);
  }
  sync_folder(path.parent_path(), what);
}

}  // namespace tandem::io
