# tests/consumer/check.cmake — ctest's "consumer" test: builds tests/consumer/ against the build
# folder's package (find_package(Tandem) with Tandem_DIR) WITHOUT debug line tables (CMake's
# Release flags: -O3, no -g), runs it, and checks what the graph error says about where the node
# was created: the user's function and program, how to get file:line — never a glibc file.
#   cmake -DSOURCE=<tests/consumer> -DBINARY=<work folder> -DTANDEM_DIR=<Tandem's build folder>
#         -DCXX=<compiler> -DGENERATOR=<generator> [-DEXTRA=<one more -D for the consumer>] -P check.cmake
function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer: ${what} failed (${rc}):\n${out}")
  endif()
  set(output "${out}" PARENT_SCOPE)
endfunction()

run("configure" ${CMAKE_COMMAND} -S ${SOURCE} -B ${BINARY} -G "${GENERATOR}" -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_CXX_COMPILER=${CXX} -DTandem_DIR=${TANDEM_DIR} ${EXTRA})
run("build" ${CMAKE_COMMAND} --build ${BINARY})
run("run" ${BINARY}/app)
message(STATUS "consumer printed:\n${output}")
foreach(want "tensor\\(\\[\\[11\\.\\]\\]\\)" "MatMul" "created at main in [^ ]*app \\(no line tables: build with -g1 or -g to see file:line\\)")
  if(NOT output MATCHES "${want}")
    message(FATAL_ERROR "consumer: expected the output to match '${want}'")
  endif()
endforeach()
foreach(unwanted "sysdeps" "libc_start" "unknown location" "\\.\\./")
  if(output MATCHES "${unwanted}")
    message(FATAL_ERROR "consumer: the output names '${unwanted}', a system file, not the user's code")
  endif()
endforeach()
