// train/progress.h — progress bars: Keras's per-epoch bar for fit(), a tqdm-like bar for hand loops.
//
// Training is slow enough that people want to watch it. The two frameworks' users know two bars:
//
//     Keras, model.fit(..., verbose=1):
//         Epoch 3/10
//         469/469 [==============================] - 2s 4ms/step - loss: 0.3127 - accuracy: 0.8861
//     tqdm, around a PyTorch loop:
//          37%|███▋      | 347/938 [00:02<00:04, 138.80it/s, loss=0.412]
//
// Both are one line redrawn in place: "\r" returns the cursor to the start of the line and the new
// text overwrites the old (padded with spaces where it is shorter). That only works on a terminal.
// Written to a file or a CI log, every redraw would be kept, hundreds of lines per epoch — so when
// the output is not a terminal (isatty) the bars fall back to printing a line now and then: Keras's
// once per epoch (its final line), tqdm's every N percent. The choice can be forced (`.terminal`),
// and the clock replaced (`.clock`), which is how tests check the exact text without waiting.
//
// The API that fit() calls, and all of it:
//
//     ProgressBar bar(steps_per_epoch, {.epoch = 3, .epochs = 10});  // prints "Epoch 3/10"
//     for (int64_t step = 1; step <= steps_per_epoch; ++step) {
//       ...train one batch...
//       bar.update(step, {{"loss", loss}, {"accuracy", acc}});   // redraws (at most every 50 ms)
//     }
//     bar.finish({{"loss", loss}, {"accuracy", acc}, {"val_loss", vl}, {"val_accuracy", va}});
//
// and for a hand-written loop:
//
//     Tqdm bar(loader.size());
//     for (...) { ...; bar.update(1, {{"loss", loss}}); }
//     bar.close();
//
// Values are shown as given: pass running averages (what fit()'s metrics hold, and what Keras shows),
// or per-batch numbers (what a tqdm postfix usually shows).
//
// The names are in namespace tandem itself: a namespace tandem::train would collide with graph::train
// (tf.train) and with the `void train()` of every program that says `using namespace tandem`.
//
// Read next: train/progress.cpp (the formats, one function each).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace tandem {

// Named numbers to show, in the order given: {{"loss", 0.31}, {"accuracy", 0.88}}.
using ProgressMetrics = std::vector<std::pair<std::string, double>>;
// A clock: seconds since any fixed moment (the default is std::chrono::steady_clock).
using ProgressClock = std::function<double()>;

// True when `out` is std::cout, std::cerr or std::clog and that stream's file is a terminal.
bool is_terminal(const std::ostream& out);

// ---- Keras's bar (tf.keras.utils.Progbar, as model.fit prints it) --------------------------------
struct ProgressBarOptions {
  int epoch = 0;   // this epoch, counted from 1 as printed ("Epoch 3/10"); with
  int epochs = 0;  // the number of epochs: the "Epoch" line is printed when epochs > 1, as Keras does
  int verbose = 1;  // 0: silent; 1: the bar; 2: one line per epoch, without the bar (Keras's modes)
  std::ostream* out = nullptr;     // where to write; nullptr: std::cout
  std::optional<bool> terminal = {};  // redraw in place? Unset: is_terminal(*out)
  ProgressClock clock = {};           // unset: steady_clock
};

class ProgressBar {
 public:
  // total_steps: the steps in this epoch; 0 when unknown (then the bar shows "37/Unknown").
  explicit ProgressBar(int64_t total_steps, ProgressBarOptions options = {});
  // `step` steps of the epoch are done (1, 2, ...): remember the metrics, redraw if on a terminal.
  void update(int64_t step, const ProgressMetrics& metrics = {});
  // The epoch is over: the final line, with the time per step and every metric (add the val_ ones).
  void finish(const ProgressMetrics& metrics = {});

 private:
  void merge(const ProgressMetrics& metrics);
  std::string bar_text() const;
  std::string line(double now, bool final) const;
  double seconds_per_step(double now) const;
  void write_in_place(const std::string& text, bool final);

  int64_t total_;
  ProgressBarOptions options_;
  std::ostream* out_;
  bool terminal_;
  double start_, last_draw_;
  std::optional<double> time_after_first_step_;
  int64_t seen_ = 0;
  ProgressMetrics values_;
  size_t previous_width_ = 0;
  bool finished_ = false;
};

// ---- a tqdm-like bar ---------------------------------------------------------------------------------
struct TqdmOptions {
  std::string desc = {};         // shown first, as "desc: "
  std::ostream* out = nullptr;   // nullptr: std::cout (tqdm itself writes to stderr)
  std::optional<bool> terminal = {};  // unset: is_terminal(*out)
  ProgressClock clock = {};
  int every_percent = 10;        // not on a terminal: a line each time this many percent more are done
};

class Tqdm {
 public:
  explicit Tqdm(int64_t total, TqdmOptions options = {});
  ~Tqdm();  // closes the bar if close() was not called
  Tqdm(const Tqdm&) = delete;
  Tqdm& operator=(const Tqdm&) = delete;
  // n more steps are done; a non-empty postfix replaces the one shown (tqdm's set_postfix).
  void update(int64_t n = 1, const ProgressMetrics& postfix = {});
  // The final line, and a newline. Later calls do nothing.
  void close();

 private:
  std::string line(double now) const;

  int64_t total_, n_ = 0;
  TqdmOptions options_;
  std::ostream* out_;
  bool terminal_;
  double start_, last_draw_;
  ProgressMetrics postfix_;
  size_t previous_width_ = 0;
  int next_percent_;
  bool closed_ = false;
};

// ---- the formats, as the two libraries print them (train/progress.cpp says where each comes from) ----
namespace progress_format {
std::string keras_number(double v);             // 0.3127 — or 1.2346e-04 when |v| <= 1e-3
std::string keras_eta(double seconds);          // 59s, 2:05, 1:01:05
std::string keras_step_time(double seconds);    // 2s/step, 4ms/step, 250us/step
std::string keras_bar(int64_t current, int64_t total, int width = 30);  // [=====>....]
std::string tqdm_interval(double seconds);      // 00:02, 1:01:05
std::string tqdm_bar(double fraction, int width = 10);  // ███▋
std::string tqdm_rate(double n, double elapsed);  // 138.80it/s, 2.50s/it, ?it/s
std::string tqdm_number(double v);              // 0.412, 1.23e+5
}  // namespace progress_format

}  // namespace tandem
