// io/atomic_file.h — saving a file so that a crash never loses what was saved before.
//
// Every file Tandem writes (saved graphs, checkpoints, images, exported models) goes through
// write_file_atomic(). The recipe, and why each step is there:
//
//   1. write the bytes to a temporary file with a *unique* name in the same folder
//      ("model.tdg.tmp.<pid>.<n>.<random>"): two processes saving to one path never write into
//      each other's temporary file, and the same folder keeps the final rename on one file system;
//   2. fsync the temporary file: its bytes are on the disk, not only in the OS's cache;
//   3. rename it over the target: on POSIX a rename is atomic, so a reader (or a crash) sees
//      either the old file whole or the new file whole, never a mix;
//   4. fsync the folder: the rename itself (a change to the folder) survives a power cut.
//
// If any step fails, the temporary file is removed and an Error names the file and the reason;
// the previous file at `path` is untouched.
//
// Read next: io/graph_file.h (a writer that uses it).
#pragma once

#include <filesystem>
#include <string_view>

namespace tandem::io {

// Replaces the file at `path` with `bytes`, atomically and durably (see above). `what` names the
// caller in error messages ("save_graph", "save checkpoint"...).
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes,
                       std::string_view what = "write_file_atomic");

}  // namespace tandem::io
