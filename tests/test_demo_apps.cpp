// tests/test_demo_apps.cpp — the three application demos, run on the committed samples.
//
// examples/15_image_classification (a ResNet trained on Fashion-MNIST, picture files classified
// eagerly and by a Session), examples/16_text_sentiment (seed-004's sentiment model on movie
// reviews, trained both ways from one seed) and examples/17_matmul_performance (one product timed
// from the triple loop to OpenBLAS) are run as programs, with small sizes, and what they print is
// read back and checked: the top-3 lines are probabilities, sorted, summing to at most 1, equal in
// both modes; both modes' losses and accuracies are equal; every product agrees with the others;
// and a wrong file, flag or folder gets a sentence, not a crash.
//
// Read next: the demos' pages, docs/demos/15_image_classification.md and the two after it.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/run_program.h"

namespace fs = std::filesystem;
using tandem::ProgramOutput, tandem::run_program;

namespace {

const std::string kBin = TANDEM_BINARY_DIR;
const std::string kFashionSample = std::string(TANDEM_SOURCE_DIR) + "/tests/data/fashion-mnist-sample";
const std::string kReviewSample = std::string(TANDEM_SOURCE_DIR) + "/tests/data/movie_reviews_sample.txt";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> words_of(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// The two percentages of a line "... eager 80.20%, graph 80.20% ...".
std::pair<double, double> eager_and_graph_percent(const std::string& line) {
  const size_t e = line.find("eager "), gr = line.find("graph ", e);
  REQUIRE(e != std::string::npos);
  REQUIRE(gr != std::string::npos);
  return {std::stod(line.substr(e + 6)), std::stod(line.substr(gr + 6))};
}

}  // namespace

TEST_CASE("examples/15_image_classification: top-3 per picture file, the same in both modes", "[examples][demo_apps]") {
  const fs::path out = fs::path(kBin) / "test_demo_apps" / "15";
  fs::remove_all(out);
  fs::create_directories(out);
  const fs::path not_an_image = out / "notes.png";  // a text file with an image's name
  std::ofstream(not_an_image) << "these are notes, not a picture\n";
  const ProgramOutput r = run_program(kBin + "/15_image_classification --data " + kFashionSample + " --train 256 --epochs 1 --test 100 --out " +
                    out.string() + " " + not_an_image.string());
  INFO(r.text);
  CHECK(r.status == 1);  // one file could not be classified: the exit status says so
  CHECK(r.text.find("No downloaded weights") != std::string::npos);
  // The sample files: PNG, JPEG, and one 84x84 colour JPEG that the transforms bring to 28x28 grey.
  int pngs = 0, jpegs = 0;
  for (const auto& f : fs::directory_iterator(out)) {
    pngs += f.path().extension() == ".png" && f.path() != not_an_image;
    jpegs += f.path().extension() == ".jpg";
  }
  CHECK(pngs >= 2);
  CHECK(jpegs >= 2);
  CHECK(r.text.find("_84x84_rgb.jpg  (84x84, 3 channels") != std::string::npos);

  int files = 0, accuracy_lines = 0;
  const std::vector<std::string> lines = lines_of(r.text);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find("Test accuracy on 100 test images") != std::string::npos) {
      const auto [eager, graph] = eager_and_graph_percent(lines[i]);
      CHECK(eager == graph);
      CHECK(eager >= 0);
      CHECK(eager <= 100);
      CHECK(lines[i].find("same predictions: yes") != std::string::npos);
      ++accuracy_lines;
    }
    if (lines[i].find("rank  class") == std::string::npos) continue;
    // Three lines "<rank> <class name, maybe two words> <eager p> <graph p>", then the verdict.
    REQUIRE(i + 4 < lines.size());
    double previous = 2, sum = 0;
    for (size_t k = 1; k <= 3; ++k) {
      const std::vector<std::string> w = words_of(lines[i + k]);
      REQUIRE(w.size() >= 4);
      CHECK(w[0] == std::to_string(k));
      const double eager = std::stod(w[w.size() - 2]), graph = std::stod(w[w.size() - 1]);
      CHECK(w[w.size() - 2] == w[w.size() - 1]);  // printed to four decimals: the same in both modes
      CHECK(eager >= 0);
      CHECK(eager <= previous);                   // most probable first
      previous = eager;
      sum += graph;
    }
    CHECK(sum <= 1.0 + 2e-4);  // three of ten probabilities, each rounded to 1e-4
    CHECK(lines[i + 4].find("same top-3 in both modes: yes") != std::string::npos);
    ++files;
  }
  CHECK(accuracy_lines == 1);
  CHECK(files == 5);  // the five samples; the text file was refused, with a reason
  CHECK(r.text.find("notes.png\n    cannot classify it: decode_image") != std::string::npos);
  CHECK(r.text.find("not a PNG, JPEG or BMP file") != std::string::npos);
}

