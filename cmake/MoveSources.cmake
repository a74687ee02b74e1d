# dstream_move_sources(FROM <target> TO <target> [KEEP <source>...]): moves the sources listed
# on one target to another, leaving FROM with only the KEEP sources. src/*/sources.cmake list
# their files on `dstream`; they are compiled once, in dstream_objects (see CMakeLists.txt).
function(dstream_move_sources)
  cmake_parse_arguments(ARG "" "FROM;TO" "KEEP" ${ARGN})
  get_target_property(sources ${ARG_FROM} SOURCES)
  list(REMOVE_ITEM sources ${ARG_KEEP})
  if(sources)
    target_sources(${ARG_TO} PRIVATE ${sources})
  endif()
  set_property(TARGET ${ARG_FROM} PROPERTY SOURCES ${ARG_KEEP})
endfunction()
