// io/event_file.h — the event file: records appended while training runs, read while they grow.
//
// THE FILE. TensorBoard watches a log directory and reads every file whose name contains
// "tfevents"; the writers name them as TensorFlow does,
//
//     <log_dir>/events.out.tfevents.<seconds since 1970, 10 digits>.<host>.<pid>.<n><suffix>
//
// (n counts the files this process opened), so two writers never pick the same name. The file is
// a sequence of records in TFRecord framing, all numbers little-endian:
//
//     uint64  length                  of the data
//     uint32  masked CRC-32C of the 8 length bytes    (io/crc32c.h)
//     bytes   data                    one serialized Event (io/event.h)
//     uint32  masked CRC-32C of the data
//
// and the first record is always Event{wall_time, file_version: "brain.Event:2"}.
//
// WHY TWO CRCs. A reader must trust `length` before it can find the data; a damaged length would
// send it off into the middle of the next record. With its own CRC, a bad length is caught first.
//
// APPENDING, AND CRASHES. A training run appends for hours; TensorBoard reads the file meanwhile,
// and the run may be killed at any moment. So a record is only ever appended — bytes once in the
// file are never rewritten — and the only damage a crash can do is to the *last* record, cut short
// mid-write. The CRCs let a reader recognise that torn tail and stop before it (read_event_file
// below reports it instead of failing). Durability comes in two steps:
//   - add_event() queues the record in memory; every `max_queue` events the queue is written to
//     the file (write(2)): from then on a crash of the *program* loses nothing, because the bytes
//     are in the operating system's hands;
//   - flush() writes the queue and then fsync(2)s the file: from then on a crash of the *machine*
//     (a power cut) loses nothing either. flush() runs every `flush_secs` seconds, on close(), and
//     whenever you call it.
// So a crash loses at most the unflushed tail — never an earlier record. If a write fails (a full
// disk), the file is cut back to its last whole record before the error is thrown, so the records
// appended later are not stranded behind a torn one. The defaults (max_queue 10, flush_secs 120)
// are PyTorch's; fsync costs milliseconds on a disk, and every 2 minutes it costs nothing a
// training loop would notice (bench/RESULTS.md).
//
// Read next: io/summary_writer.h (PyTorch's SummaryWriter, built on this), docs/tensorboard.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "io/event.h"

namespace tandem::io {

// One record's bytes: length, its CRC, the data, its CRC (see above).
std::string frame_record(std::string_view data);

struct EventFileOptions {
  int max_queue = 10;         // events held in memory before they are written to the file
  double flush_secs = 120;    // at most this long between flushes (write + fsync)
  std::string filename_suffix{};  // appended to the file name (PyTorch's filename_suffix)
};

// Appends events to a new event file in `log_dir` (created, with its parents, if missing).
// Safe to share between threads: each call takes the writer's lock.
class EventFileWriter {
 public:
  explicit EventFileWriter(std::string log_dir, EventFileOptions options = {});
  ~EventFileWriter();  // close(); an error there is swallowed (a destructor must not throw)
  EventFileWriter(const EventFileWriter&) = delete;
  EventFileWriter& operator=(const EventFileWriter&) = delete;

  // Queues `event`. A wall_time of 0 is replaced by the current time.
  void add_event(Event event);
  // Writes what is queued and fsyncs the file.
  void flush();
  // flush(), then closes the file. Adding an event afterwards opens a new file, as PyTorch's
  // writer does.
  void close();

  const std::string& log_dir() const { return log_dir_; }
  const std::string& path() const { return path_; }  // the current file ("" before the first, after close)

 private:
  void open();           // a new file, named as above, holding the file_version record
  void write_queue();    // write(2) the queued records
  void flush_locked();
  void flush_or_give_up();  // flush_locked(); on failure, close the file, then throw

  std::string log_dir_;
  EventFileOptions options_;
  std::mutex mutex_;
  int fd_ = -1;
  std::string path_;
  uint64_t file_size_ = 0;  // bytes of whole records in the file
  std::string queue_;       // framed records not yet written
  int queued_ = 0;
  std::chrono::steady_clock::time_point last_flush_;
};

// ---- reading ---------------------------------------------------------------------------------------

struct EventFileContents {
  std::vector<Event> events;
  uint64_t valid_bytes = 0;  // the whole, checked records at the start of the file
  // Empty when the file ended exactly after its last record. Otherwise why reading stopped there:
  // a record cut short (the file is still being written, or its writer crashed), or one whose
  // CRC does not match (damaged). What comes before is good either way.
  std::string stopped_because;
};

// Reads records until the end, or until a torn or damaged one (see stopped_because). A record
// whose CRCs match but whose bytes are not an Event is an error: it was written wrong, not torn.
// Every length is checked against the bytes present before it is used.
EventFileContents parse_event_file(std::string_view bytes, std::string_view source);
EventFileContents read_event_file(const std::string& path);

// The event files in `log_dir` (not its sub-folders), oldest name first.
std::vector<std::string> event_files_in(const std::string& log_dir);

// A process-wide count of the files opened, the <n> of the file name.
uint64_t next_event_file_number();

}  // namespace tandem::io