TEST_CASE("examples/15_image_classification: a missing data set or a wrong flag is a sentence", "[examples][demo_apps]") {
  const ProgramOutput missing = run_program(kBin + "/15_image_classification --data /no/such/folder");
  CHECK(missing.status == 1);
  CHECK(missing.text.find("Fashion-MNIST not found") != std::string::npos);
  const ProgramOutput flag = run_program(kBin + "/15_image_classification --epochs many");
  CHECK(flag.status == 1);
  CHECK(flag.text.find("--epochs takes a positive whole number, got 'many'") != std::string::npos);
  CHECK(flag.text.find("usage: 15_image_classification") != std::string::npos);
}

TEST_CASE("examples/16_text_sentiment: both modes train to the same losses and score sentences alike",
          "[examples][demo_apps]") {
  const ProgramOutput r = run_program("printf 'dull and boring\\n\\nan absolute delight\\n' | " + kBin + "/16_text_sentiment --reviews " +
                    kReviewSample + " --epochs 3 --sentence 'a wonderful film' --stdin");
  INFO(r.text);
  REQUIRE(r.status == 0);
  CHECK(r.text.find("400 movie-review sentences") != std::string::npos);
  int epochs = 0, sentences = 0, accuracy_lines = 0;
  bool in_table = false;
  for (const std::string& line : lines_of(r.text)) {
    const std::vector<std::string> w = words_of(line);
    if (line.find("epoch   eager loss") != std::string::npos) in_table = true;
    else if (in_table && w.size() == 5) {  // epoch, eager loss, graph loss, eager acc, graph acc
      CHECK(w[0] == std::to_string(epochs + 1));
      CHECK(w[1] == w[2]);  // six decimals: the same losses
      CHECK(w[3] == w[4]);
      CHECK(std::stod(w[1]) > 0);
      ++epochs;
    } else {
      in_table = false;
    }
    if (starts_with(line, "  test accuracy after 3 epochs")) {
      const auto [eager, graph] = eager_and_graph_percent(line);
      CHECK(eager == graph);
      CHECK(eager >= 0);
      CHECK(eager <= 100);
      ++accuracy_lines;
    }
    if (w.size() >= 4 && (w[0] == "positive" || w[0] == "negative") && w[3][0] == '"') {
      const double eager = std::stod(w[1]), graph = std::stod(w[2]);
      CHECK(w[1] == w[2]);
      CHECK(eager >= 0);
      CHECK(eager <= 1);
      CHECK((w[0] == "positive") == (eager > 0.5));
      CHECK(graph == eager);
      ++sentences;
    }
  }
  CHECK(epochs == 3);
  CHECK(accuracy_lines == 1);
  CHECK(sentences == 3);  // the flag's, then stdin's two (its empty line skipped)
  CHECK(r.text.find("\"a wonderful film\"") < r.text.find("\"dull and boring\""));
  CHECK(r.text.find("\"an absolute delight\"") != std::string::npos);
}

