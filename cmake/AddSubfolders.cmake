# dstream_add_subfolders(): adds every direct subfolder of the current source folder that has
# a CMakeLists.txt, in name order (tools/, examples/, bench/ grow by adding folders).
function(dstream_add_subfolders)
  file(GLOB subdirs LIST_DIRECTORIES true RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT subdirs)
  foreach(dir IN LISTS subdirs)
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${dir}/CMakeLists.txt)
      add_subdirectory(${dir})
    endif()
  endforeach()
endfunction()
