# Driver for the install.consumer test (cmake -P). Arguments, all -D:
#   REACTSOCK_SOURCE_DIR  CONSUMER_SOURCE_DIR  WORK_DIR  GENERATOR  MAKE_PROGRAM
#   CXX_COMPILER  BUILD_SHARED
cmake_minimum_required(VERSION 3.21)

foreach(var REACTSOCK_SOURCE_DIR CONSUMER_SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "run.cmake: -D${var}=... is required")
    endif()
endforeach()

set(lib_build "${WORK_DIR}/reactsock-build")
set(prefix "${WORK_DIR}/prefix")
set(consumer_build "${WORK_DIR}/consumer-build")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

set(common_args -G "${GENERATOR}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
if(MAKE_PROGRAM)
    list(APPEND common_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()

# Run a command, echo it, fail the test with its output when it fails.
function(step what)
    string(REPLACE ";" " " pretty "${ARGN}")
    message(STATUS "install test: ${what}: ${pretty}")
    execute_process(COMMAND ${ARGN}
        RESULT_VARIABLE rc
        OUTPUT_VARIABLE out
        ERROR_VARIABLE out)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "install test: ${what} failed (${rc}):\n${out}")
    endif()
    set(step_output "${out}" PARENT_SCOPE)
endfunction()

# The library build must not inherit the sanitized test environment.
unset(ENV{ASAN_OPTIONS})
unset(ENV{UBSAN_OPTIONS})
unset(ENV{CXXFLAGS})
unset(ENV{LDFLAGS})
set(ENV{CMAKE_BUILD_PARALLEL_LEVEL} 2)

step("configure reactsock" "${CMAKE_COMMAND}" ${common_args}
    -S "${REACTSOCK_SOURCE_DIR}" -B "${lib_build}"
    -DCMAKE_BUILD_TYPE=Release
    "-DCMAKE_INSTALL_PREFIX=${prefix}"
    "-DBUILD_SHARED_LIBS=${BUILD_SHARED}"
    -DREACTSOCK_BUILD_TESTS=OFF
    -DREACTSOCK_BUILD_EXAMPLES=OFF
    -DREACTSOCK_BUILD_BENCHMARKS=OFF
    -DREACTSOCK_SANITIZE=OFF
    -DREACTSOCK_WERROR=OFF)
step("build reactsock" "${CMAKE_COMMAND}" --build "${lib_build}")
step("install reactsock" "${CMAKE_COMMAND}" --install "${lib_build}")

foreach(f include/reactsock/reactsock.hpp)
    if(NOT EXISTS "${prefix}/${f}")
        message(FATAL_ERROR "install test: ${prefix}/${f} was not installed")
    endif()
endforeach()
file(GLOB_RECURSE config_files "${prefix}/*/reactsockConfig.cmake")
file(GLOB_RECURSE pc_files "${prefix}/*/reactsock.pc")
if(NOT config_files OR NOT pc_files)
    message(FATAL_ERROR "install test: reactsockConfig.cmake or reactsock.pc missing under ${prefix}")
endif()
list(GET pc_files 0 pc_file)
get_filename_component(pc_dir "${pc_file}" DIRECTORY)
set(ENV{PKG_CONFIG_PATH} "${pc_dir}")

step("configure consumer" "${CMAKE_COMMAND}" ${common_args}
    -S "${CONSUMER_SOURCE_DIR}" -B "${consumer_build}"
    -DCMAKE_BUILD_TYPE=Release
    "-DCMAKE_PREFIX_PATH=${prefix}")
step("build consumer" "${CMAKE_COMMAND}" --build "${consumer_build}")

# A shared libreactsock: the pkg-config consumer has no RPATH to it.
get_filename_component(lib_dir "${pc_dir}" DIRECTORY)
set(ENV{LD_LIBRARY_PATH} "${lib_dir}")

# Both consumers must run and print the line that proves the timer fired.
foreach(exe consumer_cmake consumer_pkgconfig)
    step("run ${exe}" "${consumer_build}/${exe}")
    if(NOT step_output MATCHES "reactsock consumer: timer fired")
        message(FATAL_ERROR "install test: ${exe} printed unexpected output:\n${step_output}")
    endif()
    message(STATUS "install test: ${exe}: ${step_output}")
endforeach()

message(STATUS "install test: passed")
