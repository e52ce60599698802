// tests/test_progress.cpp — the progress bars' exact text, on a terminal and in a log.
//
// A clock the test moves by hand replaces the real one, and the terminal question is answered by
// the test (`.terminal`), so every character is known in advance. The expected lines are worked
// out from Keras's Progbar and tqdm's format_meter (train/progress.cpp cites the rules): e.g. at
// step 3 of 4, with step 1 done at 4 s and step 3 at 5 s, Keras estimates (5 − 4) / (3 − 1) =
// 0.5 s per step (the first step left out) and an ETA of 0.5 s, printed "0s".
#include <catch2/catch.hpp>
#include <sstream>

#include "core/error.h"
#include "train/progress.h"

using namespace tandem;

namespace {
// A clock that says what the test last set.
struct FakeClock {
  double now = 0;
  ProgressClock clock() {
    return [this] { return now; };
  }
};
}  // namespace

TEST_CASE("progress: Keras's bar, redrawn in place on a terminal", "[progress]") {
  FakeClock t;
  std::ostringstream out;
  ProgressBar bar(4, {.epoch = 3, .epochs = 10, .out = &out, .terminal = true, .clock = t.clock()});
  t.now = 4.0;
  bar.update(1, {{"loss", 0.9}, {"accuracy", 0.5}});  // 4 s per step so far: ETA 3 · 4 = 12 s
  t.now = 4.02;
  bar.update(2, {{"loss", 0.7}});  // 20 ms after the last redraw: none (Keras waits 50 ms)
  t.now = 5.0;
  bar.update(3, {{"loss", 0.6}, {"accuracy", 0.625}});  // 0.5 s per step: ETA 0 s; a shorter line
  t.now = 5.5;
  bar.update(4, {{"loss", 0.58}, {"accuracy", 0.7}});
  t.now = 6.0;
  bar.finish({{"loss", 0.55}, {"accuracy", 0.75}, {"val_loss", 0.6}, {"val_accuracy", 0.7}});
  CHECK(out.str() ==
        "Epoch 3/10\n"
        "\r1/4 [======>.......................] - ETA: 12s - loss: 0.9000 - accuracy: 0.5000"
        "\r3/4 [=====================>........] - ETA: 0s - loss: 0.6000 - accuracy: 0.6250 "  // padded
        "\r4/4 [==============================] - ETA: 0s - loss: 0.5800 - accuracy: 0.7000"
        // At the end: 6 s in all, (6 − 4) / 3 s per step after the first = 667 ms.
        "\r4/4 [==============================] - 6s 667ms/step - loss: 0.5500 - accuracy: 0.7500"
        " - val_loss: 0.6000 - val_accuracy: 0.7000\n");
}

TEST_CASE("progress: Keras's bar in a log is one line per epoch, and verbose 2 and 0", "[progress]") {
  // The same epoch as above, written where there is no terminal, and in Keras's other modes.
  auto run = [](int verbose, bool terminal) {
    FakeClock t;
    std::ostringstream out;
    ProgressBar bar(4, {.epoch = 3, .epochs = 10, .verbose = verbose, .out = &out, .terminal = terminal,
                               .clock = t.clock()});
    t.now = 4.0;
    bar.update(1, {{"loss", 0.9}, {"accuracy", 0.5}});
    t.now = 5.0;
    bar.update(3, {{"loss", 0.6}, {"accuracy", 0.625}});
    t.now = 5.5;
    bar.update(4, {{"loss", 0.58}, {"accuracy", 0.7}});
    t.now = 6.0;
    bar.finish({{"loss", 0.55}, {"accuracy", 0.75}, {"val_loss", 0.6}, {"val_accuracy", 0.7}});
    return out.str();
  };
  CHECK(run(1, false) ==
        "Epoch 3/10\n"
        "4/4 [==============================] - 6s 667ms/step - loss: 0.5500 - accuracy: 0.7500"
        " - val_loss: 0.6000 - val_accuracy: 0.7000\n");
  const std::string verbose2 =
      "Epoch 3/10\n"
      "4/4 - 6s - loss: 0.5500 - accuracy: 0.7500 - val_loss: 0.6000 - val_accuracy: 0.7000\n";
  CHECK(run(2, false) == verbose2);
  CHECK(run(2, true) == verbose2);  // verbose 2 never draws a bar
  CHECK(run(0, true) == "");
}

