// dist/all_reduce.cpp — the ring all-reduce with MPI_Sendrecv, and MPI_Allreduce beside it.
//
// Read dist/all_reduce.h first: the picture of the two phases and the byte count.
#include "dist/all_reduce.h"

#include <chrono>
#include <cstdlib>
#include <vector>

#include "autograd/grad_mode.h"
#include "dist/dist.h"
#include "dist/mpi_check.h"

namespace tandem::dist {

using detail::check;

// ---- which algorithm -----------------------------------------------------------------------------

Algorithm parse_algorithm(const std::string& name) {
  if (name == "ring") return Algorithm::ring;
  if (name == "mpi") return Algorithm::mpi;
  throw Error(msg("unknown all-reduce algorithm '", name, "': use \"ring\" (the MPI_Sendrecv ring of dist/all_reduce.h) "
                  "or \"mpi\" (MPI_Allreduce)"));
}

const char* to_string(Algorithm algorithm) { return algorithm == Algorithm::ring ? "ring" : "mpi"; }

namespace {
Algorithm from_environment() {
  const char* name = std::getenv("TANDEM_ALLREDUCE");
  return name && *name ? parse_algorithm(name) : Algorithm::mpi;
}
Algorithm& current_algorithm() {
  static Algorithm current = from_environment();
  return current;
}
CommStats stats;  // this process's; all-reduces run on the training thread
}  // namespace

Algorithm algorithm() { return current_algorithm(); }
void set_algorithm(Algorithm algorithm) { current_algorithm() = algorithm; }
CommStats comm_stats() { return stats; }
void reset_comm_stats() { stats = {}; }

// ---- the ring --------------------------------------------------------------------------------------
namespace {

template <class T> MPI_Datatype mpi_type_of() { return sizeof(T) == 4 ? MPI_FLOAT : MPI_DOUBLE; }

// Chunk c of N covers elements [chunk_start(c), chunk_start(c + 1)): sizes differ by at most one,
// and some are empty when n < N.
int64_t chunk_start(int64_t c, int64_t n, int64_t world) { return c * n / world; }

template <class T> void ring(T* data, int64_t n) {
  detail::require_init("dist::ring_all_reduce");
  const int64_t world = world_size(), r = rank();
  if (world == 1 || n == 0) return;
  if (n / world + 1 > INT32_MAX) throw Error(msg("dist::ring_all_reduce: chunks of ", n / world, " elements exceed MPI's int count"));
  const int right = static_cast<int>((r + 1) % world), left = static_cast<int>((r - 1 + world) % world);
  auto mod = [world](int64_t c) { return ((c % world) + world) % world; };
  auto begin = [&](int64_t c) { return chunk_start(c, n, world); };
  auto count = [&](int64_t c) { return static_cast<int>(begin(c + 1) - begin(c)); };
  std::vector<T> incoming(static_cast<size_t>(n / world + 1));
  const MPI_Datatype type = mpi_type_of<T>();

  // 1. Reduce-scatter: send chunk r−s right, receive chunk r−s−1 from the left and add it in.
  for (int64_t s = 0; s < world - 1; ++s) {
    const int64_t send = mod(r - s), recv = mod(r - s - 1);
    check(MPI_Sendrecv(data + begin(send), count(send), type, right, /*tag=*/0,
                       incoming.data(), count(recv), type, left, /*tag=*/0, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
          "MPI_Sendrecv (ring reduce-scatter)");
    T* mine = data + begin(recv);
    for (int i = 0; i < count(recv); ++i) mine[i] += incoming[static_cast<size_t>(i)];
  }
  // Now chunk r+1 holds the sum over all ranks. 2. All-gather: pass finished chunks round.
  for (int64_t s = 0; s < world - 1; ++s) {
    const int64_t send = mod(r + 1 - s), recv = mod(r - s);
    check(MPI_Sendrecv(data + begin(send), count(send), type, right, /*tag=*/1,
                       data + begin(recv), count(recv), type, left, /*tag=*/1, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
          "MPI_Sendrecv (ring all-gather)");
  }
}

template <class T> void library(T* data, int64_t n) {
  detail::require_init("dist::mpi_all_reduce");
  if (n > INT32_MAX) throw Error(msg("dist::mpi_all_reduce: ", n, " elements exceed MPI's int count"));
  check(MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(n), mpi_type_of<T>(), MPI_SUM, MPI_COMM_WORLD),
        "MPI_Allreduce");
}

// 2·S·(N−1)/N: what the ring sends from each rank (dist/all_reduce.h).
int64_t ring_bytes(int64_t n, size_t item, int64_t world) {
  return world == 1 ? 0 : 2 * (n * static_cast<int64_t>(item)) * (world - 1) / world;
}

template <class T> void timed(T* data, int64_t n, Algorithm algorithm) {
  const auto start = std::chrono::steady_clock::now();
  if (algorithm == Algorithm::ring) ring(data, n);
  else library(data, n);
  stats.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stats.calls += 1;
  stats.elements += n;
  stats.bytes_sent += ring_bytes(n, sizeof(T), world_size());
}

}  // namespace

void ring_all_reduce(float* data, int64_t n) { ring(data, n); }
void ring_all_reduce(double* data, int64_t n) { ring(data, n); }
void mpi_all_reduce(float* data, int64_t n) { library(data, n); }
void mpi_all_reduce(double* data, int64_t n) { library(data, n); }

// ---- on a tensor -------------------------------------------------------------------------------------

void all_reduce(const Tensor& tensor, bool average, Algorithm algorithm) {
  if (tensor.dtype() != kFloat32 && tensor.dtype() != kFloat64)
    throw DTypeError(msg("dist::all_reduce: float32 or float64 tensors only, not ", to_string(tensor.dtype())));
  // Host staging: MPI reads host memory, so a GPU tensor (or a strided view) is reduced in a
  // contiguous host copy and written back. On the CPU a contiguous tensor is reduced where it lies.
  const bool direct = tensor.device().is_cpu() && tensor.is_contiguous();
  const Tensor host = direct ? tensor : tensor.cpu().contiguous();
  if (host.dtype() == kFloat32) timed(host.data<float>(), host.numel(), algorithm);
  else timed(host.data<double>(), host.numel(), algorithm);
  no_grad guard;
  if (average) host.div_(static_cast<double>(world_size()));
  if (!direct) tensor.copy_(host);
}

}  // namespace tandem::dist
