// dist/all_reduce.h — the all-reduce: every rank ends with the sum of every rank's buffer.
//
// THE LESSON: a ring all-reduce, written with MPI_Sendrecv, beside MPI's own MPI_Allreduce.
//
// Picture N ranks in a ring, each sending only to its right neighbour and receiving only from its
// left one. Cut each rank's buffer of S bytes into N chunks (chunk c of rank r is written c_r).
//
//   1. REDUCE-SCATTER, N−1 steps. At step s rank r sends chunk (r − s) mod N to the right, and
//      adds the chunk (r − s − 1) mod N that arrives from the left into its own. A chunk travels
//      round the ring collecting one rank's values per step; after N−1 steps rank r holds chunk
//      (r + 1) mod N summed over all N ranks:
//
//        N = 3, step 0:   r0 sends a0 → r1      r1 sends b1 → r2      r2 sends c2 → r0
//                         r1: a = a0+a1         r2: b = b1+b2         r0: c = c2+c0
//        step 1:          r0 sends c → r1 (+c1: done)  r1 sends a → r2 (+a2)  r2 sends b → r0 (+b0)
//
//   2. ALL-GATHER, N−1 steps. Each rank passes the finished chunk it holds to the right, which
//      keeps it (no adding) and passes it on at the next step. After N−1 steps every rank holds
//      every finished chunk.
//
// Cost. 2(N−1) steps, each sending one chunk of S/N bytes: every rank sends (and receives)
//     2 · S · (N − 1) / N  bytes,
// less than 2S however large N grows — and no all-reduce can do with less (each rank's S bytes
// must leave it, and the sum must come back in): the ring is BANDWIDTH-OPTIMAL. What it pays is
// latency: 2(N−1) messages in sequence, each costing α (the start-up time of a message), so
//     time ≈ 2(N−1)·α + 2·S·(N−1)/N / β        (β: the link's bandwidth)
// — fine for the megabytes of a model's gradients, poor for a few bytes (where a tree, log₂N
// steps, wins). docs/data_parallel.md does this arithmetic for real networks.
//
// MPI_Allreduce is the library's own, which picks among ring, tree and recursive-doubling
// schedules by message size and process count. Tandem uses it by default; the ring is here to be
// read and measured (`TANDEM_ALLREDUCE=ring` in the environment, or set_algorithm()).
// Both sum in a different ORDER than one process would, so results agree to rounding, not bit for
// bit (with two ranks a + b = b + a, so there they do agree exactly).
//
// Read next: dist/data_parallel.h (gradients in buckets), dist/distributed_optimizer.h.
#pragma once

#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace tandem::dist {

enum class Algorithm { mpi, ring };  // MPI_Allreduce, or the ring of ring_all_reduce below

// The algorithm all_reduce uses: initially $TANDEM_ALLREDUCE ("ring" or "mpi"; unset: mpi).
Algorithm algorithm();
void set_algorithm(Algorithm algorithm);
Algorithm parse_algorithm(const std::string& name);  // "ring" or "mpi", else an error saying so
const char* to_string(Algorithm algorithm);

// What this process's all-reduces have cost so far (for the figures: the share of a step spent
// communicating). bytes_sent is counted by the ring; for MPI_Allreduce, whose schedule is hidden,
// it is the ring's count for the same size — what a bandwidth-optimal schedule must send.
struct CommStats {
  int64_t calls = 0;
  int64_t elements = 0;    // summed over calls
  int64_t bytes_sent = 0;  // per rank, see above
  double seconds = 0;      // wall time inside all-reduces
};
CommStats comm_stats();
void reset_comm_stats();

// The ring, in place: data (n floats or doubles) becomes the sum over all ranks' data.
// Any n, including n < world size (some chunks are then empty) and odd n.
void ring_all_reduce(float* data, int64_t n);
void ring_all_reduce(double* data, int64_t n);

// MPI's own: MPI_Allreduce(MPI_IN_PLACE, data, n, ..., MPI_SUM, MPI_COMM_WORLD).
void mpi_all_reduce(float* data, int64_t n);
void mpi_all_reduce(double* data, int64_t n);

// The sum over ranks of a float32 or float64 tensor, in place, by `algorithm`; with average, then
// divided by the world size (gradients are averaged). A tensor on a GPU is staged through the
// host: copied to the CPU, reduced there, copied back (Debian's Open MPI is not CUDA-aware, so it
// cannot read GPU memory itself). Counted in comm_stats().
void all_reduce(const Tensor& tensor, bool average = false, Algorithm algorithm = dist::algorithm());

}  // namespace tandem::dist
