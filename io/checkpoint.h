// io/checkpoint.h — a checkpoint: everything a training run needs to continue exactly.
//
// Weights alone restart a model; they do not resume a *run*. To continue training as if it had
// never stopped, a checkpoint also keeps
//   - the optimizer's state (Adam's running averages, the momentum buffers): optim/optim.h;
//   - where the run was: the epoch and the step;
//   - its randomness: the default generator's state, which draws the dropout masks (and any other
//     rand()), and the DataLoader's seed and next epoch, which fix the order of the batches;
//   - free-form notes: the hyper-parameters, the git commit, anything to read back as text.
// With all of that, the run stopped after epoch k and resumed computes the same losses, bit for
// bit, as the run that never stopped (tests/test_checkpoint_resume.cpp, in both modes).
//
//     io::Checkpoint ckpt;                                     // torch.save({...}, path):
//     ckpt.tensors = model.with_prefix("model.");              //   'model': model.state_dict(),
//     ckpt.tensors.update(opt.state_dict().with_prefix("optimizer."));  // 'optimizer': ...,
//     ckpt.epoch = epoch;                                      //   'epoch': epoch,
//     ckpt.record_random_state(&loader);                       //   'rng': torch.get_rng_state(),
//     io::save_checkpoint(ckpt, "run/last.tckpt");
//
//     io::Checkpoint c = io::load_checkpoint("run/last.tckpt");  // and back
//     load_state_dict(model, c.tensors.under("model."));
//     opt.load_state_dict(c.tensors.under("optimizer."));
//     c.restore_random_state(&loader);                         // loader.set_epoch(c's next epoch)
//
// or, the same in one call each way, all or nothing: training_checkpoint(model, &opt, epoch,
// &loader) and restore_training(c, model, &opt, &loader).
//
// The byte layout is docs/checkpoint_format.md: a magic word and a version, the metadata, the
// tensors (name, dtype, shape, bytes), a CRC-32 — framed like the graph file (io/bytes.h). Saving
// goes through io::write_file_atomic. Loading believes nothing it has not checked: a truncated,
// corrupt, foreign, newer or hostile file is a tandem::Error naming the file, and no tensor is
// allocated larger than the bytes present to back it (tests/fuzz/fuzz_checkpoint.cpp fuzzes it).
//
// Read next: docs/checkpoint_format.md, io/state_dict.h, io/saver.h (graph mode's Saver).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/factories.h"
#include "io/state_dict.h"

namespace tandem::data {
class DataLoader;
}
namespace tandem::optim {
class Optimizer;
}

namespace tandem::io {

// A DataLoader's randomness: its shuffles are a function of (seed, epoch) (data/random.h), so
// these two numbers are its whole state between epochs.
struct LoaderState {
  uint64_t seed = 0;
  int64_t next_epoch = 0;  // the epoch its next pass will run
};

struct Checkpoint {
  StateDict tensors;                          // every tensor, under dotted names
  int64_t epoch = -1;                         // -1: not recorded
  int64_t step = -1;                          // -1: not recorded (graph mode: the global step)
  std::optional<Generator::State> generator;  // the default generator
  std::optional<LoaderState> loader;
  std::map<std::string, std::string> notes;   // free-form: {"lr", "0.001"}, {"model", "mlp-784-256-10"}

  // Records the default generator's state and, if given, the loader's seed and next epoch.
  void record_random_state(const data::DataLoader* loader = nullptr);
  // Puts them back: the default generator continues where it was, and the loader's next pass is
  // the one the saved run would have made next. A loader of another seed is an error (its batches
  // would not be the ones the saved run saw); so is asking for state the checkpoint does not hold.
  void restore_random_state(data::DataLoader* loader = nullptr) const;
};

// ---- the usual training checkpoint, in one call each way ------------------------------------------
// PyTorch's recipe, torch.save({'model': model.state_dict(), 'optimizer': optimizer.state_dict(),
// 'epoch': epoch}, path), plus the random state: the model under "model.", the optimizer under
// "optimizer." (either may be left out: an empty StateDict, a null optimizer), the epoch, the
// default generator's state and, if given, the loader's.
Checkpoint training_checkpoint(const StateDict& model, const optim::Optimizer* optimizer, int64_t epoch,
                               const data::DataLoader* loader = nullptr);
// Puts all of it back — or nothing: the model's keys and shapes, the optimizer's state_dict and
// the loader's seed are all checked before the first of them changes, so a checkpoint that does
// not fit (another model, another optimizer, another loader) leaves the model, the optimizer, the
// generator and the loader as they were. (A damaged file never gets this far: load_checkpoint
// refuses it.) The generator's state is restored when the checkpoint holds one.
void restore_training(const Checkpoint& checkpoint, const StateDict& model, optim::Optimizer* optimizer,
                      data::DataLoader* loader = nullptr);

// The bytes of a checkpoint file (docs/checkpoint_format.md) and back. `source` names the bytes
// in error messages (a file name).
std::string serialize_checkpoint(const Checkpoint& checkpoint);
Checkpoint parse_checkpoint(const std::string& bytes, const std::string& source = "<bytes>");

// The same through a file: save_checkpoint writes through io::write_file_atomic (a uniquely named
// temporary file, fsync, rename, fsync the folder), so a crash never leaves half a checkpoint
// where a whole one was.
void save_checkpoint(const Checkpoint& checkpoint, const std::string& path);
Checkpoint load_checkpoint(const std::string& path);

// What the format is: the magic word that opens every checkpoint, and its version.
inline constexpr char kCheckpointMagic[8] = {'T', 'C', 'H', 'K', 'P', 'T', '1', '\0'};
inline constexpr uint32_t kCheckpointVersion = 1;

}  // namespace tandem::io
