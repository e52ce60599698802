# cmake/TandemDistTests.cmake — the MPI tests: programs that ctest starts through mpirun.
#
# tandem_dist_tests (tests/dist/, Catch2 with an MPI main) runs under `mpirun -np 2` and
# `-np 4 --oversubscribe` (more ranks than this machine's cores: each waits its turn). CI runs as root, which
# Open MPI refuses unless two variables say it is meant. Without MPI nothing is registered (the
# configure step said why); tandem_tests itself never needs MPI.
if(NOT TANDEM_WITH_MPI)
  return()
endif()

add_executable(tandem_dist_tests ${PROJECT_SOURCE_DIR}/tests/dist/dist_tests.cpp)
tandem_link(tandem_dist_tests)
target_link_libraries(tandem_dist_tests PRIVATE tandem_dist Catch2::Catch2)
target_compile_definitions(tandem_dist_tests PRIVATE
  TANDEM_SOURCE_DIR="${PROJECT_SOURCE_DIR}" TANDEM_BINARY_DIR="${PROJECT_BINARY_DIR}")
add_dependencies(tandem_tests tandem_dist_tests)  # built with the tests, as the examples are

set(TANDEM_MPI_ENV "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OMP_NUM_THREADS=1")
add_test(NAME dist_np2 COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} 2 ${MPIEXEC_PREFLAGS}
         $<TARGET_FILE:tandem_dist_tests> ${MPIEXEC_POSTFLAGS})
add_test(NAME dist_np4_oversubscribed COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} 4 --oversubscribe
         ${MPIEXEC_PREFLAGS} $<TARGET_FILE:tandem_dist_tests> ${MPIEXEC_POSTFLAGS})
# A rank that throws must end the job with its error, not leave the others waiting in a collective:
# the script runs the hidden test "[.dist-throws]" under a 60 s limit and checks the exit and the text.
add_test(NAME dist_rank_error_ends_job COMMAND sh ${PROJECT_SOURCE_DIR}/tests/dist/expect_abort.sh
         ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:tandem_dist_tests>)
# In the sanitizer build (.ci/run, phase 2) leak detection is off for MPI programs: Open MPI unloads
# its dlopen'ed components in MPI_Finalize, and LeakSanitizer then finds their blocks allocated by
# code that is no longer there ("<unknown module>"), which no suppression can name. AddressSanitizer's
# checks stay on, and the library's own code is leak-checked by every other test.
set_tests_properties(dist_np2 dist_np4_oversubscribed dist_rank_error_ends_job PROPERTIES
  ENVIRONMENT "${TANDEM_MPI_ENV}" ENVIRONMENT_MODIFICATION "ASAN_OPTIONS=string_append::detect_leaks=0"
  TIMEOUT 300 LABELS mpi)
# The demo runs under mpirun from a test of tandem_tests (tests/test_data_parallel_example.cpp,
# [examples][dist]), which then loads the checkpoint rank 0 wrote in its own process, without MPI:
# it needs only the launcher's path.
target_compile_definitions(tandem_tests PRIVATE TANDEM_MPIEXEC="${MPIEXEC_EXECUTABLE}")

# The ring against MPI_Allreduce by message size (bench/dist/; figures in bench/RESULTS.md).
add_executable(bench_allreduce ${PROJECT_SOURCE_DIR}/bench/dist/bench_allreduce.cpp)
tandem_link(bench_allreduce)
target_link_libraries(bench_allreduce PRIVATE tandem_dist)
