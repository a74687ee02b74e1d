# Run by ctest after json_test's tests are discovered (see CMakeLists.txt). Naming a test that
# was not discovered (json_test not built yet) is harmless: ctest only warns.
set_tests_properties(JsonConcurrencyTest.ThreadsParseConcurrentlyWithCorrectResultsAndCounts
  PROPERTIES LABELS "json;concurrency")
