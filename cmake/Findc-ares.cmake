# Findc-ares — locate the c-ares DNS library and provide the imported target
# c-ares::cares (the same name c-ares' own CMake package exports).
#
# Order: c-ares' own CMake package config if installed, then pkg-config
# (libcares.pc, which is all Debian ships), then a plain header/library search.
# Installed next to reactsockConfig.cmake so consumers of the installed package
# resolve the dependency the same way.
#
# Result variables: c-ares_FOUND, c-ares_VERSION, c-ares_INCLUDE_DIR, c-ares_LIBRARY.
include(FindPackageHandleStandardArgs)

# 1. Upstream config package (c-ares built with CMake).
find_package(c-ares ${c-ares_FIND_VERSION} CONFIG QUIET)
if(c-ares_FOUND AND TARGET c-ares::cares)
    find_package_handle_standard_args(c-ares CONFIG_MODE)
    return()
endif()

# 2./3. pkg-config hints, then plain search.
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
    pkg_check_modules(PC_CARES QUIET libcares)
endif()

find_path(c-ares_INCLUDE_DIR NAMES ares.h
    HINTS ${PC_CARES_INCLUDEDIR} ${PC_CARES_INCLUDE_DIRS})
find_library(c-ares_LIBRARY NAMES cares libcares
    HINTS ${PC_CARES_LIBDIR} ${PC_CARES_LIBRARY_DIRS})

if(c-ares_INCLUDE_DIR AND EXISTS "${c-ares_INCLUDE_DIR}/ares_version.h")
    file(STRINGS "${c-ares_INCLUDE_DIR}/ares_version.h" _cares_version_line
        REGEX "^#define[ \t]+ARES_VERSION_STR[ \t]+\"[^\"]+\"")
    string(REGEX REPLACE "^.*\"([^\"]+)\".*$" "\\1" c-ares_VERSION "${_cares_version_line}")
    unset(_cares_version_line)
elseif(PC_CARES_VERSION)
    set(c-ares_VERSION "${PC_CARES_VERSION}")
endif()

find_package_handle_standard_args(c-ares
    REQUIRED_VARS c-ares_LIBRARY c-ares_INCLUDE_DIR
    VERSION_VAR c-ares_VERSION)

if(c-ares_FOUND AND NOT TARGET c-ares::cares)
    add_library(c-ares::cares UNKNOWN IMPORTED)
    set_target_properties(c-ares::cares PROPERTIES
        IMPORTED_LOCATION "${c-ares_LIBRARY}"
        INTERFACE_INCLUDE_DIRECTORIES "${c-ares_INCLUDE_DIR}")
    # A static libcares needs CARES_STATICLIB on Windows only; nothing else to add here.
endif()

mark_as_advanced(c-ares_INCLUDE_DIR c-ares_LIBRARY)
