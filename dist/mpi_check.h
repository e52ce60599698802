// dist/mpi_check.h — the one header of dist/ that includes <mpi.h> (only dist/*.cpp include it).
//
// MPI calls return an error code; the default error handler (MPI_ERRORS_ARE_FATAL) aborts before
// returning one, but a program may install MPI_ERRORS_RETURN, so every call goes through check(),
// which turns a failure into a tandem::Error naming the call and MPI's own words for the code.
//
// Read next: dist/dist.cpp.
#pragma once

// MPI's C API only: Open MPI's (deprecated) C++ bindings are left out, and their warnings with them.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include "core/dtype.h"
#include "core/error.h"

namespace tandem::dist::detail {

inline void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw Error(msg(call, " failed: ", std::string(text, static_cast<size_t>(length))));
}

// The MPI datatype of a Tandem dtype (the ones a model's tensors have).
inline MPI_Datatype mpi_type(DType dtype) {
  switch (dtype) {
    case kFloat32: return MPI_FLOAT;
    case kFloat64: return MPI_DOUBLE;
    case kInt64: return MPI_INT64_T;
    default: throw DTypeError(msg("dist: no MPI datatype for ", to_string(dtype), " tensors"));
  }
}

// Throws unless init() has run: the first MPI call outside it would abort with a worse message.
void require_init(const char* what);

}  // namespace tandem::dist::detail
