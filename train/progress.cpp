// train/progress.cpp — the two progress bars, and their formats copied from the libraries' source.
//
// Every number is formatted as its library formats it, so a reader who knows Keras's or tqdm's
// output recognises Tandem's: Keras's Progbar (keras/utils/generic_utils.py, TF 2.x) and tqdm's
// format_meter (tqdm/std.py). Python's '%.0f' and C's printf round alike (half to even), and
// Python's '%d' of a float truncates, as a cast to an integer does.
//
// How each bar decides what to write:
//   Keras   on a terminal: redraw on update() — at most every 50 ms (Keras's `interval`), so a
//           fast loop does not spend its time printing — and on finish() the final line and "\n".
//           Elsewhere (a file, a CI log): the "Epoch" line, then only the final line.
//   tqdm    on a terminal: draw at once, then on update() at most every 100 ms (tqdm's
//           `mininterval`), and on close(). Elsewhere: a line whenever every_percent more are
//           done, and the final line on close().
//
// Read next: tests/test_progress.cpp (the exact text of both bars, in both kinds of output).
#include "train/progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <iostream>
#include <limits>

#include "core/error.h"

namespace tandem {

namespace {

// printf into a std::string.
std::string printf_string(const char* format, ...) {
  va_list args;
  va_start(args, format);
  char buffer[256];
  const int n = std::vsnprintf(buffer, sizeof buffer, format, args);
  va_end(args);
  return n < 0 ? std::string() : std::string(buffer, std::min<size_t>(static_cast<size_t>(n), sizeof buffer - 1));
}

ProgressClock default_clock() {
  return [] { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); };
}

// The columns a line takes on screen: its UTF-8 characters (tqdm's blocks are three bytes, one column).
size_t columns(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;  // count every byte but continuation bytes
  return n;
}

// "\r" + text, padded with spaces to cover a longer previous line: an in-place redraw.
std::string redraw(const std::string& text, size_t& previous_width) {
  const size_t width = columns(text);
  std::string s = "\r" + text;
  if (previous_width > width) s.append(previous_width - width, ' ');
  previous_width = width;
  return s;
}

constexpr double kNever = -std::numeric_limits<double>::infinity();

}  // namespace

bool is_terminal(const std::ostream& out) {
  if (&out == &std::cout) return isatty(STDOUT_FILENO) == 1;
  if (&out == &std::cerr || &out == &std::clog) return isatty(STDERR_FILENO) == 1;
  return false;  // a file or a string stream
}

// ---- the formats ------------------------------------------------------------------------------------

namespace progress_format {

// Keras: ' %.4f' % avg if abs(avg) > 1e-3 else ' %.4e' % avg.
std::string keras_number(double v) {
  if (std::isnan(v)) return "nan";  // Python prints every NaN so; C may print "-nan"
  return printf_string(std::abs(v) > 1e-3 ? "%.4f" : "%.4e", v);
}

// Keras: '%d:%02d:%02d' above an hour, '%d:%02d' above a minute, else '%ds' (whole seconds, truncated).
std::string keras_eta(double eta) {
  const auto whole = static_cast<int64_t>(eta);
  if (eta > 3600) return printf_string("%lld:%02lld:%02lld", (long long)(whole / 3600), (long long)(whole % 3600 / 60), (long long)(whole % 60));
  if (eta > 60) return printf_string("%lld:%02lld", (long long)(whole / 60), (long long)(whole % 60));
  return printf_string("%llds", (long long)whole);
}

// Keras's _format_time: seconds from 1 s up (and for 0), else milliseconds, else microseconds.
std::string keras_step_time(double t) {
  if (t >= 1 || t == 0) return printf_string("%.0fs/step", t);
  if (t >= 1e-3) return printf_string("%.0fms/step", t * 1e3);
  return printf_string("%.0fus/step", t * 1e6);
}

// Keras: '=' for the part done, '>' at its tip while not finished, '.' for the rest.
std::string keras_bar(int64_t current, int64_t total, int width) {
  if (total <= 0) return "[" + std::string(static_cast<size_t>(std::max(width, 0)), '.') + "]";  // nothing to show
  const auto done = static_cast<int64_t>(width * (static_cast<double>(current) / static_cast<double>(total)));
  std::string bar = "[";
  if (done > 0) {
    bar.append(static_cast<size_t>(done - 1), '=');
    bar += current < total ? '>' : '=';
  }
  if (done < width) bar.append(static_cast<size_t>(width - done), '.');
  return bar + "]";
}

// tqdm's format_interval: [h:]mm:ss of the whole seconds.
std::string tqdm_interval(double t) {
  const auto s = static_cast<long long>(t);
  const long long h = s / 3600, m = s / 60 % 60, sec = s % 60;
  return h ? printf_string("%lld:%02lld:%02lld", h, m, sec) : printf_string("%02lld:%02lld", m, sec);
}

// tqdm's Bar: full blocks, then one of eight partial blocks for the remainder, then spaces.
//     bar_length, frac_bar_length = divmod(int(frac * width * 8), 8)
std::string tqdm_bar(double fraction, int width) {
  static const char* const kBlocks[] = {" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"};
  const auto eighths = static_cast<int64_t>(std::min(std::max(fraction, 0.0), 1.0) * width * 8);
  const int64_t full = eighths / 8, part = eighths % 8;
  std::string bar;
  for (int64_t k = 0; k < full; ++k) bar += kBlocks[8];
  if (full < width) {
    bar += kBlocks[part];
    bar.append(static_cast<size_t>(width - full - 1), ' ');
  }
  return bar;
}

// tqdm: '{:5.2f}it/s', or '{:5.2f}s/it' when one step takes more than a second; '?' before any.
std::string tqdm_rate(double n, double elapsed) {
  const double rate = elapsed > 0 ? n / elapsed : 0;
  if (rate <= 0) return "?it/s";
  return 1 / rate > 1 ? printf_string("%5.2fs/it", 1 / rate) : printf_string("%5.2fit/s", rate);
}

// tqdm's format_num: three significant digits, exponents without their leading zero (1e-5).
// (tqdm keeps Python's str(v) where that is shorter, which for a float it never is by more than
// the '.0' of a whole number — '2' here, where str gives '2.0'.)
std::string tqdm_number(double v) {
  std::string s = printf_string("%.3g", v);
  for (const char* from : {"+0", "-0"})
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + 1)) s.erase(at + 1, 1);
  return s;
}

}  // namespace progress_format

