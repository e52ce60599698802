// tests/test_data_parallel_example.cpp — examples/18_data_parallel under `mpirun -np 2`, and the
// checkpoint its rank 0 wrote, loaded here, in one process that never touches MPI.
//
// Built only where MPI was found (cmake/TandemDistTests.cmake defines TANDEM_MPIEXEC, the
// launcher's path); the rest of dist/ is tested by tests/dist/dist_tests.cpp, under mpirun.
#ifdef TANDEM_MPIEXEC
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tandem.h"
#include "tests/run_program.h"

using namespace tandem;

namespace {

// In the sanitizer build (.ci/run, phase 2) Open MPI's own memory cannot be told from a leak: it
// loads its components with dlopen and unloads them in MPI_Finalize, so LeakSanitizer finds blocks
// allocated by code that is no longer there ("<unknown module>") and can attribute them to nothing.
// MPI programs therefore run with leak detection off; AddressSanitizer's checks stay on, and the
// library's own code is leak-checked by every other test. (Elsewhere the variable does nothing.)
const std::string kNoLeakCheck = "ASAN_OPTIONS=\"${ASAN_OPTIONS:-}:detect_leaks=0\" ";

double number_after(const std::string& out, const std::string& label) {
  const size_t at = out.find(label);
  REQUIRE(at != std::string::npos);
  return std::stod(out.substr(at + label.size()));
}

}  // namespace

TEST_CASE("examples/18_data_parallel: two ranks equal one process in both modes, rank 0's checkpoint loads alone",
          "[examples][dist]") {
  const std::string sample = std::string(TANDEM_SOURCE_DIR) + "/tests/data/fashion-mnist-sample";
  const std::filesystem::path dir = std::filesystem::path(TANDEM_BINARY_DIR) / "dist_example_check";
  std::filesystem::remove_all(dir);
  const std::string checkpoint = (dir / "model.tckpt").string(), logdir = (dir / "runs").string();
  // As root (CI), Open MPI wants the two variables; `timeout` bounds a hang to a failure.
  const std::string command = "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 " + kNoLeakCheck +
                              "timeout 240 " +
                              std::string(TANDEM_MPIEXEC) + " -np 2 " + TANDEM_BINARY_DIR + "/18_data_parallel --data " +
                              sample + " --epochs 2 --batch 16 --save " + checkpoint + " --logdir " + logdir;
  const std::string out = tandem::run_ok(command);
  INFO(out);
  CHECK(out.find("Data-parallel training on 2 ranks") != std::string::npos);
  // 1. Both modes end k steps where one process with batches of 32 ends (float32 rounding).
  CHECK(number_after(out, "eager (all_reduce_gradients)") < 1e-5);
  CHECK(number_after(out, "graph (DistributedOptimizer)") < 1e-5);
  // 2. The epoch table: eager and graph losses agree to the printed digits' rounding.
  const size_t table = out.find("graph s (comm %)\n");
  REQUIRE(table != std::string::npos);
  int rows = 0;
  for (size_t at = out.find('\n', table); at != std::string::npos && rows < 2; at = out.find('\n', at + 1)) {
    unsigned epoch = 0;
    double eager = 0, graph = 0;
    if (std::sscanf(out.c_str() + at + 1, "%u %lf %lf", &epoch, &eager, &graph) != 3) break;
    CHECK(std::abs(eager - graph) < 1e-4);
    ++rows;
  }
  CHECK(rows == 2);
  // 3. Only rank 0 wrote: one checkpoint, one event file (two ranks writing would leave two).
  CHECK(out.find("rank 0 saved the eager model") != std::string::npos);
  int event_files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(logdir)) event_files += entry.is_regular_file();
  CHECK(event_files == 1);
  // The checkpoint loads in this process (no MPI here) into the same MLP, which then scores the
  // test sample as rank 0 did.
  nn::Sequential model(nn::Linear(784, 128), nn::ReLU(), nn::Linear(128, 10));
  model->load_state_dict(StateDict::load(checkpoint));
  const data::FashionMnist test = data::load_fashion_mnist(false, sample);
  no_grad guard;
  model->eval();
  const double loss = nn::functional::cross_entropy(model(test.images.reshape({-1, 784})), test.labels).item();
  double rank0_loss = 0;
  std::ifstream(checkpoint + ".loss") >> rank0_loss;
  CHECK(std::abs(loss - rank0_loss) < 2e-6);  // printed with six decimals
}

TEST_CASE("examples/18_data_parallel: a wrong flag is an error that names the flags, --help prints the usage", "[examples][dist]") {
  const std::string command = kNoLeakCheck + TANDEM_BINARY_DIR + "/18_data_parallel --bogus 1";
  const ProgramOutput ran = run_program(command);
  const std::string& out = ran.text;
  CHECK(ran.status != 0);
  CHECK(out.find("unknown flag --bogus") != std::string::npos);
  CHECK(out.find("--allreduce") != std::string::npos);
  // --help prints the usage once, before any rank starts, and is no error (no "needs a value",
  // no MPI_ABORT); a flag without its value says which
  const ProgramOutput help = run_program(kNoLeakCheck + TANDEM_BINARY_DIR + "/18_data_parallel --help");
  CHECK(help.status == 0);
  CHECK(help.text.starts_with("usage: mpirun -np 2"));
  CHECK(help.text.find("MPI_ABORT") == std::string::npos);
  CHECK(help.text.find("needs a value") == std::string::npos);
  const ProgramOutput bare = run_program(kNoLeakCheck + TANDEM_BINARY_DIR + "/18_data_parallel --images");
  CHECK(bare.status != 0);
  CHECK(bare.text.find("--images needs a value") != std::string::npos);
}
#endif  // TANDEM_MPIEXEC