TEST_CASE("progress: Keras's line for a Fashion-MNIST epoch, as the seeds show it", "[progress]") {
  // 469 steps of 128 images; the first step at 0.2 s, then 4 ms a step: 2.072 s in all.
  FakeClock t;
  std::ostringstream out;
  ProgressBar bar(469, {.epoch = 1, .epochs = 1, .out = &out, .terminal = false, .clock = t.clock()});
  t.now = 0.2;
  bar.update(1, {{"loss", 0.9}});
  t.now = 0.2 + 468 * 0.004;
  bar.update(469, {{"loss", 0.3127}, {"accuracy", 0.8861}});
  bar.finish();
  // One epoch: no "Epoch 1/1" line (Keras prints it only when there are several).
  CHECK(out.str() == "469/469 [==============================] - 2s 4ms/step - loss: 0.3127 - accuracy: 0.8861\n");
}

TEST_CASE("progress: Keras's bar with an unknown number of steps", "[progress]") {
  FakeClock t;
  std::ostringstream out;
  ProgressBar bar(0, {.out = &out, .terminal = true, .clock = t.clock()});
  t.now = 1.0;
  bar.update(40, {{"loss", 0.5}});  // 1 s / 40 steps = 25 ms a step; no ETA without a total
  CHECK(out.str() == "\r     40/Unknown - 1s 25ms/step - loss: 0.5000");
}

TEST_CASE("progress: tqdm's bar, redrawn in place on a terminal", "[progress]") {
  FakeClock t;
  std::ostringstream out;
  {
    Tqdm bar(938, {.out = &out, .terminal = true, .clock = t.clock()});  // draws 0% at once
    t.now = 0.05;
    bar.update(100);  // 50 ms after the last redraw: none (tqdm waits 100 ms)
    t.now = 2.5;
    bar.update(247, {{"loss", 0.41234}});  // 347/938 = 37%: 29 eighths of the 10 cells
    t.now = 6.0;
    bar.update(591, {{"loss", 0.30071}});
  }  // leaving the scope closes the bar: the final line again, and a newline
  CHECK(out.str() ==
        "\r  0%|          | 0/938 [00:00<?, ?it/s]"
        // 347 in 2.5 s: 138.8 it/s; (938 − 347) / 138.8 = 4.3 s to go
        "\r 37%|███▋      | 347/938 [00:02<00:04, 138.80it/s, loss=0.412]"
        "\r100%|██████████| 938/938 [00:06<00:00, 156.33it/s, loss=0.301]"
        "\r100%|██████████| 938/938 [00:06<00:00, 156.33it/s, loss=0.301]\n");
}

TEST_CASE("progress: tqdm's bar in a log prints every N percent, then the final line", "[progress]") {
  FakeClock t;
  std::ostringstream out;
  Tqdm bar(938, {.desc = "train", .out = &out, .terminal = false, .clock = t.clock(), .every_percent = 25});
  t.now = 1.0;
  bar.update(200);  // 21%: not yet 25
  t.now = 2.5;
  bar.update(147, {{"loss", 0.41234}});  // 37%: past 25, one line; the next at 50
  t.now = 3.0;
  bar.update(10);  // 38%
  t.now = 6.0;
  bar.update(581);  // 100%: the line is close()'s
  bar.close();
  bar.close();  // a second close does nothing
  CHECK(out.str() ==
        "train:  37%|███▋      | 347/938 [00:02<00:04, 138.80it/s, loss=0.412]\n"
        "train: 100%|██████████| 938/938 [00:06<00:00, 156.33it/s, loss=0.412]\n");
}

