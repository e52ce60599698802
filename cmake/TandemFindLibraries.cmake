# cmake/TandemFindLibraries.cmake — the two dependencies that come without a CMake package of
# their own, found and named as imported targets:
#
#   Tandem::openblas    OpenBLAS (Eigen forwards float/double GEMMs to it: EIGEN_USE_BLAS)
#   Tandem::backtrace   GCC's libbacktrace (libbacktrace.a, shipped with the compiler in
#                       libgcc-N-dev), which turns call stacks into file:line (core/call_site.cpp)
#
# Both CMakeLists.txt (building Tandem) and TandemConfig.cmake (a program finding the installed
# Tandem) include this file, so the library and its users find the same files by the same rules.
#
#   tandem_find_openblas()    sets TANDEM_OPENBLAS_LIB (a path, or empty) and defines Tandem::openblas
#   tandem_find_backtrace()   sets TANDEM_BACKTRACE_LIB (a path, or empty) and defines Tandem::backtrace
# Each takes an optional path to try first (the one found when Tandem was built).

function(tandem_imported_library name path)
  if(NOT TARGET ${name})
    add_library(${name} UNKNOWN IMPORTED)
    set_target_properties(${name} PROPERTIES IMPORTED_LOCATION "${path}")
  endif()
endfunction()

# The OpenMP build of OpenBLAS first (Debian's libopenblas-openmp-dev): its GEMMs then run on
# the same OpenMP threads as Tandem's own loops (CMakeLists.txt says why that matters).
function(tandem_find_openblas)
  set(hint "${ARGV0}")
  set(found "")
  if(hint AND EXISTS "${hint}")
    set(found "${hint}")
  else()
    find_library(TANDEM_FIND_OPENBLAS NAMES openblas
                 PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp NO_DEFAULT_PATH)
    find_library(TANDEM_FIND_OPENBLAS NAMES openblas)
    if(TANDEM_FIND_OPENBLAS)
      set(found "${TANDEM_FIND_OPENBLAS}")
    endif()
  endif()
  if(found)
    tandem_imported_library(Tandem::openblas "${found}")
  endif()
  set(TANDEM_OPENBLAS_LIB "${found}" PARENT_SCOPE)
endfunction()

# libbacktrace.a sits in GCC's private library folder; the compiler itself says where
# (`g++ -print-file-name=libbacktrace.a` prints the full path when the file exists).
function(tandem_find_backtrace)
  set(hint "${ARGV0}")
  set(found "")
  if(hint AND EXISTS "${hint}")
    set(found "${hint}")
  elseif(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libbacktrace.a
                    OUTPUT_VARIABLE path OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(IS_ABSOLUTE "${path}" AND EXISTS "${path}")
      set(found "${path}")
    endif()
  endif()
  if(found)
    tandem_imported_library(Tandem::backtrace "${found}")
  endif()
  set(TANDEM_BACKTRACE_LIB "${found}" PARENT_SCOPE)
endfunction()
