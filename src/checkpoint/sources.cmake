target_sources(dstream PRIVATE
  src/checkpoint/checkpoint_store.cc
  src/checkpoint/record_file.cc
  src/checkpoint/serialize.cc
  src/checkpoint/write_ahead_log.cc)