TEST_CASE("examples/16_text_sentiment: a missing review file says how to get it", "[examples][demo_apps]") {
  const ProgramOutput missing = run_program(kBin + "/16_text_sentiment --reviews /no/such/reviews.txt");
  CHECK(missing.status == 1);
  CHECK(missing.text.find("scripts/setup --extras") != std::string::npos);
  CHECK(missing.text.find("--reviews tests/data/movie_reviews_sample.txt") != std::string::npos);
  const ProgramOutput flag = run_program(kBin + "/16_text_sentiment --epochs 0");
  CHECK(flag.status == 1);
  CHECK(flag.text.find("--epochs takes a positive whole number") != std::string::npos);
}

TEST_CASE("examples/17_matmul_performance: every way computes the same product, and the rates add up", "[examples][demo_apps]") {
  const int64_t n = 128;
  const ProgramOutput r = run_program(kBin + "/17_matmul_performance --n " + std::to_string(n) + " --runs 3 --threads 1");
  INFO(r.text);
  REQUIRE(r.status == 0);
  CHECK(r.text.find("all results agree") != std::string::npos);
  CHECK((r.text.find("no GPU") != std::string::npos || r.text.find("GPU: ") != std::string::npos));
  const bool openblas = r.text.find("Tandem's matmul calls OpenBLAS") != std::string::npos;
  CHECK((openblas || r.text.find("no OpenBLAS") != std::string::npos));
  // Rows: "<name...> <threads> <median ms> <GFLOP/s> <x naive> <max |C - C_naive|>".
  std::vector<std::string> names;
  double naive_ms = 0;
  bool in_table = false;
  for (const std::string& line : lines_of(r.text)) {
    const std::vector<std::string> w = words_of(line);
    if (line.find("median ms") != std::string::npos) { in_table = true; continue; }
    if (!in_table) continue;
    if (w.size() < 6) break;
    const size_t k = w.size();
    const double ms = std::stod(w[k - 4]), gflops = std::stod(w[k - 3]), speedup = std::stod(w[k - 2]);
    const double diff = std::stod(w[k - 1]);
    if (names.empty()) naive_ms = ms;
    names.push_back(line);
    CHECK(w[k - 5] == "1");  // the team --threads set
    REQUIRE(ms > 0);
    // GFLOP/s = 2n³ / seconds / 1e9 and the speed-up naive/this, recomputed from the printed time
    // (which is rounded to 1 µs: allow that much).
    const double flops = 2.0 * n * n * n;
    CHECK(gflops == Approx(flops / (ms * 1e-3) / 1e9).epsilon(0.05).margin(0.01));
    CHECK(speedup == Approx(naive_ms / ms).epsilon(0.05).margin(0.1));
    // |C − C_naive| under float32's rounding bound for sums of 128 products of N(0, 1) numbers.
    CHECK(diff <= 1e-3);
  }
  REQUIRE(names.size() >= 4);
  CHECK(names[0].find("naive triple loop") != std::string::npos);
  CHECK(names[1].find("Eigen's own GEMM") != std::string::npos);
  CHECK(r.text.find(openblas ? "OpenBLAS sgemm" : "Eigen's own GEMM") != std::string::npos);
  CHECK(r.text.find("Tandem eager: matmul(a, b)") != std::string::npos);
  CHECK(r.text.find("Tandem graph: Session::run") != std::string::npos);

  const ProgramOutput bad = run_program(kBin + "/17_matmul_performance --n -5");
  CHECK(bad.status == 1);
  CHECK(bad.text.find("--n takes a whole number from 1 to 8192, got '-5'") != std::string::npos);
}

TEST_CASE("examples 15, 16 and 17: --help prints the usage and exits with status 0", "[examples][demo_apps]") {
  for (const std::string name : {"15_image_classification", "16_text_sentiment", "17_matmul_performance"}) {
    INFO(name);
    for (const std::string flag : {"--help", "-h"}) {
      const ProgramOutput help = run_program(kBin + "/" + name + " " + flag);
      CHECK(help.status == 0);
      CHECK(help.text.starts_with("usage: " + name));
      CHECK(help.text.find("error") == std::string::npos);
    }
  }
}