// ---- Keras's ProgressBar ----------------------------------------------------------------------------

ProgressBar::ProgressBar(int64_t total_steps, ProgressBarOptions options)
    : total_(total_steps),
      options_(std::move(options)),
      out_(options_.out ? options_.out : &std::cout),
      terminal_(options_.terminal.value_or(is_terminal(*out_))) {
  if (total_steps < 0)
    throw Error(msg("ProgressBar: total_steps is ", total_steps, "; give the steps in an epoch, or 0 if unknown"));
  if (options_.verbose < 0 || options_.verbose > 2)
    throw Error(msg("ProgressBar: verbose is ", options_.verbose, "; it must be 0 (silent), 1 (a bar) or 2 (a line per epoch)"));
  if (options_.epochs > 0 && (options_.epoch < 1 || options_.epoch > options_.epochs))
    throw Error(msg("ProgressBar: epoch ", options_.epoch, " of ", options_.epochs,
                    "; epochs count from 1, as they are printed (\"Epoch 1/", options_.epochs, "\")"));
  if (!options_.clock) options_.clock = default_clock();
  start_ = options_.clock();
  last_draw_ = kNever;
  // Keras's ProgbarLogger prints this line when an epoch begins, when there is more than one.
  if (options_.verbose > 0 && options_.epochs > 1)
    *out_ << "Epoch " << options_.epoch << "/" << options_.epochs << "\n" << std::flush;
}

// ProgressMetrics keep the order they first came in; a later value replaces an earlier one.
void ProgressBar::merge(const ProgressMetrics& metrics) {
  for (const auto& [name, value] : metrics) {
    auto it = std::find_if(values_.begin(), values_.end(), [&key = name](const auto& nv) { return nv.first == key; });
    if (it == values_.end()) values_.emplace_back(name, value);
    else it->second = value;
  }
}

// Keras's _estimate_step_duration: the time per step, leaving out the first step (which builds
// and warms things up) once there are others; 0 before any step.
double ProgressBar::seconds_per_step(double now) const {
  if (seen_ == 0) return 0;
  if (time_after_first_step_ && seen_ > 1) return (now - *time_after_first_step_) / static_cast<double>(seen_ - 1);
  return (now - start_) / static_cast<double>(seen_);
}

// "37/469 [==>....]" (the count right-aligned to the total's digits), or "     37/Unknown".
std::string ProgressBar::bar_text() const {
  if (total_ == 0) return printf_string("%7lld/Unknown", (long long)seen_);
  const int digits = static_cast<int>(std::to_string(total_).size());
  return printf_string("%*lld/%lld ", digits, (long long)seen_, (long long)total_) + progress_format::keras_bar(seen_, total_);
}

// The whole line. During the epoch: the bar, the ETA, the metrics. At its end: the bar, the time
// taken and per step, the metrics. Keras's verbose = 2 prints only the end, as "469/469 - 2s".
std::string ProgressBar::line(double now, bool final) const {
  std::string s;
  if (options_.verbose == 2) {
    const int digits = total_ == 0 ? 1 : static_cast<int>(std::to_string(total_).size());
    s = printf_string("%*lld/", digits, (long long)seen_) + (total_ == 0 ? "Unknown" : std::to_string(total_)) +
        printf_string(" - %.0fs", now - start_);
  } else {
    const double per_step = seconds_per_step(now);
    s = bar_text();
    if (final || total_ == 0)
      s += printf_string(" - %.0fs ", now - start_) + progress_format::keras_step_time(per_step);
    else
      s += " - ETA: " + progress_format::keras_eta(per_step * static_cast<double>(total_ - seen_));
  }
  for (const auto& [name, value] : values_) s += " - " + name + ": " + progress_format::keras_number(value);
  return s;
}

