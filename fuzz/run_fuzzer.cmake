# Runs one fuzzer for a bounded time as a CTest test (see CMakeLists.txt):
#   cmake -DFUZZER=<exe> -DSEEDS=<dir> -DWORK=<dir> -DDICT=<file or empty> -DSECONDS=<n> -P run_fuzzer.cmake
# New inputs go to WORK/corpus (libFuzzer writes only to its first corpus directory) and a
# crashing input to WORK/, so the seed directory in the source tree is only read.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus)
set(args -max_total_time=${SECONDS} -rss_limit_mb=2048 -timeout=20 -print_final_stats=1
         -artifact_prefix=${WORK}/)
if(DICT)
  list(APPEND args -dict=${DICT})
endif()
execute_process(COMMAND ${FUZZER} ${args} ${WORK}/corpus ${SEEDS} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (${rc}); the input that failed is in ${WORK}/")
endif()
