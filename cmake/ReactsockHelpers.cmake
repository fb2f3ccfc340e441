# Helper functions for reactsock's own targets.
#
#   reactsock_target_warnings(<target>)
#       -Wall -Wextra -Wpedantic (+ -Werror with REACTSOCK_WERROR) on <target> only;
#       never propagated to consumers.
#
#   reactsock_add_test(<name> <source>... [LIBRARIES <lib>...] [TIMEOUT <s>] [LABELS <l>...])
#       One doctest executable per test file, linked with reactsock::reactsock and the
#       doctest main (tests/main.cpp); ONE ctest test named <name>.
#       Example: reactsock_add_test(socket.tcp_server socket/tcp_server.cpp)
#
#   reactsock_add_example(<name> <source>... [NO_RUN] [ARGS <arg>...] [TIMEOUT <s>])
#       An example executable; when tests are enabled it is also run as ctest test
#       example.<name> that must exit 0 (NO_RUN: only compile it).
#
#   reactsock_add_benchmark(<name> <source>... [LIBRARIES <lib>...])
#       A benchmark executable (never a ctest test).
include_guard(GLOBAL)

function(reactsock_target_warnings target)
    if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
        target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
        if(REACTSOCK_WERROR)
            # A deprecated name still warns, but a build that uses one (kept
            # working for a release) is not broken by it.
            target_compile_options(${target} PRIVATE -Werror -Wno-error=deprecated-declarations)
        endif()
    elseif(MSVC)
        target_compile_options(${target} PRIVATE /W4 /permissive-)
        if(REACTSOCK_WERROR)
            target_compile_options(${target} PRIVATE /WX)
        endif()
    endif()
endfunction()

# Executable name from a dotted/slashed test name: socket.tcp_server → test_socket_tcp_server
function(_reactsock_exe_name out prefix name)
    string(REGEX REPLACE "[^A-Za-z0-9_]" "_" clean "${name}")
    set(${out} "${prefix}${clean}" PARENT_SCOPE)
endfunction()

function(_reactsock_check_sources fn)
    foreach(src IN LISTS ARGN)
        if(IS_ABSOLUTE "${src}")
            set(path "${src}")
        else()
            set(path "${CMAKE_CURRENT_SOURCE_DIR}/${src}")
        endif()
        if(NOT EXISTS "${path}")
            message(FATAL_ERROR "${fn}: source file ${path} does not exist")
        endif()
    endforeach()
endfunction()

function(reactsock_add_test name)
    cmake_parse_arguments(PARSE_ARGV 1 arg "" "TIMEOUT" "LIBRARIES;LABELS")
    if(NOT arg_UNPARSED_ARGUMENTS)
        message(FATAL_ERROR "reactsock_add_test(${name}): no source file given")
    endif()
    if(NOT TARGET reactsock_doctest_main)
        message(FATAL_ERROR "reactsock_add_test(${name}): call it from tests/ (needs reactsock_doctest_main)")
    endif()
    _reactsock_check_sources(reactsock_add_test ${arg_UNPARSED_ARGUMENTS})
    if(NOT arg_TIMEOUT)
        set(arg_TIMEOUT 300)
    endif()
    _reactsock_exe_name(exe "test_" "${name}")

    add_executable(${exe} ${arg_UNPARSED_ARGUMENTS})
    target_link_libraries(${exe} PRIVATE reactsock::reactsock reactsock_doctest_main ${arg_LIBRARIES})
    target_include_directories(${exe} PRIVATE "${PROJECT_SOURCE_DIR}/tests")
    set_target_properties(${exe} PROPERTIES CXX_EXTENSIONS OFF)
    reactsock_target_warnings(${exe})

    add_test(NAME ${name} COMMAND ${exe})
    set_tests_properties(${name} PROPERTIES
        TIMEOUT ${arg_TIMEOUT}
        ENVIRONMENT "${REACTSOCK_TEST_ENVIRONMENT}")
    if(arg_LABELS)
        set_tests_properties(${name} PROPERTIES LABELS "${arg_LABELS}")
    endif()
endfunction()

function(reactsock_add_example name)
    cmake_parse_arguments(PARSE_ARGV 1 arg "NO_RUN" "TIMEOUT" "ARGS;LIBRARIES")
    if(NOT arg_UNPARSED_ARGUMENTS)
        message(FATAL_ERROR "reactsock_add_example(${name}): no source file given")
    endif()
    _reactsock_check_sources(reactsock_add_example ${arg_UNPARSED_ARGUMENTS})
    if(NOT arg_TIMEOUT)
        set(arg_TIMEOUT 60)
    endif()

    add_executable(${name} ${arg_UNPARSED_ARGUMENTS})
    target_link_libraries(${name} PRIVATE reactsock::reactsock ${arg_LIBRARIES})
    set_target_properties(${name} PROPERTIES CXX_EXTENSIONS OFF)
    reactsock_target_warnings(${name})

    if(REACTSOCK_BUILD_TESTS AND NOT arg_NO_RUN)
        add_test(NAME example.${name} COMMAND ${name} ${arg_ARGS})
        set_tests_properties(example.${name} PROPERTIES
            TIMEOUT ${arg_TIMEOUT}
            LABELS example
            ENVIRONMENT "${REACTSOCK_TEST_ENVIRONMENT}")
    endif()
endfunction()

function(reactsock_add_benchmark name)
    cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "LIBRARIES")
    if(NOT arg_UNPARSED_ARGUMENTS)
        message(FATAL_ERROR "reactsock_add_benchmark(${name}): no source file given")
    endif()
    _reactsock_check_sources(reactsock_add_benchmark ${arg_UNPARSED_ARGUMENTS})
    if(REACTSOCK_SANITIZE)
        message(WARNING "reactsock_add_benchmark(${name}): sanitized build, numbers are meaningless")
    endif()
    _reactsock_exe_name(exe "bench_" "${name}")
    add_executable(${exe} ${arg_UNPARSED_ARGUMENTS})
    target_link_libraries(${exe} PRIVATE reactsock::reactsock ${arg_LIBRARIES})
    set_target_properties(${exe} PROPERTIES CXX_EXTENSIONS OFF)
    reactsock_target_warnings(${exe})
endfunction()
