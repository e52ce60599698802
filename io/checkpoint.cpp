// io/checkpoint.cpp — a checkpoint to bytes and back (docs/checkpoint_format.md), and its randomness.
//
// serialize: the metadata, then each tensor (name, dtype, shape, bytes), framed (io/bytes.h).
// parse:     the frame's four checks (ours? readable? whole? undamaged?), then the body with a
//            ByteReader: every count is checked against the bytes left before anything is made of
//            it, every name must be new, every byte count must equal what the shape needs.
//
// Read next: io/state_dict.cpp (loading into a model), io/saver.cpp (graph mode).
#include "io/checkpoint.h"

#include <set>

#include "data/dataloader.h"
#include "io/atomic_file.h"
#include "io/bytes.h"
#include "optim/optim.h"

namespace tandem::io {

namespace {

constexpr FileFormat kCheckpointFile = {
    .loader = "load_checkpoint", .content = "checkpoint", .file_kind = "checkpoint file",
    .writer = "save_checkpoint() or StateDict::save()", .magic = kCheckpointMagic,
    .magic_text = "TCHKPT1\\0", .version = kCheckpointVersion};

// The least a tensor entry can take: a name's length, a dtype, a rank, a byte count.
constexpr size_t kMinEntryBytes = 4 + 1 + 4 + 8;
constexpr size_t kMinNoteBytes = 4 + 4;

// ---- the metadata -----------------------------------------------------------------------------------

void write_metadata(ByteWriter& w, const Checkpoint& c) {
  w.i64(c.epoch);
  w.i64(c.step);
  w.u8(c.generator ? 1 : 0);
  if (c.generator) {
    for (uint64_t word : c.generator->words) w.u64(word);
    w.u64(c.generator->position);
    w.u8(c.generator->has_spare ? 1 : 0);
    w.f64(c.generator->spare);
  }
  w.u8(c.loader ? 1 : 0);
  if (c.loader) {
    w.u64(c.loader->seed);
    w.i64(c.loader->next_epoch);
  }
  w.u32(static_cast<uint32_t>(c.notes.size()));
  for (const auto& [key, value] : c.notes) {
    w.str(key);
    w.str(value);
  }
}

void read_metadata(ByteReader& r, Checkpoint& c) {
  c.epoch = r.i64("the epoch");
  c.step = r.i64("the step");
  if (c.epoch < -1 || c.step < -1)
    r.fail(msg("the epoch (", c.epoch, ") and the step (", c.step, ") must be -1 (not recorded) or more"));
  if (r.flag("the generator flag")) {
    Generator::State s;
    r.need(s.words.size() * 8, "the generator's state");
    for (uint64_t& word : s.words) word = r.u64("a generator word");
    s.position = r.u64("the generator's position");
    if (s.position > s.words.size()) r.fail(msg("the generator's position is ", s.position, " (0 to 312)"));
    s.has_spare = r.flag("the generator's has_spare");
    s.spare = r.f64("the generator's spare");
    c.generator = s;
  }
  if (r.flag("the loader flag")) {
    LoaderState l;
    l.seed = r.u64("the loader's seed");
    l.next_epoch = r.i64("the loader's next epoch");
    if (l.next_epoch < 0) r.fail(msg("the loader's next epoch is ", l.next_epoch));
    c.loader = l;
  }
  const uint32_t n_notes = r.count("the note count", kMinNoteBytes);
  for (uint32_t k = 0; k < n_notes; ++k) {
    std::string key = r.str("a note's key");
    std::string value = r.str("a note's value");
    if (!c.notes.emplace(std::move(key), std::move(value)).second) r.fail("two notes have the same key");
  }
}

// ---- the tensors ------------------------------------------------------------------------------------

void write_tensors(ByteWriter& w, const StateDict& tensors) {
  w.u32(static_cast<uint32_t>(tensors.size()));
  for (const auto& [name, t] : tensors) {
    w.str(name);
    w.dtype(t.dtype());
    w.shape(t.shape());
    w.elements(t);  // the values now: a snapshot, on the CPU, contiguous, little-endian
  }
}

void read_tensors(ByteReader& r, StateDict& tensors) {
  const uint32_t n = r.count("the tensor count", kMinEntryBytes);
  for (uint32_t k = 0; k < n; ++k) {
    const std::string name = r.str("a tensor's name");
    const std::string entry = msg("tensor ", k, " ('", name, "')");
    if (name.empty() || tensors.contains(name)) r.fail(msg(entry, " has an empty or repeated name"));
    const DType dtype = r.dtype(entry.c_str());
    const Shape shape = r.shape(entry.c_str());
    tensors.insert(name, r.elements(shape, dtype, entry));
  }
}

}  // namespace

// ---- bytes and files --------------------------------------------------------------------------------

std::string serialize_checkpoint(const Checkpoint& c) {
  ByteWriter w;
  write_metadata(w, c);
  write_tensors(w, c.tensors);
  return frame(kCheckpointFile, w.bytes());
}

Checkpoint parse_checkpoint(const std::string& bytes, const std::string& source) {
  const auto [begin, end] = unframe(kCheckpointFile, bytes, source);
  // The frame checked out, so the body is as it was written: a failure from here on means a file
  // written wrong (by hand, by another program, by an attacker), not one damaged later.
  ByteReader r(bytes, begin, end, "load_checkpoint: '" + source + "' is corrupt: ",
               ". Its checksum matches, so it was written like this, not damaged later: it was not made by "
               "save_checkpoint(). Save the checkpoint again, or check the program that wrote it against "
               "docs/checkpoint_format.md");
  Checkpoint c;
  read_metadata(r, c);
  read_tensors(r, c.tensors);
  if (r.remaining() != 0) r.fail(msg(r.remaining(), " bytes are left over after the last tensor"));
  return c;
}

void save_checkpoint(const Checkpoint& checkpoint, const std::string& path) {
  write_file_atomic(path, serialize_checkpoint(checkpoint), "save_checkpoint");
}

Checkpoint load_checkpoint(const std::string& path) {
  return parse_checkpoint(read_file(kCheckpointFile, path), path);
}

// ---- randomness -------------------------------------------------------------------------------------

void Checkpoint::record_random_state(const data::DataLoader* l) {
  generator = get_rng_state();
  if (l) loader = LoaderState{l->options().seed, l->epoch()};
}

namespace {
// What restore_random_state needs, checked without changing anything.
void check_random_state(const Checkpoint& c, const data::DataLoader* l) {
  if (!c.generator)
    throw Error("Checkpoint::restore_random_state: this checkpoint holds no generator state; it was saved "
                "without record_random_state()");
  if (!l) return;
  if (!c.loader)
    throw Error("Checkpoint::restore_random_state: a DataLoader was given, but this checkpoint holds no "
                "loader state; save it with record_random_state(&loader)");
  if (l->options().seed != c.loader->seed)
    throw Error(msg("Checkpoint::restore_random_state: the DataLoader's seed is ", l->options().seed,
                    " but the checkpoint's run used seed ", c.loader->seed,
                    "; its batches would differ. Make the loader with {.seed = ", c.loader->seed, "}"));
}
}  // namespace

void Checkpoint::restore_random_state(data::DataLoader* l) const {
  check_random_state(*this, l);
  // Checked: now change them.
  set_rng_state(*generator);
  if (l) l->set_epoch(loader->next_epoch);
}

// ---- the usual training checkpoint ------------------------------------------------------------------

Checkpoint training_checkpoint(const StateDict& model, const optim::Optimizer* optimizer, int64_t epoch,
                               const data::DataLoader* loader) {
  Checkpoint c;
  c.tensors = model.with_prefix("model.");
  if (optimizer) c.tensors.update(optimizer->state_dict().with_prefix("optimizer."));
  c.epoch = epoch;
  c.record_random_state(loader);
  return c;
}

void restore_training(const Checkpoint& c, const StateDict& model, optim::Optimizer* optimizer,
                      data::DataLoader* loader) {
  // 1. Everything that can refuse, refuses first, in an order where each step changes nothing
  //    unless it succeeds: the model's keys (compared only), the random state's presence and the
  //    loader's seed (checked only), then the optimizer (all or nothing by itself).
  const StateDict weights = c.tensors.under("model.");
  const std::string problems = compare_state_dicts(model, weights).message("model");
  if (!problems.empty())
    throw Error(problems + "\nNothing was restored: the model, the optimizer and the loader are unchanged");
  const bool random = c.generator || loader;  // a checkpoint from elsewhere (PyTorch) may have none
  if (random) check_random_state(c, loader);
  if (optimizer) optimizer->load_state_dict(c.tensors.under("optimizer."));
  // 2. Nothing left can fail: the model's copy was checked, and so was the random state.
  load_state_dict(model, weights);
  if (random) c.restore_random_state(loader);
}

}  // namespace tandem::io
