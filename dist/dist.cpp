// dist/dist.cpp — the processes (init, rank, abort) and broadcast, over MPI.
//
// Read next: dist/all_reduce.cpp.
#include "dist/dist.h"

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "dist/mpi_check.h"
#include "autograd/grad_mode.h"
#include "graph/session.h"

namespace tandem::dist {

namespace detail {
void require_init(const char* what) {
  if (!initialized())
    throw Error(msg(what, ": dist::init() has not run (or finalize() already has): call dist::init(argc, argv) "
                          "first, or write main as dist::run(argc, argv, body)"));
}
}  // namespace detail

using detail::check;

// ---- the processes -------------------------------------------------------------------------------

void init(int& argc, char**& argv) {
  int started = 0;
  check(MPI_Initialized(&started), "MPI_Initialized");
  if (!started) check(MPI_Init(&argc, &argv), "MPI_Init");
  // Errors come back as codes, which check() turns into exceptions with MPI's message, instead
  // of MPI's default of aborting inside the call.
  check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
}

void finalize() {
  if (initialized()) check(MPI_Finalize(), "MPI_Finalize");
}

bool initialized() {
  int started = 0, finished = 0;
  MPI_Initialized(&started);
  MPI_Finalized(&finished);
  return started && !finished;
}

int rank() {
  detail::require_init("dist::rank");
  int r = 0;
  check(MPI_Comm_rank(MPI_COMM_WORLD, &r), "MPI_Comm_rank");
  return r;
}

int world_size() {
  detail::require_init("dist::world_size");
  int n = 1;
  check(MPI_Comm_size(MPI_COMM_WORLD, &n), "MPI_Comm_size");
  return n;
}

bool launched_by_mpirun() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMI_SIZE") != nullptr;
}

void barrier() {
  detail::require_init("dist::barrier");
  check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

void abort(int exit_code) {
  std::fflush(stdout);
  std::fflush(stderr);
  if (initialized()) MPI_Abort(MPI_COMM_WORLD, exit_code);  // mpirun then ends every rank
  std::_Exit(exit_code);
}

void abort_on_error(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    const bool up = initialized();
    std::fprintf(stderr, "rank %d of %d: error: %s\n", up ? rank() : 0, up ? world_size() : 1, e.what());
    abort(1);
  }
}

int run(int& argc, char**& argv, const std::function<int()>& body) {
  int code = 0;
  abort_on_error([&] {
    init(argc, argv);
    code = body();
  });
  finalize();
  return code;
}

// ---- broadcast -----------------------------------------------------------------------------------

namespace {

// A fingerprint of the tensors' dtypes and shapes (FNV-1a). Ranks whose lists differ would
// broadcast into each other's wrong-sized buffers; comparing fingerprints first turns that into an
// error on every rank.
uint64_t fingerprint(const std::vector<Tensor>& tensors) {
  uint64_t h = 1469598103934665603ull;
  auto add = [&](uint64_t v) { h = (h ^ v) * 1099511628211ull; };
  add(tensors.size());
  for (const Tensor& t : tensors) {
    add(static_cast<uint64_t>(t.dtype()));
    add(static_cast<uint64_t>(t.dim()));
    for (int64_t d : t.shape()) add(static_cast<uint64_t>(d));
  }
  return h;
}

void check_same_everywhere(const std::vector<Tensor>& tensors, const char* what) {
  const uint64_t mine = fingerprint(tensors);
  uint64_t low = 0, high = 0;
  check(MPI_Allreduce(&mine, &low, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD), "MPI_Allreduce");
  check(MPI_Allreduce(&mine, &high, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
  if (low != high)
    throw Error(msg(what, ": the ranks passed different tensors (", tensors.size(), " here; their shapes or dtypes "
                    "differ between ranks): every rank must build the same model"));
}

}  // namespace

void broadcast(const std::vector<Tensor>& tensors, int root) {
  detail::require_init("dist::broadcast");
  check_same_everywhere(tensors, "dist::broadcast");
  for (const Tensor& t : tensors) {
    // MPI reads and writes plain host memory: a view or a GPU tensor goes through a contiguous
    // host copy, written back afterwards.
    const bool direct = t.device().is_cpu() && t.is_contiguous();
    Tensor host = direct ? t : t.cpu().contiguous();
    const int64_t n = host.numel();
    if (n > INT32_MAX) throw Error(msg("dist::broadcast: a tensor of ", n, " elements is more than MPI's int count"));
    check(MPI_Bcast(host.raw_data(), static_cast<int>(n), detail::mpi_type(host.dtype()), root, MPI_COMM_WORLD),
          "MPI_Bcast");
    if (!direct) {
      no_grad guard;
      t.copy_(host);
    }
  }
}

void broadcast(const nn::Module& model, int root) {
  std::vector<Tensor> state;
  for (const auto& [name, tensor] : model.state_dict()) state.push_back(tensor.detach());
  broadcast(state, root);
}

void broadcast(graph::Session& session, const std::vector<graph::Output>& variables, int root) {
  std::vector<Tensor> values;
  for (const graph::Output& v : variables) values.push_back(session.variable_value(v).contiguous().clone());
  broadcast(values, root);
  // Assign through each Variable's initializer, feeding its initial-value input (TF1's
  // Variable.load, as Module::copy_to does).
  std::vector<graph::Output> inits;
  graph::FeedDict feeds;
  for (size_t i = 0; i < variables.size(); ++i) {
    const graph::Node* var = variables[i].node();
    if (var->kind != graph::Kind::variable)
      throw Error(msg("dist::broadcast(session, ...): '", var->name, "' is not a Variable"));
    inits.emplace_back(var->initializer);
    feeds.emplace_back(var->initializer->inputs[1], values[i]);
  }
  if (!inits.empty()) session.run(inits, feeds);
}

// ---- small collectives ---------------------------------------------------------------------------

double all_reduce_sum(double value) {
  detail::require_init("dist::all_reduce_sum");
  double out = 0;
  check(MPI_Allreduce(&value, &out, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
  return out;
}

double all_reduce_max(double value) {
  detail::require_init("dist::all_reduce_max");
  double out = 0;
  check(MPI_Allreduce(&value, &out, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
  return out;
}

}  // namespace tandem::dist
