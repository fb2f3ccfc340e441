# Install rules: headers, library, CMake package (reactsockConfig.cmake + version
# + exported targets + Findc-ares.cmake) and the pkg-config file reactsock.pc.
include_guard(GLOBAL)
include(CMakePackageConfigHelpers)

set(REACTSOCK_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/reactsock"
    CACHE STRING "Where reactsockConfig.cmake is installed, relative to the prefix")
set(REACTSOCK_INSTALL_PKGCONFIGDIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig"
    CACHE STRING "Where reactsock.pc is installed, relative to the prefix")
mark_as_advanced(REACTSOCK_INSTALL_CMAKEDIR REACTSOCK_INSTALL_PKGCONFIGDIR)

# Public headers: the whole include/reactsock tree, *.hpp only.
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/reactsock"
    DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
    COMPONENT reactsock_development
    FILES_MATCHING PATTERN "*.hpp")

install(TARGETS reactsock
    EXPORT reactsockTargets
    ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT reactsock_development
    LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT reactsock_runtime
            NAMELINK_COMPONENT reactsock_development
    RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT reactsock_runtime)

install(EXPORT reactsockTargets
    NAMESPACE reactsock::
    FILE reactsockTargets.cmake
    DESTINATION "${REACTSOCK_INSTALL_CMAKEDIR}"
    COMPONENT reactsock_development)

configure_package_config_file(
    "${PROJECT_SOURCE_DIR}/cmake/reactsockConfig.cmake.in"
    "${PROJECT_BINARY_DIR}/reactsockConfig.cmake"
    INSTALL_DESTINATION "${REACTSOCK_INSTALL_CMAKEDIR}")

# 0.x: a minor version bump may break the API, so only the same minor is compatible.
write_basic_package_version_file(
    "${PROJECT_BINARY_DIR}/reactsockConfigVersion.cmake"
    VERSION ${PROJECT_VERSION}
    COMPATIBILITY SameMinorVersion)

install(FILES
        "${PROJECT_BINARY_DIR}/reactsockConfig.cmake"
        "${PROJECT_BINARY_DIR}/reactsockConfigVersion.cmake"
        "${PROJECT_SOURCE_DIR}/cmake/Findc-ares.cmake"
    DESTINATION "${REACTSOCK_INSTALL_CMAKEDIR}"
    COMPONENT reactsock_development)

# pkg-config. The prefix is found from the .pc file's own directory (pkg-config's
# ${pcfiledir}), and includedir/libdir are relative to it, so an installed tree
# can be moved (or installed with `cmake --install --prefix`) and still work. Only
# directories configured as absolute paths stay absolute.
if(IS_ABSOLUTE "${REACTSOCK_INSTALL_PKGCONFIGDIR}")
    set(REACTSOCK_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
    file(RELATIVE_PATH _reactsock_pc_up "/prefix/${REACTSOCK_INSTALL_PKGCONFIGDIR}" "/prefix")
    set(REACTSOCK_PC_PREFIX "\${pcfiledir}/${_reactsock_pc_up}")
    unset(_reactsock_pc_up)
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
    set(REACTSOCK_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
    set(REACTSOCK_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
    set(REACTSOCK_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
    set(REACTSOCK_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
# Asio is header-only and has no .pc file: add its directory unless it is a
# directory the compiler searches anyway.
set(REACTSOCK_PC_ASIO_CFLAGS "")
if(NOT REACTSOCK_ASIO_INCLUDE_DIR IN_LIST CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES)
    set(REACTSOCK_PC_ASIO_CFLAGS " -I${REACTSOCK_ASIO_INCLUDE_DIR}")
endif()
# A sanitized library needs the sanitizer runtimes at link time (see
# ReactsockSanitizers.cmake); the CMake target carries them as link options.
set(REACTSOCK_PC_EXTRA_LIBS "")
if(REACTSOCK_SANITIZE)
    list(JOIN REACTSOCK_SANITIZER_LINK_FLAGS " " _reactsock_flags)
    set(REACTSOCK_PC_EXTRA_LIBS " ${_reactsock_flags}")
    unset(_reactsock_flags)
endif()
configure_file("${PROJECT_SOURCE_DIR}/cmake/reactsock.pc.in"
    "${PROJECT_BINARY_DIR}/reactsock.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/reactsock.pc"
    DESTINATION "${REACTSOCK_INSTALL_PKGCONFIGDIR}"
    COMPONENT reactsock_development)
