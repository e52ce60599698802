# cmake/TandemDist.cmake — dist/: data-parallel training over MPI, in a library of its own.
#
# TANDEM_MPI=AUTO (default: built when MPI is found), ON (insist) or OFF (never look). The library
# `tandem` never links MPI: dist/ is `tandem_dist`, which links tandem and MPI::MPI_CXX, so a
# program that does not train across processes needs no MPI at all. Debian's Open MPI:
#   apt-get install libopenmpi-dev openmpi-bin     (scripts/setup --extras installs them)
set(TANDEM_MPI AUTO CACHE STRING "Build dist/ (data-parallel training over MPI): AUTO (when MPI is found), ON or OFF")
set_property(CACHE TANDEM_MPI PROPERTY STRINGS AUTO ON OFF)
string(TOUPPER "${TANDEM_MPI}" TANDEM_MPI_MODE)
if(NOT TANDEM_MPI_MODE STREQUAL "AUTO")
  if(TANDEM_MPI)
    set(TANDEM_MPI_MODE ON)
  else()
    set(TANDEM_MPI_MODE OFF)
  endif()
endif()

set(TANDEM_WITH_MPI OFF)
if(TANDEM_MPI_MODE STREQUAL "OFF")
  message(STATUS "Tandem: dist/ (MPI) OFF (build it: -DTANDEM_MPI=ON, with libopenmpi-dev installed)")
else()
  find_package(MPI COMPONENTS CXX QUIET)
  if(MPI_CXX_FOUND)
    set(TANDEM_WITH_MPI ON)
  elseif(TANDEM_MPI_MODE STREQUAL "ON")
    message(FATAL_ERROR "TANDEM_MPI=ON but MPI was not found. Install Open MPI (apt-get install libopenmpi-dev "
                        "openmpi-bin, or scripts/setup --extras), or configure with -DTANDEM_MPI=OFF (or AUTO).")
  else()
    message(STATUS "Tandem: MPI not found: dist/, 18_data_parallel and the MPI tests are not built "
                   "(apt-get install libopenmpi-dev openmpi-bin, or scripts/setup --extras)")
  endif()
endif()

if(TANDEM_WITH_MPI)
  file(GLOB TANDEM_DIST_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/dist/*.cpp)
  add_library(tandem_dist STATIC ${TANDEM_DIST_SOURCES})
  # Tandem's headers, flags and dependencies, but not its archive: the program links that itself,
  # whole (tandem_link), and an archive may appear on a link line one way only — plain and
  # WHOLE_ARCHIVE together CMake refuses, WHOLE_ARCHIVE twice the linker does (every symbol twice).
  #   add_executable(train train.cpp)  tandem_link(train)  target_link_libraries(train PRIVATE tandem_dist)
  target_include_directories(tandem_dist PUBLIC $<TARGET_PROPERTY:tandem,INTERFACE_INCLUDE_DIRECTORIES>)
  target_compile_definitions(tandem_dist PUBLIC $<TARGET_PROPERTY:tandem,INTERFACE_COMPILE_DEFINITIONS>)
  target_compile_features(tandem_dist PUBLIC cxx_std_20)
  target_link_libraries(tandem_dist PUBLIC MPI::MPI_CXX)
  target_link_libraries(tandem_dist PRIVATE Eigen3::Eigen OpenMP::OpenMP_CXX)  # what tandem's headers include
  message(STATUS "Tandem: dist/ ON: tandem_dist on MPI ${MPI_CXX_VERSION} (${MPIEXEC_EXECUTABLE})")
endif()
