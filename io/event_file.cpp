// io/event_file.cpp — framing records, appending them durably, and reading them back with suspicion.
//
// Read next: io/summary_writer.cpp.
#include "io/event_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "io/crc32c.h"

namespace fs = std::filesystem;

namespace tandem::io {
namespace {

void put_le(std::string& out, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_le(std::string_view b) {
  uint64_t v = 0;
  for (size_t i = 0; i < b.size(); ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(b[i])) << (8 * i);
  return v;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

[[noreturn]] void fail_errno(const std::string& what, const std::string& path) {
  throw Error(msg("event file: ", what, " '", path, "' failed: ", std::strerror(errno)));
}

// fsync of the folder, so that a new file's name in it survives a power cut too.
void sync_folder(const std::string& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // some file systems cannot open a folder; the file's own data is synced
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

uint64_t next_event_file_number() {
  static std::atomic<uint64_t> counter{0};
  return counter++;
}

std::string frame_record(std::string_view data) {
  std::string header;
  put_le(header, data.size(), 8);
  std::string out = header;
  put_le(out, masked_crc32c(header), 4);
  out.append(data);
  put_le(out, masked_crc32c(data), 4);
  return out;
}

// ---- writing -------------------------------------------------------------------------------------

EventFileWriter::EventFileWriter(std::string log_dir, EventFileOptions options)
    : log_dir_(std::move(log_dir)), options_(std::move(options)) {
  if (log_dir_.empty()) throw Error("EventFileWriter: the log directory is empty; name one, e.g. \"runs/mlp\"");
  if (options_.max_queue < 1) options_.max_queue = 1;
  std::lock_guard lock(mutex_);
  open();
}

EventFileWriter::~EventFileWriter() {
  try {
    close();
  } catch (const std::exception&) {
    // A destructor must not throw; call close() yourself to see the error.
  }
}

void EventFileWriter::open() {
  std::error_code ec;
  fs::create_directories(log_dir_, ec);
  if (ec) throw Error(msg("event file: cannot create the log directory '", log_dir_, "': ", ec.message()));
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "%010lld", static_cast<long long>(now_seconds()));
  path_ = (fs::path(log_dir_) / msg("events.out.tfevents.", stamp, ".", host_name(), ".", getpid(), ".",
                                    next_event_file_number(), options_.filename_suffix))
              .string();
  // O_EXCL: never append to somebody else's file. O_APPEND: every write lands at the end.
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) fail_errno("creating", path_);
  file_size_ = 0;
  queue_.clear();
  queued_ = 0;
  // The first record says what the file is; it is written and synced at once, as TensorBoard's
  // own writer does, so even an empty run is a valid event file.
  Event version{.wall_time = now_seconds(), .step = 0, .what = FileVersion{kFileVersion}};
  queue_ = frame_record(encode_event(version));
  queued_ = 1;
  flush_or_give_up();
  sync_folder(log_dir_);
}

void EventFileWriter::add_event(Event event) {
  if (event.wall_time == 0) event.wall_time = now_seconds();
  const std::string record = frame_record(encode_event(event));
  std::lock_guard lock(mutex_);
  if (fd_ < 0) open();  // after close(): a new file, as PyTorch does
  queue_ += record;
  if (++queued_ >= options_.max_queue) write_queue();
  if (std::chrono::duration<double>(std::chrono::steady_clock::now() - last_flush_).count() >= options_.flush_secs)
    flush_locked();
}

void EventFileWriter::write_queue() {
  size_t done = 0;
  while (done < queue_.size()) {
    const ssize_t n = ::write(fd_, queue_.data() + done, queue_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // Cut the file back to its last whole record, so that it stays readable and later records
      // do not land behind a torn one. The queued events are lost; the error says so.
      const int saved = errno;
      if (::ftruncate(fd_, static_cast<off_t>(file_size_)) != 0) { /* the error below is the one to report */ }
      const int lost = queued_;
      queue_.clear();
      queued_ = 0;
      errno = saved;
      fail_errno(msg("writing ", lost, " event(s) to"), path_);
    }
    done += static_cast<size_t>(n);
  }
  file_size_ += queue_.size();
  queue_.clear();
  queued_ = 0;
}

void EventFileWriter::flush_locked() {
  if (fd_ < 0) return;
  write_queue();
  if (::fsync(fd_) != 0) fail_errno("fsync of", path_);
  last_flush_ = std::chrono::steady_clock::now();
}

void EventFileWriter::flush_or_give_up() {
  try {
    flush_locked();
  } catch (...) {
    ::close(fd_);  // a file that could not be written is not written to again; the next event opens a new one
    fd_ = -1;
    path_.clear();
    throw;
  }
}

void EventFileWriter::flush() {
  std::lock_guard lock(mutex_);
  flush_locked();
}

void EventFileWriter::close() {
  std::lock_guard lock(mutex_);
  if (fd_ < 0) return;
  flush_or_give_up();
  ::close(fd_);
  fd_ = -1;
  path_.clear();
}

// ---- reading -------------------------------------------------------------------------------------

EventFileContents parse_event_file(std::string_view bytes, std::string_view source) {
  constexpr size_t kHeader = 12, kFooter = 4;  // length + its CRC; the data's CRC
  EventFileContents out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    const size_t left = bytes.size() - pos;
    if (left < kHeader) {
      out.stopped_because = msg("the record at byte ", pos, " is cut short: ", left, " of its 12 header bytes are there");
      break;
    }
    const std::string_view length_bytes = bytes.substr(pos, 8);
    if (masked_crc32c(length_bytes) != get_le(bytes.substr(pos + 8, 4))) {
      out.stopped_because = msg("the record at byte ", pos, " is damaged: the CRC of its length does not match");
      break;
    }
    const uint64_t length = get_le(length_bytes);
    if (length > left - kHeader || left - kHeader - length < kFooter) {
      out.stopped_because = msg("the record at byte ", pos, " is cut short: it holds ", length, " bytes of data, and ",
                                left - kHeader, " bytes follow its header (with the 4-byte CRC)");
      break;
    }
    const std::string_view data = bytes.substr(pos + kHeader, length);
    if (masked_crc32c(data) != get_le(bytes.substr(pos + kHeader + length, 4))) {
      out.stopped_because = msg("the record at byte ", pos, " is damaged: the CRC of its ", length, " bytes of data does not match");
      break;
    }
    // The CRCs match, so these are the bytes the writer wrote: if they are no Event, that is an error.
    out.events.push_back(decode_event(data, msg(source, ", record at byte ", pos)));
    pos += kHeader + length + kFooter;
    out.valid_bytes = pos;
  }
  return out;
}

EventFileContents read_event_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(msg("read_event_file: cannot open '", path, "': ", std::strerror(errno)));
  std::ostringstream buf;
  buf << in.rdbuf();
  return parse_event_file(buf.str(), path);
}

std::vector<std::string> event_files_in(const std::string& log_dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(log_dir, ec))
    if (e.is_regular_file() && e.path().filename().string().find("tfevents") != std::string::npos)
      files.push_back(e.path().string());
  if (ec) throw Error(msg("event_files_in: cannot list '", log_dir, "': ", ec.message()));
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace tandem::io
