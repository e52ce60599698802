// core/threads.cpp — setting the thread count of OpenMP and OpenBLAS together (see threads.h).
#include "core/threads.h"

#include <omp.h>

#include "core/error.h"

#ifdef TANDEM_HAVE_OPENBLAS
// From OpenBLAS's cblas.h, declared here so that no OpenBLAS header is needed to build.
extern "C" void openblas_set_num_threads(int num_threads);
#endif

namespace tandem {

void set_num_threads(int n) {
  if (n < 1)
    throw Error(msg("set_num_threads: expected a positive number of threads, but got ", n));
  omp_set_num_threads(n);
#ifdef TANDEM_HAVE_OPENBLAS
  openblas_set_num_threads(n);
#endif
}

int get_num_threads() { return omp_get_max_threads(); }

}  // namespace tandem
