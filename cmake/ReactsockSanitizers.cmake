# ASan + UBSan for every target of this project (library included).
#
# Included from the top-level CMakeLists.txt before any target is created, so the
# directory-scoped options reach every target defined in this project and its
# subdirectories — but not a parent project that adds reactsock with
# add_subdirectory().
include_guard(GLOBAL)

set(REACTSOCK_SANITIZER_FLAGS
    -fsanitize=address,undefined
    -fno-sanitize-recover=all
    -fno-omit-frame-pointer)
# What a program that links a sanitized libreactsock needs: the runtimes. The
# library target exports these as INTERFACE link options and reactsock.pc lists
# them in Libs, so consumers of a sanitized install link without guessing.
set(REACTSOCK_SANITIZER_LINK_FLAGS -fsanitize=address,undefined)

if(REACTSOCK_SANITIZE)
    if(NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
        message(FATAL_ERROR
            "reactsock: REACTSOCK_SANITIZE needs GCC or Clang (compiler is ${CMAKE_CXX_COMPILER_ID})")
    endif()
    list(JOIN REACTSOCK_SANITIZER_FLAGS " " _reactsock_flags)
    message(STATUS "reactsock: building with ${_reactsock_flags}")
    add_compile_options(${REACTSOCK_SANITIZER_FLAGS})
    add_link_options(${REACTSOCK_SANITIZER_FLAGS})
endif()

# Environment for running sanitized executables under ctest. Harmless when the
# build is not sanitized.
set(REACTSOCK_TEST_ENVIRONMENT
    "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
    "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
