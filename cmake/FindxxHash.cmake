# FindxxHash: xxHash's header and library. Debian's libxxhash-dev ships no CMake package, so
# dstream finds it itself, in its own build and, installed beside dstreamConfig.cmake, for
# programs that find_package(dstream).
#
# Imported targets:
#   xxHash::headers  xxhash.h only: for code that hashes inline (XXH_INLINE_ALL), as
#                    dstream/hash.h does on the per-record path; links no library.
#   xxHash::xxhash   libxxhash, with xxHash::headers.
# Variables: xxHash_FOUND, xxHash_VERSION, xxHash_INCLUDE_DIR, xxHash_LIBRARY.
#
# Ask for 0.8 or newer when hashes must be stable: XXH3's output was final only from 0.8.0.
find_path(xxHash_INCLUDE_DIR xxhash.h)
find_library(xxHash_LIBRARY NAMES xxhash)
if(xxHash_INCLUDE_DIR AND EXISTS "${xxHash_INCLUDE_DIR}/xxhash.h")
  file(STRINGS "${xxHash_INCLUDE_DIR}/xxhash.h" _xxhash_version_lines
       REGEX "^#define XXH_VERSION_(MAJOR|MINOR|RELEASE) +[0-9]+")
  foreach(part MAJOR MINOR RELEASE)
    string(REGEX REPLACE ".*#define XXH_VERSION_${part} +([0-9]+).*" "\\1" _xxhash_${part} "${_xxhash_version_lines}")
  endforeach()
  set(xxHash_VERSION "${_xxhash_MAJOR}.${_xxhash_MINOR}.${_xxhash_RELEASE}")
  unset(_xxhash_version_lines)
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(xxHash
  REQUIRED_VARS xxHash_LIBRARY xxHash_INCLUDE_DIR
  VERSION_VAR xxHash_VERSION)
mark_as_advanced(xxHash_INCLUDE_DIR xxHash_LIBRARY)

if(xxHash_FOUND)
  if(NOT TARGET xxHash::headers)
    add_library(xxHash::headers INTERFACE IMPORTED)
    set_target_properties(xxHash::headers PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${xxHash_INCLUDE_DIR}")
  endif()
  if(NOT TARGET xxHash::xxhash)
    add_library(xxHash::xxhash UNKNOWN IMPORTED)
    set_target_properties(xxHash::xxhash PROPERTIES
      IMPORTED_LOCATION "${xxHash_LIBRARY}"
      INTERFACE_LINK_LIBRARIES xxHash::headers)
  endif()
endif()