// On a terminal the bar (verbose 1) overwrites itself; anything else is written as a plain line.
void ProgressBar::write_in_place(const std::string& text, bool final) {
  const bool in_place = terminal_ && options_.verbose == 1;
  *out_ << (in_place ? redraw(text, previous_width_) : text) << (final ? "\n" : "") << std::flush;
}

void ProgressBar::update(int64_t step, const ProgressMetrics& metrics) {
  if (finished_) throw Error("ProgressBar.update: the bar is finished; make a new one for the next epoch");
  if (step < 0) throw Error(msg("ProgressBar.update: step ", step, " is negative; pass the steps done so far (1, 2, ...)"));
  const double now = options_.clock();
  merge(metrics);
  seen_ = step;
  if (step == 1) time_after_first_step_ = now;
  if (options_.verbose != 1 || !terminal_) return;  // elsewhere, only finish() writes
  if (now - last_draw_ < 0.05) return;                // Keras's interval: 50 ms between redraws
  write_in_place(line(now, false), false);
  last_draw_ = now;
}

void ProgressBar::finish(const ProgressMetrics& metrics) {
  if (finished_) throw Error("ProgressBar.finish: the bar is finished already");
  finished_ = true;
  merge(metrics);
  if (options_.verbose == 0) return;
  const double now = options_.clock();
  write_in_place(line(now, true), true);
}

// ---- the tqdm-like bar ------------------------------------------------------------------------------

Tqdm::Tqdm(int64_t total, TqdmOptions options)
    : total_(total),
      options_(std::move(options)),
      out_(options_.out ? options_.out : &std::cout),
      terminal_(options_.terminal.value_or(is_terminal(*out_))),
      next_percent_(options_.every_percent) {
  if (total < 1) throw Error(msg("Tqdm: total is ", total, "; give the number of steps (at least 1)"));
  if (options_.every_percent < 1 || options_.every_percent > 100)
    throw Error(msg("Tqdm: every_percent is ", options_.every_percent, "; it must be in 1..100"));
  if (!options_.clock) options_.clock = default_clock();
  start_ = last_draw_ = options_.clock();
  if (terminal_) *out_ << redraw(line(start_), previous_width_) << std::flush;  // tqdm shows 0% at once
}

Tqdm::~Tqdm() {
  try {
    close();
  } catch (...) {  // a destructor must not throw; a failed write of a progress bar is not worth a crash
  }
}

// {desc: }{percentage:3.0f}%|{bar}| {n}/{total} [{elapsed}<{remaining}, {rate}{, postfix}]
std::string Tqdm::line(double now) const {
  const double elapsed = now - start_, fraction = static_cast<double>(n_) / static_cast<double>(total_);
  const double rate = elapsed > 0 ? static_cast<double>(n_) / elapsed : 0;
  std::string s = options_.desc.empty() ? "" : options_.desc + ": ";
  s += printf_string("%3.0f%%|", fraction * 100) + progress_format::tqdm_bar(fraction) + "|";
  s += printf_string(" %lld/%lld [", (long long)n_, (long long)total_) + progress_format::tqdm_interval(elapsed) + "<";
  s += rate > 0 ? progress_format::tqdm_interval(std::max(0.0, static_cast<double>(total_ - n_) / rate)) : "?";
  s += ", " + progress_format::tqdm_rate(static_cast<double>(n_), elapsed);
  for (const auto& [name, value] : postfix_) s += ", " + name + "=" + progress_format::tqdm_number(value);
  return s + "]";
}

void Tqdm::update(int64_t n, const ProgressMetrics& postfix) {
  if (closed_) throw Error("Tqdm.update: the bar is closed");
  if (n < 0) throw Error(msg("Tqdm.update: n is ", n, "; steps only go forward"));
  n_ += n;
  if (!postfix.empty()) postfix_ = postfix;
  const double now = options_.clock();
  if (terminal_) {
    if (now - last_draw_ < 0.1) return;  // tqdm's mininterval: 100 ms between redraws
    *out_ << redraw(line(now), previous_width_) << std::flush;
    last_draw_ = now;
    return;
  }
  // Not a terminal: one line each time another every_percent are done (the last line is close()'s).
  const double percent = 100.0 * static_cast<double>(n_) / static_cast<double>(total_);
  if (percent < next_percent_ || n_ >= total_) return;
  *out_ << line(now) << "\n" << std::flush;
  while (next_percent_ <= percent) next_percent_ += options_.every_percent;
}

void Tqdm::close() {
  if (closed_) return;
  closed_ = true;
  const std::string text = line(options_.clock());
  *out_ << (terminal_ ? redraw(text, previous_width_) : text) << "\n" << std::flush;
}

}  // namespace tandem
