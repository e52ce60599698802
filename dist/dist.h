// dist/dist.h — data-parallel training over MPI: the processes, and what they share.
//
// Data parallelism in one paragraph. N copies of the same program (ranks 0..N−1, started together
// by `mpirun -np N`) each hold the whole model. Every step, each rank computes the gradient on its
// own share of the batch; the ranks then AVERAGE their gradients (an all-reduce), so every rank
// holds the gradient of the whole batch, and each takes the very same optimizer step. The weights
// never travel after the start: they stay equal because every rank applies equal updates to equal
// starting values — which is why broadcast() must run once, before the first step.
//
//     PyTorch (DistributedDataParallel)            Tandem
//     dist.init_process_group("mpi")               dist::init(argc, argv)        (or dist::run)
//     dist.get_rank(), dist.get_world_size()       dist::rank(), dist::world_size()
//     (DDP's constructor broadcasts rank 0's)      dist::broadcast(model, 0)
//     DistributedSampler(ds, shuffle=True)         dist::DistributedSampler(n, {...})   dist/sampler.h
//     loss.backward()  (+ DDP's bucket hooks)      loss.backward(); dist::all_reduce_gradients(model)
//     Horovod: hvd.DistributedOptimizer(opt)       dist::DistributedOptimizer(opt)   dist/distributed_optimizer.h
//
// Tandem does not move bytes between processes itself: MPI does (Open MPI, from Debian), as it
// does for PyTorch's "mpi" backend and for Horovod. This file wraps the handful of MPI calls the
// rest needs, so that no other header includes <mpi.h>: a program that includes dist/*.h compiles
// without MPI's headers, and only the library tandem_dist links MPI.
//
// Errors: every MPI call is checked, and a failure throws tandem::Error naming the call. A rank
// that throws while the others wait inside a collective would leave them waiting for ever; run()
// (and abort_on_error) prints the error with the rank's number and calls MPI_Abort, which makes
// mpirun end every rank and exit with a failure.
//
// Read next: dist/all_reduce.h (the ring, the lesson), dist/data_parallel.h (eager mode),
// dist/distributed_optimizer.h (graph mode), docs/data_parallel.md (past one machine).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "layers/module.h"

namespace tandem::graph {
class Session;
}

namespace tandem::dist {

// ---- the processes -------------------------------------------------------------------------------
// MPI_Init (once; a second call does nothing) and MPI_Finalize. A program started without mpirun
// is a world of one (MPI's "singleton"): everything below still works, and reduces nothing.
void init(int& argc, char**& argv);
void finalize();
bool initialized();  // init() has run and finalize() has not

int rank();        // this process's number, 0..world_size()−1 (MPI_Comm_rank)
int world_size();  // how many processes run the program (MPI_Comm_size)
inline bool is_root() { return rank() == 0; }  // the one that prints, saves and logs
// True when mpirun (or another MPI launcher) started this process, even as a world of one: Open
// MPI sets OMPI_COMM_WORLD_SIZE in each rank's environment, MPICH and Slurm PMI_SIZE.
bool launched_by_mpirun();
void barrier();  // waits until every rank reaches it (MPI_Barrier)

// Ends every rank of the job now (MPI_Abort): what a rank does when it cannot go on.
[[noreturn]] void abort(int exit_code = 1);

// Runs fn. If it throws, prints "rank R of N: error: <what>" to stderr and aborts the whole job:
// the other ranks may be waiting for this one inside a collective, and would never return.
void abort_on_error(const std::function<void()>& fn);

// A distributed main(): init, body under abort_on_error, finalize; returns body's exit code.
//     int main(int argc, char** argv) { return dist::run(argc, argv, [&] { ...; return 0; }); }
int run(int& argc, char**& argv, const std::function<int()>& body);

// ---- broadcast: one rank's values to all ---------------------------------------------------------
// Each tensor gets root's values (MPI_Bcast), in place. Every rank must pass tensors of the same
// shapes and dtypes in the same order (checked: a mismatch is an error on every rank, not a hang).
void broadcast(const std::vector<Tensor>& tensors, int root = 0);
// A model's parameters and buffers (its state_dict), so that every rank starts from root's weights.
void broadcast(const nn::Module& model, int root = 0);
// Graph mode (Horovod's broadcast_global_variables): root's values of `variables` in its session,
// assigned into every rank's session.
void broadcast(graph::Session& session, const std::vector<graph::Output>& variables, int root = 0);

// ---- small collectives the training loop needs ---------------------------------------------------
double all_reduce_sum(double value);   // Σ over ranks (a loss total, a count of correct answers)
double all_reduce_max(double value);   // max over ranks (the slowest rank's time)

}  // namespace tandem::dist