TEST_CASE("progress: Keras's and tqdm's number formats", "[progress]") {
  using namespace progress_format;
  CHECK(keras_number(0.31274) == "0.3127");
  CHECK(keras_number(-2.5) == "-2.5000");
  CHECK(keras_number(1.23456e-4) == "1.2346e-04");  // |v| <= 1e-3: scientific
  CHECK(keras_number(0.001) == "1.0000e-03");
  CHECK(keras_number(std::nan("")) == "nan");
  CHECK(keras_eta(59.9) == "59s");  // whole seconds, truncated
  CHECK(keras_eta(60) == "60s");
  CHECK(keras_eta(125) == "2:05");
  CHECK(keras_eta(3665) == "1:01:05");
  CHECK(keras_step_time(2.0) == "2s/step");
  CHECK(keras_step_time(2.5) == "2s/step");  // '%.0f' rounds half to even, in Python and in C
  CHECK(keras_step_time(0.004) == "4ms/step");
  CHECK(keras_step_time(0.00025) == "250us/step");
  CHECK(keras_step_time(0) == "0s/step");
  CHECK(keras_bar(0, 10) == "[..............................]");
  CHECK(keras_bar(5, 10, 10) == "[====>.....]");
  CHECK(tqdm_interval(2.9) == "00:02");
  CHECK(tqdm_interval(65) == "01:05");
  CHECK(tqdm_interval(3725) == "1:02:05");
  CHECK(tqdm_bar(0) == "          ");
  CHECK(tqdm_bar(0.37) == "███▋      ");
  CHECK(tqdm_bar(1) == "██████████");
  CHECK(tqdm_rate(347, 2.5) == "138.80it/s");
  CHECK(tqdm_rate(1, 2.5) == " 2.50s/it");  // slower than a step a second: seconds per step
  CHECK(tqdm_rate(0, 1) == "?it/s");
  CHECK(tqdm_number(0.41234) == "0.412");
  CHECK(tqdm_number(2.0) == "2");
  CHECK(tqdm_number(1e-5) == "1e-5");
  CHECK(tqdm_number(123456) == "1.23e+5");
  CHECK(tqdm_number(-0.5) == "-.5");  // tqdm's own: format_num drops every "0" after a "-"
}

TEST_CASE("progress: bars refuse what makes no sense, and a string stream is no terminal", "[progress][errors]") {
  std::ostringstream out;
  CHECK_FALSE(is_terminal(out));
  CHECK_THROWS_WITH(ProgressBar(-1, {.out = &out}), Catch::Contains("total_steps is -1"));
  CHECK_THROWS_WITH(ProgressBar(10, {.verbose = 3, .out = &out}), Catch::Contains("verbose is 3"));
  CHECK_THROWS_WITH(ProgressBar(10, {.epoch = 0, .epochs = 5, .out = &out}),
                    Catch::Contains("epoch 0 of 5; epochs count from 1"));
  ProgressBar bar(10, {.out = &out, .terminal = false});
  CHECK_THROWS_WITH(bar.update(-2), Catch::Contains("step -2 is negative"));
  bar.finish();
  CHECK_THROWS_WITH(bar.update(1), Catch::Contains("the bar is finished"));
  CHECK_THROWS_WITH(bar.finish(), Catch::Contains("finished already"));
  CHECK_THROWS_WITH(Tqdm(0, {.out = &out}), Catch::Contains("total is 0"));
  CHECK_THROWS_WITH(Tqdm(10, {.out = &out, .every_percent = 0}), Catch::Contains("every_percent is 0"));
  Tqdm tq(10, {.out = &out, .terminal = false});
  CHECK_THROWS_WITH(tq.update(-1), Catch::Contains("steps only go forward"));
  tq.close();
  CHECK_THROWS_WITH(tq.update(1), Catch::Contains("the bar is closed"));
}
