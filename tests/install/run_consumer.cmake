# Installs the build into a temporary prefix and checks the package from outside:
#   - every header under include/dstream/ is installed, and both libraries are;
#   - tests/install/consumer configures with find_package(dstream) alone, and its program,
#     which includes every installed header, builds against the static library and against
#     libdstream.so (a symbol the API needs but the shared library hides fails that link);
#   - the shared program really loads libdstream.so and the static one does not;
#   - both programs run, agree, and print what the word count, pprint(), print(), the window,
#     the state, the listener and saveAsTextFiles must.
# Arguments: BUILD_DIR SOURCE_INCLUDE_DIR CONSUMER_SOURCE WORK_DIR CXX_COMPILER.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

run("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

file(GLOB_RECURSE source_headers RELATIVE ${SOURCE_INCLUDE_DIR} ${SOURCE_INCLUDE_DIR}/dstream/*.h)
file(GLOB_RECURSE installed_headers RELATIVE ${prefix}/include ${prefix}/include/dstream/*.h)
list(SORT source_headers)
list(SORT installed_headers)
if(NOT source_headers STREQUAL installed_headers)
  message(FATAL_ERROR "the installed headers differ from include/:\n"
                      "  source:    ${source_headers}\n  installed: ${installed_headers}")
endif()
file(GLOB static_lib ${prefix}/lib*/libdstream.a)
file(GLOB shared_lib ${prefix}/lib*/libdstream.so)
if(NOT static_lib OR NOT shared_lib)
  message(FATAL_ERROR "libdstream.a and libdstream.so must both be installed; found '${static_lib}' '${shared_lib}'")
endif()

set(build ${WORK_DIR}/build)
run("configuring the consumer project" ${CMAKE_COMMAND} -S ${CONSUMER_SOURCE} -B ${build}
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
run("building the consumer project" ${CMAKE_COMMAND} --build ${build} --parallel 2)

file(GET_RUNTIME_DEPENDENCIES EXECUTABLES ${build}/consumer_shared
     RESOLVED_DEPENDENCIES_VAR shared_deps UNRESOLVED_DEPENDENCIES_VAR unresolved)
file(GET_RUNTIME_DEPENDENCIES EXECUTABLES ${build}/consumer_static RESOLVED_DEPENDENCIES_VAR static_deps)
list(FILTER shared_deps INCLUDE REGEX "/libdstream\\.so")
list(FILTER static_deps INCLUDE REGEX "/libdstream\\.so")
if(NOT shared_deps MATCHES "^${prefix}/" OR static_deps)
  message(FATAL_ERROR "consumer_shared must load the installed libdstream.so (loads '${shared_deps}'), "
                      "consumer_static no libdstream.so (loads '${static_deps}'); unresolved: ${unresolved}")
endif()

foreach(kind static shared)
  file(MAKE_DIRECTORY ${WORK_DIR}/run_${kind})
  run("consumer_${kind}" ${build}/consumer_${kind} ${WORK_DIR}/run_${kind})
  foreach(expected
      "consumer: ok"
      "json: Hall 1 \"Hall 1\""
      "counts: \\(a, 2\\) \\(b, 1\\) \\| \\(b, 1\\) \\|"  # foreachRDD, sorted per batch
      "\nTime: [0-9]+-[0-9]+-[0-9]+ [0-9:]+\n-+\n[^T]*\\(a, 2\\)"  # pprint: pyspark's header and pairs
      "\nTime: [0-9]+ ms\n-+\n[^T]*\\(a,2\\)"                    # print: Scala's header and pairs
      "window: {even: 190, odd: 8} state: {even: 222, odd: 9} listener: 3 batches, 6 records saved: 3")
    if(NOT out MATCHES "${expected}")
      message(FATAL_ERROR "consumer_${kind}'s output does not match '${expected}':\n${out}")
    endif()
  endforeach()
  string(REGEX MATCHALL "(hash|json|counts|duration|window): [^\n]*" lines_${kind} "${out}")
  message(STATUS "consumer_${kind}:\n${out}")
endforeach()
if(NOT lines_static STREQUAL lines_shared)
  message(FATAL_ERROR "the static and shared programs disagree:\n  ${lines_static}\n  ${lines_shared}")
endif()
