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
# Installed with `cmake --install --prefix` into one directory, then moved to
# another: both the CMake package and reactsock.pc must work from where they end up.
set(install_prefix "${WORK_DIR}/installed")
set(prefix "${WORK_DIR}/moved/opt-reactsock")
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

# Optimised (-O2) and sanitized: inlining makes every translation unit use its
# own view of Asio's configuration, so an ODR violation between them (memory from
# std::aligned_alloc in one, freed with operator delete in another) shows up under
# ASan here and not in the Debug test build. The configure-time prefix is the
# default one; the install goes elsewhere with --prefix.
step("configure reactsock" "${CMAKE_COMMAND}" ${common_args}
    -S "${REACTSOCK_SOURCE_DIR}" -B "${lib_build}"
    -DCMAKE_BUILD_TYPE=RelWithDebInfo
    "-DBUILD_SHARED_LIBS=${BUILD_SHARED}"
    -DREACTSOCK_BUILD_TESTS=OFF
    -DREACTSOCK_BUILD_EXAMPLES=OFF
    -DREACTSOCK_BUILD_BENCHMARKS=OFF
    -DREACTSOCK_SANITIZE=ON
    -DREACTSOCK_WERROR=ON)
step("build reactsock" "${CMAKE_COMMAND}" --build "${lib_build}")
step("install reactsock" "${CMAKE_COMMAND}" --install "${lib_build}" --prefix "${install_prefix}")
get_filename_component(moved_parent "${prefix}" DIRECTORY)
file(MAKE_DIRECTORY "${moved_parent}")
file(RENAME "${install_prefix}" "${prefix}")

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
# reactsock.pc must name the directory it was moved to, not a configure-time one.
# Its paths may be written through ${pcfiledir}/.. , so compare real paths.
function(expect_pc_path flags option expected)
    string(REGEX MATCHALL "${option}[^ \n]+" found "${flags}")
    get_filename_component(want "${expected}" REALPATH)
    foreach(item IN LISTS found)
        string(REGEX REPLACE "^${option}" "" path "${item}")
        get_filename_component(path "${path}" REALPATH)
        if(path STREQUAL want)
            return()
        endif()
    endforeach()
    message(FATAL_ERROR "install test: reactsock.pc is not relocatable: expected ${option}${expected}, got: ${flags}")
endfunction()
step("pkg-config cflags" pkg-config --cflags reactsock)
expect_pc_path("${step_output}" "-I" "${prefix}/include")
step("pkg-config libs" pkg-config --libs --static reactsock)
get_filename_component(installed_lib_dir "${pc_dir}" DIRECTORY)
expect_pc_path("${step_output}" "-L" "${installed_lib_dir}")
# A sanitized library carries its sanitizer flags to whoever links it.
string(FIND "${step_output}" "-fsanitize=address,undefined" at)
if(at EQUAL -1)
    message(FATAL_ERROR "install test: reactsock.pc of a sanitized build lacks -fsanitize: ${step_output}")
endif()

step("configure consumer" "${CMAKE_COMMAND}" ${common_args}
    -S "${CONSUMER_SOURCE_DIR}" -B "${consumer_build}"
    -DCMAKE_BUILD_TYPE=Release
    "-DCMAKE_PREFIX_PATH=${prefix}")
step("build consumer" "${CMAKE_COMMAND}" --build "${consumer_build}")

# A shared libreactsock: the pkg-config consumer has no RPATH to it.
get_filename_component(lib_dir "${pc_dir}" DIRECTORY)
set(ENV{LD_LIBRARY_PATH} "${lib_dir}")

# Both consumers must run clean under the sanitizers and finish every step.
set(ENV{ASAN_OPTIONS} "detect_leaks=1:halt_on_error=1:alloc_dealloc_mismatch=1")
set(ENV{UBSAN_OPTIONS} "print_stacktrace=1:halt_on_error=1")
foreach(exe consumer_cmake consumer_pkgconfig)
    step("run ${exe}" "${consumer_build}/${exe}")
    if(NOT step_output MATCHES "reactsock consumer: all done")
        message(FATAL_ERROR "install test: ${exe} printed unexpected output:\n${step_output}")
    endif()
    message(STATUS "install test: ${exe}: ${step_output}")
endforeach()

message(STATUS "install test: passed")
