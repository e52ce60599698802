// core/threads.h — how many CPU threads Tandem's kernels use (torch.set_num_threads).
//
// Two thread pools work for Tandem on the CPU:
//   - OpenMP runs the elementwise loops, reductions and Eigen's own GEMM (int64, or every dtype
//     when OpenBLAS is not used);
//   - OpenBLAS, when Eigen forwards float/double GEMMs to it (EIGEN_USE_BLAS). Tandem links the
//     OpenMP build of OpenBLAS when it is installed, so its GEMMs use the same OpenMP threads;
//     Debian's default is the pthread build, with a pool of its own that competes with OpenMP's
//     for the cores (CMakeLists.txt says what that costs).
// Both read the environment at start-up: OMP_NUM_THREADS for OpenMP; OPENBLAS_NUM_THREADS, or
// failing that OMP_NUM_THREADS, for OpenBLAS. So `OMP_NUM_THREADS=2 ./program` sets both, and
// set_num_threads(n) below sets both from inside a program, as torch.set_num_threads does.
//
// Read next: core/ops/matmul.cpp (where the two pools meet).
#pragma once

namespace tandem {

// Use `n` threads (n >= 1) for OpenMP loops and, when built with OpenBLAS, for its GEMMs.
// Throws tandem::Error for n < 1.
void set_num_threads(int n);

// The number of threads an OpenMP loop started now would use (torch.get_num_threads).
int get_num_threads();

}  // namespace tandem
