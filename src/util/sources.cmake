target_sources(dstream PRIVATE
  src/util/bad_records.cc
  src/util/clock.cc
  src/util/error.cc
  src/util/file_io.cc
  src/util/log.cc
  src/util/shutdown_signals.cc
  src/util/thread_pool.cc
  src/util/time.cc)
