// bench/dist/bench_allreduce.cpp — the ring all-reduce against MPI_Allreduce, by message size.
//
//   mpirun -np 2 ./build/bench_allreduce [--reps R (50)]
//
// For float32 buffers of the sizes of this project's models' gradients (the MLP 784-128-10:
// 101,770; the seed ConvNet: 21,840; the ResNet of tests/seed_models.h: 77,754) and a few powers of
// ten, the median time of R all-reduces by each algorithm, interleaved, after a barrier each, and
// the ring's effective bandwidth: the 2·S·(N−1)/N bytes each rank sends, over the time. Built with
// the MPI tests (cmake/TandemDistTests.cmake); the results are in bench/RESULTS.md.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "dist/all_reduce.h"
#include "dist/dist.h"

using namespace tandem;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double timed(void (*reduce)(float*, int64_t), std::vector<float>& buffer) {
  dist::barrier();
  const auto t0 = std::chrono::steady_clock::now();
  reduce(buffer.data(), static_cast<int64_t>(buffer.size()));
  // The slowest rank's time is the collective's.
  return dist::all_reduce_max(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

}  // namespace

int main(int argc, char** argv) {
  return dist::run(argc, argv, [&] {
    const int reps = argc > 2 && std::string(argv[1]) == "--reps" ? std::atoi(argv[2]) : 50;
    const int world = dist::world_size();
    if (dist::is_root())
      std::printf("%d ranks, float32, median of %d, interleaved\n%12s  %12s  %12s  %8s  %14s\n", world, reps, "elements",
                  "MPI_Allreduce", "ring", "ring/MPI", "ring GB/s sent");
    for (int64_t n : {int64_t{1000}, int64_t{21840}, int64_t{77754}, int64_t{101770}, int64_t{1000000}, int64_t{10000000}}) {
      std::vector<float> buffer(static_cast<size_t>(n), 1.0f);
      std::vector<double> mpi, ring;
      for (int r = 0; r < reps; ++r) {
        mpi.push_back(timed(dist::mpi_all_reduce, buffer));
        ring.push_back(timed(dist::ring_all_reduce, buffer));
      }
      const double bytes = 2.0 * static_cast<double>(n) * 4 * (world - 1) / world;
      if (dist::is_root())
        std::printf("%12lld  %10.1f us  %10.1f us  %8.2f  %14.2f\n", static_cast<long long>(n), 1e6 * median(mpi),
                    1e6 * median(ring), median(ring) / median(mpi), bytes / median(ring) / 1e9);
    }
    return 0;
  });
}
